"""Consents (append-only history), data exports and account deletion requests."""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.models import Model

from member_api.members.models import Member


class ConsentRecord(Model):
    """One grant or withdrawal of a purpose. The latest row per purpose is the state."""

    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="consent_records", on_delete=fields.CASCADE
    )
    member_id: uuid.UUID
    purpose = fields.CharField(max_length=20)
    granted = fields.BooleanField()
    # The privacy policy version in force when the member decided.
    policy_version = fields.CharField(max_length=20)
    changed_at = fields.DatetimeField()

    class Meta:
        table = "consent_record"
        indexes = (("member_id", "purpose", "id"),)


class DataExport(Model):
    """A file of everything held about a member, built in the background, served once."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="data_exports", on_delete=fields.CASCADE
    )
    member_id: uuid.UUID
    status = fields.CharField(max_length=12, default="PENDING")
    requested_at = fields.DatetimeField()
    ready_at = fields.DatetimeField(null=True)
    expires_at = fields.DatetimeField(null=True)
    downloaded_at = fields.DatetimeField(null=True)
    # The JSON document until it is downloaded or expires, then emptied.
    content = fields.TextField(null=True)
    error = fields.CharField(max_length=500, default="")

    class Meta:
        table = "data_export"
        indexes = (("member_id", "requested_at"),)


class AccountDeletion(Model):
    """A request to delete the account: pending until erased, or cancelled."""

    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="account_deletions", on_delete=fields.CASCADE
    )
    member_id: uuid.UUID
    status = fields.CharField(max_length=10, default="PENDING")
    reason = fields.CharField(max_length=500, default="")
    requested_at = fields.DatetimeField()
    erases_at = fields.DatetimeField()
    cancelled_at = fields.DatetimeField(null=True)
    erased_at = fields.DatetimeField(null=True)

    class Meta:
        table = "account_deletion"
        indexes = (("member_id", "requested_at"),)
