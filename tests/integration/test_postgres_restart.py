"""PostgreSQL restarted under a running app: the service recovers without a restart of
its own (the pool replaces the dead connections)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from typing import Any

import httpx
import pytest

from tests.commerce_support import new_member
from tests.conftest import need_tools
from tests.support import gql, op


@pytest.fixture
def backend() -> str:
    return "postgres"


def _restart_postgres() -> None:
    need_tools("pg_ctlcluster", "pg_isready")
    version = sorted(os.listdir("/etc/postgresql"))[0]
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready = subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"], check=False)
        if ready.returncode == 0:
            return
        time.sleep(0.2)
    raise AssertionError("PostgreSQL did not come back")


async def test_the_service_recovers_after_postgres_restarts(client: httpx.AsyncClient) -> None:
    _, token = await new_member(client, "13900000001")
    assert (await gql(client, op("MemberCentre"), token=token))["data"]["me"]
    # In a thread: the app's event loop keeps running while PostgreSQL goes down and
    # comes back, as a server's does.
    await asyncio.to_thread(_restart_postgres)
    answers: list[Any] = []
    for _ in range(3):
        response = await client.post(
            "/graphql",
            json={"query": op("MemberCentre")},
            headers={"authorization": f"Bearer {token}"},
        )
        answers.append(response.status_code)
        if response.status_code == 200 and "errors" not in response.json():
            break
    # The dead pooled connections are replaced on the spot: not even the first fails.
    assert answers == [200], answers
    checked = await gql(client, op("CheckIn"), token=token)
    assert checked["data"]["checkIn"]["__typename"] == "CheckInSuccess"
