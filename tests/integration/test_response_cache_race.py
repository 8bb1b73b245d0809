"""Readers served by one server process race writes made through another, on
PostgreSQL and Redis: once a write has answered, no read that starts afterwards gets an
answer built before it, although the readers keep storing answers while the writes
commit."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from member_api.clock import FrozenClock
from tests.commerce_support import new_member, paid, send_event
from tests.support import op

ROOT = Path(__file__).parents[2]


@pytest.fixture
def backend() -> str:
    return "postgres"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def reader_server(database_url: str, cache_url: str, tmp_path: Path) -> Iterator[str]:
    """A second server process on the same database and Redis."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CACHE_URL": cache_url,
        "PORT": str(port),
        "ENVIRONMENT": "development",
        "RUN_SCHEDULER": "0",
        "REQUESTS_PER_MEMBER": "1000000",
        "REQUESTS_PER_ADDRESS": "1000000",
    }
    log_path = tmp_path / "reader.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "member_api.cli", "serve"],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None:
                    break
                time.sleep(0.1)
            else:
                raise AssertionError(log_path.read_text())
            assert process.poll() is None, log_path.read_text()
            yield base
        finally:
            process.terminate()
            process.wait(timeout=30)


async def test_no_read_after_a_write_answers_gets_an_answer_from_before_it(
    client: httpx.AsyncClient, clock: FrozenClock, reader_server: str
) -> None:
    member_id, token = await new_member(client, "13900000001")
    headers = {"authorization": f"Bearer {token}"}
    body = {"query": op("MemberCentre")}
    written: list[tuple[float, int]] = []  # (when the write had answered, balance after)
    reads: list[tuple[float, int]] = []  # (when the read started, balance it showed)
    done = asyncio.Event()

    async with httpx.AsyncClient(base_url=reader_server, timeout=30) as reader:

        async def balance() -> tuple[float, int]:
            started = time.monotonic()
            response = await reader.post("/graphql", json=body, headers=headers)
            assert response.status_code == 200, response.text
            data: dict[str, Any] = response.json()
            assert "errors" not in data, data
            return started, int(data["data"]["me"]["points"]["balance"])

        start = (await balance())[1]

        async def keep_reading() -> None:
            while not done.is_set():
                reads.append(await balance())

        readers = [asyncio.create_task(keep_reading()) for _ in range(4)]
        try:
            for n in range(1, 41):
                response = await send_event(client, clock, paid(member_id, 1, at=clock.now()))
                assert response.status_code == 200, response.text
                written.append((time.monotonic(), start + n))
                reads.append(await balance())  # at once, as a client refreshing would
            final = await balance()
            metrics = (await reader.get("/metrics")).text
        finally:
            done.set()
            await asyncio.gather(*readers)

    assert len(reads) > 40
    stale = []
    for started, seen in reads:
        owed = max((after for answered, after in written if answered <= started), default=start)
        if seen < owed:
            stale.append((started, seen, owed))
    assert not stale, stale
    assert final[1] == start + 40
    # The reads were served from the store between the writes, not all computed.
    served = [
        line
        for line in metrics.splitlines()
        if line.startswith("member_api_response_cache_total")
        and 'operation="MemberCentre"' in line
        and 'result="hit"' in line
    ]
    assert served, metrics
    assert float(served[0].rsplit(" ", 1)[1]) > 0, metrics
