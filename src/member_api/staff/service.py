"""Staff use cases: accounts, their roles and passwords, and sign-in on the admin endpoint.

Accounts are run by admins. Nobody changes their own roles or deactivates themselves,
so no staff member can raise their own rights and one admin always remains. A
deactivated account's refresh tokens are revoked and its access tokens are refused on
the next request (the GraphQL context re-reads the account on every staff request).
"""

from __future__ import annotations

import uuid
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from member_api.audit import service as audit
from member_api.audit.domain import Actor
from member_api.auth.passwords import check_password_policy
from member_api.auth.sessions import IssuedTokens
from member_api.error_codes import StaffErrorCode
from member_api.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound
from member_api.services import Services
from member_api.staff.domain import StaffRole, clean_username, parse_roles
from member_api.staff.models import StaffUser


def _shown(staff: StaffUser) -> dict[str, Any]:
    return {"username": staff.username, "roles": staff.role_list, "active": staff.is_active}


async def create_staff(
    services: Services, *, username: str, password: str, roles: list[str]
) -> StaffUser:
    name = clean_username(username)
    check_password_policy(password)
    parsed = parse_roles(roles)
    password_hash = await services.passwords.hash(password)
    try:
        # A savepoint: inside a larger transaction a taken username leaves it usable.
        async with in_transaction():
            staff = await StaffUser.create(
                username=name,
                password_hash=password_hash,
                roles=",".join(role.value for role in parsed),
                created_at=services.clock.now(),
            )
    except IntegrityError as exc:
        raise Conflict(
            StaffErrorCode.USERNAME_TAKEN, f"Staff user {name!r} exists already.", field="username"
        ) from exc
    audit.note(target_kind="Staff", target_id=staff.id, after=_shown(staff))
    return staff


async def _locked(staff_id: uuid.UUID) -> StaffUser:
    staff = await StaffUser.filter(id=staff_id).select_for_update().first()
    if staff is None:
        raise NotFound(StaffErrorCode.UNKNOWN_STAFF, "No staff member has that id.")
    audit.note(target_kind="Staff", target_id=staff.id, before=_shown(staff))
    return staff


def _not_self(actor_id: uuid.UUID, staff_id: uuid.UUID, what: str) -> None:
    if actor_id == staff_id:
        raise Forbidden(
            StaffErrorCode.OWN_ACCOUNT, f"Staff cannot {what} their own account; ask another admin."
        )


async def set_staff_roles(
    services: Services, *, actor_id: uuid.UUID, staff_id: uuid.UUID, roles: list[str]
) -> StaffUser:
    """Replace the roles; they hold from the staff member's next request."""
    parsed = parse_roles(roles)
    _not_self(actor_id, staff_id, "change the roles of")
    async with in_transaction():
        staff = await _locked(staff_id)
        staff.roles = ",".join(role.value for role in parsed)
        await staff.save(update_fields=["roles"])
    audit.note(after=_shown(staff))
    return staff


async def deactivate_staff(
    services: Services, *, actor_id: uuid.UUID, staff_id: uuid.UUID
) -> StaffUser:
    """Sign the account out everywhere, at once, and refuse its sign-ins."""
    _not_self(actor_id, staff_id, "deactivate")
    async with in_transaction():
        staff = await _locked(staff_id)
        staff.is_active = False
        await staff.save(update_fields=["is_active"])
        await services.sessions.end_all("staff", staff.id)
    audit.note(after=_shown(staff))
    return staff


async def reactivate_staff(
    services: Services, *, actor_id: uuid.UUID, staff_id: uuid.UUID
) -> StaffUser:
    _not_self(actor_id, staff_id, "reactivate")
    async with in_transaction():
        staff = await _locked(staff_id)
        staff.is_active = True
        await staff.save(update_fields=["is_active"])
    audit.note(after=_shown(staff))
    return staff


async def reset_staff_password(
    services: Services, *, actor_id: uuid.UUID, staff_id: uuid.UUID, new_password: str
) -> StaffUser:
    """Set a new password (to be handed over and changed); the account's sessions end."""
    check_password_policy(new_password)
    _not_self(actor_id, staff_id, "reset the password of")
    password_hash = await services.passwords.hash(new_password)
    async with in_transaction():
        staff = await _locked(staff_id)
        staff.password_hash = password_hash
        await staff.save(update_fields=["password_hash"])
        await services.sessions.end_all("staff", staff.id)
    audit.note(after={**_shown(staff), "password": "reset"})
    return staff


async def change_own_password(
    services: Services, *, staff_id: uuid.UUID, old_password: str, new_password: str
) -> StaffUser:
    """The signed-in staff member's new password; their refresh tokens are revoked, so
    other devices sign in again."""
    check_password_policy(new_password)
    staff = await StaffUser.get_or_none(id=staff_id, is_active=True)
    if staff is None:
        raise NotAuthenticated(
            StaffErrorCode.ACCOUNT_DEACTIVATED, "This staff account is deactivated."
        )
    # Wrong current passwords count as failed sign-ins: a token alone cannot guess it.
    subject = "staff:" + staff.username
    await services.login_throttle.check(subject, None)
    if not await services.passwords.verify(staff.password_hash, old_password):
        await services.login_throttle.record_failure(subject, None)
        raise InvalidInput(
            StaffErrorCode.WRONG_PASSWORD, "The current password is wrong.", field="oldPassword"
        )
    password_hash = await services.passwords.hash(new_password)
    async with in_transaction():
        staff = await _locked(staff_id)
        staff.password_hash = password_hash
        await staff.save(update_fields=["password_hash"])
        await services.sessions.end_all("staff", staff.id)
    audit.note(after={**_shown(staff), "password": "changed"})
    return staff


def list_staff(*, include_inactive: bool) -> QuerySet[StaffUser]:
    query = StaffUser.all()
    return query if include_inactive else query.filter(is_active=True)


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
    audit.note(
        actor=Actor(staff.id, staff.username, tuple(staff.role_list)),
        target_kind="Staff",
        target_id=staff.id,
    )
    return await services.sessions.start("staff", staff.id, tuple(staff.role_list))


async def _active_roles(staff_id: uuid.UUID) -> tuple[str, ...]:
    staff = await StaffUser.get_or_none(id=staff_id, is_active=True)
    if staff is None:
        raise NotAuthenticated(
            StaffErrorCode.INVALID_REFRESH_TOKEN, "The refresh token is not valid."
        )
    audit.note(
        actor=Actor(staff.id, staff.username, tuple(staff.role_list)),
        target_kind="Staff",
        target_id=staff.id,
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
