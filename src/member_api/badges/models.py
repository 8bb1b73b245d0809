"""Milestone badges, each awarded once per member."""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.models import Model

from member_api.members.models import Member


class Badge(Model):
    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="badges", on_delete=fields.CASCADE
    )
    member_id: uuid.UUID
    code = fields.CharField(max_length=40)
    earned_at = fields.DatetimeField()

    class Meta:
        table = "badge"
        unique_together = (("member", "code"),)
