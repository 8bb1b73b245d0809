"""create_app(settings) -> Starlette: routes, middleware, and the lifespan (DB, cache)."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tortoise import connections
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from member_api import db, freshness
from member_api.background.runs import refresh_job_metrics
from member_api.background.worker import in_process_queue
from member_api.cache import cache_ping
from member_api.clock import Clock
from member_api.commerce.http import commerce_webhook
from member_api.graphql import graphiql
from member_api.graphql.schema import schemas
from member_api.graphql.view import GraphQLEndpoint
from member_api.logs import install_request_id_factory, reset_request_id, set_request_id
from member_api.privacy import http as privacy_http
from member_api.provenance import http as provenance_http
from member_api.services import Services, build_services, load_persisted_queries
from member_api.settings import Settings

logger = logging.getLogger(__name__)
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class RequestIdMiddleware:
    """Takes a sane X-Request-ID from the caller or makes one; echoes it on the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _SAFE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        token = set_request_id(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
                _count_response(scope, int(message["status"]))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            reset_request_id(token)


_ROUTE_GROUPS = (
    ("/admin/graphql", "/admin/graphql"),
    ("/graphql", "/graphql"),
    ("/graphiql/", "/graphiql/static"),
    ("/p/", "/p/{public_id}"),
    ("/provenance/", "/provenance"),
    ("/privacy/", "/privacy/exports"),
    ("/hooks/", "/hooks/commerce"),
    ("/metrics", "/metrics"),
    ("/healthz", "/healthz"),
    ("/readyz", "/readyz"),
)


def _count_response(scope: Scope, status: int) -> None:
    services = getattr(getattr(scope.get("app"), "state", None), "services", None)
    if services is None:
        return
    path = str(scope.get("path", ""))
    route = next((name for prefix, name in _ROUTE_GROUPS if path.startswith(prefix)), "other")
    services.metrics.http.labels(route, f"{status // 100}xx").inc()


async def metrics_page(request: Request) -> Response:
    services: Services = request.app.state.services
    token = services.settings.metrics_token
    if token and request.headers.get("authorization", "") != f"Bearer {token}":
        return PlainTextResponse("metrics need the bearer token\n", status_code=401)
    await refresh_job_metrics(services)
    return Response(generate_latest(services.metrics.registry), media_type=CONTENT_TYPE_LATEST)


class _TooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Refuses GraphQL request bodies over `max_bytes` with 413, declared or streamed (the
    commerce webhook has a limit of its own, in its own error shape)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _refuse(self, send: Send) -> None:
        body = (
            b'{"errors":[{"message":"The request body is too large.",'
            b'"extensions":{"code":"REQUEST_TOO_LARGE"}}]}'
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).endswith("/graphql"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if not started:
                await self._refuse(send)


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    checks: dict[str, str] = {}
    try:
        await connections.get("default").execute_query("SELECT 1")
        checks["database"] = "ok"
    except Exception:  # any failure means not ready; the reason goes to the log
        logger.warning("readiness: database unreachable", exc_info=True)
        checks["database"] = "unreachable"
    try:
        checks["cache"] = "ok" if await cache_ping(services.cache) else "unreachable"
    except Exception:
        logger.warning("readiness: cache unreachable", exc_info=True)
        checks["cache"] = "unreachable"
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )


async def jwks(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    return JSONResponse(services.tokens.jwks(), headers={"cache-control": "public, max-age=300"})


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    miniprogram_transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    settings = settings or Settings.from_env()
    settings.check_safe_for_environment()
    persisted_queries = load_persisted_queries(settings)
    install_request_id_factory()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        services = build_services(
            settings,
            clock=clock,
            miniprogram_transport=miniprogram_transport,
            persisted_queries=persisted_queries,
        )
        app.state.services = services
        await db.init_orm(settings.database_url, global_fallback=True)
        await freshness.new_epoch(services.cache)
        try:
            async with in_process_queue(settings, services):
                yield
        finally:
            await services.aclose()
            await db.close_orm()

    member_schema, admin_schema = schemas(introspection=settings.introspection)
    routes = [
        Route(
            "/graphql",
            GraphQLEndpoint(member_schema, audience="member", graphiql=settings.graphiql),
        ),
        Route(
            "/admin/graphql",
            GraphQLEndpoint(admin_schema, audience="staff", graphiql=settings.graphiql),
        ),
        Route("/hooks/commerce", commerce_webhook, methods=["POST"]),
        Route("/p/{public_id}", provenance_http.scan_page, methods=["GET"]),
        Route("/provenance/checkpoint", provenance_http.checkpoint, methods=["GET"]),
        Route("/provenance/key", provenance_http.verifier_key, methods=["GET"]),
        Route("/provenance/consistency", provenance_http.consistency, methods=["GET"]),
        Route("/privacy/exports/{export_id}", privacy_http.download_export, methods=["GET"]),
        Route("/metrics", metrics_page, methods=["GET"]),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/.well-known/jwks.json", jwks),
    ]
    if settings.graphiql:
        routes.append(graphiql.route())
    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestIdMiddleware)
    # Outermost: behind a trusted reverse proxy, the client is X-Forwarded-For's last
    # untrusted address, so per-address limits and logs see members, not the proxy.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))
    return app
