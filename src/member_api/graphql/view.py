"""The HTTP face of a schema: builds the per-request context, and speaks
`application/graphql-response+json` (GraphQL over HTTP) to clients that ask for it."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from member_api.auth.tokens import SubjectKind
from member_api.graphql.context import Context

GRAPHQL_RESPONSE = "application/graphql-response+json"


def prefers_graphql_response(accept: str) -> bool:
    """True when the client lists application/graphql-response+json before (or without)
    application/json."""
    kinds = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    if GRAPHQL_RESPONSE not in kinds:
        return False
    return "application/json" not in kinds or kinds.index(GRAPHQL_RESPONSE) < kinds.index(
        "application/json"
    )


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
        if isinstance(response, Response):
            response.graphql_response_json = prefers_graphql_response(  # type: ignore[attr-defined]
                request.headers.get("accept", "")
            )
            request.state.sub_response = response
        return Context(
            request=request,
            services=request.app.state.services,
            audience=self.audience,
            response=response,
        )

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        processed = await super().process_result(request, result)
        sub_response = getattr(request.state, "sub_response", None)
        if not getattr(sub_response, "graphql_response_json", False):
            return processed
        # A request error (the document did not parse or validate, the variables did not
        # coerce, or a limit refused it): nothing ran, so no `data`, and status 400.
        errors = result.errors or []
        request_error = result.data is None and bool(errors) and all(not e.path for e in errors)
        if request_error:
            processed.pop("data", None)
            if sub_response is not None and not sub_response.status_code:
                sub_response.status_code = 400
        return processed

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        if getattr(sub_response, "graphql_response_json", False):
            response.headers["content-type"] = f"{GRAPHQL_RESPONSE}; charset=utf-8"
        return response
