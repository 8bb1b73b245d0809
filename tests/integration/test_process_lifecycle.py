"""A real server process on PostgreSQL, stopped while a redemption is in flight.

The test holds the reward's row lock, so the redemption waits at its stock update, after
it has written its ledger entry and spent its lots. Then:
- SIGTERM: the server takes no new request, lets the redemption finish, then closes;
- SIGKILL: PostgreSQL rolls the transaction back; not one ledger row of it remains, and
  the same request succeeds once on a new server.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import migrated_postgres_database

REDEEM = """mutation($input: RedeemRewardInput!) {
  redeemReward(input: $input) { __typename ... on Redemption { id } ... on Error { code } }
}"""
REGISTER = """mutation($input: RegisterInput!) {
  register(input: $input) { ... on AuthTokens { accessToken } }
}"""
PRICE = 300
BALANCE = 1_000
STOCK = 5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def database() -> Iterator[str]:
    with migrated_postgres_database("member_api_life") as url:
        yield url


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base: str
    log: Path


def _start(database_url: str, workdir: Path) -> Server:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CACHE_URL": "memory://",
        "PORT": str(port),
        "ENVIRONMENT": "development",
        "PASSWORD_HASH_MEMORY_KIB": "1024",
        "PASSWORD_HASH_TIME_COST": "1",
    }
    log = workdir / f"server-{port}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "member_api.cli", "serve"],
            env=env,
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{server.base}/readyz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.kill()
    raise AssertionError(log.read_text())


@pytest.fixture
async def server(database: str, tmp_path: Path) -> AsyncIterator[Server]:
    running = _start(database, tmp_path)
    try:
        yield running
    finally:
        if running.process.poll() is None:
            running.process.kill()
        running.process.wait(timeout=30)


async def _member_with_points(base: str, database_url: str) -> tuple[str, uuid.UUID]:
    """A member registered over the API, given points; a reward priced in them."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        variables = {"input": {"phone": "13900000001", "password": "lifecycle-pass-1"}}
        reply = await client.post("/graphql", json={"query": REGISTER, "variables": variables})
        token = str(reply.json()["data"]["register"]["accessToken"])
    reward_id = uuid.uuid4()
    now = datetime.now(UTC)
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "INSERT INTO reward (id, name, description, kind, currency, price, stock, active,"
            " created_at) VALUES ($1, 'Tote', '', 'COUPON', 'POINTS', $2, $3, true, $4)",
            reward_id,
            PRICE,
            STOCK,
            now,
        )
        member_id = await conn.fetchval("SELECT id FROM member")
        account = await conn.fetchval(
            "INSERT INTO ledger_account (member_id, currency, debt) VALUES ($1, 'POINTS', 0)"
            " ON CONFLICT DO NOTHING RETURNING id",
            member_id,
        ) or await conn.fetchval("SELECT id FROM ledger_account WHERE member_id = $1", member_id)
        await conn.execute(
            "INSERT INTO ledger_entry (account_id, delta, reason, reference, occurred_at, note)"
            " VALUES ($1, $2, 'ADJUSTMENT', 'lifecycle', $3, 'granted')",
            account,
            BALANCE,
            now,
        )
        await conn.execute(
            "INSERT INTO ledger_lot (account_id, amount, remaining, earned_at)"
            " VALUES ($1, $2, $2, $3)",
            account,
            BALANCE,
            now,
        )
    finally:
        await conn.close()
    return token, reward_id


async def _redeem(base: str, token: str, reward_id: uuid.UUID, key: str) -> httpx.Response:
    variables = {"input": {"rewardId": str(reward_id), "quantity": 1, "idempotencyKey": key}}
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        return await client.post(
            "/graphql",
            json={"query": REDEEM, "variables": variables},
            headers={"authorization": f"Bearer {token}"},
        )


async def _hold_reward(database_url: str, reward_id: uuid.UUID) -> asyncpg.Connection:
    """A transaction holding the reward's row lock until the connection rolls back."""
    holder = await asyncpg.connect(database_url)
    await holder.execute("BEGIN")
    await holder.execute("SELECT 1 FROM reward WHERE id = $1 FOR UPDATE", reward_id)
    return holder


async def _wait_until_blocked_after_writing(database_url: str) -> None:
    """Until a server backend waits on a lock inside a transaction that has written."""
    conn = await asyncpg.connect(database_url)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            waiting = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND backend_xid IS NOT NULL"
                " AND query LIKE 'UPDATE \"reward\"%'"
            )
            if waiting:
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the redemption never reached the stock update")
    finally:
        await conn.close()


async def _wait_for_log(server: Server, line: str) -> None:
    """Until the server's log holds `line`; fails if the process exits first."""
    try:
        async with asyncio.timeout(30):
            while True:
                if line in server.log.read_text():
                    return
                assert server.process.poll() is None, server.log.read_text()
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"never logged {line!r}:\n{server.log.read_text()}") from None


async def _ledger(database_url: str, reward_id: uuid.UUID) -> dict[str, Any]:
    conn = await asyncpg.connect(database_url)
    try:
        return {
            "entries": await conn.fetchval("SELECT count(*) FROM ledger_entry"),
            "spent": await conn.fetchval(
                "SELECT coalesce(sum(delta), 0) FROM ledger_entry WHERE reason = 'REDEMPTION'"
            ),
            "lots": await conn.fetchval("SELECT coalesce(sum(remaining), 0) FROM ledger_lot"),
            "redemptions": await conn.fetchval("SELECT count(*) FROM redemption"),
            "stock": await conn.fetchval("SELECT stock FROM reward WHERE id = $1", reward_id),
            "balanced": await conn.fetchval(
                """SELECT bool_and(
                     (SELECT coalesce(sum(delta), 0) FROM ledger_entry e
                      WHERE e.account_id = a.id)
                     = (SELECT coalesce(sum(remaining), 0) FROM ledger_lot l
                        WHERE l.account_id = a.id) - a.debt)
                   FROM ledger_account a"""
            ),
        }
    finally:
        await conn.close()


async def test_sigterm_lets_an_inflight_redemption_finish(database: str, server: Server) -> None:
    token, reward_id = await _member_with_points(server.base, database)
    holder = await _hold_reward(database, reward_id)
    try:
        inflight = asyncio.create_task(_redeem(server.base, token, reward_id, "graceful-1"))
        await _wait_until_blocked_after_writing(database)
        server.process.send_signal(signal.SIGTERM)
        # uvicorn logs this once it has closed its listening socket and is waiting for the
        # open connections; ours cannot finish while the reward stays locked.
        await _wait_for_log(server, "Waiting for connections to close")
        assert server.process.poll() is None, "the server left before its request finished"
        await _wait_until_blocked_after_writing(database)  # still in flight
        with pytest.raises(httpx.TransportError):  # no new request is taken meanwhile
            async with httpx.AsyncClient(timeout=2) as fresh:
                await fresh.get(f"{server.base}/healthz")
    finally:
        await holder.execute("ROLLBACK")
        await holder.close()
    response = await asyncio.wait_for(inflight, timeout=30)
    assert response.status_code == 200
    assert response.json()["data"]["redeemReward"]["__typename"] == "Redemption"
    # uvicorn re-raises the signal once it has shut down cleanly.
    assert await asyncio.to_thread(server.process.wait, 30) in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in server.log.read_text()
    after = await _ledger(database, reward_id)
    assert after["redemptions"] == 1
    assert after["spent"] == -PRICE
    assert after["lots"] == BALANCE - PRICE
    assert after["stock"] == STOCK - 1
    assert after["balanced"] is True


async def test_a_process_killed_mid_redemption_leaves_no_partial_rows(
    database: str, server: Server, tmp_path: Path
) -> None:
    token, reward_id = await _member_with_points(server.base, database)
    before = await _ledger(database, reward_id)
    holder = await _hold_reward(database, reward_id)
    inflight = asyncio.create_task(_redeem(server.base, token, reward_id, "killed-1"))
    try:
        await _wait_until_blocked_after_writing(database)
        server.process.send_signal(signal.SIGKILL)
        assert await asyncio.to_thread(server.process.wait, 30) == -signal.SIGKILL
        with pytest.raises(httpx.TransportError):
            await asyncio.wait_for(inflight, timeout=30)
    finally:
        await holder.execute("ROLLBACK")
        await holder.close()
    # The dead backend's transaction is gone once PostgreSQL notices the closed socket.
    deadline = time.monotonic() + 30
    while (after := await _ledger(database, reward_id)) != before:
        assert time.monotonic() < deadline, (before, after)
        await asyncio.sleep(0.1)
    assert after["entries"] == 1
    assert after["redemptions"] == 0
    assert after["stock"] == STOCK
    # The member's retry with the same key, on a new process, redeems exactly once.
    restarted = _start(database, tmp_path)
    try:
        for _ in range(2):
            response = await _redeem(restarted.base, token, reward_id, "killed-1")
            assert response.json()["data"]["redeemReward"]["__typename"] == "Redemption"
    finally:
        restarted.process.terminate()
        restarted.process.wait(timeout=30)
    final = await _ledger(database, reward_id)
    assert final["redemptions"] == 1
    assert final["spent"] == -PRICE
    assert final["stock"] == STOCK - 1
    assert final["balanced"] is True
