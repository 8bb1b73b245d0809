"""The member's in-app inbox."""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.models import Model

from member_api.members.models import Member


class Notification(Model):
    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="notifications", on_delete=fields.CASCADE
    )
    member_id: uuid.UUID
    kind = fields.CharField(max_length=40)
    title = fields.CharField(max_length=200)
    body = fields.TextField()
    created_at = fields.DatetimeField()
    read_at = fields.DatetimeField(null=True)
    # One notification per member and key, e.g. one downgrade warning per review.
    dedupe_key = fields.CharField(max_length=128, null=True)

    class Meta:
        table = "notification"
        unique_together = (("member", "dedupe_key"),)
        indexes = (("member_id", "created_at"),)
