"""GraphiQL's page references only the service's own files, which it serves with long
cache lifetimes while GraphiQL is on, and not at all when it is off."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from member_api.app import create_app
from member_api.graphql import graphiql
from member_api.settings import Settings

ENDPOINTS = ("/graphql", "/admin/graphql")
VENDOR = Path(graphiql.__file__).with_name("static") / "vendor"


@pytest.fixture
def backend() -> str:
    """The page touches no storage: one backend is enough."""
    return "sqlite"


class References(HTMLParser):
    """Every URL the page points at, with the tag and attributes that hold it."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("src") or attributes.get("href"):
            self.found.append((tag, attributes))


def references(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = References()
    parser.feed(html)
    return parser.found


async def page(client: httpx.AsyncClient, endpoint: str) -> httpx.Response:
    return await client.get(endpoint, headers={"accept": "text/html"})


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_the_page_references_only_our_own_files(
    client: httpx.AsyncClient, endpoint: str
) -> None:
    response = await page(client, endpoint)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    text = response.text
    for cdn in ("unpkg", "jsdelivr", "cdnjs", "googleapis", "http://", "https://", "//"):
        assert cdn not in text
    found = references(text)
    scripts = [a for tag, a in found if tag == "script"]
    stylesheets = [a for tag, a in found if tag == "link" and a.get("rel") == "stylesheet"]
    assert len(scripts) == 5
    assert len(stylesheets) == 2
    for attributes in scripts + stylesheets:
        url = attributes.get("src") or attributes.get("href") or ""
        assert url.startswith("/graphiql/static/"), url
    # Nothing inline runs: the page's own policy forbids it, and any other host.
    assert "<script>" not in text
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "connect-src 'self';" in policy


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_every_file_the_page_loads_is_served_with_a_long_lifetime(
    client: httpx.AsyncClient, endpoint: str
) -> None:
    kinds = {"script": "text/javascript", "link": "text/css"}
    for tag, attributes in references((await page(client, endpoint)).text):
        if tag == "link" and attributes.get("rel") != "stylesheet":
            continue
        url = attributes.get("src") or attributes.get("href") or ""
        response = await client.get(url)
        assert response.status_code == 200, url
        assert response.headers["content-type"].split(";")[0] == kinds[tag]
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["x-content-type-options"] == "nosniff"
        digest = base64.b64encode(hashlib.sha384(response.content).digest()).decode()
        assert attributes["integrity"] == f"sha384-{digest}"
        # The URL changes with the content.
        assert url.endswith(f"?v={hashlib.sha384(response.content).hexdigest()[:16]}")


async def test_the_start_script_talks_to_the_endpoint_that_served_the_page(
    client: httpx.AsyncClient,
) -> None:
    script = (await client.get("/graphiql/static/graphiql-start.js")).text
    assert "window.location.origin + window.location.pathname" in script
    assert "createFetcher({ url: endpoint })" in script


async def test_only_the_listed_files_are_served(client: httpx.AsyncClient) -> None:
    for name in ("LICENSE.react", "SOURCES", "README.md", "..%2Fgraphiql.py", "vendor%2Fx.js"):
        assert (await client.get(f"/graphiql/static/{name}")).status_code == 404
    assert (await client.head("/graphiql/static/graphiql.min.css")).status_code == 200


def test_the_vendored_files_are_the_released_ones_listed_in_sources() -> None:
    """SOURCES (written by tools/fetch-graphiql-assets) names each file's npm package; a
    file changed by hand no longer matches its digest there."""
    listed = {}
    for line in (VENDOR / "SOURCES").read_text().splitlines():
        if line and not line.startswith("#"):
            name, package, _path, integrity = line.split()
            listed[name] = integrity
            assert "@" in package.lstrip("@")
    vendored = {p.name for p in VENDOR.iterdir() if p.suffix in {".js", ".css"}}
    assert set(listed) == vendored
    for name, integrity in listed.items():
        digest = base64.b64encode(hashlib.sha384((VENDOR / name).read_bytes()).digest())
        assert integrity == f"sha384-{digest.decode()}", name
    for licence in ("react", "react-dom", "graphiql", "graphiql-explorer"):
        assert "MIT License" in (VENDOR / f"LICENSE.{licence}").read_text()


@pytest.fixture
async def client_without_graphiql(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(dataclasses.replace(settings, graphiql=False))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://member-api.test") as c:
            yield c


async def test_with_graphiql_off_neither_the_page_nor_its_files_are_served(
    client_without_graphiql: httpx.AsyncClient,
) -> None:
    client = client_without_graphiql
    for endpoint in ENDPOINTS:
        assert (await page(client, endpoint)).status_code == 404
    for name in ("graphiql.min.js", "graphiql.min.css", "graphiql-start.js"):
        assert (await client.get(f"/graphiql/static/{name}")).status_code == 404


def test_graphiql_is_off_in_production_unless_asked_for() -> None:
    production = {"ENVIRONMENT": "production"}
    assert not Settings.from_env(production).graphiql
    assert Settings.from_env({**production, "GRAPHIQL": "1"}).graphiql
    assert Settings.from_env({"ENVIRONMENT": "development"}).graphiql
