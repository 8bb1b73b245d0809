"""Refresh tokens: stored as hashes, grouped in families so reuse can revoke them all."""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.models import Model


class RefreshToken(Model):
    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    token_hash = fields.CharField(max_length=64, unique=True)
    family_id = fields.UUIDField(db_index=True)
    subject_kind = fields.CharField(max_length=10)
    subject_id = fields.UUIDField(db_index=True)
    issued_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    # The client that signed in (its User-Agent, shortened), shown in a data export.
    device = fields.CharField(max_length=200, null=True)

    class Meta:
        table = "refresh_token"
