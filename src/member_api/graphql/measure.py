"""How much a document asks for (its depth, its aliases, its cost), in time linear in
the document's size.

A fragment may be spread many times, and each spread may sit in a fragment that is
itself spread many times: expanding spreads would cost as much as the expanded
document, which twenty short fragments make a million fields. So each fragment's
selections are walked once, and what they come to is remembered and reused wherever
the fragment is spread. Totals saturate at `CAP`, far beyond any limit, so numbers stay
small however the spreads multiply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionNode,
    VariableNode,
)

CAP = 10**12
DEFAULT_PAGE = 20  # what `first` means when a connection is asked without it
MAX_PAGE = 100
_PAGE_FIELDS = frozenset({"edges", "nodes"})


@dataclass(frozen=True, slots=True)
class Tally:
    depth: int = 0  # fields with selections, nested (introspection fields not counted)
    aliases: int = 0  # aliased fields, counted at every place they are reached
    cost: int = 0  # objects asked for, pages multiplied by their size


_NOTHING = Tally()


def _capped(value: int) -> int:
    return min(value, CAP)


def _plus(a: Tally, b: Tally) -> Tally:
    return Tally(max(a.depth, b.depth), _capped(a.aliases + b.aliases), _capped(a.cost + b.cost))


def _first(field: FieldNode, variables: dict[str, Any]) -> int | None:
    for argument in field.arguments or ():
        if argument.name.value != "first":
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            return int(value.value)
        if isinstance(value, VariableNode):
            given = variables.get(value.name.value)
            return given if isinstance(given, int) and not isinstance(given, bool) else None
    return None


def _is_page(selection: SelectionNode) -> bool:
    return isinstance(selection, FieldNode) and selection.name.value in _PAGE_FIELDS


class Measure:
    """Measures one document under one set of variables; each selection set is walked
    at most once (`_selections` is the walk)."""

    def __init__(self, document: DocumentNode, variables: dict[str, Any] | None = None) -> None:
        self.variables = variables or {}
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.operations = [
            d for d in document.definitions if isinstance(d, OperationDefinitionNode)
        ]
        self._done: dict[str, Tally] = {}
        self._open: set[str] = set()  # a cycle is refused by validation; here it counts 0

    def operation(self, operation: OperationDefinitionNode) -> Tally:
        return self._selections(operation.selection_set.selections)

    def chosen(self, operation_name: str | None) -> Tally:
        for operation in self.operations:
            if operation_name is None or (
                operation.name is not None and operation.name.value == operation_name
            ):
                return self.operation(operation)
        return _NOTHING

    def fragment(self, name: str) -> Tally:
        done = self._done.get(name)
        if done is not None:
            return done
        definition = self.fragments.get(name)
        if definition is None or name in self._open:
            return _NOTHING
        self._open.add(name)
        tally = self._selections(definition.selection_set.selections)
        self._open.discard(name)
        self._done[name] = tally
        return tally

    def _selections(self, selections: tuple[SelectionNode, ...] | list[SelectionNode]) -> Tally:
        total = _NOTHING
        for selection in selections:
            if isinstance(selection, FieldNode):
                total = _plus(total, self._field(selection))
            elif isinstance(selection, InlineFragmentNode):
                total = _plus(total, self._selections(selection.selection_set.selections))
            elif isinstance(selection, FragmentSpreadNode):
                total = _plus(total, self.fragment(selection.name.value))
        return total

    def _field(self, field: FieldNode) -> Tally:
        aliases = 1 if field.alias is not None else 0
        if field.selection_set is None:
            return Tally(0, aliases, 0)  # a scalar costs nothing
        children = field.selection_set.selections
        connection = any(_is_page(s) for s in children)
        first = _first(field, self.variables)
        if first is None and connection:
            first = DEFAULT_PAGE
        multiplier = max(0, min(first, MAX_PAGE)) if first is not None else 1
        if connection:
            # A page multiplies its edges or nodes; pageInfo and the like are asked once.
            paged = self._selections([s for s in children if _is_page(s)])
            once = self._selections([s for s in children if not _is_page(s)])
            inner = Tally(
                max(paged.depth, once.depth),
                _capped(paged.aliases + once.aliases),
                _capped(multiplier * paged.cost + once.cost),
            )
        else:
            below = self._selections(children)
            inner = Tally(below.depth, below.aliases, _capped(multiplier * below.cost))
        introspection = field.name.value.startswith("__")
        return Tally(
            0 if introspection else 1 + inner.depth,
            _capped(aliases + inner.aliases),
            _capped(1 + inner.cost),
        )


def operation_cost(
    document: DocumentNode, operation_name: str | None, variables: dict[str, Any]
) -> int:
    return Measure(document, variables).chosen(operation_name).cost
