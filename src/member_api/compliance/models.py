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

    class Meta:
        table = "aml_flag"
        unique_together = (("member", "kind", "reference"),)
