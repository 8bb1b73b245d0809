"""Every operation the clients send validates against the member schema (bar PENDING)."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import parse, validate

from member_api.graphql.schema import member_schema
from tests.contract.pending import PENDING
from tests.support import client_documents, client_operations

OPERATIONS = client_operations()


def test_the_client_documents_are_there() -> None:
    assert client_documents(), "../shared/clients/*.graphql not found (set MEMBER_API_SHARED)"
    names = {path.stem for path in client_documents()}
    assert {"auth", "member", "engagement", "rewards", "community", "provenance"} <= names
    assert {"Register", "Login", "LoginWithMiniProgram", "RefreshTokens", "Logout"} <= set(
        OPERATIONS
    )


def test_pending_names_are_real_operations() -> None:
    assert sorted(PENDING - OPERATIONS.keys()) == []


@pytest.mark.parametrize("name", sorted(OPERATIONS.keys() - PENDING))
def test_operation_validates(name: str) -> None:
    errors = validate(member_schema._schema, parse(OPERATIONS[name]))
    assert errors == [], [e.message for e in errors]


def test_the_operations_that_fail_are_exactly_the_pending_ones() -> None:
    """When a pending operation validates, take it off the pending list; no other may fail."""
    failing = {
        name for name, text in OPERATIONS.items() if validate(member_schema._schema, parse(text))
    }
    assert sorted(failing - PENDING) == [], "these client operations no longer validate"
    assert sorted(PENDING - failing) == [], "these validate now: remove them from pending.py"


def test_every_operation_is_exercised_over_http() -> None:
    """Each client operation is sent by name (`op("Name")`) in some HTTP test."""
    sources = "".join(
        path.read_text(encoding="utf-8") for path in Path(__file__).parents[1].rglob("*.py")
    )
    unused = [
        name for name in sorted(OPERATIONS.keys() - PENDING) if f'op("{name}")' not in sources
    ]
    assert unused == []


def test_every_client_document_parses_into_named_operations() -> None:
    for path in client_documents():
        document = parse(path.read_text(encoding="utf-8"))
        names = [getattr(node.name, "value", None) for node in document.definitions]
        assert names, f"{path.name} defines nothing"
        assert all(names), f"{path.name} has an anonymous operation"
        assert set(names) <= OPERATIONS.keys()
