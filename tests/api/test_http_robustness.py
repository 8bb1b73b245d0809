"""No request gets a 500: malformed bodies, wrong types, unknown names, internal failures."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from member_api.members import centre
from tests.support import ME, gql, op, register


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"", "application/json"),
        (b"[]", "application/json"),
        (b'{"query": 42}', "application/json"),
        (b'{"variables": {}}', "application/json"),
        (b"\xff\xfe", "application/json"),
        (b"query=1", "text/plain"),
    ],
)
async def test_malformed_requests_are_4xx(
    client: httpx.AsyncClient, content: bytes, content_type: str
) -> None:
    for path in ("/graphql", "/admin/graphql"):
        response = await client.post(path, content=content, headers={"content-type": content_type})
        assert 400 <= response.status_code < 500, (path, response.status_code, response.text)


async def test_wrong_variable_types(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": op("Login"), "variables": {"input": {"phone": 13900000001}}}
    )
    assert response.status_code < 500
    assert response.json()["errors"]


async def test_unknown_operation_name(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": op("Login"), "operationName": "Nope", "variables": {}}
    )
    assert 400 <= response.status_code < 500
    assert "Nope" in response.text


async def test_query_on_a_field_that_does_not_exist(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ me { id shoeSize } }"})
    assert response.status_code < 500
    assert "shoeSize" in response.json()["errors"][0]["message"]


async def test_syntax_error(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ me { "})
    assert response.status_code < 500
    assert response.json()["errors"]


async def test_missing_and_malformed_authorization(client: httpx.AsyncClient) -> None:
    assert (await gql(client, ME))["data"]["me"] is None
    for header in ("Bearer", "Basic abc", "Bearer not.a.jwt", "Token x"):
        response = await client.post(
            "/graphql", json={"query": ME}, headers={"authorization": header}
        )
        assert response.status_code == 200
        assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_TOKEN"


async def test_unexpected_failures_are_masked_and_logged_with_request_id(
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    tokens = await register(client)

    async def broken(member_id: object) -> None:
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(centre, "read_member", broken)
    with caplog.at_level(logging.ERROR, logger="member_api.graphql"):
        response = await client.post(
            "/graphql",
            json={"query": ME},
            headers={"authorization": f"Bearer {tokens['accessToken']}", "x-request-id": "req-42"},
        )
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "req-42"
    assert "hunter2" not in response.text
    assert response.json()["errors"][0]["message"] == "Internal error."
    records = [r for r in caplog.records if r.name == "member_api.graphql"]
    assert records
    assert records[0].exc_info is not None
    assert records[0].request_id == "req-42"  # type: ignore[attr-defined]


async def test_request_id_is_made_when_missing_or_unsafe(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"x-request-id": "bad id\r\nx"})
    assert response.headers["x-request-id"] != "bad id\r\nx"
    assert len(response.headers["x-request-id"]) == 32


async def test_health_ready_and_jwks(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "cache": "ok"}
    jwks = (await client.get("/.well-known/jwks.json")).json()
    assert jwks["keys"][0]["kty"] == "OKP"
    assert jwks["keys"][0]["crv"] == "Ed25519"


async def test_graphiql_is_served_in_development(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_answers_are_compact_utf8(client: httpx.AsyncClient) -> None:
    """Chinese text travels as UTF-8, not as \\u escapes twice its size."""
    token = (await register(client, "13900000077"))["accessToken"]
    response = await client.post(
        "/graphql",
        json={"query": "{ me { displayName } }"},
        headers={"authorization": f"Bearer {token}"},
    )
    name = response.json()["data"]["me"]["displayName"]
    assert not name.isascii()
    assert name.encode() in response.content
    assert b"\\u" not in response.content
    assert b'":' in response.content
    assert b'": ' not in response.content


@pytest.mark.parametrize(
    "content",
    [
        b"42",
        b'"x"',
        b"null",
        b"true",
        b'{"query": "{ __typename }", "variables": {"a": "\xff"}}',
        b'{"query": "{ __typename }", "variables": {"a": ' + b"9" * 5_000 + b"}}",
        b'{"query": "{ __typename }", "variables": {"a": ' + b"[" * 5_000 + b"]" * 5_000 + b"}}",
        b'{"query": "{ __typename }", "variables": {"a": "\\ud800"}}',
        b'{"query": "{ __typename }", "operationName": 5}',
        b'{"query": "{ __typename }", "operationName": ["a"]}',
        b"[]",
    ],
)
async def test_malformed_bodies_get_a_graphql_shaped_400(
    client: httpx.AsyncClient, content: bytes
) -> None:
    for path in ("/graphql", "/admin/graphql"):
        for accept in ("application/json", "application/graphql-response+json"):
            response = await client.post(
                path,
                content=content,
                headers={"content-type": "application/json", "accept": accept},
            )
            assert response.status_code == 400, (path, response.text)
            assert response.headers["content-type"].startswith(accept)
            error = response.json()["errors"][0]
            assert error["message"]
            assert error["extensions"]["code"] == "BAD_REQUEST"


async def test_unstorable_text_is_refused_by_every_route_to_a_resolver(
    client: httpx.AsyncClient,
) -> None:
    """NUL as an escape inside the document's literals or in variables; lone surrogates
    as escapes in literals (a syntax error) or in JSON variables (a malformed body)."""
    token = (await register(client))["accessToken"]
    member_documents = [
        'mutation { redeemReward(input: {rewardId: "1", quantity: 1, '
        'idempotencyKey: "k\\u0000"}) { __typename } }',
        'query($c: String! = "x\\u0000") { provenance(code: $c) { publicId } }',
    ]
    admin = 'mutation { markVoucherUsed(input: {voucherCode: "v\\u0000"}) { __typename } }'
    for document, path in [(d, "/graphql") for d in member_documents] + [(admin, "/admin/graphql")]:
        body = await gql(client, document, token=token, path=path)
        assert body["data"] is None, body
        assert body["errors"][0]["extensions"]["code"] == "INVALID_CHARACTERS", body
    variables = {"input": {"phone": "13900000001", "password": "a\x00"}}
    body = await gql(client, op("Login"), variables)
    assert body["errors"][0]["extensions"]["code"] == "INVALID_CHARACTERS", body

    literal = 'mutation { createPost(input: {groupId: "1", body: "hi \\ud83d"}) { __typename } }'
    body = await gql(client, literal, token=token)
    assert body["data"] is None
    assert "Invalid Unicode escape" in body["errors"][0]["message"]
    for document, variables_json in (
        (op("CreatePost"), '{"input": {"groupId": "1", "body": "hi \\ud83d"}}'),
        (op("Login"), '{"input": {"phone": "13900000001", "password": "\\ud800"}}'),
    ):
        raw = f'{{"query": {json.dumps(document)}, "variables": {variables_json}}}'
        response = await client.post(
            "/graphql",
            content=raw.encode(),
            headers={"content-type": "application/json", "authorization": f"Bearer {token}"},
        )
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize(
    ("method", "content_type", "content"),
    [
        ("PUT", "application/json", b'{"query": "{ __typename }"}'),
        ("DELETE", "application/json", b""),
        ("PATCH", "application/json", b"{}"),
        ("OPTIONS", "application/json", b""),
        ("POST", "text/plain", b"{ __typename }"),
        ("POST", "multipart/form-data; boundary=x", b"--x--"),
    ],
)
async def test_every_refusal_of_a_graphql_endpoint_is_graphql_shaped(
    client: httpx.AsyncClient, method: str, content_type: str, content: bytes
) -> None:
    for path in ("/graphql", "/admin/graphql"):
        for accept in ("application/json", "application/graphql-response+json"):
            response = await client.request(
                method,
                path,
                content=content,
                headers={"content-type": content_type, "accept": accept},
            )
            assert 400 <= response.status_code < 500, (method, path, response.text)
            assert response.headers["content-type"].startswith(accept), response.headers
            error = response.json()["errors"][0]
            assert error["message"]
            assert error["extensions"]["code"]
            if response.status_code == 405:
                assert response.headers["allow"] == "GET, POST"
