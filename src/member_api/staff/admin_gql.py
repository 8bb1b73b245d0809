"""Staff-facing GraphQL on /admin/graphql: sign-in and the signed-in staff member."""

from __future__ import annotations

import uuid

import strawberry

from member_api.graphql.auth_types import (
    AuthResult,
    AuthTokens,
    LogoutInput,
    LogoutResult,
    RefreshTokensInput,
    logged_out,
)
from member_api.graphql.context import GqlInfo
from member_api.graphql.results import outcome
from member_api.staff import service
from member_api.staff.models import StaffUser


@strawberry.type(description="A staff account.")
class Staff:
    id: strawberry.ID
    username: str
    roles: list[str]

    @classmethod
    def of(cls, row: StaffUser) -> Staff:
        return cls(id=strawberry.ID(str(row.id)), username=row.username, roles=row.role_list)


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


@strawberry.type
class StaffAdminQuery:
    @strawberry.field(description="The signed-in staff member; null without a token.")
    async def viewer(self, info: GqlInfo) -> Staff | None:
        staff_id = info.context.viewer_id()
        row = await service.get_staff(staff_id) if staff_id is not None else None
        if row is None:
            return None
        return Staff.of(row)


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
