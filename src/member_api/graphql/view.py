"""The HTTP face of a schema: builds the per-request context."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from member_api.auth.tokens import SubjectKind
from member_api.graphql.context import Context


class GraphQLEndpoint(GraphQL[Context, None]):
    def __init__(self, schema: Any, *, audience: SubjectKind, graphiql: bool) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql else None,
            allow_queries_via_get=True,
        )
        self.audience: SubjectKind = audience

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        assert isinstance(request, Request)
        return Context(
            request=request,
            services=request.app.state.services,
            audience=self.audience,
            response=response,
        )
