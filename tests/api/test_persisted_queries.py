"""Apollo's automatic persisted queries: registered client operations by hash, learning
new ones, and a production mode that runs registered operations only."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from member_api.settings import Settings
from tests.support import CLIENTS, op


def persisted(digest: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, persisted_queries_dir=str(CLIENTS))


async def test_a_registered_client_operation_runs_by_its_hash_alone(
    client: httpx.AsyncClient,
) -> None:
    body = {"extensions": persisted(sha(op("CommunityGroups"))), "variables": {}}
    answer = (await client.post("/graphql", json=body)).json()
    assert answer["data"] == {"communityGroups": []}


async def test_an_unknown_hash_is_not_found_then_learned(client: httpx.AsyncClient) -> None:
    query = "query Mine { communityGroups { slug } }"
    unknown = await client.post("/graphql", json={"extensions": persisted(sha(query))})
    assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    wrong = await client.post("/graphql", json={"query": query, "extensions": persisted("0" * 64)})
    assert wrong.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_HASH_MISMATCH"
    learned = await client.post(
        "/graphql", json={"query": query, "extensions": persisted(sha(query))}
    )
    assert learned.json()["data"] == {"communityGroups": []}
    again = await client.post("/graphql", json={"extensions": persisted(sha(query))})
    assert again.json()["data"] == {"communityGroups": []}
    bad = await client.post("/graphql", json={"extensions": {"persistedQuery": {"version": 2}}})
    assert bad.json()["errors"][0]["extensions"]["code"] == "BAD_PERSISTED_QUERY"


async def test_registered_only_mode_refuses_ad_hoc_queries(settings: Settings) -> None:
    from member_api.app import create_app

    app = create_app(dataclasses.replace(settings, persisted_queries_only=True))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            ad_hoc = await c.post("/graphql", json={"query": "{ communityGroups { id } }"})
            assert ad_hoc.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_REQUIRED"
            query = "query Mine { communityGroups { slug } }"
            learning = await c.post(
                "/graphql", json={"query": query, "extensions": persisted(sha(query))}
            )
            code = learning.json()["errors"][0]["extensions"]["code"]
            assert code == "PERSISTED_QUERY_NOT_REGISTERED"
            registered = await c.post("/graphql", json={"query": op("CommunityGroups")})
            assert registered.json()["data"] == {"communityGroups": []}
            by_hash = {"extensions": persisted(sha(op("CommunityGroups")))}
            assert (await c.post("/graphql", json=by_hash)).json()["data"] == {
                "communityGroups": []
            }


async def test_the_shipped_manifest_serves_registered_only_mode_without_the_clients_files(
    settings: Settings,
) -> None:
    """As in the image: no clients' directory, only the manifest inside the package."""
    from member_api.app import create_app

    image = dataclasses.replace(settings, persisted_queries_dir="", persisted_queries_only=True)
    app = create_app(image)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            by_hash = {"extensions": persisted(sha(op("CommunityGroups")))}
            answer = (await c.post("/graphql", json=by_hash)).json()
            assert answer["data"] == {"communityGroups": []}


def test_registered_only_mode_with_nothing_registered_refuses_to_start(
    settings: Settings, tmp_path: Path
) -> None:
    from member_api.services import load_persisted_queries
    from member_api.settings import SettingsError

    bare = dataclasses.replace(settings, persisted_queries_dir="", persisted_queries_only=True)
    with pytest.raises(SettingsError, match="no operation is registered"):
        load_persisted_queries(bare, manifest=tmp_path / "absent.json")
    # Without the mode, nothing registered is merely nothing to look up.
    open_mode = dataclasses.replace(bare, persisted_queries_only=False)
    assert load_persisted_queries(open_mode, manifest=tmp_path / "absent.json").registered == {}


def test_a_missing_clients_directory_or_a_tampered_manifest_is_refused(
    settings: Settings, tmp_path: Path
) -> None:
    from member_api.graphql.persisted import MANIFEST
    from member_api.services import load_persisted_queries
    from member_api.settings import SettingsError

    missing = dataclasses.replace(settings, persisted_queries_dir=str(tmp_path / "nowhere"))
    with pytest.raises(SettingsError, match="PERSISTED_QUERIES_DIR"):
        load_persisted_queries(missing)
    tampered = json.loads(MANIFEST.read_text())
    tampered["operations"][0]["query"] += " "
    forged = tmp_path / "operations.json"
    forged.write_text(json.dumps(tampered))
    with pytest.raises(SettingsError, match="does not match its hash"):
        load_persisted_queries(settings, manifest=forged)


def test_the_shipped_manifest_is_the_clients_operations() -> None:
    """Regenerate with `make operations` when a client's document changes."""
    from member_api.graphql.persisted import MANIFEST, PersistedQueries

    store = PersistedQueries()
    store.register_directory(CLIENTS)
    assert json.loads(MANIFEST.read_text()) == store.manifest()
