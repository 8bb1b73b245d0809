"""Care notes: what an advisor or operator wrote down about a member."""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.models import Model

from member_api.members.models import Member


class CareNote(Model):
    """A note about a member, by the staff member who wrote it."""

    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="care_notes", on_delete=fields.CASCADE
    )
    member_id: uuid.UUID
    staff_id = fields.UUIDField()
    text = fields.TextField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "care_note"
        indexes = (("member_id", "created_at"),)
