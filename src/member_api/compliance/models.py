"""Anti-money-laundering flags raised for due diligence."""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.models import Model

from member_api.members.models import Member


class AmlFlag(Model):
    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="aml_flags", on_delete=fields.RESTRICT
    )
    member_id: uuid.UUID
    kind = fields.CharField(max_length=30)
    # The order id for a single transaction, the business month (2026-11) for a total.
    reference = fields.CharField(max_length=128)
    amount_fen = fields.BigIntField()
    raised_at = fields.DatetimeField()
    # OPEN, REVIEWING, CLEARED or REPORTED, changed only by a conditional update.
    state = fields.CharField(max_length=12, default="OPEN", db_index=True)

    class Meta:
        table = "aml_flag"
        unique_together = (("member", "kind", "reference"),)


class AmlFlagNote(Model):
    """One change of a flag state, with the note staff wrote and who wrote it."""

    id = fields.BigIntField(primary_key=True)
    flag: fields.ForeignKeyRelation[AmlFlag] = fields.ForeignKeyField(
        "models.AmlFlag", related_name="notes", on_delete=fields.RESTRICT
    )
    flag_id: int
    staff_id = fields.UUIDField()
    staff_username = fields.CharField(max_length=64)
    from_state = fields.CharField(max_length=12)
    to_state = fields.CharField(max_length=12)
    note = fields.TextField()
    at = fields.DatetimeField()

    class Meta:
        table = "aml_flag_note"
        indexes = (("flag_id", "at"),)
