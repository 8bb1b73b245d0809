"""Where a member's rows are, found by walking every model: a foreign key to the member,
or to a row that has one (a ledger entry's account), and the few plain id columns that
name a member. A table added later is found the same way, so neither an export nor the
erasure can forget it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from tortoise import Tortoise
from tortoise.fields.relational import ForeignKeyFieldInstance, OneToOneFieldInstance
from tortoise.models import Model

from member_api.db import APP_LABEL
from member_api.members.models import Member

# Member ids kept in plain columns (no foreign key), by model name.
PLAIN_MEMBER_COLUMNS: dict[str, tuple[str, ...]] = {
    "RefreshToken": ("subject_id",),
    "TransferCode": ("from_member_id", "used_by_id"),
}
# Columns never put in an export: secrets and protected forms of what it shows in clear.
NEVER_EXPORTED = frozenset(
    {"password_hash", "phone_encrypted", "phone_index", "token_hash", "code_hash", "content"}
)


@dataclass(frozen=True)
class Link:
    model: type[Model]
    lookup: str  # a filter keyword that takes the member id


def models() -> list[type[Model]]:
    return list(Tortoise.apps[APP_LABEL].values())


def _direct(model: type[Model]) -> list[str]:
    found = []
    for name in sorted(model._meta.fk_fields | model._meta.o2o_fields):
        field: Any = model._meta.fields_map[name]
        relation = isinstance(field, ForeignKeyFieldInstance | OneToOneFieldInstance)
        if relation and field.related_model is Member:
            found.append(name)
    return found


def member_links() -> list[Link]:
    """Every way a row names a member (the member table itself aside)."""
    links: list[Link] = []
    for model in models():
        if model is Member:
            continue
        direct = _direct(model)
        links += [Link(model, f"{name}_id") for name in direct]
        links += [Link(model, column) for column in PLAIN_MEMBER_COLUMNS.get(model.__name__, ())]
        if direct:
            continue
        for name in sorted(model._meta.fk_fields):
            parent = model._meta.fields_map[name].related_model  # type: ignore[attr-defined]
            links += [Link(model, f"{name}__{via}_id") for via in _direct(parent)]
    return links


async def rows_of(member_id: uuid.UUID) -> dict[str, list[dict[str, Any]]]:
    """Each table's rows that name the member, as plain values (secrets left out)."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for link in member_links():
        table = link.model._meta.db_table
        rows = (
            await link.model.filter(**{link.lookup: member_id})
            .order_by(link.model._meta.pk_attr)
            .values()
        )
        seen = tables.setdefault(table, [])
        for row in rows:
            clean = {k: v for k, v in row.items() if k not in NEVER_EXPORTED}
            if clean not in seen:
                seen.append(clean)
    return {table: rows for table, rows in sorted(tables.items()) if rows}
