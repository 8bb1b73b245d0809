"""The committed SDL files are what the code serves."""

from __future__ import annotations

import pytest

from member_api.graphql.schema import admin_schema, member_schema, sdl
from tests.conftest import ROOT


@pytest.mark.parametrize(
    ("filename", "schema"),
    [("schema.graphql", member_schema), ("admin.graphql", admin_schema)],
)
def test_committed_schema_is_current(filename: str, schema: object) -> None:
    committed = (ROOT / "schema" / filename).read_text(encoding="utf-8")
    assert committed == sdl(schema), f"schema/{filename} is stale: run `make schema`"


def test_staff_operations_are_not_on_the_member_schema() -> None:
    member = sdl(member_schema)
    assert "staffLogin" not in member
    assert "staffLogin" in sdl(admin_schema)
