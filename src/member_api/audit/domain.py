"""What an audit row says, as plain values: who acted, and the arguments with secrets hidden."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any

OK = "OK"
REDACTED = "[redacted]"
# Argument names holding any of these words are never written down.
SECRET_WORDS = ("password", "token", "secret", "signature")
# Free text a staff member writes about or to a member (a care note, a post's body): its
# own table keeps it (and erases it with the account); the log keeps only its length.
CONTENT_NAMES = ("text", "body")
MAX_TEXT = 500


class AuditKind(StrEnum):
    MUTATION = "MUTATION"
    READ = "READ"


@dataclasses.dataclass(frozen=True)
class Actor:
    """The staff member behind an action; `staff_id` None when nobody is signed in."""

    staff_id: uuid.UUID | None
    username: str
    roles: tuple[str, ...]


NOBODY = Actor(None, "", ())


def is_secret(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in SECRET_WORDS)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def plain(value: Any, *, skip: Callable[[Any], bool] = lambda _: False) -> Any:
    """`value` as JSON: input objects become objects with camelCase keys (as the API spells
    them), values under a secret-sounding name become "[redacted]", long text is cut."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + "…"
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Mapping):
        return _object(((str(k), v) for k, v in value.items()), skip)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        pairs = ((f.name, getattr(value, f.name)) for f in dataclasses.fields(value))
        return _object(pairs, skip)
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(item, skip=skip) for item in value]
    return plain(str(value))


def _object(pairs: Any, skip: Callable[[Any], bool]) -> dict[str, Any]:
    return {camel(name): _kept(name, item, skip) for name, item in pairs if not skip(item)}


def _kept(name: str, item: Any, skip: Callable[[Any], bool]) -> Any:
    if is_secret(name):
        return REDACTED
    if name.lower() in CONTENT_NAMES and isinstance(item, str):
        return f"[{len(item)} characters]"
    return plain(item, skip=skip)


def kind_of_id(name: str) -> str:
    """`member_id` -> "Member", `custody_event_id` -> "CustodyEvent"."""
    base = name.removesuffix("_id")
    return "".join(part[:1].upper() + part[1:] for part in base.split("_"))


def as_uuid(value: Any) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None
