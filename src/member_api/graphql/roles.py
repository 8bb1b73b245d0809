"""Staff roles declared on the field: `extensions=[Roles(StaffRole.OPERATOR)]`.

The check runs before the resolver. A field whose result can be an error (a union with
`ForbiddenError`) answers a missing token or role as that error value; any other field
answers it as a GraphQL error with the same code. The roles are written into the
field's description, so the schema says who may call what.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from strawberry.extensions.field_extension import FieldExtension
from strawberry.types import Info
from strawberry.types.field import StrawberryField
from strawberry.types.union import StrawberryUnion

from member_api.errors import DomainError
from member_api.graphql.errors import ClientError, ForbiddenError, error_from
from member_api.staff.domain import StaffRole


class Roles(FieldExtension):
    """Only staff holding one of `roles` may resolve this field."""

    def __init__(self, *roles: StaffRole) -> None:
        if not roles:
            raise ValueError("a field declares at least one role")
        self.roles = tuple(roles)
        self._as_value = False

    def apply(self, field: StrawberryField) -> None:
        field_type = field.type
        forbidden: object = ForbiddenError
        self._as_value = isinstance(field_type, StrawberryUnion) and any(
            member is forbidden for member in field_type.types
        )
        names = " or ".join(role.value for role in self.roles)
        who = f"Staff roles: {names}."
        field.description = f"{field.description} {who}" if field.description else who

    def _refusal(self, info: Info[Any, Any]) -> object | None:
        try:
            info.context.require_role(*self.roles)
        except DomainError as exc:
            if self._as_value:
                return error_from(exc)
            raise ClientError(exc.code, exc.message) from exc
        return None

    def resolve(
        self, next_: Callable[..., Any], source: Any, info: Info[Any, Any], **kwargs: Any
    ) -> Any:
        refused = self._refusal(info)
        return refused if refused is not None else next_(source, info, **kwargs)

    async def resolve_async(
        self,
        next_: Callable[..., Awaitable[Any]],
        source: Any,
        info: Info[Any, Any],
        **kwargs: Any,
    ) -> Any:
        refused = self._refusal(info)
        return refused if refused is not None else await next_(source, info, **kwargs)


def declared_roles(field: StrawberryField) -> tuple[StaffRole, ...]:
    """The roles a field declares; empty when it declares none."""
    return tuple(
        role
        for extension in field.extensions
        if isinstance(extension, Roles)
        for role in extension.roles
    )
