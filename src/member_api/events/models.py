"""Offline event attendance, as recorded by staff (it counts toward Diamond)."""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.migrations.constraints import CheckConstraint
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


class OfflineEvent(Model):
    """A salon or masterclass with a fixed number of seats."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    title = fields.CharField(max_length=120)
    description = fields.TextField(default="")
    city = fields.CharField(max_length=60)
    starts_at = fields.DatetimeField(db_index=True)
    seats = fields.IntField()
    seats_taken = fields.IntField(default=0)
    min_tier = fields.CharField(max_length=20, null=True)
    created_at = fields.DatetimeField()
    # Set once when staff cancel the event: no seats are taken or attendance recorded after.
    cancelled_at = fields.DatetimeField(null=True)
    cancelled_by = fields.UUIDField(null=True)
    cancel_reason = fields.CharField(max_length=500, null=True)

    class Meta:
        table = "offline_event"
        constraints = (
            CheckConstraint(
                check="seats_taken >= 0 AND seats_taken <= seats", name="offline_event_seats"
            ),
        )


class EventSignup(Model):
    """A member's seat at an event: one per member and event."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    event: fields.ForeignKeyRelation[OfflineEvent] = fields.ForeignKeyField(
        "models.OfflineEvent", related_name="signups", on_delete=fields.RESTRICT
    )
    event_id: uuid.UUID
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="event_signups", on_delete=fields.CASCADE
    )
    member_id: uuid.UUID
    status = fields.CharField(max_length=12, default="ACTIVE")
    created_at = fields.DatetimeField()

    class Meta:
        table = "event_signup"
        unique_together = (("event", "member"),)
