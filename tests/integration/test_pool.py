"""Pooled PostgreSQL connections go back without a reset statement, and an open
transaction never travels with one to its next user."""

from __future__ import annotations

import pytest
from tortoise import connections

from member_api.db import POOL_SIZE, LeanConnection, tortoise_config


@pytest.fixture
def backend() -> str:
    return "postgres"


async def test_a_released_connection_is_not_reset_but_its_transaction_ends(orm: None) -> None:
    client = connections.get("default")
    await client.execute_query("SELECT 1")  # the pool opens on first use
    pool = client._pool
    assert pool is not None
    assert pool.get_max_size() == POOL_SIZE
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


def test_the_pool_size_can_be_set_in_the_url() -> None:
    def credentials(url: str) -> dict[str, object]:
        return dict(tortoise_config(url)["connections"]["default"]["credentials"])

    assert credentials("postgres://postgres@db:5432/members")["maxsize"] == POOL_SIZE
    assert credentials("postgresql://postgres@db:5432/members?maxsize=7")["maxsize"] == "7"
    assert tortoise_config("sqlite://var/x.sqlite3")["connections"]["default"] == (
        "sqlite://var/x.sqlite3"
    )
