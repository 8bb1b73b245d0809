"""What the commerce systems reported: every applied event, and each order's running totals."""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.migrations.constraints import CheckConstraint
from tortoise.models import Model

from member_api.members.models import Member


class CommerceEvent(Model):
    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    event_id = fields.CharField(max_length=128, unique=True)
    type = fields.CharField(max_length=40)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="commerce_events", on_delete=fields.RESTRICT
    )
    member_id: uuid.UUID
    order_id = fields.CharField(max_length=128, null=True, db_index=True)
    consignment_id = fields.CharField(max_length=128, null=True)
    item_public_id = fields.CharField(max_length=128, null=True)
    amount_fen = fields.BigIntField(null=True)
    occurred_at = fields.DatetimeField()
    received_at = fields.DatetimeField()
    source = fields.CharField(max_length=80)

    class Meta:
        table = "commerce_event"
        constraints = (
            CheckConstraint(
                check="amount_fen IS NULL OR amount_fen > 0", name="commerce_event_amount_positive"
            ),
        )


class MemberOrder(Model):
    """One paid order. Refunds never take more than was paid (the database checks it)."""

    id = fields.BigIntField(primary_key=True)
    order_id = fields.CharField(max_length=128, unique=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="orders", on_delete=fields.RESTRICT
    )
    member_id: uuid.UUID
    paid_fen = fields.BigIntField()
    refunded_fen = fields.BigIntField(default=0)
    paid_at = fields.DatetimeField()
    paid_on = fields.DateField(db_index=True)

    class Meta:
        table = "member_order"
        indexes = (("member_id", "paid_on"),)
        constraints = (
            CheckConstraint(
                check="refunded_fen >= 0 AND refunded_fen <= paid_fen",
                name="member_order_refund_within_paid",
            ),
        )


class OrderLine(Model):
    """What a paid order held, by brand and category, as the shop reported it."""

    id = fields.BigIntField(primary_key=True)
    order: fields.ForeignKeyRelation[MemberOrder] = fields.ForeignKeyField(
        "models.MemberOrder", related_name="lines", on_delete=fields.CASCADE
    )
    order_id: int
    position = fields.IntField()
    brand = fields.CharField(max_length=80)
    category = fields.CharField(max_length=80)
    amount_fen = fields.BigIntField()

    class Meta:
        table = "order_line"
        constraints = (CheckConstraint(check="amount_fen > 0", name="order_line_amount_positive"),)


class ItemInteraction(Model):
    """A favourite, or a day of views of one item, by one member (one per event)."""

    id = fields.BigIntField(primary_key=True)
    event: fields.ForeignKeyRelation[CommerceEvent] = fields.ForeignKeyField(
        "models.CommerceEvent", related_name="interactions", on_delete=fields.CASCADE
    )
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="item_interactions", on_delete=fields.CASCADE
    )
    member_id: uuid.UUID
    kind = fields.CharField(max_length=12)  # FAVOURITE or VIEW
    item_id = fields.CharField(max_length=128)
    brand = fields.CharField(max_length=80)
    category = fields.CharField(max_length=80)
    count = fields.IntField()
    day = fields.DateField()

    class Meta:
        table = "item_interaction"
        indexes = (("member_id", "day"),)
        constraints = (CheckConstraint(check="count > 0", name="item_interaction_count_positive"),)
