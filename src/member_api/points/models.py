"""The ledger: accounts (points, carbon credits), lots, append-only entries, allocations."""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.migrations.constraints import CheckConstraint
from tortoise.models import Model

from member_api.members.models import Member


class LedgerAccount(Model):
    """One balance of a member. Its row is locked by every change to the balance."""

    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="ledger_accounts", on_delete=fields.RESTRICT
    )
    member_id: uuid.UUID
    currency = fields.CharField(max_length=10)
    # Points taken back by a refund after they were spent, paid by later credits.
    debt = fields.BigIntField(default=0)

    class Meta:
        table = "ledger_account"
        unique_together = (("member", "currency"),)
        constraints = (CheckConstraint(check="debt >= 0", name="ledger_account_debt_not_negative"),)


class LedgerLot(Model):
    """What one credit left to spend, and until when."""

    id = fields.BigIntField(primary_key=True)
    account: fields.ForeignKeyRelation[LedgerAccount] = fields.ForeignKeyField(
        "models.LedgerAccount", related_name="lots", on_delete=fields.RESTRICT
    )
    account_id: int
    amount = fields.BigIntField()
    remaining = fields.BigIntField()
    earned_at = fields.DatetimeField()
    expires_on = fields.DateField(null=True)
    source = fields.CharField(max_length=160, null=True)

    class Meta:
        table = "ledger_lot"
        indexes = (("account_id", "remaining"),)
        constraints = (
            CheckConstraint(
                check="remaining >= 0 AND remaining <= amount", name="ledger_lot_remaining_in_range"
            ),
        )


class LedgerEntry(Model):
    """An append-only change of a balance with its reason."""

    id = fields.BigIntField(primary_key=True)
    account: fields.ForeignKeyRelation[LedgerAccount] = fields.ForeignKeyField(
        "models.LedgerAccount", related_name="entries", on_delete=fields.RESTRICT
    )
    account_id: int
    delta = fields.BigIntField()
    reason = fields.CharField(max_length=20)
    # What caused it (an event id, a redemption id): unique per account and reason,
    # so a replayed cause never moves the balance twice.
    reference = fields.CharField(max_length=160, null=True)
    occurred_at = fields.DatetimeField()
    expires_on = fields.DateField(null=True)
    note = fields.CharField(max_length=500, default="")
    staff_id = fields.UUIDField(null=True)

    class Meta:
        table = "ledger_entry"
        unique_together = (("account", "reason", "reference"),)
        indexes = (("account_id", "occurred_at"),)


class LedgerAllocation(Model):
    """How much of a lot an entry took (a debit) or gave back (a cancellation)."""

    id = fields.BigIntField(primary_key=True)
    entry: fields.ForeignKeyRelation[LedgerEntry] = fields.ForeignKeyField(
        "models.LedgerEntry", related_name="allocations", on_delete=fields.RESTRICT
    )
    entry_id: int
    lot: fields.ForeignKeyRelation[LedgerLot] = fields.ForeignKeyField(
        "models.LedgerLot", related_name="allocations", on_delete=fields.RESTRICT
    )
    lot_id: int
    points = fields.BigIntField()

    class Meta:
        table = "ledger_allocation"
        constraints = (CheckConstraint(check="points > 0", name="ledger_allocation_positive"),)


class OrderPoints(Model):
    """Points an order earned and how many of them refunds took back."""

    id = fields.BigIntField(primary_key=True)
    order_id = fields.CharField(max_length=128, unique=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="order_points", on_delete=fields.RESTRICT
    )
    member_id: uuid.UUID
    points = fields.BigIntField()
    reversed = fields.BigIntField(default=0)

    class Meta:
        table = "order_points"
        constraints = (
            CheckConstraint(
                check="reversed >= 0 AND reversed <= points", name="order_points_reversed_in_range"
            ),
        )
