"""Staff-facing GraphQL on /admin/graphql: sign-in and the signed-in staff member."""

from __future__ import annotations

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


@strawberry.type(description="A staff account.")
class Staff:
    id: strawberry.ID
    username: str
    roles: list[str]


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
        return Staff(id=strawberry.ID(str(row.id)), username=row.username, roles=row.role_list)


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
