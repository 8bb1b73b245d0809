"""Tier history and quarterly review bookkeeping."""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.models import Model

from member_api.members.models import Member


class TierChange(Model):
    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="tier_changes", on_delete=fields.CASCADE
    )
    member_id: uuid.UUID
    from_tier = fields.CharField(max_length=20, null=True)
    to_tier = fields.CharField(max_length=20)
    changed_at = fields.DatetimeField()
    reason = fields.CharField(max_length=20)
    reference = fields.CharField(max_length=128, null=True)
    # For a manual override, the reason staff gave.
    note = fields.TextField(null=True)

    class Meta:
        table = "tier_change"


class TierReview(Model):
    """One quarterly review, identified by its date. It is complete when every member
    has a result row."""

    id = fields.BigIntField(primary_key=True)
    review_date = fields.DateField(unique=True)
    started_at = fields.DatetimeField()
    completed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "tier_review"


class TierReviewResult(Model):
    id = fields.BigIntField(primary_key=True)
    review: fields.ForeignKeyRelation[TierReview] = fields.ForeignKeyField(
        "models.TierReview", related_name="results", on_delete=fields.CASCADE
    )
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="review_results", on_delete=fields.CASCADE
    )
    member_id: uuid.UUID
    from_tier = fields.CharField(max_length=20)
    to_tier = fields.CharField(max_length=20)

    class Meta:
        table = "tier_review_result"
        unique_together = (("review", "member"),)
