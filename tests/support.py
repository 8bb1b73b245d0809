"""Helpers for API tests: the clients' own documents, sent over HTTP."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from graphql import OperationDefinitionNode, parse, print_ast

from tests.conftest import SHARED

CLIENTS = SHARED / "clients"


def client_documents() -> list[Path]:
    return sorted(CLIENTS.glob("*.graphql"))


@cache
def client_operations() -> dict[str, str]:
    """Every operation the clients send, by name, printed on its own."""
    operations: dict[str, str] = {}
    for path in client_documents():
        for node in parse(path.read_text(encoding="utf-8")).definitions:
            if isinstance(node, OperationDefinitionNode) and node.name is not None:
                operations[node.name.value] = print_ast(node)
    return operations


def op(name: str) -> str:
    return client_operations()[name]


async def gql(
    client: httpx.AsyncClient,
    document: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    path: str = "/graphql",
) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await client.post(
        path, json={"query": document, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def register(
    client: httpx.AsyncClient,
    phone: str = "13900000001",
    password: str = "secret-pass-1",
    **extra: Any,
) -> dict[str, Any]:
    body = await gql(
        client, op("Register"), {"input": {"phone": phone, "password": password, **extra}}
    )
    result: dict[str, Any] = body["data"]["register"]
    return result


async def login(
    client: httpx.AsyncClient, phone: str = "13900000001", password: str = "secret-pass-1"
) -> dict[str, Any]:
    body = await gql(client, op("Login"), {"input": {"phone": phone, "password": password}})
    result: dict[str, Any] = body["data"]["login"]
    return result


ME = "query { me { id displayName avatarUrl phoneMasked joinedAt referralCode } }"


STAFF_LOGIN = """
mutation($u: String!, $p: String!) {
  staffLogin(input: {username: $u, password: $p}) { ... on AuthTokens { accessToken } }
}
"""


async def staff_token(
    client: httpx.AsyncClient, services: Any, username: str, roles: list[str]
) -> str:
    """Create a staff account with `roles` and sign it in on /admin/graphql."""
    from member_api.staff import service as staff_service

    await staff_service.create_staff(
        services, username=username, password="staff-pass-1", roles=roles
    )
    variables = {"u": username, "p": "staff-pass-1"}
    body = await gql(client, STAFF_LOGIN, variables, path="/admin/graphql")
    token: str = body["data"]["staffLogin"]["accessToken"]
    return token


@contextmanager
def sql_statements() -> Iterator[list[str]]:
    """The SQL statements the ORM sends while the block runs."""
    seen: list[str] = []

    class Recorder(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    recorder = Recorder(logging.DEBUG)
    log = logging.getLogger("tortoise.db_client")
    level = log.level
    log.addHandler(recorder)
    log.setLevel(logging.DEBUG)
    try:
        yield seen
    finally:
        log.removeHandler(recorder)
        log.setLevel(level)


async def tasks_done() -> None:
    """Wait for the tasks the in-process queue is running (those sent after writes:
    a post's classification), so that what a test counts next is its own."""
    from taskiq import InMemoryBroker
    from taskiq.brokers.shared_broker import async_shared_broker

    broker = async_shared_broker._default_broker
    if isinstance(broker, InMemoryBroker):
        await broker.wait_all()
