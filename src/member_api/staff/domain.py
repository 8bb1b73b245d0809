"""Staff roles and usernames."""

from __future__ import annotations

import re
from enum import StrEnum

from member_api.error_codes import StaffErrorCode
from member_api.errors import InvalidInput


class StaffRole(StrEnum):
    OPERATOR = "operator"
    AUTHENTICATOR = "authenticator"
    MODERATOR = "moderator"
    # Creates staff accounts, changes their roles, deactivates them, resets passwords.
    ADMIN = "admin"
    # Customer care: serves members, writes care notes.
    ADVISOR = "advisor"
    # Segments and campaigns.
    MARKETER = "marketer"
    # Reads the audit log, and changes nothing.
    AUDITOR = "auditor"


_USERNAME = re.compile(r"[a-z][a-z0-9_.-]{2,63}")


def clean_username(raw: str) -> str:
    username = raw.strip().lower()
    if not _USERNAME.fullmatch(username):
        raise InvalidInput(
            StaffErrorCode.INVALID_USERNAME,
            "Username: 3 to 64 characters, lowercase letters, digits, '_', '.', '-'.",
            field="username",
        )
    return username


def parse_roles(raw: list[str]) -> tuple[StaffRole, ...]:
    roles: list[StaffRole] = []
    for value in raw:
        try:
            role = StaffRole(value.strip().lower())
        except ValueError as exc:
            allowed = ", ".join(r.value for r in StaffRole)
            raise InvalidInput(
                StaffErrorCode.INVALID_ROLE,
                f"Unknown role {value!r}; use {allowed}.",
                field="roles",
            ) from exc
        if role not in roles:
            roles.append(role)
    if not roles:
        raise InvalidInput(StaffErrorCode.INVALID_ROLE, "A staff account needs at least one role.")
    return tuple(roles)
