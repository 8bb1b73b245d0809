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

    class Meta:
        table = "member"
