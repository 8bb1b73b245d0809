"""Each distinct document is validated once per schema and rule set.

Strawberry's own validation cache keys on the parsed document, whose hash walks the
whole tree on every request; this one keys on the query text, which the parser cache
already maps to one document.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from member_api.bounded import Bounded

MAX_ENTRIES = 512

_validated: Bounded[tuple[Any, ...], list[GraphQLError]] = Bounded(MAX_ENTRIES)


class ValidationCache(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        key = (
            context.schema._schema,
            context.query,
            tuple(sorted(context.parse_options.items())),
            context.validation_rules,
        )
        errors = _validated.get(key)
        if errors is None and context.graphql_document is not None:
            errors = validate_document(
                context.schema._schema, context.graphql_document, context.validation_rules
            )
            _validated.put(key, errors)
        context.pre_execution_errors = errors
        yield
