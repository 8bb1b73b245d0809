"""The rewards catalogue and members' redemptions."""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.migrations.constraints import CheckConstraint
from tortoise.models import Model

from member_api.members.models import Member


class Reward(Model):
    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    name = fields.CharField(max_length=120)
    description = fields.TextField(default="")
    kind = fields.CharField(max_length=30)
    currency = fields.CharField(max_length=10, default="POINTS")
    price = fields.BigIntField()
    stock = fields.IntField()
    limit_per_member = fields.IntField(null=True)
    min_tier = fields.CharField(max_length=20, null=True)
    active = fields.BooleanField(default=True)
    active_from = fields.DatetimeField(null=True)
    active_until = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "reward"
        constraints = (
            CheckConstraint(check="stock >= 0", name="reward_stock_not_negative"),
            CheckConstraint(check="price > 0", name="reward_price_positive"),
        )


class Redemption(Model):
    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="redemptions", on_delete=fields.RESTRICT
    )
    member_id: uuid.UUID
    reward: fields.ForeignKeyRelation[Reward] = fields.ForeignKeyField(
        "models.Reward", related_name="redemptions", on_delete=fields.RESTRICT
    )
    reward_id: uuid.UUID
    quantity = fields.IntField()
    points_spent = fields.BigIntField()
    currency = fields.CharField(max_length=10)
    status = fields.CharField(max_length=12, default="ACTIVE")
    voucher_code = fields.CharField(max_length=32, unique=True)
    idempotency_key = fields.CharField(max_length=128)
    debit_entry_id = fields.BigIntField()
    created_at = fields.DatetimeField()
    cancelled_at = fields.DatetimeField(null=True)
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "redemption"
        unique_together = (("member", "idempotency_key"),)
        constraints = (
            CheckConstraint(
                check="quantity >= 1 AND quantity <= 10", name="redemption_quantity_in_range"
            ),
        )
