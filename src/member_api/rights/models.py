"""Uses of countable rights (one free maintenance a year, ...)."""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.models import Model

from member_api.members.models import Member


class RightUsage(Model):
    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="right_usages", on_delete=fields.CASCADE
    )
    member_id: uuid.UUID
    right_code = fields.CharField(max_length=40)
    period_start = fields.DateField()
    # 1..limit within the period: the unique key makes a use beyond the limit impossible.
    sequence = fields.IntField()
    used_at = fields.DatetimeField()
    staff_id = fields.UUIDField(null=True)  # None when an event used it (see `note`)
    note = fields.CharField(max_length=500, default="")

    class Meta:
        table = "right_usage"
        unique_together = (("member", "right_code", "period_start", "sequence"),)
