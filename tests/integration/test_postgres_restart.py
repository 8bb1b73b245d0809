"""PostgreSQL restarted under a running app: the service recovers without a restart of
its own (the pool replaces the dead connections).

The test runs a PostgreSQL server of its own (initdb into a temporary folder, a free
port, trust auth), so restarting it disturbs nobody else.
"""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import asyncpg
import httpx
import pytest

from member_api import db
from tests.commerce_support import new_member
from tests.conftest import REQUIRE_SERVICES, need_tools, run_in_own_loop
from tests.support import gql, op

OWNER = "postgres"  # initdb refuses to run as root: as root, the server runs as this user


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _postgres_bin() -> Path:
    """The folder of initdb and pg_ctl: on the PATH, or Debian's newest version."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).resolve().parent
    versions = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")]
    if versions:
        return max(versions, key=lambda folder: float(folder.parent.name))
    need_tools("initdb", "pg_ctl")  # skips, or fails in CI
    raise AssertionError("unreachable")


class OwnPostgres:
    """A PostgreSQL cluster in `folder`, driven with pg_ctl."""

    def __init__(self, folder: Path) -> None:
        self.bin = _postgres_bin()
        self.folder = folder
        self.data = folder / "data"
        self.sockets = folder / "sockets"
        self.log = folder / "postgres.log"
        self.port = 0
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            need_tools("runuser")
            try:
                shutil.chown(folder, user=OWNER)
            except LookupError:
                message = f"running as root needs a {OWNER!r} user to run PostgreSQL"
                if REQUIRE_SERVICES:
                    pytest.fail(message)
                pytest.skip(message)
            self.prefix = ["runuser", "-u", OWNER, "--"]

    def _run(self, *command: str) -> None:
        result = subprocess.run(
            [*self.prefix, *command], capture_output=True, text=True, timeout=120, check=False
        )
        log = self.log.read_text() if self.log.exists() else ""
        assert result.returncode == 0, f"{command}:\n{result.stdout}{result.stderr}\n{log}"

    def _pg_ctl(self, *args: str) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), *args)

    def init(self) -> None:
        initdb = [str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"]
        self._run(*initdb, "-E", "UTF8", "--no-sync")
        self._run("mkdir", str(self.sockets))

    def start(self) -> None:
        """Start on a free port; another process may take the port first, so try again."""
        for attempt in range(3):
            self.port = _free_port()
            options = f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
            try:
                self._pg_ctl("-w", "-t", "60", "-o", options, "start")
                return
            except AssertionError:
                if attempt == 2:
                    raise

    def restart(self) -> None:
        """Stop (closing every connection) and start again on the same port; returns once
        the server accepts connections."""
        self._pg_ctl("-w", "-t", "60", "-m", "fast", "restart")

    def stop(self) -> None:
        self._pg_ctl("-w", "-t", "60", "-m", "immediate", "stop")

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"


@pytest.fixture
def backend() -> str:
    return "postgres"


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[OwnPostgres]:
    # As root, PostgreSQL's user cannot enter pytest's private tmp_path: use a folder of
    # its own (short, too, as a unix socket path must be).
    own_folder = os.geteuid() == 0
    folder = Path(tempfile.mkdtemp(prefix="member-api-pg-")) if own_folder else tmp_path
    try:
        server = OwnPostgres(folder)
        server.init()
        server.start()
        try:
            yield server
        finally:
            server.stop()
    finally:
        if own_folder:
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def database_url(own_postgres: OwnPostgres) -> str:
    async def create() -> None:
        conn = await asyncpg.connect(own_postgres.url("postgres"))
        try:
            await conn.execute('CREATE DATABASE "member_api"')
        finally:
            await conn.close()
        await db.migrate(own_postgres.url("member_api"))

    run_in_own_loop(create())
    return own_postgres.url("member_api")


@pytest.fixture
def cache_url() -> str:
    return "memory://"


async def _server_state(url: str) -> tuple[datetime, int]:
    """When the server started, and how many other client connections it has."""
    conn = await asyncpg.connect(url)
    try:
        started = await conn.fetchval("SELECT pg_postmaster_start_time()")
        others = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        )
        return started, int(others)
    finally:
        await conn.close()


async def test_the_service_recovers_after_postgres_restarts(
    client: httpx.AsyncClient, own_postgres: OwnPostgres, database_url: str
) -> None:
    _, token = await new_member(client, "13900000001")
    assert (await gql(client, op("MemberCentre"), token=token))["data"]["me"]
    started, pooled = await _server_state(database_url)
    assert pooled >= 1, "the app holds no pooled connection to lose"
    # In a thread: the app's event loop keeps running while PostgreSQL goes down and
    # comes back, as a server's does.
    await asyncio.to_thread(own_postgres.restart)
    restarted, pooled = await _server_state(database_url)
    assert restarted > started
    assert pooled == 0  # every connection the app held is dead
    response = await client.post(
        "/graphql",
        json={"query": op("MemberCentre")},
        headers={"authorization": f"Bearer {token}"},
    )
    # The dead pooled connections are replaced on the spot: not even the first fails.
    assert response.status_code == 200, response.text
    assert "errors" not in response.json(), response.json()
    assert response.json()["data"]["me"]
    checked = await gql(client, op("CheckIn"), token=token)
    assert checked["data"]["checkIn"]["__typename"] == "CheckInSuccess"
    _, pooled = await _server_state(database_url)
    assert pooled >= 1  # the answers came from the restarted server
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM check_in") == 1
    finally:
        await conn.close()
