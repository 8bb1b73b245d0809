"""Mutation results: a union of the success type and the error types."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from member_api.errors import DomainError
from member_api.graphql.errors import AnyError, error_from
from member_api.metrics import note_error

T = TypeVar("T")
R = TypeVar("R")


async def outcome(work: Awaitable[T], present: Callable[[T], R]) -> R | AnyError:
    """Run a use case; a domain failure becomes its error type, anything else propagates."""
    try:
        value = await work
    except DomainError as exc:
        note_error(exc.code)
        return error_from(exc)
    return present(value)


def _itself(value: R) -> R:
    return value


async def outcome_as_is(work: Awaitable[R]) -> R | AnyError:
    """`outcome` for work that returns what the client sees already."""
    return await outcome(work, _itself)
