"""CPU cost of one MemberCentre request, for counting instructions under cachegrind.

    .venv/bin/python bench/centre_profile.py 50
    valgrind --tool=cachegrind --cache-sim=no .venv/bin/python bench/centre_profile.py 50
    valgrind --tool=cachegrind --cache-sim=no .venv/bin/python bench/centre_profile.py 250
    ... the same with --bare for a bare starlette JSON endpoint

The API runs in process on SQLite and the in-memory cache (BENCH_CACHE_URL=redis://...
for Redis); the requests go straight to
the ASGI app (a scope, `receive` and `send`, no HTTP client), one after another, as the
same demo member (the diamond one: points expiring soon, carbon credits, a check-in
streak, a badge and a right used). The database is seeded once into a template file
(outside any measurement) and copied for each run, so runs differ only in N: the cost
of one request is (total at N2 - total at N1) / (N2 - N1).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from graphql import OperationDefinitionNode, parse, print_ast

from member_api.clock import FrozenClock
from member_api.settings import Settings

CLIENTS = (
    Path(os.environ.get("MEMBER_API_SHARED", Path(__file__).parents[2] / "shared")) / "clients"
)
NOW = datetime(2026, 11, 18, 4, 0, tzinfo=UTC)
PHONE = "13800000004"
TEMPLATE = Path(tempfile.gettempdir()) / "member-api-centre-profile-v1.sqlite3"
Message = MutableMapping[str, Any]


def operation(name: str) -> str:
    for path in sorted(CLIENTS.glob("*.graphql")):
        for node in parse(path.read_text(encoding="utf-8")).definitions:
            if isinstance(node, OperationDefinitionNode) and node.name and node.name.value == name:
                return print_ast(node)
    raise SystemExit(f"no client operation {name}")


def settings_for(path: Path) -> Settings:
    return dataclasses.replace(
        Settings.from_env({}),
        database_url=f"sqlite://{path}",
        cache_url=os.environ.get("BENCH_CACHE_URL", "memory://"),
        password_hash_memory_kib=1024,
        password_hash_time_cost=1,
        requests_per_member=10**9,
        requests_per_address=10**9,
    )


async def seed(path: Path) -> None:
    """Demo data, and an authentication for the member: a badge and a right used."""
    from member_api import db
    from member_api.commerce.domain import CommerceEventIn, EventType
    from member_api.commerce.service import apply_event
    from member_api.members.models import Member
    from member_api.members.service import phone_index
    from member_api.seed import seed_demo
    from member_api.services import build_services

    settings = settings_for(path)
    await db.migrate(settings.database_url)
    await db.init_orm(settings.database_url)
    services = build_services(settings, clock=FrozenClock(NOW))
    try:
        await seed_demo(services)
        member = await Member.get(phone_index=phone_index(services, PHONE))
        event = CommerceEventIn(
            event_id="profile-authentication-1",
            type=EventType.AUTHENTICATION_COMPLETED,
            occurred_at=NOW - timedelta(hours=1),
            member_id=member.id,
            amount_fen=None,
            item_public_id="profile-item-1",
        )
        await apply_event(services, event, source="profile")
    finally:
        await services.aclose()
        await db.close_orm()


async def call(app: Callable[..., Awaitable[None]], scope: dict[str, Any], body: bytes) -> bytes:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def http_scope(path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
    }


async def run_centre(requests: int, path: Path) -> bytes:
    from member_api.app import create_app
    from member_api.members.models import Member
    from member_api.members.service import phone_index

    app = create_app(settings_for(path), clock=FrozenClock(NOW))
    async with app.router.lifespan_context(app):
        services = app.state.services
        member = await Member.get(phone_index=phone_index(services, PHONE))
        token = services.tokens.issue(member.id, "member")
        scope = http_scope(
            "/graphql",
            [
                (b"host", b"bench"),
                (b"content-type", b"application/json"),
                (b"authorization", f"Bearer {token}".encode()),
            ],
        )
        body = json.dumps({"query": operation("MemberCentre")}).encode()
        reply = await call(app, scope, body)  # warm: the tier view is cached from now on
        for _ in range(requests):
            reply = await call(app, scope, body)
        return reply


async def run_bare(requests: int) -> bytes:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def endpoint(request: Request) -> JSONResponse:
        payload = await request.json()
        return JSONResponse({"data": {"echo": payload}})

    app = Starlette(routes=[Route("/graphql", endpoint, methods=["POST"])])
    scope = http_scope("/graphql", [(b"host", b"bench"), (b"content-type", b"application/json")])
    body = json.dumps({"query": "{ ok }"}).encode()
    reply = b""
    for _ in range(requests + 1):
        reply = await call(app, scope, body)
    return reply


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("requests", type=int)
    parser.add_argument("--bare", action="store_true", help="a bare starlette JSON endpoint")
    parser.add_argument("--show", action="store_true", help="print the last reply")
    args = parser.parse_args()
    if args.bare:
        reply = asyncio.run(run_bare(args.requests))
    else:
        if not TEMPLATE.exists():
            fresh = TEMPLATE.with_suffix(".new")
            fresh.unlink(missing_ok=True)
            asyncio.run(seed(fresh))
            fresh.rename(TEMPLATE)
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "centre.sqlite3"
            shutil.copyfile(TEMPLATE, path)
            reply = asyncio.run(run_centre(args.requests, path))
    if args.show:
        sys.stdout.write(reply.decode() + "\n")


if __name__ == "__main__":
    main()
