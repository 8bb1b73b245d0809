"""A member as staff tools show them beside a record: the id, the display name and the
phone masked (138****0001), never the phone in full. Each member a staff query shows so
is a read of their personal data, written to the audit log (one insert a request)."""

from __future__ import annotations

import uuid
from typing import Any

import strawberry
from graphql import OperationType

from member_api.audit import service as audit
from member_api.graphql.context import GqlInfo
from member_api.members.models import Member


@strawberry.type(description="A member shown beside a staff record; the phone only masked.")
class MaskedMember:
    id: strawberry.ID
    display_name: str
    phone_masked: str | None = strawberry.field(description="e.g. 138****0001; never in full.")

    @classmethod
    def of(cls, row: Member) -> MaskedMember:
        return cls(
            id=strawberry.ID(str(row.id)),
            display_name=row.display_name,
            phone_masked=row.phone_masked,
        )


def _root_field(info: GqlInfo) -> str:
    path = info.path
    while path.prev is not None:
        path = path.prev
    return str(path.key)


def _loader(info: GqlInfo) -> Any:
    async def load(ids: list[uuid.UUID]) -> list[Member | None]:
        rows = {m.id: m for m in await Member.filter(id__in=ids)}
        if rows and info.operation.operation is not OperationType.MUTATION:
            # A mutation's own audit row covers what its answer shows.
            await audit.record_reads(info, f"{_root_field(info)}.member", list(rows))
        return [rows.get(i) for i in ids]

    return info.context.loader("masked-members", load)


async def masked_member(info: GqlInfo, member_id: uuid.UUID) -> MaskedMember | None:
    """The member, loaded with the others the same request asks for (one query)."""
    row = await _loader(info).load(member_id)
    return MaskedMember.of(row) if row is not None else None
