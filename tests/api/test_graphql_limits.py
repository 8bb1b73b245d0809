"""Every request is held to limits on depth, aliases, tokens and cost; every answer
reports its cost."""

from __future__ import annotations

import base64
import dataclasses
import uuid
from typing import Any

import httpx

from member_api.app import create_app
from member_api.graphql.limits import MAX_COST, operation_cost
from member_api.settings import Settings
from tests.support import gql, op

DEEP_FEED = """
query($g: ID!) {
  communityGroup(id: $g) {
    posts(first: 100) { edges { node { comments(first: 100) {
      edges { node { author { tier { code } } } } } } } }
  }
}
"""


async def test_every_answer_reports_its_cost(client: httpx.AsyncClient) -> None:
    body = await gql(client, op("CommunityGroups"))
    assert body["extensions"]["cost"] == {"requestedQueryCost": 1, "maxQueryCost": MAX_COST}
    feed = await gql(client, op("GroupFeed"), {"groupId": "x", "first": 20})
    # group 1 + posts 1 + 20 x (edge 1 + node 1 + author 1 + tier 1) + pageInfo 1
    assert feed["extensions"]["cost"]["requestedQueryCost"] == 1 + 1 + 20 * 4 + 1


async def test_a_too_costly_query_is_refused_before_it_runs(client: httpx.AsyncClient) -> None:
    body = await gql(client, DEEP_FEED, {"g": "x"})
    assert body["data"] is None
    error = body["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert body["extensions"]["cost"]["requestedQueryCost"] > MAX_COST


async def test_depth_aliases_and_tokens_are_limited(client: httpx.AsyncClient) -> None:
    deep = "{ me " + "{ tier " * 12 + "{ code }" + " }" * 12 + " }"
    body = await gql(client, deep)
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]
    aliases = "{ " + " ".join(f"a{n}: communityGroups {{ id }}" for n in range(31)) + " }"
    body = await gql(client, aliases)
    assert "aliases" in body["errors"][0]["message"].lower()
    tokens = "{ " + " ".join("__typename" for _ in range(5_001)) + " }"
    body = await gql(client, tokens)
    assert "token" in body["errors"][0]["message"].lower()


async def test_batches_are_refused(client: httpx.AsyncClient) -> None:
    batch = [{"query": "{ __typename }"}, {"query": "{ __typename }"}]
    response = await client.post("/graphql", json=batch)
    assert response.status_code == 400


def test_cost_counts_fragments_variables_and_default_pages() -> None:
    from graphql import parse

    document = parse(
        "query($n: Int) { rewards(first: $n) { edges { node { ...R } } } "
        "communityGroups { ...G } } fragment R on Reward { id } "
        "fragment G on CommunityGroup { posts { edges { node { id } } } }"
    )
    # rewards: 1 + 7 x (edge 1 + node 1); groups: 1 + posts (1 + 20 x (1 + 1))
    assert operation_cost(document, None, {"n": 7}) == (1 + 7 * 2) + (1 + 1 + 20 * 2)


async def test_introspection_is_off_in_production_unless_enabled(settings: Settings) -> None:
    for introspection in (False, True):
        app = create_app(dataclasses.replace(settings, introspection=introspection))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                for path in ("/graphql", "/admin/graphql"):
                    query = {"query": "{ __schema { types { name } } }"}
                    body = (await client.post(path, json=query)).json()
                    assert ("errors" not in body) is introspection, body
    assert not Settings.from_env({"ENVIRONMENT": "production"}).introspection
    assert Settings.from_env(
        {"ENVIRONMENT": "production", "GRAPHQL_INTROSPECTION": "1"}
    ).introspection


async def test_request_bodies_are_capped(client: httpx.AsyncClient) -> None:
    padding = "x" * (70 * 1024)
    response = await client.post("/graphql", json={"query": "{ __typename }", "pad": padding})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"

    async def stream() -> Any:
        for _ in range(70):
            yield b"x" * 1024

    streamed = await client.post(
        "/graphql", content=stream(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413
    assert (await client.post("/graphql", json={"query": "{ __typename }"})).status_code == 200


async def test_nul_characters_are_refused_typed(client: httpx.AsyncClient) -> None:
    register = {
        "input": {"phone": "13900000001", "password": "secret-pass-1", "displayName": "a\x00"}
    }
    body = await gql(client, op("Register"), register)
    assert body["errors"][0]["extensions"]["code"] == "INVALID_CHARACTERS"
    scan = await gql(client, op("ScanItem"), {"code": "x\x00y"})
    assert scan["errors"][0]["extensions"]["code"] == "INVALID_CHARACTERS"
    page = await client.get("/p/%00")
    assert page.status_code == 404
    cursor = base64.urlsafe_b64encode(b"[" * 1000).decode()
    for after in (cursor, base64.urlsafe_b64encode(b'["0001-01-01T00:00+01:00", "x"]').decode()):
        deep = await gql(client, op("UpcomingEvents"), {"first": 5, "after": after})
        assert deep["errors"][0]["extensions"]["code"] == "INVALID_CURSOR"


async def test_graphql_response_json_for_clients_that_ask(client: httpx.AsyncClient) -> None:
    accept = {"accept": "application/graphql-response+json, application/json;q=0.9"}
    broken = await client.post("/graphql", json={"query": "{ me { "}, headers=accept)
    assert broken.status_code == 400
    assert broken.headers["content-type"].startswith("application/graphql-response+json")
    assert "data" not in broken.json()
    fine = await client.post("/graphql", json={"query": "{ __typename }"}, headers=accept)
    assert fine.status_code == 200
    assert fine.headers["content-type"].startswith("application/graphql-response+json")
    plain = await client.post("/graphql", json={"query": "{ me { "})
    assert plain.status_code == 200
    assert plain.headers["content-type"].startswith("application/json")


async def test_a_document_is_validated_once_however_often_it_is_sent(
    client: httpx.AsyncClient, monkeypatch: Any
) -> None:
    from member_api.graphql import validation

    validated: list[str] = []
    real = validation.validate_document

    def counting(schema: Any, document: Any, rules: Any) -> Any:
        validated.append(document.loc.source.body)
        return real(schema, document, rules)

    monkeypatch.setattr(validation, "validate_document", counting)
    query = f"# {uuid.uuid4()}\n" + op("GroupFeed")
    for first in (5, 10, 20):
        body = await gql(client, query, {"groupId": "x", "first": first})
        assert "errors" not in body or body["errors"][0]["extensions"]["code"] != (
            "GRAPHQL_VALIDATION_FAILED"
        )
    assert validated == [query]
    # The limits still hold on the cached path: a too-deep document is refused each time.
    deep = f"# {uuid.uuid4()}\n{{ me " + "{ tier " * 12 + "{ code }" + " }" * 12 + " }"
    for _ in range(2):
        body = await gql(client, deep)
        assert "exceeds maximum operation depth" in body["errors"][0]["message"]
    assert validated == [query, deep]


def _fragment_bomb(levels: int, leaf: str) -> str:
    """A short document whose fragments each spread the next twice: expanded, it would
    hold 2**levels leaves."""
    chain = "".join(
        f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}\n" for i in range(levels)
    )
    return "query Bomb { ...F0 }\n" + chain + f"fragment F{levels} on Query {{ {leaf} }}\n"


async def test_a_fragment_bomb_is_measured_once_per_fragment_on_both_endpoints(
    client: httpx.AsyncClient, monkeypatch: Any
) -> None:
    from member_api.graphql import measure

    walked: list[int] = []
    real = measure.Measure._selections

    def counting(self: measure.Measure, selections: Any) -> measure.Tally:
        walked.append(1)
        return real(self, selections)

    monkeypatch.setattr(measure.Measure, "_selections", counting)
    levels = 20
    for path, an_object in (("/graphql", "me { id }"), ("/admin/graphql", "viewer { id }")):
        for leaf, code in (
            ("__typename", None),
            ("a: __typename", "TOO_MANY_ALIASES"),
            (an_object, "QUERY_TOO_COSTLY"),
        ):
            walked.clear()
            document = f"# {uuid.uuid4()}\n" + _fragment_bomb(levels, leaf)
            body = await gql(client, document, path=path)
            # Each selection set of the document once, for validation and once for cost:
            # never the million spreads the document expands to.
            assert 0 < len(walked) <= 2 * document.count("{"), (path, leaf, len(walked))
            if code is None:
                assert body["data"] == {"__typename": "Query"}, body
            else:
                assert body["errors"][0]["extensions"]["code"] == code, body
