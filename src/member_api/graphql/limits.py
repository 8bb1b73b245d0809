"""Limits on what one GraphQL request may ask: depth, tokens, aliases, and a query cost
that every response reports in `extensions.cost`, as Shopify's API does.

The cost of an operation is counted on its document before it runs: a field that
returns an object costs 1, a scalar costs nothing, and a field taking `first: N`
multiplies the cost of what it selects by N (a connection of 20 posts with authors
costs 20 x (1 + 1) + 1 ...). Fragments count where they are spread.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)
from graphql.execution import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, SchemaExtension
from strawberry.extensions.max_aliases import create_validator as aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 5_000
MAX_COST = 5_000
DEFAULT_PAGE = 20  # what `first` means when a connection is asked without it
MAX_PAGE = 100

# The rules are built once: the validation cache keys on them, so a new class per request
# would make every request validate its document again.
DEPTH_RULE = depth_rule(MAX_DEPTH, None, None)
ALIASES_RULE = aliases_rule(MAX_ALIASES)


def _first(field: FieldNode, variables: dict[str, Any]) -> int | None:
    for argument in field.arguments or ():
        if argument.name.value != "first":
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            return int(value.value)
        if isinstance(value, VariableNode):
            given = variables.get(value.name.value)
            return given if isinstance(given, int) else None
    return None


def _is_page(selection: Any) -> bool:
    return isinstance(selection, FieldNode) and selection.name.value in {"edges", "nodes"}


def _is_connection(selection_set: SelectionSetNode) -> bool:
    return any(_is_page(s) for s in selection_set.selections)


def _selection_cost(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
    seen: frozenset[str],
) -> int:
    if selection_set is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.selection_set is None:
                continue  # a scalar
            first = _first(selection, variables)
            connection = _is_connection(selection.selection_set)
            if first is None and connection:
                first = DEFAULT_PAGE
            multiplier = max(0, min(first, MAX_PAGE)) if first is not None else 1
            if connection:
                # A page multiplies its edges or nodes; pageInfo is asked once.
                children = selection.selection_set.selections
                paged = tuple(s for s in children if _is_page(s))
                once = tuple(s for s in children if not _is_page(s))
                page_cost = _selection_cost(
                    SelectionSetNode(selections=paged), fragments, variables, seen
                )
                total += 1 + multiplier * page_cost
                total += _selection_cost(
                    SelectionSetNode(selections=once), fragments, variables, seen
                )
            else:
                inner = _selection_cost(selection.selection_set, fragments, variables, seen)
                total += 1 + multiplier * inner
        elif isinstance(selection, InlineFragmentNode):
            total += _selection_cost(selection.selection_set, fragments, variables, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:
                total += _selection_cost(
                    fragment.selection_set, fragments, variables, seen | {name}
                )
    return total


def operation_cost(document: Any, operation_name: str | None, variables: dict[str, Any]) -> int:
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [
        o
        for o in operations
        if operation_name is None or (o.name and o.name.value == operation_name)
    ]
    if not chosen:
        return 0
    return _selection_cost(chosen[0].selection_set, fragments, variables, frozenset())


class QueryCost(SchemaExtension):
    """Refuses an operation whose cost is over the limit; reports the cost on every answer."""

    def __init__(self, *, limit: int = MAX_COST) -> None:
        self.limit = limit
        self.cost: int | None = None

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None:
            self.cost = operation_cost(
                context.graphql_document, context.operation_name, context.variables or {}
            )
            if self.cost > self.limit:
                context.result = GraphQLExecutionResult(
                    data=None,
                    errors=[
                        GraphQLError(
                            f"This query would cost {self.cost}; the limit is {self.limit}. "
                            "Ask for fewer items per page or fewer fields.",
                            extensions={"code": "QUERY_TOO_COSTLY"},
                        )
                    ],
                )
        yield

    def get_results(self) -> dict[str, Any]:
        if self.cost is None:
            return {}
        return {"cost": {"requestedQueryCost": self.cost, "maxQueryCost": self.limit}}


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class RejectNul(SchemaExtension):
    """No text we store may hold a NUL character (PostgreSQL refuses it): such a request
    is answered with a typed error before anything runs."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if _has_nul(context.query or "") or _has_nul(context.variables or {}):
            context.result = GraphQLExecutionResult(
                data=None,
                errors=[
                    GraphQLError(
                        "Text may not contain NUL characters.",
                        extensions={"code": "INVALID_CHARACTERS"},
                    )
                ],
            )
        yield


def limit_extensions() -> list[Any]:
    """The extensions that hold every request to the limits, for a schema's list."""
    return [
        lambda: AddValidationRules([DEPTH_RULE, ALIASES_RULE]),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        QueryCost,
        RejectNul,
    ]
