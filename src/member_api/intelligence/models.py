"""Each member's scores per business date, so that any past day's scores stay known."""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.models import Model

from member_api.members.models import Member


class MemberScore(Model):
    """The RFM scores and tags of one member as of one business date (the nightly job)."""

    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="scores", on_delete=fields.CASCADE
    )
    member_id: uuid.UUID
    day = fields.DateField()
    r = fields.SmallIntField()
    f = fields.SmallIntField()
    m = fields.SmallIntField()
    # A JSON list of tag codes, e.g. KEY_RETENTION.
    tags = fields.CharField(max_length=200, default="[]")
    computed_at = fields.DatetimeField()

    class Meta:
        table = "member_score"
        unique_together = (("member_id", "day"),)
