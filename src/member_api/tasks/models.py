"""What members did (for tasks), the tasks they completed, and the coupons those earned."""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.models import Model

from member_api.members.models import Member


class MemberAction(Model):
    """One thing a member did, once per (action, reference): a replay adds nothing."""

    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="actions", on_delete=fields.CASCADE
    )
    member_id: uuid.UUID
    action = fields.CharField(max_length=30)
    reference = fields.CharField(max_length=160)
    at = fields.DatetimeField()

    class Meta:
        table = "member_action"
        unique_together = (("member", "action", "reference"),)
        indexes = (("member_id", "at"),)


class TaskCompletion(Model):
    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="task_completions", on_delete=fields.CASCADE
    )
    member_id: uuid.UUID
    code = fields.CharField(max_length=40)
    completed_at = fields.DatetimeField()
    points = fields.IntField()

    class Meta:
        table = "task_completion"
        unique_together = (("member", "code"),)


class Coupon(Model):
    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="coupons", on_delete=fields.CASCADE
    )
    member_id: uuid.UUID
    kind = fields.CharField(max_length=30)
    code = fields.CharField(max_length=32, unique=True)
    source = fields.CharField(max_length=80)
    issued_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "coupon"
        unique_together = (("member", "source"),)
