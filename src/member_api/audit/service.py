"""The audit log's one writer.

Staff mutations are audited by `member_api.audit.extension.Audited`, which every field
of the staff Mutation type carries: the row commits in the resolver's own transaction,
or, when the action fails, alone with its error code. Services say what they touched
and how it looked before and after with `note(...)`. Staff reads of a member's
personal data call `record_read(info, action, member_id)`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from member_api.audit.domain import OK, Actor, AuditKind, as_uuid, plain
from member_api.audit.models import AuditEntry
from member_api.services import Services


class AuditContext(Protocol):
    """What a request tells the log: the GraphQL context has all of it."""

    services: Services
    request_id: str

    @property
    def client_address(self) -> str | None: ...

    def audit_actor(self) -> Actor: ...


@dataclass
class Pending:
    """The row an audited action will write, filled in while it runs."""

    action: str
    kind: AuditKind
    actor: Actor
    request_id: str
    client_address: str
    arguments: dict[str, Any]
    target_kind: str = ""
    target_id: str = ""
    member_id: uuid.UUID | None = None
    changes: dict[str, Any] = field(default_factory=dict)


_pending: ContextVar[Pending | None] = ContextVar("audit_pending", default=None)


def begin(context: AuditContext, action: str, arguments: dict[str, Any]) -> Pending:
    return Pending(
        action=action,
        kind=AuditKind.MUTATION,
        actor=context.audit_actor(),
        request_id=context.request_id or "",
        client_address=context.client_address or "",
        arguments=arguments,
    )


@contextmanager
def running(entry: Pending) -> Iterator[Pending]:
    """Within the block, `note` fills in `entry`."""
    token = _pending.set(entry)
    try:
        yield entry
    finally:
        _pending.reset(token)


def note(
    *,
    target_kind: str | None = None,
    target_id: object = None,
    member_id: uuid.UUID | None = None,
    before: object = None,
    after: object = None,
    actor: Actor | None = None,
) -> None:
    """Say what the running staff action touched and how it looked before and after.
    Outside an audited action (a CLI command, a job) it does nothing."""
    entry = _pending.get()
    if entry is None:
        return
    if target_kind is not None:
        entry.target_kind = target_kind
    if target_id is not None:
        entry.target_id = str(target_id)
    if member_id is not None:
        entry.member_id = member_id
    if before is not None:
        entry.changes["before"] = plain(before)
    if after is not None:
        entry.changes["after"] = plain(after)
    if actor is not None:
        entry.actor = actor


async def write(services: Services, entry: Pending, outcome: str) -> AuditEntry:
    """Insert the row, in whatever transaction is open."""
    row = _row(services, entry, outcome)
    await row.save()
    return row


def _row(services: Services, entry: Pending, outcome: str) -> AuditEntry:
    return AuditEntry(
        at=services.clock.now(),
        staff_id=entry.actor.staff_id,
        staff_username=entry.actor.username[:64],
        roles=",".join(entry.actor.roles)[:200],
        kind=entry.kind.value,
        action=entry.action[:100],
        target_kind=entry.target_kind[:40],
        target_id=entry.target_id[:100],
        member_id=entry.member_id,
        request_id=entry.request_id[:100],
        client_address=entry.client_address[:100],
        outcome=str(outcome)[:64],
        diff={"arguments": entry.arguments, **entry.changes},
    )


async def record_read(
    info_or_context: Any,
    action: str,
    member_id: uuid.UUID | str | None = None,
    *,
    target_kind: str = "Member",
    target_id: object = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Log that the signed-in staff member read a member's personal data.

    Call it from the read resolver with its `info` (or the context), the field name as
    `action` and the member read; `details` (the query's arguments, the members a list
    showed) are kept as given, with secret-sounding names redacted."""
    context: AuditContext = getattr(info_or_context, "context", info_or_context)
    member = as_uuid(member_id) if member_id is not None else None
    shown = target_id if target_id is not None else member
    entry = _read(context, action, details, target_kind if shown is not None else "", shown)
    entry.member_id = member
    return await write(context.services, entry, OK)


async def record_reads(
    info_or_context: Any,
    action: str,
    member_ids: Iterable[uuid.UUID],
    *,
    details: dict[str, Any] | None = None,
) -> None:
    """`record_read` for each member a list showed (a search's results): one row each,
    inserted together."""
    context: AuditContext = getattr(info_or_context, "context", info_or_context)
    rows = []
    for member_id in dict.fromkeys(member_ids):
        entry = _read(context, action, details, "Member", member_id)
        entry.member_id = member_id
        rows.append(_row(context.services, entry, OK))
    if rows:
        await AuditEntry.bulk_create(rows)


def _read(
    context: AuditContext,
    action: str,
    details: dict[str, Any] | None,
    target_kind: str,
    target_id: object,
) -> Pending:
    return Pending(
        action=action,
        kind=AuditKind.READ,
        actor=context.audit_actor(),
        request_id=context.request_id or "",
        client_address=context.client_address or "",
        arguments=plain(details or {}),
        target_kind=target_kind,
        target_id=str(target_id) if target_id is not None else "",
    )


def entries(
    *,
    staff_id: uuid.UUID | None = None,
    member_id: uuid.UUID | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEntry]:
    """The rows matching every filter given; `since` inclusive, `until` exclusive."""
    query = AuditEntry.all()
    conditions: list[Q] = []
    if staff_id is not None:
        conditions.append(Q(staff_id=staff_id))
    if member_id is not None:
        conditions.append(Q(member_id=member_id))
    if action is not None:
        conditions.append(Q(action=action))
    if since is not None:
        conditions.append(Q(at__gte=since))
    if until is not None:
        conditions.append(Q(at__lt=until))
    return query.filter(*conditions) if conditions else query
