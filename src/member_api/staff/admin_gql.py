"""Staff-facing GraphQL on /admin/graphql: sign-in, the signed-in staff member, and the
staff accounts admins run."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import strawberry

from member_api.error_codes import StaffErrorCode
from member_api.graphql.auth_types import (
    AuthResult,
    AuthTokens,
    LogoutInput,
    LogoutResult,
    RefreshTokensInput,
    logged_out,
)
from member_api.graphql.context import GqlInfo
from member_api.graphql.errors import AnyError
from member_api.graphql.ids import parse_id
from member_api.graphql.pagination import PageInfo, check_first, decode_cursor, encode_cursor
from member_api.graphql.results import outcome
from member_api.graphql.roles import Roles
from member_api.staff import service
from member_api.staff.domain import StaffRole
from member_api.staff.models import StaffUser

# Sessions commit as they go: a refused refresh token still revokes its family.
SESSION_MUTATIONS = frozenset({"staff_login", "staff_refresh_tokens", "staff_logout"})
# About the caller's own account: open to every staff member, auditors included.
OWN_ACCOUNT_MUTATIONS = SESSION_MUTATIONS | {"change_my_password"}


@strawberry.type(description="A staff account.")
class Staff:
    id: strawberry.ID
    username: str
    roles: list[str]
    active: bool = strawberry.field(description="False once deactivated: it cannot sign in.")
    created_at: datetime

    @classmethod
    def of(cls, row: StaffUser) -> Staff:
        return cls(
            id=strawberry.ID(str(row.id)),
            username=row.username,
            roles=row.role_list,
            active=row.is_active,
            created_at=row.created_at,
        )


@strawberry.type
class StaffEdge:
    cursor: str
    node: Staff


@strawberry.type
class StaffConnection:
    edges: list[StaffEdge]
    page_info: PageInfo


async def staff_by_id(info: GqlInfo, staff_id: uuid.UUID | None) -> Staff | None:
    """A staff account by id, loaded with every other one the request asks for at once."""
    if staff_id is None:
        return None

    async def load(ids: list[uuid.UUID]) -> list[StaffUser | None]:
        rows = {r.id: r for r in await StaffUser.filter(id__in=ids)}
        return [rows.get(i) for i in ids]

    row = await info.context.loader("staff", load).load(staff_id)
    return Staff.of(row) if row is not None else None


@strawberry.input
class StaffLoginInput:
    username: str
    password: str


@strawberry.input
class CreateStaffInput:
    username: str = strawberry.field(description="3 to 64 of a-z, 0-9, '_', '.', '-'.")
    password: str = strawberry.field(description="8 to 128 characters.")
    roles: list[str] = strawberry.field(
        description="operator, authenticator, moderator, admin, advisor, marketer, auditor."
    )


@strawberry.input
class SetStaffRolesInput:
    staff_id: strawberry.ID
    roles: list[str]


@strawberry.input
class StaffAccountInput:
    staff_id: strawberry.ID


@strawberry.input
class ResetStaffPasswordInput:
    staff_id: strawberry.ID
    new_password: str


@strawberry.input
class ChangeMyPasswordInput:
    old_password: str
    new_password: str


StaffResult = Annotated[Staff | AnyError, strawberry.union("StaffResult")]


def parse_staff_id(value: str) -> uuid.UUID:
    return parse_id(value, code=StaffErrorCode.UNKNOWN_STAFF, what="staff member")


@strawberry.type
class StaffAdminQuery:
    @strawberry.field(description="The signed-in staff member; null without a token.")
    async def viewer(self, info: GqlInfo) -> Staff | None:
        staff_id = info.context.viewer_id()
        row = await service.get_staff(staff_id) if staff_id is not None else None
        return Staff.of(row) if row is not None else None

    @strawberry.field(
        description="Staff accounts by username; deactivated ones with includeInactive.",
        extensions=[Roles(StaffRole.ADMIN)],
    )
    async def staff_accounts(
        self,
        info: GqlInfo,
        include_inactive: bool = False,
        first: int = 20,
        after: str | None = None,
    ) -> StaffConnection:
        query = service.list_staff(include_inactive=include_inactive)
        position = decode_cursor(after, 1)
        if position is not None:
            query = query.filter(username__gt=str(position[0]))
        rows = await query.order_by("username").limit(check_first(first) + 1)
        page = rows[:first]
        edges = [StaffEdge(cursor=encode_cursor(r.username), node=Staff.of(r)) for r in page]
        return StaffConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(rows) > first,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )


@strawberry.type
class StaffAdminMutation:
    @strawberry.mutation(description="Sign in as staff.")
    async def staff_login(self, info: GqlInfo, input: StaffLoginInput) -> AuthResult:
        work = service.staff_login(
            info.context.services,
            username=input.username,
            password=input.password,
            client_address=info.context.client_address,
        )
        return await outcome(work, AuthTokens.from_issued)

    @strawberry.mutation(description="Trade a staff refresh token for new tokens.")
    async def staff_refresh_tokens(self, info: GqlInfo, input: RefreshTokensInput) -> AuthResult:
        work = service.staff_refresh_tokens(
            info.context.services, refresh_token=input.refresh_token
        )
        return await outcome(work, AuthTokens.from_issued)

    @strawberry.mutation(description="Sign a staff session out.")
    async def staff_logout(self, info: GqlInfo, input: LogoutInput) -> LogoutResult:
        work = service.staff_logout(info.context.services, refresh_token=input.refresh_token)
        return await outcome(work, logged_out)

    @strawberry.mutation(
        description=(
            "Change one's own password (the current one is required); one's refresh "
            "tokens are revoked, so other devices sign in again. Any signed-in staff member."
        )
    )
    async def change_my_password(self, info: GqlInfo, input: ChangeMyPasswordInput) -> StaffResult:
        async def work() -> StaffUser:
            return await service.change_own_password(
                info.context.services,
                staff_id=info.context.require_subject(),
                old_password=input.old_password,
                new_password=input.new_password,
            )

        return await outcome(work(), Staff.of)

    @strawberry.mutation(
        description="Create a staff account with its roles.", extensions=[Roles(StaffRole.ADMIN)]
    )
    async def create_staff(self, info: GqlInfo, input: CreateStaffInput) -> StaffResult:
        work = service.create_staff(
            info.context.services,
            username=input.username,
            password=input.password,
            roles=input.roles,
        )
        return await outcome(work, Staff.of)

    @strawberry.mutation(
        description=(
            "Replace a staff member's roles; they hold from that member's next request. "
            "Nobody changes their own roles."
        ),
        extensions=[Roles(StaffRole.ADMIN)],
    )
    async def set_staff_roles(self, info: GqlInfo, input: SetStaffRolesInput) -> StaffResult:
        async def work() -> StaffUser:
            return await service.set_staff_roles(
                info.context.services,
                actor_id=info.context.require_subject(),
                staff_id=parse_staff_id(input.staff_id),
                roles=input.roles,
            )

        return await outcome(work(), Staff.of)

    @strawberry.mutation(
        description=(
            "Deactivate a staff account: its sessions end at once (its tokens are refused "
            "from the next request) and it cannot sign in. Nobody deactivates themselves."
        ),
        extensions=[Roles(StaffRole.ADMIN)],
    )
    async def deactivate_staff(self, info: GqlInfo, input: StaffAccountInput) -> StaffResult:
        async def work() -> StaffUser:
            return await service.deactivate_staff(
                info.context.services,
                actor_id=info.context.require_subject(),
                staff_id=parse_staff_id(input.staff_id),
            )

        return await outcome(work(), Staff.of)

    @strawberry.mutation(
        description="Let a deactivated staff account sign in again.",
        extensions=[Roles(StaffRole.ADMIN)],
    )
    async def reactivate_staff(self, info: GqlInfo, input: StaffAccountInput) -> StaffResult:
        async def work() -> StaffUser:
            return await service.reactivate_staff(
                info.context.services,
                actor_id=info.context.require_subject(),
                staff_id=parse_staff_id(input.staff_id),
            )

        return await outcome(work(), Staff.of)

    @strawberry.mutation(
        description=(
            "Set a new password for a staff member who lost theirs; their sessions end. "
            "Nobody resets their own (see changeMyPassword)."
        ),
        extensions=[Roles(StaffRole.ADMIN)],
    )
    async def reset_staff_password(
        self, info: GqlInfo, input: ResetStaffPasswordInput
    ) -> StaffResult:
        async def work() -> StaffUser:
            return await service.reset_staff_password(
                info.context.services,
                actor_id=info.context.require_subject(),
                staff_id=parse_staff_id(input.staff_id),
                new_password=input.new_password,
            )

        return await outcome(work(), Staff.of)
