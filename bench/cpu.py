"""`make bench`, second part: what a request costs in CPU instructions, which a busy
machine cannot skew the way it skews requests/s.

    .venv/bin/python bench/cpu.py [--n1 20] [--n2 120] [--members 10] [--jobs 2]

Fills a fresh PostgreSQL database over the API (members, a catalogue of 20 rewards, a
group of posts), then for each operation runs a Python process under
`valgrind --tool=cachegrind --cache-sim=no` that builds the app the way `serve` does
(`create_app`, settings from the environment: PostgreSQL and Redis), warms it up (every
member once, twice over), then calls the ASGI app directly N times, signed in as the
members in turn. Each operation runs with N1 and with N2 requests; the difference of the
two instruction totals ("I refs") divided by N2 - N1 is the cost of one request, start-up
and warm-up cancelling out. A bare starlette JSON endpoint called the same way is the
unit. "(hit)" runs with the response cache on (the default), "(cache off)" with
RESPONSE_CACHE_SIZE=0. `--cache-url memory://` keeps the cache in process instead of Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Message, Receive, Send], Awaitable[None]]

# Redis databases 5 to 15 are the tests'; the load bench uses 3.
REDIS_DB = 4
HIT_LIMIT = 5.0
TARGETS: dict[str, float] = {
    "MemberCentre (hit)": HIT_LIMIT,
    "GroupFeed (hit)": HIT_LIMIT,
    "MemberCentre (cache off)": 30.0,
}
I_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")
RUNNING: set[subprocess.Popen[str]] = set()


# --- inside valgrind -------------------------------------------------------------------


def _bare_app() -> App:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def hello(request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse({"data": {"ok": True}})

    return Starlette(routes=[Route("/graphql", hello, methods=["POST"])])


async def _call(app: App, path: str, body: bytes, token: str | None) -> tuple[int, bytes]:
    """One POST through the ASGI interface, as a server would make it."""
    headers = [
        (b"host", b"bench.local"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    scope: Message = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
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
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        # The client stays connected: a listener for a disconnect waits until cancelled.
        await asyncio.Event().wait()
        return {"type": "http.disconnect"}

    status = 0
    chunks: list[bytes] = []

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
        elif message["type"] == "http.response.body":
            chunks.append(bytes(message.get("body", b"")))

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def _worker(spec: dict[str, Any]) -> None:
    if spec["app"] == "bare":
        app = _bare_app()
    else:
        from member_api.app import create_app

        app = create_app()  # settings from the environment, as `serve` builds it
    tokens: list[str | None] = list(spec["tokens"]) or [None]
    body = spec["body"].encode()
    path = spec["path"]
    async with app.router.lifespan_context(app):  # type: ignore[attr-defined]
        for n in range(max(10, 2 * len(tokens))):
            status, answer = await _call(app, path, body, tokens[n % len(tokens)])
            reply = json.loads(answer) if status == 200 else None
            if not isinstance(reply, dict) or reply.get("errors") or "data" not in reply:
                raise SystemExit(f"{spec['name']}: unexpected answer {status} {answer[:400]!r}")
        failed = 0
        for n in range(spec["requests"]):
            status, _ = await _call(app, path, body, tokens[n % len(tokens)])
            failed += status != 200
        if failed:
            raise SystemExit(f"{spec['name']}: {failed} of {spec['requests']} requests failed")
    print(f"{spec['name']}: {spec['requests']} requests, {answer[:160]!r}")


# --- outside ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    name: str
    app: str  # "bare" or "api"
    body: str
    tokens: list[str]
    env: dict[str, str]


def _slug(operation: Operation) -> str:
    return re.sub(r"[^A-Za-z]+", "_", operation.name)


def _spec_file(operation: Operation, requests: int, path: Path) -> Path:
    """What a worker process is to do, written where it reads it."""
    spec = {
        "name": operation.name,
        "app": operation.app,
        "path": "/graphql",
        "body": operation.body,
        "tokens": operation.tokens,
        "requests": requests,
    }
    path.write_text(json.dumps(spec))
    return path


def _instructions(operation: Operation, requests: int, workdir: Path) -> tuple[int, float]:
    """The instruction total of one process serving `requests` requests, and its wall time."""
    spec_file = _spec_file(operation, requests, workdir / f"{_slug(operation)}_{requests}.json")
    command = ["valgrind", "--tool=cachegrind", "--cache-sim=no"]
    command += ["--cachegrind-out-file=/dev/null", sys.executable, __file__]
    command += ["--worker", str(spec_file)]
    started = time.monotonic()
    process = subprocess.Popen(
        command, env=operation.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    RUNNING.add(process)
    try:
        out, err = process.communicate()
    finally:
        RUNNING.discard(process)
    elapsed = time.monotonic() - started
    found = I_REFS.search(err)
    if process.returncode != 0 or found is None:
        tail = "\n".join((out + err).splitlines()[-25:])
        raise SystemExit(f"{operation.name} with {requests} requests failed:\n{tail}")
    return int(found.group(1).replace(",", "")), elapsed


def _warm(operation: Operation, requests: int, workdir: Path) -> None:
    """One run without valgrind first: what processes share (the tier views cached in
    Redis) is then warm for both measured runs alike, so their difference is requests."""
    spec_file = _spec_file(operation, requests, workdir / f"{_slug(operation)}_warm.json")
    subprocess.run(
        [sys.executable, __file__, "--worker", str(spec_file)],
        env=operation.env,
        check=True,
        capture_output=True,
        timeout=600,
    )


def _per_request(operation: Operation, n1: int, n2: int, workdir: Path) -> tuple[float, float]:
    _warm(operation, n1, workdir)
    low, t1 = _instructions(operation, n1, workdir)
    high, t2 = _instructions(operation, n2, workdir)
    return (high - low) / (n2 - n1), t1 + t2


async def main(args: argparse.Namespace) -> None:
    from all import fill, reads
    from harness import api_env, require, servers

    require("valgrind", "valgrind")
    if args.n2 <= args.n1:
        raise SystemExit("--n2 must be larger than --n1")
    storage = "PostgreSQL + " + ("Redis" if args.cache_url.startswith("redis") else "in-process")
    print(
        f"\ncpu: instructions per request under cachegrind, (I refs at N2={args.n2} - at "
        f"N1={args.n1}) / {args.n2 - args.n1}; the ASGI app called in process, "
        f"{args.members} members in turn; storage {storage} cache ({args.cache_url})",
        flush=True,
    )
    async with servers(args.url, redis_db=REDIS_DB) as running:
        data = await fill(running, args.members, posts=60)
        env = {
            **api_env(running.database_url, args.cache_url),
            "PYTHONHASHSEED": "0",
            # The scheduler ticks with the clock, and a run under valgrind takes minutes:
            # its work would be counted as the requests'.
            "RUN_SCHEDULER": "0",
        }
        off = {**env, "RESPONSE_CACHE_SIZE": "0"}
        queries = reads(data)

        def graphql(name: str, environment: dict[str, str], label: str) -> Operation:
            query, variables = queries[name]
            body = json.dumps({"query": query, "variables": variables})
            return Operation(f"{name} ({label})", "api", body, data.tokens, environment)

        operations = [
            Operation("starlette (bare)", "bare", '{"query": "{ ok }"}', [], env),
            Operation("{ __typename }", "api", '{"query": "{ __typename }"}', [], env),
            graphql("MemberCentre", env, "hit"),
            graphql("MemberCentre", off, "cache off"),
            graphql("GroupFeed", env, "hit"),
            graphql("GroupFeed", off, "cache off"),
            graphql("RewardCatalogue", off, "cache off"),
        ]
        if args.only:
            chosen = [o for o in operations if o.name in args.only]
            operations = [operations[0], *[o for o in chosen if o is not operations[0]]]
        with (
            tempfile.TemporaryDirectory(prefix="member_api_cpu_") as tmp,
            ThreadPoolExecutor(max_workers=args.jobs) as pool,
        ):
            futures = [
                pool.submit(_per_request, op, args.n1, args.n2, Path(tmp)) for op in operations
            ]
            costs = {}
            try:
                for op, future in zip(operations, futures, strict=True):
                    costs[op.name], seconds = future.result()
                    print(
                        f"{op.name:>28}: {costs[op.name]:12,.0f} instructions/request"
                        f"  ({seconds:.0f} s under valgrind)",
                        flush=True,
                    )
            except BaseException:
                # One failed or the run was interrupted: nothing else is started or waited for.
                pool.shutdown(wait=False, cancel_futures=True)
                for process in list(RUNNING):
                    process.terminate()
                raise
    bare = costs["starlette (bare)"]
    print()
    print(f"{'operation':>28} {'instr/request':>14} {'x bare':>8}  {'target':<16} result")
    missed = 0
    for name, cost in costs.items():
        limit = TARGETS.get(name)
        met = None if limit is None else cost / bare <= limit
        missed += met is False
        verdict = "-" if met is None else ("met" if met else "NOT MET")
        target = "-" if limit is None else f"<= {limit:.0f}x bare"
        print(f"{name:>28} {cost:14,.0f} {cost / bare:8.2f}  {target:<16} {verdict}")
    print(f"targets missed: {missed}", flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        try:  # the event loop `serve` runs on (uvicorn picks uvloop when it is installed)
            import uvloop

            uvloop.install()
        except ImportError:
            pass
        asyncio.run(_worker(json.loads(Path(sys.argv[2]).read_text())))
        sys.exit(0)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n1", type=int, default=20, help="requests in the first run")
    parser.add_argument("--n2", type=int, default=120, help="requests in the second run")
    parser.add_argument("--members", type=int, default=10, help="members signed in in turn")
    parser.add_argument("--jobs", type=int, default=2, help="valgrind processes at once")
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help='measure only this row (repeatable, e.g. "GroupFeed (hit)"); the bare one always',
    )
    parser.add_argument("--url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument(
        "--cache-url",
        default=f"redis://127.0.0.1:6379/{REDIS_DB}",
        help="the API's CACHE_URL (memory:// keeps it in process)",
    )
    asyncio.run(main(parser.parse_args()))
