"""Per-member and per-address request budgets for both GraphQL endpoints, counted in the
shared cache (Redis when configured); over budget, a typed error, 429 and Retry-After."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from graphql import GraphQLError
from graphql.execution import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension

from member_api import ratelimit
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
    """The client address's budget and, when signed in, the caller's: one round trip."""
    services = context.services
    settings = services.settings
    window = settings.request_window_seconds
    budgets = []
    address = context.client_address
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
    try:
        claims = context.claims()
    except NotAuthenticated:
        claims = None
    if claims is not None:
        budgets.append(
            ratelimit.Budget(
                f"requests-{context.audience}",
                str(claims.subject_id),
                settings.requests_per_member,
                window,
                "requests",
            )
        )
    if budgets:
        await ratelimit.spend(services.cache, services.clock, budgets)
