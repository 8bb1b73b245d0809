"""Staff GraphQL for the audit log: auditors read it; nobody edits or deletes it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from member_api.audit import service
from member_api.audit.domain import as_uuid
from member_api.audit.models import AuditEntry as AuditRow
from member_api.error_codes import RequestErrorCode
from member_api.graphql.context import GqlInfo
from member_api.graphql.errors import ClientError
from member_api.graphql.pagination import PageInfo, newest_first_page
from member_api.graphql.roles import Roles
from member_api.staff.domain import StaffRole


@strawberry.type(description="One staff action or staff read of a member's personal data.")
class AuditEntry:
    id: strawberry.ID
    at: datetime
    staff_id: strawberry.ID | None = strawberry.field(description="Null: nobody signed in.")
    staff_username: str
    roles: list[str] = strawberry.field(description="The roles the staff member held then.")
    kind: str = strawberry.field(description="MUTATION or READ.")
    action: str = strawberry.field(description="The mutation or field, e.g. adjustPoints.")
    target_kind: str = strawberry.field(description="What it acted on, e.g. Member, Staff.")
    target_id: str
    member_id: strawberry.ID | None = strawberry.field(description="The member concerned.")
    request_id: str
    client_address: str
    outcome: str = strawberry.field(description="OK, or the error code it was refused with.")
    diff: JSON = strawberry.field(
        description=(
            "`arguments` as sent (passwords and tokens redacted), and `before`/`after` "
            "where the action changed something."
        )
    )

    @classmethod
    def of(cls, row: AuditRow) -> AuditEntry:
        return cls(
            id=strawberry.ID(str(row.id)),
            at=row.at,
            staff_id=strawberry.ID(str(row.staff_id)) if row.staff_id else None,
            staff_username=row.staff_username,
            roles=[role for role in row.roles.split(",") if role],
            kind=row.kind,
            action=row.action,
            target_kind=row.target_kind,
            target_id=row.target_id,
            member_id=strawberry.ID(str(row.member_id)) if row.member_id else None,
            request_id=row.request_id,
            client_address=row.client_address,
            outcome=row.outcome,
            diff=JSON(row.diff),
        )


@strawberry.type
class AuditEntryEdge:
    cursor: str
    node: AuditEntry


@strawberry.type
class AuditEntryConnection:
    edges: list[AuditEntryEdge]
    page_info: PageInfo


def _id_filter(value: strawberry.ID | None, name: str) -> uuid.UUID | None:
    if value is None:
        return None
    parsed = as_uuid(value)
    if parsed is None:
        raise ClientError(RequestErrorCode.INVALID_ARGUMENT, f"{name} is not a valid id.")
    return parsed


@strawberry.type
class AuditAdminQuery:
    @strawberry.field(
        description=(
            "The audit log, newest first, filtered by staff member, member, action "
            "(e.g. adjustPoints) and time (`from` inclusive, `to` exclusive)."
        ),
        extensions=[Roles(StaffRole.AUDITOR)],
    )
    async def audit_log(
        self,
        info: GqlInfo,
        staff_id: strawberry.ID | None = None,
        member_id: strawberry.ID | None = None,
        action: str | None = None,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> AuditEntryConnection:
        for name, moment in (("from", from_), ("to", to)):
            if moment is not None and moment.tzinfo is None:
                raise ClientError(
                    RequestErrorCode.INVALID_ARGUMENT, f"`{name}` needs a time zone offset."
                )
        if from_ is not None and to is not None and from_ >= to:
            raise ClientError(RequestErrorCode.INVALID_ARGUMENT, "`from` must be before `to`.")
        query = service.entries(
            staff_id=_id_filter(staff_id, "staffId"),
            member_id=_id_filter(member_id, "memberId"),
            action=action,
            since=from_,
            until=to,
        )
        rows, page = await newest_first_page(query, first=first, after=after, time_field="at")
        return AuditEntryConnection(
            edges=[AuditEntryEdge(cursor=c, node=AuditEntry.of(r)) for c, r in rows],
            page_info=page,
        )
