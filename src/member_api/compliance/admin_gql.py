"""Staff GraphQL for AML flags: the list by state, each flag's notes, its disposition."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry
from tortoise.queryset import QuerySet

from member_api.audit import service as audit
from member_api.compliance import service
from member_api.compliance.domain import AmlState
from member_api.compliance.models import AmlFlag as AmlFlagRow
from member_api.compliance.models import AmlFlagNote as NoteRow
from member_api.error_codes import ComplianceErrorCode
from member_api.errors import NotFound
from member_api.graphql.context import GqlInfo
from member_api.graphql.errors import AnyError
from member_api.graphql.pagination import PageInfo, newest_first_page
from member_api.graphql.results import outcome
from member_api.graphql.roles import Roles
from member_api.graphql.scalars import Fen
from member_api.members.masked import MaskedMember, masked_member
from member_api.staff.domain import StaffRole
from member_api.text import is_digits


@strawberry.enum(name="AmlFlagState", description="OPEN -> REVIEWING -> CLEARED or REPORTED.")
class AmlFlagState(Enum):
    OPEN = "OPEN"
    REVIEWING = "REVIEWING"
    CLEARED = "CLEARED"
    REPORTED = "REPORTED"


def parse_flag_id(value: str) -> int:
    """Flag ids are positive whole numbers; anything else names no flag."""
    text = str(value)
    if not is_digits(text) or len(text) > 19 or not 0 < int(text) < 2**63:
        raise NotFound(ComplianceErrorCode.UNKNOWN_FLAG, "No AML flag has that id.")
    return int(text)


@strawberry.type(description="One change of a flag's state, with the note and its author.")
class AmlFlagNote:
    staff_id: strawberry.ID
    staff_username: str
    from_state: AmlFlagState
    to_state: AmlFlagState
    note: str
    at: datetime

    @classmethod
    def of(cls, row: NoteRow) -> AmlFlagNote:
        return cls(
            staff_id=strawberry.ID(str(row.staff_id)),
            staff_username=row.staff_username,
            from_state=AmlFlagState(row.from_state),
            to_state=AmlFlagState(row.to_state),
            note=row.note,
            at=row.at,
        )


def _notes(info: GqlInfo) -> Any:
    async def load(ids: list[int]) -> list[list[NoteRow]]:
        by_flag: dict[int, list[NoteRow]] = {i: [] for i in ids}
        for row in await NoteRow.filter(flag_id__in=ids).order_by("at", "id"):
            by_flag[row.flag_id].append(row)
        return [by_flag[i] for i in ids]

    return info.context.loader("aml-notes", load)


@strawberry.type
class AmlFlag:
    row: strawberry.Private[AmlFlagRow]
    id: strawberry.ID
    member_id: strawberry.ID
    kind: str = strawberry.field(description="SINGLE_ORDER or MONTHLY_TOTAL.")
    reference: str = strawberry.field(description="The order id, or the month (2026-11).")
    amount_fen: Fen
    raised_at: datetime
    state: AmlFlagState

    @classmethod
    def of(cls, row: AmlFlagRow) -> AmlFlag:
        return cls(
            row=row,
            id=strawberry.ID(str(row.id)),
            member_id=strawberry.ID(str(row.member_id)),
            kind=row.kind,
            reference=row.reference,
            amount_fen=Fen(row.amount_fen),
            raised_at=row.raised_at,
            state=AmlFlagState(row.state),
        )

    @strawberry.field(description="The member, masked.")
    async def member(self, info: GqlInfo) -> MaskedMember | None:
        return await masked_member(info, self.row.member_id)

    @strawberry.field(description="Every change of state with its note, oldest first.")
    async def notes(self, info: GqlInfo) -> list[AmlFlagNote]:
        return [AmlFlagNote.of(row) for row in await _notes(info).load(self.row.id)]


@strawberry.type
class AmlFlagEdge:
    cursor: str
    node: AmlFlag


@strawberry.type
class AmlFlagConnection:
    edges: list[AmlFlagEdge]
    page_info: PageInfo


async def aml_flags_page(
    query: QuerySet[AmlFlagRow], first: int, after: str | None
) -> AmlFlagConnection:
    """A page of AML flags, newest first."""
    rows, page_info = await newest_first_page(
        query, first=first, after=after, time_field="raised_at"
    )
    edges = [AmlFlagEdge(cursor=cursor, node=AmlFlag.of(r)) for cursor, r in rows]
    return AmlFlagConnection(edges=edges, page_info=page_info)


@strawberry.input
class ChangeAmlFlagStateInput:
    flag_id: strawberry.ID
    state: AmlFlagState
    note: str = strawberry.field(description="Why; kept with the change and its author.")


ChangeAmlFlagStateResult = Annotated[
    AmlFlag | AnyError, strawberry.union("ChangeAmlFlagStateResult")
]


@strawberry.type
class ComplianceAdminQuery:
    @strawberry.field(
        description="AML flags for due diligence, newest first; `state` picks one state.",
        extensions=[Roles(StaffRole.OPERATOR)],
    )
    async def aml_flags(
        self,
        info: GqlInfo,
        state: AmlFlagState | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> AmlFlagConnection:
        query = AmlFlagRow.all()
        if state is not None:
            query = query.filter(state=state.value)
        connection = await aml_flags_page(query, first, after)
        members = [edge.node.row.member_id for edge in connection.edges]
        await audit.record_reads(info, "amlFlags", members, details={"state": state})
        return connection

    @strawberry.field(
        description="One AML flag with its notes; null for an unknown id.",
        extensions=[Roles(StaffRole.OPERATOR)],
    )
    async def aml_flag(self, info: GqlInfo, id: strawberry.ID) -> AmlFlag | None:
        try:
            flag_id = parse_flag_id(id)
        except NotFound:
            return None
        row = await AmlFlagRow.get_or_none(id=flag_id)
        if row is None:
            return None
        await audit.record_read(info, "amlFlag", row.member_id)
        return AmlFlag.of(row)


@strawberry.type
class ComplianceAdminMutation:
    @strawberry.mutation(
        description=(
            "Move an AML flag OPEN -> REVIEWING -> CLEARED or REPORTED, with a note; "
            "any other move is ILLEGAL_TRANSITION."
        ),
        extensions=[Roles(StaffRole.OPERATOR)],
    )
    async def change_aml_flag_state(
        self, info: GqlInfo, input: ChangeAmlFlagStateInput
    ) -> ChangeAmlFlagStateResult:
        async def work() -> AmlFlagRow:
            return await service.change_flag_state(
                info.context.services,
                flag_id=parse_flag_id(input.flag_id),
                state=AmlState(input.state.value),
                note=input.note,
                staff_id=info.context.require_subject(),
            )

        return await outcome(work(), AmlFlag.of)
