"""Offline event attendance, as recorded by staff (it counts toward Diamond)."""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.models import Model

from member_api.members.models import Member


class EventAttendance(Model):
    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="attendances", on_delete=fields.CASCADE
    )
    member_id: uuid.UUID
    event_ref = fields.CharField(max_length=128)
    attended_on = fields.DateField()
    recorded_at = fields.DatetimeField()

    class Meta:
        table = "event_attendance"
        unique_together = (("member", "event_ref"),)
