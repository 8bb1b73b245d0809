"""Limits on what one GraphQL request may ask: depth, tokens, aliases, and a query cost
that every response reports in `extensions.cost`, as Shopify's API does.

The cost of an operation is counted on its document before it runs: a field that
returns an object costs 1, a scalar costs nothing, and a field taking `first: N`
multiplies the cost of what it selects by N (a connection of 20 posts with authors
costs 20 x (1 + 1) + 1 ...). Fragments count where they are spread, but each is
measured once (`measure.py`), so every limit costs time linear in the document.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    GraphQLError,
    Node,
    StringValueNode,
    ValidationContext,
    ValidationRule,
)
from graphql.execution import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, SchemaExtension

from member_api.bounded import Bounded
from member_api.error_codes import RequestErrorCode
from member_api.graphql.measure import Measure, operation_cost
from member_api.text import all_storable, storable

__all__ = ["MAX_ALIASES", "MAX_COST", "MAX_DEPTH", "MAX_TOKENS", "operation_cost"]

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 5_000
MAX_COST = 5_000


class DepthAndAliases(ValidationRule):
    """Refuses an operation nested deeper than MAX_DEPTH and a document with more than
    MAX_ALIASES aliased fields; each fragment is measured once, wherever it is spread.

    A class, not a factory: the validation cache keys on the rules, so they must be the
    same objects on every request."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        measure = Measure(context.document)
        aliases = 0
        for operation in measure.operations:
            tally = measure.operation(operation)
            aliases += tally.aliases
            if tally.depth > MAX_DEPTH:
                name = operation.name.value if operation.name else "anonymous"
                context.report_error(
                    GraphQLError(
                        f"'{name}' exceeds maximum operation depth of {MAX_DEPTH}",
                        operation,
                        extensions={"code": RequestErrorCode.QUERY_TOO_DEEP},
                    )
                )
        if aliases > MAX_ALIASES:
            context.report_error(
                GraphQLError(
                    f"{aliases} aliases found. Allowed: {MAX_ALIASES}",
                    extensions={"code": RequestErrorCode.TOO_MANY_ALIASES},
                )
            )


class QueryCost(SchemaExtension):
    """Refuses an operation whose cost is over the limit; reports the cost on every answer."""

    def __init__(self, *, limit: int = MAX_COST) -> None:
        self.limit = limit
        self.cost: int | None = None

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None:
            self.cost = _cost_of(context)
            if self.cost > self.limit:
                context.result = GraphQLExecutionResult(
                    data=None,
                    errors=[
                        GraphQLError(
                            f"This query would cost {self.cost}; the limit is {self.limit}. "
                            "Ask for fewer items per page or fewer fields.",
                            extensions={"code": RequestErrorCode.QUERY_TOO_COSTLY},
                        )
                    ],
                )
        yield

    def get_results(self) -> dict[str, Any]:
        if self.cost is None:
            return {}
        return {"cost": {"requestedQueryCost": self.cost, "maxQueryCost": self.limit}}


_COSTS: Bounded[tuple[str, str | None, bytes], int] = Bounded(512)
REMEMBERED_TEXT = 8_192  # longer documents (no client sends one) are measured each time


def _cost_of(context: Any) -> int:
    """An operation's cost, measured once per text, operation and variables (the cost
    depends on nothing else)."""
    variables = context.variables or {}
    if len(context.query or "") > REMEMBERED_TEXT:
        return operation_cost(context.graphql_document, context.operation_name, variables)
    try:
        key = (
            context.query or "",
            context.operation_name,
            orjson.dumps(variables, option=orjson.OPT_SORT_KEYS),
        )
    except TypeError:  # variables orjson cannot write: measure without remembering
        return operation_cost(context.graphql_document, context.operation_name, variables)
    known = _COSTS.get(key)
    if known is None:
        known = operation_cost(context.graphql_document, context.operation_name, variables)
        _COSTS.put(key, known)
    return known


_STRINGS_CHECKED: Bounded[str, bool] = Bounded(512)


def _document_storable(query: str, document: DocumentNode) -> bool:
    """Every string literal of the document, escapes resolved, is storable (once per text)."""
    known = _STRINGS_CHECKED.get(query)
    if known is None:
        known = all(storable(node.value) for node in _string_values(document))
        _STRINGS_CHECKED.put(query, known)
    return known


def _string_values(node: Any) -> Iterator[StringValueNode]:
    if isinstance(node, StringValueNode):
        yield node
        return
    for key in node.keys:
        child = getattr(node, key, None)
        if isinstance(child, Node):
            yield from _string_values(child)
        elif isinstance(child, tuple | list):
            for item in child:
                if isinstance(item, Node):
                    yield from _string_values(item)


class RejectUnstorableText(SchemaExtension):
    """No text we store may hold a NUL character or a lone surrogate: a request with one
    in a string literal of its document (after escapes) or in its variables is answered
    with a typed error before anything runs. Every argument reaches a resolver through
    one of the two, so no resolver sees such text."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        clean = all_storable(context.variables or {}) and (
            document is None or _document_storable(context.query or "", document)
        )
        if not clean:
            context.result = GraphQLExecutionResult(
                data=None,
                errors=[
                    GraphQLError(
                        "Text may not contain NUL characters or unpaired surrogates.",
                        extensions={"code": RequestErrorCode.INVALID_CHARACTERS},
                    )
                ],
            )
        yield


def limit_extensions() -> list[Any]:
    """The extensions that hold every request to the limits, for a schema's list."""
    return [
        lambda: AddValidationRules([DepthAndAliases]),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        QueryCost,
        RejectUnstorableText,
    ]
