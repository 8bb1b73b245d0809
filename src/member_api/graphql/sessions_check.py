"""Before anything runs: a member token issued before the member's sessions were ended
(the account was closed) no longer signs the request in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from strawberry.extensions import SchemaExtension


class EndedSessions(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        context: Any = self.execution_context.context
        checked = context is not None and getattr(
            getattr(getattr(context, "request", None), "state", None), "sessions_checked", False
        )
        if context is not None and hasattr(context, "check_sessions") and not checked:
            await context.check_sessions()
        yield
