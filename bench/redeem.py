"""RedeemReward under load on PostgreSQL, against a bare starlette endpoint in the same run.

    .venv/bin/python bench/redeem.py [--seconds 15] [--concurrency 32] [--members 200]

Starts the API (uvicorn, one worker pinned to core 0, PostgreSQL, Redis) and a bare
starlette JSON app the same way, loads each with `wrk` (Debian package `wrk`) pinned to
core 1 at the given concurrency after a warm-up, and prints requests/s, p50 and p99 for
both, and the ratio. Each redemption uses one of the members' tokens and a fresh
idempotency key. Afterwards it checks the ledger invariants and that stock + redeemed
units = the initial stock.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx

REDEEM = """mutation RedeemReward($input: RedeemRewardInput!) {
  redeemReward(input: $input) { __typename ... on Redemption { id } ... on Error { code } }
}"""
BARE_APP = """
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

async def hello(request):
    await request.body()
    return JSONResponse({"data": {"ok": True}})

app = Starlette(routes=[Route("/graphql", hello, methods=["POST"])])
"""
INITIAL_STOCK = 1_000_000


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not start")


WRK_SCRIPT = """
tokens = {%(tokens)s}
counter = 0
local threads = 0
setup = function(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
request = function()
  counter = counter + 1
  local token = tokens[((counter * 2 + tid) %% #tokens) + 1]
  local key = "t" .. tid .. "-" .. counter
  local body = '{"query": %(query)s, "variables": {"input": {"rewardId": "%(reward)s",' ..
    ' "quantity": 1, "idempotencyKey": "' .. key .. '"}}}'
  return wrk.format("POST", "/graphql",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, body)
end
"""
BARE_SCRIPT = """
wrk.method = "POST"
wrk.body = '{"query": "{ ok }"}'
wrk.headers["Content-Type"] = "application/json"
"""


def _wrk(url: str, script: str, concurrency: int, seconds: float) -> str:
    path = Path(f"/tmp/wrk_{uuid.uuid4().hex}.lua")
    path.write_text(script)
    try:
        command = [
            "taskset",
            "-c",
            "1",
            "wrk",
            "-t",
            "2",
            "-c",
            str(concurrency),
            "-d",
            f"{seconds:.0f}s",
            "--latency",
            "-s",
            str(path),
            url,
        ]
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        path.unlink(missing_ok=True)


def _ms(text: str) -> float:
    """wrk's '812.00us', '3.45ms' or '1.20s' in milliseconds."""
    for unit, scale in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text.removesuffix(unit)) * scale
    return float(text)


def _report(name: str, output: str) -> float:
    lines = output.splitlines()
    rps = float(next(line for line in lines if "Requests/sec" in line).split()[-1])
    latency = {
        line.split()[0]: line.split()[1] for line in lines if line.strip()[:3] in ("50%", "99%")
    }
    non_2xx = next((line.split()[-1] for line in lines if "Non-2xx" in line), "0")
    print(
        f"{name:>10}: {rps:8.0f} req/s  p50 {_ms(latency['50%']):7.2f} ms  "
        f"p99 {_ms(latency['99%']):7.2f} ms  non-2xx {non_2xx}"
    )
    return rps


async def _setup(base: str, members: int) -> list[str]:
    """Members, registered over the API; returns their access tokens."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        tokens = []
        for n in range(members):
            variables = {"input": {"phone": f"1370{n:07d}", "password": "bench-pass-1"}}
            body = (
                await client.post(
                    "/graphql",
                    json={
                        "query": "mutation($input: RegisterInput!) { register(input: $input) "
                        "{ ... on AuthTokens { accessToken } } }",
                        "variables": variables,
                    },
                )
            ).json()
            tokens.append(body["data"]["register"]["accessToken"])
    return tokens


async def _grant(url: str, reward_id: uuid.UUID) -> None:
    conn = await asyncpg.connect(url)
    try:
        now = datetime.now(UTC)
        await conn.execute(
            "INSERT INTO reward (id, name, description, kind, currency, price, stock, active,"
            " created_at) VALUES ($1, 'bench', '', 'COUPON', 'POINTS', 1, $2, true, $3)",
            reward_id,
            INITIAL_STOCK,
            now,
        )
        members = await conn.fetch("SELECT id FROM member")
        for row in members:
            account = await conn.fetchval(
                "INSERT INTO ledger_account (member_id, currency, debt) VALUES ($1, 'POINTS', 0)"
                " ON CONFLICT DO NOTHING RETURNING id",
                row["id"],
            ) or await conn.fetchval(
                "SELECT id FROM ledger_account WHERE member_id = $1", row["id"]
            )
            await conn.execute(
                "INSERT INTO ledger_entry (account_id, delta, reason, reference, occurred_at,"
                " note) VALUES ($1, 1000000, 'ADJUSTMENT', 'bench', $2, 'bench')",
                account,
                now,
            )
            await conn.execute(
                "INSERT INTO ledger_lot (account_id, amount, remaining, earned_at)"
                " VALUES ($1, 1000000, 1000000, $2)",
                account,
                now,
            )
    finally:
        await conn.close()


async def _check(url: str, reward_id: uuid.UUID) -> None:
    conn = await asyncpg.connect(url)
    try:
        broken = await conn.fetchval(
            """SELECT count(*) FROM ledger_account a
               WHERE (SELECT coalesce(sum(delta), 0) FROM ledger_entry e WHERE e.account_id = a.id)
                  <> (SELECT coalesce(sum(remaining), 0) FROM ledger_lot l
                      WHERE l.account_id = a.id) - a.debt"""
        )
        stock = await conn.fetchval("SELECT stock FROM reward WHERE id = $1", reward_id)
        redeemed = await conn.fetchval(
            "SELECT coalesce(sum(quantity), 0) FROM redemption WHERE reward_id = $1", reward_id
        )
        negative = await conn.fetchval("SELECT count(*) FROM ledger_lot WHERE remaining < 0")
    finally:
        await conn.close()
    print(
        f"invariants: {broken} account(s) off, {negative} negative lot(s), "
        f"stock {stock} + redeemed {redeemed} = {stock + redeemed} (initial {INITIAL_STOCK})"
    )
    if broken or negative or stock + redeemed != INITIAL_STOCK:
        raise SystemExit("INVARIANTS BROKEN")


async def main(seconds: float, concurrency: int, members: int, admin_url: str) -> None:
    name = f"member_api_bench_{uuid.uuid4().hex[:8]}"
    db_url = urlsplit(admin_url)._replace(path=f"/{name}").geturl()
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    api_port, bare_port = _port(), _port()
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "CACHE_URL": "redis://127.0.0.1:6379/14",
        "PORT": str(api_port),
        "LOG_LEVEL": "WARNING",
        "GRAPHIQL": "0",
    }
    bare_file = Path(f"/tmp/bare_{name}.py")
    bare_file.write_text(BARE_APP)
    processes = []
    try:
        subprocess.run([sys.executable, "-m", "member_api.cli", "migrate"], env=env, check=True)
        processes.append(
            subprocess.Popen(
                ["taskset", "-c", "0", sys.executable, "-m", "member_api.cli", "serve"], env=env
            )
        )
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    f"bare_{name}:app",
                    "--port",
                    str(bare_port),
                    "--log-level",
                    "warning",
                    "--app-dir",
                    "/tmp",
                ],
            )
        )
        api, bare = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{bare_port}"
        _wait(f"{api}/healthz")
        _wait(f"{bare}/graphql")
        tokens = await _setup(api, members)
        reward_id = uuid.uuid4()
        await _grant(db_url, reward_id)
        script = WRK_SCRIPT % {
            "tokens": ", ".join(f'"{t}"' for t in tokens),
            "query": json.dumps(" ".join(REDEEM.split())),
            "reward": reward_id,
        }
        print(f"concurrency {concurrency}, {seconds:.0f} s each after a 3 s warm-up")
        _wrk(f"{bare}/graphql", BARE_SCRIPT, concurrency, 3)
        baseline = _report("starlette", _wrk(f"{bare}/graphql", BARE_SCRIPT, concurrency, seconds))
        _wrk(f"{api}/graphql", script, concurrency, 3)
        rps = _report("redeem", _wrk(f"{api}/graphql", script, concurrency, seconds))
        print(f"     ratio: redeem / starlette = {rps / baseline:.3f}")
        await _check(db_url, reward_id)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        bare_file.unlink(missing_ok=True)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--url", default="postgres://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.concurrency, args.members, args.url))
