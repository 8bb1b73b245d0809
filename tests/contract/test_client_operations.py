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


def test_pending_operations_still_fail() -> None:
    """When this fails, an operation works: take it off the pending list."""
    for name in sorted(PENDING):
        errors = validate(member_schema._schema, parse(OPERATIONS[name]))
        assert errors, f"{name} validates now; remove it from tests/contract/pending.py"


def test_every_operation_is_exercised_over_http() -> None:
    """Each client operation is sent by name (`op("Name")`) in some HTTP test."""
    sources = "".join(
        path.read_text(encoding="utf-8") for path in Path(__file__).parents[1].rglob("*.py")
    )
    unused = [name for name in sorted(OPERATIONS) if f'op("{name}")' not in sources]
    assert unused == []


def test_every_client_document_parses() -> None:
    for path in client_documents():
        parse(path.read_text(encoding="utf-8"))
