"""Member storage. Phone numbers are kept encrypted with a keyed index, never in clear."""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.models import Model


class Member(Model):
    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    display_name = fields.CharField(max_length=40)
    avatar_url = fields.CharField(max_length=500, null=True)
    phone_encrypted = fields.TextField(null=True)
    phone_index = fields.CharField(max_length=64, null=True, unique=True)
    phone_masked = fields.CharField(max_length=20, null=True)
    password_hash = fields.CharField(max_length=255, null=True)
    miniprogram_openid = fields.CharField(max_length=128, null=True, unique=True)
    miniprogram_unionid = fields.CharField(max_length=128, null=True, db_index=True)
    referral_code = fields.CharField(max_length=16, unique=True)
    referred_by: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="referees", null=True, on_delete=fields.SET_NULL
    )
    referred_by_id: uuid.UUID | None
    joined_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    tier = fields.CharField(max_length=20, default="NEW")
    tier_since = fields.DatetimeField(null=True)
    # Bumped in the same transaction as anything the tier rules read, so cached
    # tier calculations keyed by it can never outlive the change.
    facts_version = fields.BigIntField(default=0)
    # Month and day, entered once by the member (staff may correct them).
    birthday_month = fields.SmallIntField(null=True)
    birthday_day = fields.SmallIntField(null=True)
    # Set while the account is closed and waits for erasure: sign-in is refused.
    erasure_due_at = fields.DatetimeField(null=True)
    # When personal data was erased: the row stays, anonymous, for the ledger and orders.
    erased_at = fields.DatetimeField(null=True)

    class Meta:
        table = "member"


class ActivityDay(Model):
    """A business date on which the member did something while signed in."""

    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="activity_days", on_delete=fields.CASCADE
    )
    member_id: uuid.UUID
    day = fields.DateField()

    class Meta:
        table = "member_activity_day"
        unique_together = (("member", "day"),)
