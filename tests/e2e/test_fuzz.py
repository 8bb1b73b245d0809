"""Schemathesis fuzzes both GraphQL endpoints of a running server from their exported
schemas, anonymously and signed in (a demo member on /graphql, a staff account with every
role on /admin/graphql): whatever the query, no 5xx and no internal error (masked or not).

Signed in, no answer outside the sign-in mutations may be a refusal, so the cases reach
the resolvers behind the permission checks rather than only the checks themselves.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.conftest import FUZZ_STAFF
from tests.support import STAFF_LOGIN, op

SCHEMAS = Path(__file__).parents[2] / "schema"
EXAMPLES = 25
DEMO_MEMBER = ("13800000002", "demo-pass-1")
# Mutations that take credentials instead of a token: they answer anyone.
SIGN_IN = {
    "register",
    "login",
    "loginWithMiniProgram",
    "refreshTokens",
    "logout",
    "staffLogin",
    "staffRefreshTokens",
    "staffLogout",
}
# Mutations that close the signed-in account for good: fuzzed anonymously only, so the
# session stays for the other cases (their own tests cover them signed in).
ACCOUNT_ENDING = {"requestAccountDeletion"}
REFUSED = re.compile(r'"code":\s*"(UNAUTHENTICATED|FORBIDDEN)"')
WHOAMI = {"member": "{ me { phoneMasked } }", "staff": "{ viewer { username roles } }"}

nodes = schemathesis.graphql.nodes
WHOLE = 2**53 - 1
whole_numbers = st.one_of(
    st.integers(min_value=-1_000_000, max_value=1_000_000),
    st.sampled_from([0, WHOLE, -WHOLE, WHOLE + 1, -(WHOLE + 1), 2**63]),
)
schemathesis.graphql.scalar("Quantity", st.integers(min_value=-5, max_value=20).map(nodes.Int))
schemathesis.graphql.scalar("PointCount", whole_numbers.map(nodes.Int))
schemathesis.graphql.scalar("Fen", whole_numbers.map(nodes.Int))
schemathesis.graphql.scalar("JSON", st.just(nodes.Object([])))
schemathesis.graphql.scalar(
    "DateTime",
    st.sampled_from(["2026-11-23T10:00:00+08:00", "2020-01-01T00:00:00Z", "nonsense"]).map(
        nodes.String
    ),
)
schemathesis.graphql.scalar(
    "Date", st.sampled_from(["2026-11-23", "1999-12-31", "31/12"]).map(nodes.String)
)


def _check(response: Any) -> None:
    assert response.status_code < 500, response.text
    body = response.text
    assert "Internal error" not in body, body
    assert "Traceback" not in body, body


def _post(server: str, path: str, document: str, variables: dict[str, Any], token: str = "") -> Any:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(
        f"{server}{path}", json={"query": document, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


@pytest.fixture(scope="module")
def tokens(server: str) -> dict[str, str]:
    phone, password = DEMO_MEMBER
    credentials = {"input": {"phone": phone, "password": password}}
    member = _post(server, "/graphql", op("Login"), credentials)
    username, password = FUZZ_STAFF
    staff = _post(server, "/admin/graphql", STAFF_LOGIN, {"u": username, "p": password})
    return {
        "member": member["login"]["accessToken"],
        "staff": staff["staffLogin"]["accessToken"],
    }


def _requests_counted(server: str, endpoint: str) -> float:
    metrics = httpx.get(f"{server}/metrics").text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("member_api_graphql_requests_total{")
        and f'endpoint="{endpoint}"' in line
    )


@pytest.mark.parametrize(
    ("path", "sdl", "signed_in_as"),
    [
        ("/graphql", "schema", None),
        ("/graphql", "schema", "member"),
        ("/admin/graphql", "admin", None),
        ("/admin/graphql", "admin", "staff"),
    ],
)
def test_no_query_breaks_the_server(
    server: str, tokens: dict[str, str], path: str, sdl: str, signed_in_as: str | None
) -> None:
    schema = schemathesis.graphql.from_path(SCHEMAS / f"{sdl}.graphql")
    operations = [result.ok() for result in schema.get_all_operations()]
    if signed_in_as:
        operations = [o for o in operations if o.definition.field_name not in ACCOUNT_ENDING]
    assert operations
    strategy = st.one_of(*(operation.as_strategy() for operation in operations))
    token = tokens[signed_in_as] if signed_in_as else ""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    endpoint = "staff" if path.startswith("/admin") else "member"
    counted_before = _requests_counted(server, endpoint)
    answered: Counter[str] = Counter()
    refused: list[str] = []

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES * len(operations) // 4,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def fuzz(case: Any) -> None:
        response = case.call(base_url=f"{server}{path}", headers=headers)
        _check(response)
        field = case.operation.definition.field_name
        answered[field] += 1
        if token and field not in SIGN_IN and REFUSED.search(response.text):
            refused.append(f"{field}: {response.text}")

    fuzz()
    assert refused == [], refused[:5]
    # The cases did reach the server, and it counted each.
    sent = _requests_counted(server, endpoint) - counted_before
    print(f"{path} ({signed_in_as or 'anonymous'}): {sent:.0f} requests, {len(answered)} fields")
    assert sent >= sum(answered.values()) >= len(operations), (sent, answered)
    if signed_in_as:
        # The fuzzed mutations left the session usable: the last cases were signed in too.
        assert all(_post(server, path, WHOAMI[signed_in_as], {}, token).values())
