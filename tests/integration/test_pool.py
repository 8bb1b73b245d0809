"""Pooled PostgreSQL connections go back without a reset statement, and an open
transaction never travels with one to its next user."""

from __future__ import annotations

import pytest
from tortoise import connections

from member_api.db import LeanConnection


@pytest.fixture
def backend() -> str:
    return "postgres"


async def test_a_released_connection_is_not_reset_but_its_transaction_ends(orm: None) -> None:
    client = connections.get("default")
    await client.execute_query("SELECT 1")  # the pool opens on first use
    pool = client._pool
    assert pool is not None
    connection = await pool.acquire()
    try:
        assert isinstance(connection, LeanConnection)
        assert connection.get_reset_query() == ""
        backend_pid = connection.get_server_pid()
        await connection.execute("BEGIN")
        await connection.execute("CREATE TEMPORARY TABLE scratch (n int)")
        assert connection.is_in_transaction()
    finally:
        await pool.release(connection)
    again = await pool.acquire()
    try:
        assert again.get_server_pid() == backend_pid
        assert not again.is_in_transaction()
        # The transaction was rolled back: what it created is gone.
        gone = await again.fetchval("SELECT to_regclass('pg_temp.scratch') IS NULL")
        assert gone is True
    finally:
        await pool.release(again)
