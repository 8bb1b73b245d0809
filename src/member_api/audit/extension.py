"""Every staff mutation writes one audit row: `Audited`, put on each field of the staff
Mutation type when the schema is built (see `audit_every_field`).

The resolver runs inside a transaction; services' own `in_transaction()` blocks become
savepoints in it. On success the row is written in that transaction, so the change and
its row commit together or not at all. When the result is an error value (refused,
bad input) or the resolver raises, the work is rolled back and the row, with the error
code as its outcome, is written on its own. Work a service means to do after its
commit goes through `member_api.db.after_commit`: it runs once this transaction has
committed, and not at all when it rolls back.

Sign-in, refresh and sign-out (`unwrapped`) are not wrapped: a refused refresh token
revokes its family, and that must hold although the call failed. Their row is written
after them, on its own. Besides `retryJobRun`'s tasks (sent through `after_commit`),
the services staff mutations call do no work after their commit: no cache entry to
drop, no in-process memory to update; outbox rows are written inside the transaction
and delivered once committed.

An auditor changes nothing: a caller whose only role is auditor is refused every
mutation but those about their own account (`open_to_auditors`: signing in and out,
changing their own password), whatever roles the field declares.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from strawberry import UNSET
from strawberry.extensions.field_extension import FieldExtension
from strawberry.types import Info
from strawberry.types.field import StrawberryField
from strawberry.types.union import StrawberryUnion
from tortoise.transactions import in_transaction

from member_api import db
from member_api.audit import service as audit
from member_api.audit.domain import OK, as_uuid, kind_of_id, plain
from member_api.error_codes import RequestErrorCode
from member_api.errors import Forbidden
from member_api.graphql.errors import ClientError, Error, ForbiddenError, error_from
from member_api.staff.domain import StaffRole

UNEXPECTED = "INTERNAL_ERROR"


class _Refused(Exception):
    """Carries an error value out of the transaction so that it rolls back."""

    def __init__(self, result: Any) -> None:
        super().__init__("refused")
        self.result = result


def _is_unset(value: Any) -> bool:
    return value is UNSET


def _outcome_of(result: Any) -> str:
    return str(result.code) if isinstance(result, Error) else OK


def _code_of(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str((exc.extensions or {}).get("code", UNEXPECTED))
    return UNEXPECTED


def _target_from_arguments(entry: audit.Pending, kwargs: dict[str, Any]) -> None:
    """The first `*_id` argument (or input field) names the target; `member_id` the member."""
    sources: list[Any] = [kwargs, *(v for v in kwargs.values() if hasattr(v, "__dict__"))]
    for source in sources:
        values = source if isinstance(source, dict) else vars(source)
        for name, value in values.items():
            if not name.endswith("_id") or value is None or _is_unset(value):
                continue
            if not entry.target_kind:
                entry.target_kind, entry.target_id = kind_of_id(name), str(value)[:100]
            if name == "member_id" and entry.member_id is None:
                entry.member_id = as_uuid(value)


def _target_from_result(entry: audit.Pending, result: Any) -> None:
    """What a successful call made or changed, when the service did not say."""
    if not entry.target_id and getattr(result, "id", None) is not None:
        definition = getattr(type(result), "__strawberry_definition__", None)
        entry.target_kind = definition.name if definition is not None else type(result).__name__
        entry.target_id = str(result.id)
    if entry.member_id is None and getattr(result, "member_id", None) is not None:
        entry.member_id = as_uuid(result.member_id)


class Audited(FieldExtension):
    def __init__(self, *, wrapped: bool = True, open_to_auditors: bool = False) -> None:
        self.wrapped = wrapped
        self.open_to_auditors = open_to_auditors
        self._refuse_as_value = False

    def apply(self, field: StrawberryField) -> None:
        forbidden: object = ForbiddenError
        field_type = field.type
        self._refuse_as_value = isinstance(field_type, StrawberryUnion) and any(
            member is forbidden for member in field_type.types
        )

    def _auditor_refusal(self, entry: audit.Pending) -> Any:
        roles = set(entry.actor.roles)
        if self.open_to_auditors or not roles or roles - {StaffRole.AUDITOR.value}:
            return None
        refusal = Forbidden(RequestErrorCode.FORBIDDEN, "An auditor changes nothing.")
        if self._refuse_as_value:
            return error_from(refusal)
        raise ClientError(refusal.code, refusal.message)

    def resolve(
        self, next_: Callable[..., Any], source: Any, info: Info[Any, Any], **kwargs: Any
    ) -> Any:
        raise TypeError("audited staff mutations are async")  # pragma: no cover

    async def resolve_async(
        self,
        next_: Callable[..., Awaitable[Any]],
        source: Any,
        info: Info[Any, Any],
        **kwargs: Any,
    ) -> Any:
        context = info.context
        entry = audit.begin(context, info.field_name, plain(kwargs, skip=_is_unset))
        _target_from_arguments(entry, kwargs)
        with audit.running(entry), db.deferring_until_commit() as after_commit:
            try:
                if self.wrapped:
                    result = await self._in_transaction(next_, source, info, entry, kwargs)
                else:
                    result = await next_(source, info, **kwargs)
            except _Refused as refused:
                after_commit.clear()
                await audit.write(context.services, entry, _outcome_of(refused.result))
                return refused.result
            except Exception as exc:
                after_commit.clear()
                await audit.write(context.services, entry, _code_of(exc))
                raise
            if not self.wrapped:
                _target_from_result(entry, result)
                await audit.write(context.services, entry, _outcome_of(result))
        # Committed: now the work that waits for it (outside the transaction's context).
        await db.run_after_commit(after_commit)
        return result

    async def _in_transaction(
        self,
        next_: Callable[..., Awaitable[Any]],
        source: Any,
        info: Info[Any, Any],
        entry: audit.Pending,
        kwargs: dict[str, Any],
    ) -> Any:
        refused = self._auditor_refusal(entry)
        if refused is not None:
            raise _Refused(refused)
        async with in_transaction():
            result = await next_(source, info, **kwargs)
            if _outcome_of(result) != OK:
                raise _Refused(result)
            _target_from_result(entry, result)
            await audit.write(info.context.services, entry, OK)
        return result


def audit_every_field(
    mutation: type, *, unwrapped: Iterable[str] = (), open_to_auditors: Iterable[str] = ()
) -> None:
    """Put `Audited` on every field of a Mutation type, outermost (after the Roles check,
    so that a refusal is written down too). Fields named (by Python name) in
    `unwrapped` run outside the audit transaction; those in `open_to_auditors` are not
    refused to auditors."""
    bare, open_ = set(unwrapped), set(open_to_auditors)
    for field in mutation.__strawberry_definition__.fields:  # type: ignore[attr-defined]
        if not any(isinstance(e, Audited) for e in field.extensions):
            name = field.python_name
            field.extensions.append(
                Audited(wrapped=name not in bare, open_to_auditors=name in open_)
            )
