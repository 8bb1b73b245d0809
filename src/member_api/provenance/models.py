"""Items, their custody events (the leaves of a transparency log), signed checkpoints,
scans and ownership transfer codes."""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.models import Model

from member_api.members.models import Member


class Item(Model):
    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    public_id = fields.CharField(max_length=32, unique=True)
    brand = fields.CharField(max_length=80)
    model = fields.CharField(max_length=120)
    category = fields.CharField(max_length=40)
    photos: list[str] = fields.JSONField(default=list)
    gtin = fields.CharField(max_length=14, null=True)
    serial_encrypted = fields.TextField(null=True)
    owner: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="items", null=True, on_delete=fields.SET_NULL
    )
    owner_id: uuid.UUID | None
    status = fields.CharField(max_length=20, default="REGISTERED")
    created_at = fields.DatetimeField()

    class Meta:
        table = "item"


class CustodyEvent(Model):
    """A leaf of the log. Append-only: nothing updates or deletes these rows, and
    `provenance verify` notices if anyone does."""

    id = fields.BigIntField(primary_key=True)
    leaf_index = fields.BigIntField(unique=True)
    item: fields.ForeignKeyRelation[Item] = fields.ForeignKeyField(
        "models.Item", related_name="events", on_delete=fields.RESTRICT
    )
    item_id: uuid.UUID
    kind = fields.CharField(max_length=20)
    item_seq = fields.IntField()  # 1 for the item's first event, 2 for its next ...
    previous_leaf = fields.BigIntField(null=True)  # the item's event before this one
    occurred_at = fields.DatetimeField()
    place = fields.CharField(max_length=60, null=True)
    actor = fields.CharField(max_length=40)
    biz_step = fields.CharField(max_length=40)
    disposition = fields.CharField(max_length=40)
    details: dict[str, object] = fields.JSONField(default=dict)
    leaf_hash = fields.CharField(max_length=64)
    recorded_at = fields.DatetimeField()

    class Meta:
        table = "custody_event"
        indexes = (("item_id", "leaf_index"),)


class LogHead(Model):
    """The log's size and the roots of its perfect subtrees, locked for each append."""

    id = fields.IntField(primary_key=True)
    size = fields.BigIntField(default=0)
    frontier: list[str] = fields.JSONField(default=list)

    class Meta:
        table = "log_head"


class MerkleNode(Model):
    """The hash of a perfect subtree of the log above the leaves, written by the append
    that completes it: a proof reads a few of these, never every leaf."""

    id = fields.BigIntField(primary_key=True)
    level = fields.SmallIntField()  # the subtree holds 2**level leaves
    position = fields.BigIntField()  # leaves position * 2**level onwards
    hash = fields.CharField(max_length=64)

    class Meta:
        table = "merkle_node"
        unique_together = (("level", "position"),)


class Checkpoint(Model):
    id = fields.BigIntField(primary_key=True)
    size = fields.BigIntField(unique=True)
    root_hash = fields.CharField(max_length=64)
    note = fields.TextField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "log_checkpoint"


class Scan(Model):
    """A scan of an item's code: a coarse place only, never who scanned."""

    id = fields.BigIntField(primary_key=True)
    item: fields.ForeignKeyRelation[Item] = fields.ForeignKeyField(
        "models.Item", related_name="scans", on_delete=fields.CASCADE
    )
    item_id: uuid.UUID
    city = fields.CharField(max_length=60, null=True)
    network = fields.CharField(max_length=64, null=True)
    at = fields.DatetimeField()

    class Meta:
        table = "item_scan"
        indexes = (("item_id", "at"),)


class TransferCode(Model):
    id = fields.BigIntField(primary_key=True)
    code_hash = fields.CharField(max_length=64, unique=True)
    item: fields.ForeignKeyRelation[Item] = fields.ForeignKeyField(
        "models.Item", related_name="transfer_codes", on_delete=fields.CASCADE
    )
    item_id: uuid.UUID
    from_member_id = fields.UUIDField()
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    used_by_id = fields.UUIDField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "transfer_code"
