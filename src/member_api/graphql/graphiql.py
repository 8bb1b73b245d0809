"""GraphiQL served from the package: the page, and the browser files it loads from
`/graphiql/static/` (React, ReactDOM, GraphiQL and its explorer plugin, vendored under
static/vendor, plus our start-up script), so it works with no internet."""

from __future__ import annotations

import base64
import functools
import hashlib
from dataclasses import dataclass
from html import escape
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

STATIC = Path(__file__).with_name("static")
ROUTE_NAME = "graphiql-static"
PATH = "/graphiql/static/{name}"

# Served name -> file under static/, in the order the page loads them.
_STYLESHEETS = {
    "graphiql.min.css": "vendor/graphiql.min.css",
    "plugin-explorer.css": "vendor/plugin-explorer.css",
}
_SCRIPTS = {
    "react.production.min.js": "vendor/react.production.min.js",
    "react-dom.production.min.js": "vendor/react-dom.production.min.js",
    "graphiql.min.js": "vendor/graphiql.min.js",
    "plugin-explorer.umd.js": "vendor/plugin-explorer.umd.js",
    "graphiql-start.js": "graphiql-start.js",
}
_MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}

# The file names carry no version, so each URL does (`?v=`, from the content): a new
# file is a new URL, and a browser may keep what it fetched for a year.
ASSET_CACHE_CONTROL = "public, max-age=31536000, immutable"

# Only our own files, nothing inline but styles (GraphiQL sets some), no other host.
PAGE_CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    integrity: str  # sha384-<base64>, for the page's `integrity` attribute
    version: str  # a short digest of the body, for the URL

    @classmethod
    def read(cls, path: Path) -> Asset:
        body = path.read_bytes()
        digest = hashlib.sha384(body).digest()
        return cls(
            body=body,
            media_type=_MEDIA_TYPES[path.suffix],
            integrity="sha384-" + base64.b64encode(digest).decode(),
            version=digest.hex()[:16],
        )


@functools.cache
def assets() -> dict[str, Asset]:
    """Every file the page loads, read once per process."""
    return {
        name: Asset.read(STATIC / relative) for name, relative in (_STYLESHEETS | _SCRIPTS).items()
    }


async def asset(request: Request) -> Response:
    found = assets().get(request.path_params["name"])
    if found is None:
        return PlainTextResponse("Not Found", status_code=404)
    return Response(
        found.body,
        media_type=found.media_type,
        headers={
            "cache-control": ASSET_CACHE_CONTROL,
            "x-content-type-options": "nosniff",
        },
    )


def route() -> Route:
    """The static route; mounted only when GraphiQL is on."""
    assets()  # a missing file fails start-up, not the first page
    return Route(PATH, asset, methods=["GET", "HEAD"], name=ROUTE_NAME)


def _url(request: Request, name: str) -> str:
    path = request.url_for(ROUTE_NAME, name=name).path  # the app's root path included
    return escape(f"{path}?v={assets()[name].version}")


def page(request: Request) -> HTMLResponse:
    """The GraphiQL page; its script talks to the endpoint that served it."""
    found = assets()
    links = "\n".join(
        f'    <link rel="stylesheet" href="{_url(request, name)}"'
        f' integrity="{found[name].integrity}">'
        for name in _STYLESHEETS
    )
    scripts = "\n".join(
        f'    <script src="{_url(request, name)}" integrity="{found[name].integrity}"></script>'
        for name in _SCRIPTS
    )
    html = f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>GraphiQL · member-api {escape(request.url.path)}</title>
    <link rel="icon" href="data:,">
{links}
    <style>
      html, body {{ height: 100%; margin: 0; }}
      #graphiql {{ height: 100vh; }}
    </style>
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL…</div>
{scripts}
  </body>
</html>
"""
    return HTMLResponse(
        html,
        headers={"content-security-policy": PAGE_CSP, "cache-control": "no-cache"},
    )
