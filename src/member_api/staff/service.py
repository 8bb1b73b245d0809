"""Staff use cases: accounts and sign-in on the admin endpoint."""

from __future__ import annotations

import uuid

from tortoise.exceptions import IntegrityError

from member_api.auth.passwords import check_password_policy
from member_api.auth.sessions import IssuedTokens
from member_api.error_codes import StaffErrorCode
from member_api.errors import Conflict, NotAuthenticated
from member_api.services import Services
from member_api.staff.domain import StaffRole, clean_username, parse_roles
from member_api.staff.models import StaffUser


async def create_staff(
    services: Services, *, username: str, password: str, roles: list[str]
) -> StaffUser:
    name = clean_username(username)
    check_password_policy(password)
    parsed = parse_roles(roles)
    try:
        return await StaffUser.create(
            username=name,
            password_hash=await services.passwords.hash(password),
            roles=",".join(role.value for role in parsed),
            created_at=services.clock.now(),
        )
    except IntegrityError as exc:
        raise Conflict(
            StaffErrorCode.USERNAME_TAKEN, f"Staff user {name!r} exists already.", field="username"
        ) from exc


async def staff_login(
    services: Services, *, username: str, password: str, client_address: str | None
) -> IssuedTokens:
    subject = "staff:" + username.strip().lower()
    await services.login_throttle.check(subject, client_address)
    staff = await StaffUser.get_or_none(username=username.strip().lower(), is_active=True)
    stored = staff.password_hash if staff is not None else None
    if staff is None or not await services.passwords.verify(stored, password):
        await services.login_throttle.record_failure(subject, client_address)
        raise NotAuthenticated(StaffErrorCode.INVALID_CREDENTIALS, "Username or password is wrong.")
    await services.login_throttle.reset(subject)
    return await services.sessions.start("staff", staff.id, tuple(staff.role_list))


async def _active_roles(staff_id: uuid.UUID) -> tuple[str, ...]:
    staff = await StaffUser.get_or_none(id=staff_id, is_active=True)
    if staff is None:
        raise NotAuthenticated(
            StaffErrorCode.INVALID_REFRESH_TOKEN, "The refresh token is not valid."
        )
    return tuple(staff.role_list)


async def staff_refresh_tokens(services: Services, *, refresh_token: str) -> IssuedTokens:
    return await services.sessions.refresh("staff", refresh_token, _active_roles)


async def staff_logout(services: Services, *, refresh_token: str) -> None:
    await services.sessions.logout("staff", refresh_token)


async def get_staff(staff_id: uuid.UUID) -> StaffUser | None:
    return await StaffUser.get_or_none(id=staff_id, is_active=True)


def has_role(roles: tuple[str, ...], role: StaffRole) -> bool:
    return role.value in roles
