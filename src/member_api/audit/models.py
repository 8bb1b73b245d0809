"""The audit log: one row per staff action or staff read of personal data, never changed."""

from __future__ import annotations

import uuid
from typing import Any

from tortoise import fields
from tortoise.models import Model


class AuditEntry(Model):
    """Append-only. In PostgreSQL and SQLite a trigger refuses UPDATE and DELETE."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    at = fields.DatetimeField(db_index=True)
    staff_id = fields.UUIDField(null=True, db_index=True)
    staff_username = fields.CharField(max_length=64, default="")
    roles = fields.CharField(max_length=200, default="")
    kind = fields.CharField(max_length=10, description="MUTATION or READ")
    action = fields.CharField(max_length=100, db_index=True)
    target_kind = fields.CharField(max_length=40, default="")
    target_id = fields.CharField(max_length=100, default="")
    member_id = fields.UUIDField(null=True, db_index=True)
    request_id = fields.CharField(max_length=100, default="")
    client_address = fields.CharField(max_length=100, default="")
    outcome = fields.CharField(max_length=64, description="OK or the error code")
    diff: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)

    class Meta:
        table = "audit_entry"
