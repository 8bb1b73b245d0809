"""Staff accounts: operators, authenticators, moderators."""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.models import Model


class StaffUser(Model):
    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    username = fields.CharField(max_length=64, unique=True)
    password_hash = fields.CharField(max_length=255)
    roles = fields.CharField(max_length=200)
    is_active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "staff_user"

    @property
    def role_list(self) -> list[str]:
        return [role for role in self.roles.split(",") if role]
