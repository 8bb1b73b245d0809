"""The HTTP face of a schema: builds the per-request context, and speaks
`application/graphql-response+json` (GraphQL over HTTP) to clients that ask for it."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.types import ExecutionResult

from member_api.auth.tokens import SubjectKind
from member_api.error_codes import RequestErrorCode
from member_api.graphql import graphiql
from member_api.graphql.context import Context
from member_api.text import loads

GRAPHQL_RESPONSE = "application/graphql-response+json"
logger = logging.getLogger(__name__)


def prefers_graphql_response(accept: str) -> bool:
    """True when the client lists application/graphql-response+json before (or without)
    application/json."""
    kinds = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    if GRAPHQL_RESPONSE not in kinds:
        return False
    return "application/json" not in kinds or kinds.index(GRAPHQL_RESPONSE) < kinds.index(
        "application/json"
    )


_REFUSAL_CODES = {
    400: RequestErrorCode.BAD_REQUEST,
    404: RequestErrorCode.NOT_FOUND,
    405: RequestErrorCode.METHOD_NOT_ALLOWED,
}


def refusal(status: int, message: str, *, accept: str = "") -> Response:
    """A request the endpoint refuses before running anything, in GraphQL's shape."""
    code = _REFUSAL_CODES.get(status, RequestErrorCode.BAD_REQUEST)
    body = orjson.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})
    kind = GRAPHQL_RESPONSE if prefers_graphql_response(accept) else "application/json"
    return Response(body, status_code=status, media_type=f"{kind}; charset=utf-8")


class GraphQLEndpoint(GraphQL[Context, None]):
    def __init__(self, schema: Any, *, audience: SubjectKind, graphiql: bool) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql else None,
            allow_queries_via_get=True,
        )
        self.audience: SubjectKind = audience

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        if request.method not in ("GET", "HEAD", "POST"):
            response = refusal(
                405,
                "Use GET for queries or POST; this endpoint allows nothing else.",
                accept=request.headers.get("accept", ""),
            )
            response.headers["allow"] = "GET, POST"
            await response(scope, receive, send)
            return
        pending = None
        if self.audience == "member":
            accept = request.headers.get("accept", "")
            kind = (
                f"{GRAPHQL_RESPONSE}; charset=utf-8"
                if prefers_graphql_response(accept)
                else "application/json"
            )
            try:
                answered = await request.app.state.services.responses.answer(request, kind)
            except Exception:  # never fail a request on the store: compute the answer
                logger.exception("the response cache failed; the answer is computed")
                answered = None
            if isinstance(answered, Response):
                await answered(scope, receive, send)
                return
            pending = answered
        try:
            response = await self.run(request)
        except HTTPException as refused:
            response = refusal(
                refused.status_code, refused.reason, accept=request.headers.get("accept", "")
            )
        if pending is not None:
            clean = getattr(request.state, "answer_clean", False)
            try:
                request.app.state.services.responses.keep(pending, response, clean)
            except Exception:
                logger.exception("the response cache could not store an answer")
        await response(scope, receive, send)

    async def render_graphql_ide(self, request: Request) -> Response:
        """Our GraphiQL page: every file it loads comes from this service."""
        return graphiql.page(request)

    def decode_json(self, data: str | bytes) -> object:
        """Strict JSON (UTF-8, no lone surrogates, numbers a float holds, at most 1,024
        levels deep), and a request is an object (a list is a batch, refused later)."""
        try:
            decoded = loads(data)
        except ValueError as error:
            raise HTTPException(400, f"The body is not valid JSON: {error}.") from error
        if not isinstance(decoded, dict | list):
            raise HTTPException(400, "The request body must be a JSON object.")
        return decoded

    async def parse_http_body(self, request: Any) -> GraphQLRequestData | list[GraphQLRequestData]:
        parsed = await super().parse_http_body(request)
        for item in parsed if isinstance(parsed, list) else [parsed]:
            if not isinstance(item.operation_name, str | None):
                raise HTTPException(
                    400, "The GraphQL operation's `operationName` must be a string or null."
                )
        return parsed

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        assert isinstance(request, Request)
        if isinstance(response, Response):
            response.graphql_response_json = prefers_graphql_response(  # type: ignore[attr-defined]
                request.headers.get("accept", "")
            )
            request.state.sub_response = response
        context = Context(
            request=request,
            services=request.app.state.services,
            audience=self.audience,
            response=response,
        )
        if self.audience == "staff":
            await context.check_staff_account()
        return context

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        processed = await super().process_result(request, result)
        request.state.answer_clean = not result.errors
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
