"""Per-member and per-address request budgets for both GraphQL endpoints, counted in the
shared cache (Redis when configured); over budget, a typed error, 429 and Retry-After."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from graphql import GraphQLError
from graphql.execution import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension

from member_api import ratelimit
from member_api.auth.revocation import raw_marker_key
from member_api.errors import NotAuthenticated, RateLimited


class RequestBudget(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        context: Any = self.execution_context.context
        if context is not None and hasattr(context, "services"):
            try:
                await _spend(context)
            except RateLimited as exc:
                self.execution_context.result = GraphQLExecutionResult(
                    data=None,
                    errors=[
                        GraphQLError(
                            exc.message,
                            extensions={
                                "code": exc.code,
                                "retryAfterSeconds": exc.retry_after_seconds,
                            },
                        )
                    ],
                )
                response = getattr(context, "response", None)
                if response is not None:
                    response.status_code = 429
                    response.headers["Retry-After"] = str(exc.retry_after_seconds)
        yield


async def _spend(context: Any) -> None:
    """The client address's budget and, when signed in, the caller's, and (for a member)
    whether their sessions were ended: one round trip."""
    state = context.request.state
    if getattr(state, "budget_spent", False):
        return  # counted already, by the response cache's look-up
    try:
        claims = context.claims()
    except NotAuthenticated:
        claims = None
    services = context.services
    budgets = request_budgets(
        services.settings,
        context.client_address,
        context.audience,
        claims.subject_id if claims is not None else None,
    )
    marker = None
    if claims is not None and context.audience == "member":
        marker = raw_marker_key(services.cache, claims.subject_id)
    if not budgets and marker is None:
        return
    values = await ratelimit.spend(
        services.cache, services.clock, budgets, [marker] if marker else []
    )
    if marker is not None and values is not None:
        state.sessions_checked = True
        ended = values[0]
        if ended is not None and claims is not None and claims.issued_at <= int(ended):
            context.end_sessions()


def request_budgets(
    settings: Any, address: str | None, audience: str, subject_id: uuid.UUID | None
) -> list[ratelimit.Budget]:
    """What one request counts against: its address's budget and, signed in, its caller's."""
    window = settings.request_window_seconds
    budgets = []
    if address:
        budgets.append(
            ratelimit.Budget(
                "requests-address",
                address,
                settings.requests_per_address,
                window,
                "requests from one address",
            )
        )
    if subject_id is not None:
        budgets.append(
            ratelimit.Budget(
                f"requests-{audience}",
                str(subject_id),
                settings.requests_per_member,
                window,
                "requests",
            )
        )
    return budgets
