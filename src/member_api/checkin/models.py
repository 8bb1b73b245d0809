"""Daily check-ins: one per member per business date, enforced by a unique key."""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.models import Model

from member_api.members.models import Member


class CheckIn(Model):
    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="check_ins", on_delete=fields.CASCADE
    )
    member_id: uuid.UUID
    day = fields.DateField()
    streak = fields.IntField()
    points = fields.IntField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "check_in"
        unique_together = (("member", "day"),)
