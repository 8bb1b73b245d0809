"""Every mutation is a unit of work for `freshness`: it announces what it changes before
anything commits, and the announcement is closed once the mutation has ended.

A member's mutation changes that member's own data (and whatever else its services
announce: a group's feed, the catalogue's stock, another member's notifications). A
staff mutation may change anything any member sees, so it announces everything, except
for the staff member's own sign-in and password."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from graphql import FieldNode, OperationDefinitionNode, OperationType
from strawberry.extensions import SchemaExtension

from member_api import freshness

_STAFF_OWN = frozenset(
    {"staffLogin", "staffRefreshTokens", "staffLogout", "changeMyPassword", "__typename"}
)


class AnnounceWrites(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        context: Any = self.execution_context.context
        if context is None or not hasattr(context, "services") or not self._mutation():
            yield
            return
        async with freshness.writing(context.services.cache) as writes:
            scopes = self._scopes(context)
            if scopes:
                await writes.touch(*scopes)
            yield

    def _mutation(self) -> bool:
        try:
            kind = self.execution_context.operation_type
        except Exception:  # no document, or no such operation: nothing runs
            return False
        return kind.value == OperationType.MUTATION.value

    def _scopes(self, context: Any) -> list[str]:
        if context.audience == "staff":
            fields = self._root_fields()
            return [] if fields and fields <= _STAFF_OWN else [freshness.EVERYTHING]
        try:
            claims = context.claims()
        except Exception:  # a bad token: the mutation will be refused
            return []
        return [freshness.member(claims.subject_id)] if claims is not None else []

    def _root_fields(self) -> set[str]:
        document = self.execution_context.graphql_document
        name = self.execution_context.operation_name
        for definition in getattr(document, "definitions", ()) or ():
            if not isinstance(definition, OperationDefinitionNode):
                continue
            if name is not None and (definition.name is None or definition.name.value != name):
                continue
            selections = definition.selection_set.selections
            return {s.name.value for s in selections if isinstance(s, FieldNode)}
        return set()
