"""Shared bench machinery: a throwaway PostgreSQL database, the API and a bare starlette
app under uvicorn (both pinned to core 0), `wrk` pinned to core 1, and its report."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx

BARE_APP = """
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

async def hello(request):
    await request.body()
    return JSONResponse({"data": {"ok": True}})

app = Starlette(routes=[Route("/graphql", hello, methods=["POST"])])
"""
BARE_SCRIPT = """
wrk.method = "POST"
wrk.body = '{"query": "{ ok }"}'
wrk.headers["Content-Type"] = "application/json"
"""


def require(tool: str, package: str) -> None:
    """Stop with a clear message when a command the bench runs is not installed."""
    if shutil.which(tool) is None:
        raise SystemExit(f"`{tool}` is not installed; install it first (apt-get install {package})")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not start")


def wrk(url: str, script: str, concurrency: int, seconds: float) -> str:
    path = Path(f"/tmp/wrk_{uuid.uuid4().hex}.lua")
    path.write_text(script)
    try:
        command = ["taskset", "-c", "1", "wrk", "-t", "2", "-c", str(concurrency)]
        # A slow answer is counted in the latencies rather than dropped at wrk's 2 s default.
        command += ["-d", f"{seconds:.0f}s", "--timeout", "10s", "--latency", "-s", str(path), url]
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        path.unlink(missing_ok=True)


def _ms(text: str) -> float:
    """wrk's '812.00us', '3.45ms' or '1.20s' in milliseconds."""
    for unit, scale in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text.removesuffix(unit)) * scale
    return float(text)


@dataclass(frozen=True)
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int


def report(name: str, output: str) -> Result:
    lines = output.splitlines()
    rps = float(next(line for line in lines if "Requests/sec" in line).split()[-1])
    latency = {
        line.split()[0]: line.split()[1] for line in lines if line.strip()[:3] in ("50%", "99%")
    }
    non_2xx = next((line.split()[-1] for line in lines if "Non-2xx" in line), "0")
    # "Socket errors: connect 0, read 0, write 0, timeout 12"
    socket = next((line for line in lines if "Socket errors" in line), "")
    errors = sum(int(word.strip(",")) for word in socket.split()[3::2])
    result = Result(rps, _ms(latency["50%"]), _ms(latency["99%"]), int(non_2xx), errors)
    print(
        f"{name:>27}: {rps:8.0f} req/s  p50 {result.p50_ms:7.2f} ms  "
        f"p99 {result.p99_ms:7.2f} ms  non-2xx {non_2xx}  socket errors {errors}",
        flush=True,
    )
    return result


def measure(name: str, url: str, script: str, concurrency: int, seconds: float) -> Result:
    """A 3 s warm-up, then the measured run."""
    wrk(url, script, concurrency, 3)
    return report(name, wrk(url, script, concurrency, seconds))


@dataclass(frozen=True)
class Servers:
    api: str
    bare: str
    database_url: str
    api_pid: int
    # A second API worker on the same data with the response cache switched off
    # (RESPONSE_CACHE_SIZE=0); empty and 0 unless asked for.
    api_uncached: str = ""
    api_uncached_pid: int = 0


def api_env(database_url: str, cache_url: str) -> dict[str, str]:
    """The API's settings for a bench: limits out of the way, tokens that outlive the run."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "CACHE_URL": cache_url,
        "LOG_LEVEL": "WARNING",
        "GRAPHIQL": "0",
        "POSTS_PER_WINDOW": "1000000",
        "REQUESTS_PER_MEMBER": "100000000",
        "REQUESTS_PER_ADDRESS": "100000000",
        "COMMENTS_PER_WINDOW": "1000000",
        "ACCESS_TOKEN_TTL_SECONDS": str(24 * 3600),
    }


@asynccontextmanager
async def servers(
    admin_url: str, *, uncached: bool = False, redis_db: int = 14
) -> AsyncIterator[Servers]:
    """A fresh database, migrated; the API on it (PostgreSQL, Redis) and the bare app; with
    `uncached`, a second API worker whose response cache is off."""
    name = f"member_api_bench_{uuid.uuid4().hex[:8]}"
    db_url = urlsplit(admin_url)._replace(path=f"/{name}").geturl()
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    api_port, bare_port, uncached_port = free_port(), free_port(), free_port()
    env = api_env(db_url, f"redis://127.0.0.1:6379/{redis_db}")
    bare_file = Path(f"/tmp/bare_{name}.py")
    bare_file.write_text(BARE_APP)
    processes = []
    try:
        subprocess.run([sys.executable, "-m", "member_api.cli", "migrate"], env=env, check=True)
        serve = ["taskset", "-c", "0", sys.executable, "-m", "member_api.cli", "serve"]
        processes.append(subprocess.Popen(serve, env={**env, "PORT": str(api_port)}))
        # The baseline runs on the API's core too, so the ratio compares like with like.
        bare = ["taskset", "-c", "0", sys.executable, "-m", "uvicorn", f"bare_{name}:app"]
        bare += ["--port", str(bare_port)]
        processes.append(subprocess.Popen([*bare, "--log-level", "warning", "--app-dir", "/tmp"]))
        if uncached:
            off = {**env, "PORT": str(uncached_port), "RESPONSE_CACHE_SIZE": "0"}
            processes.append(subprocess.Popen(serve, env=off))
        found = Servers(
            f"http://127.0.0.1:{api_port}",
            f"http://127.0.0.1:{bare_port}",
            db_url,
            processes[0].pid,
            f"http://127.0.0.1:{uncached_port}" if uncached else "",
            processes[2].pid if uncached else 0,
        )
        wait_for(f"{found.api}/healthz")
        wait_for(f"{found.bare}/graphql")
        if uncached:
            wait_for(f"{found.api_uncached}/healthz")
        yield found
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        bare_file.unlink(missing_ok=True)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def register_members(base: str, count: int, prefix: str = "1370") -> list[str]:
    """Members registered over the API; their access tokens."""
    query = (
        "mutation($input: RegisterInput!) { register(input: $input) "
        "{ ... on AuthTokens { accessToken } } }"
    )
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        tokens = []
        for n in range(count):
            variables = {"input": {"phone": f"{prefix}{n:07d}", "password": "bench-pass-1"}}
            response = await client.post("/graphql", json={"query": query, "variables": variables})
            tokens.append(response.json()["data"]["register"]["accessToken"])
    return tokens
