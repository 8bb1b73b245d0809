"""The public scan page `/p/<public id>` (HTML for phones, JSON, EPCIS 2.0 JSON-LD) and the
log's endpoints: the latest checkpoint, the verifier key, consistency proofs."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from member_api.error_codes import ProvenanceErrorCode, RequestErrorCode
from member_api.provenance import domain, log, service
from member_api.provenance.models import Checkpoint
from member_api.services import Services

EPCIS_TYPE = "application/ld+json"
_NO_STORE = {"cache-control": "no-store", "vary": "accept"}


def _wants(request: Request) -> str:
    explicit = request.query_params.get("format")
    if explicit in {"html", "json", "epcis"}:
        return explicit
    accept = request.headers.get("accept", "")
    if EPCIS_TYPE in accept:
        return "epcis"
    if "application/json" in accept and "text/html" not in accept:
        return "json"
    return "html"


async def scan_page(request: Request) -> Response:
    services: Services = request.app.state.services
    public_id = str(request.path_params["public_id"])
    city = request.query_params.get("city")
    address = request.client.host if request.client else None
    record = await service.scan(services, code=public_id, city=city, address=address)
    wanted = _wants(request)
    if record is None:
        if wanted == "html":
            return HTMLResponse(_not_found_page(), status_code=404, headers=_NO_STORE)
        body = {
            "error": {"code": ProvenanceErrorCode.UNKNOWN_ITEM, "message": "No item has that code."}
        }
        return JSONResponse(body, status_code=404, headers=_NO_STORE)
    if wanted == "json":
        return JSONResponse(record.as_json(), headers=_NO_STORE)
    if wanted == "epcis":
        return JSONResponse(epcis_document(record), media_type=EPCIS_TYPE, headers=_NO_STORE)
    return HTMLResponse(render_page(record), headers=_NO_STORE)


async def checkpoint(request: Request) -> Response:
    latest = await Checkpoint.all().order_by("-size").first()
    if latest is None:
        return PlainTextResponse("the log is empty\n", status_code=404)
    return PlainTextResponse(latest.note, headers={"cache-control": "no-store"})


async def verifier_key(request: Request) -> Response:
    services: Services = request.app.state.services
    return PlainTextResponse(service.log_key(services).verifier_key + "\n")


async def consistency(request: Request) -> Response:
    try:
        old, new = int(request.query_params["from"]), int(request.query_params["to"])
    except (KeyError, ValueError):
        return JSONResponse(
            {"error": {"code": RequestErrorCode.INVALID_ARGUMENT, "message": "Give ?from=M&to=N."}},
            status_code=400,
        )
    latest = await Checkpoint.all().order_by("-size").first()
    size = int(latest.size) if latest else 0
    if not 0 < old <= new <= size:
        return JSONResponse(
            {
                "error": {
                    "code": RequestErrorCode.INVALID_ARGUMENT,
                    "message": f"Need 0 < from <= to <= {size}.",
                }
            },
            status_code=400,
        )
    proof = await log.consistency_proof(old, new)
    return JSONResponse({"from": old, "to": new, "proof": log.b64(proof)})


# --- EPCIS --------------------------------------------------------------------------


def epcis_document(record: service.PublicRecord) -> dict[str, Any]:
    """The item's public history as an EPCIS 2.0 document of ObjectEvents."""
    events = []
    for e in record.events:
        step, disposition = domain.vocabulary(domain.EventKind(e.kind), e.details)
        event: dict[str, Any] = {
            "type": "ObjectEvent",
            "eventTime": domain.utc_text(e.occurred_at),
            "eventTimeZoneOffset": "+00:00",
            "epcList": [record.url],
            "action": "ADD" if e.kind == domain.EventKind.SOURCING else "OBSERVE",
            "bizStep": step,
            "disposition": disposition,
            "prov:leafIndex": e.leaf_index,
            "prov:kind": e.kind,
        }
        if e.place:
            event["readPoint"] = {"id": f"{record.url}#place={html.escape(e.place)}"}
        if e.kind == domain.EventKind.AUTHENTICATION:
            event["prov:verdict"] = e.details.get("verdict")
            event["prov:reportDigest"] = e.details.get("reportDigest")
        events.append(event)
    created = max((e.occurred_at for e in record.events), default=None)
    return {
        "@context": [
            "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
            {"prov": f"{record.url.rsplit('/p/', 1)[0]}/ns/provenance#"},
        ],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": domain.utc_text(created) if created else None,
        "epcisBody": {"eventList": events},
    }


# --- HTML ---------------------------------------------------------------------------

_STYLE = """
body{font-family:-apple-system,"PingFang SC","Noto Sans CJK SC",sans-serif;margin:0;
background:#f6f4f0;color:#1d1d1f}
main{max-width:560px;margin:0 auto;padding:16px;overflow-wrap:anywhere}
h1{font-size:1.3rem;margin:.2rem 0}h2{font-size:1.05rem;margin:0 0 .4rem}
.card{background:#fff;border-radius:12px;padding:16px;margin:12px 0;
box-shadow:0 1px 3px rgba(0,0,0,.08)}
.verdict{font-size:1.4rem;font-weight:700;padding:12px;border-radius:10px;text-align:center}
.genuine{background:#e6f4ea;color:#1e6b34}.counterfeit{background:#fde7e9;color:#a4262c}
.pending{background:#eee;color:#555}
.warning{background:#fff4ce;color:#6b4f00;border-radius:10px;padding:12px;font-weight:600}
ol{padding-left:1.2rem}li{margin:.4rem 0}
small,.muted{color:#6e6e73}
pre{white-space:pre-wrap;word-break:break-all;font-size:.7rem;background:#f2f2f2;padding:8px;
border-radius:8px}
img{max-width:100%;border-radius:8px}
"""


def _e(value: object) -> str:
    return html.escape(str(value))


def _date(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d") if moment else ""


def render_page(record: service.PublicRecord) -> str:
    if record.verdict == domain.Verdict.GENUINE:
        verdict = '<div class="verdict genuine" id="verdict">✓ 正品 Authentic</div>'
    elif record.verdict == domain.Verdict.COUNTERFEIT:
        verdict = '<div class="verdict counterfeit" id="verdict">✗ 非正品 Not authentic</div>'
    else:
        verdict = '<div class="verdict pending" id="verdict">Not authenticated yet</div>'
    warning = ""
    if record.clone_warning:
        warning = (
            '<p class="warning" id="clone-warning">⚠ This code has been scanned in ways a '
            "single tag cannot be. The tag may have been copied: check the item with us.</p>"
        )
    authenticated = (
        f"<p>Authenticated on {_date(record.authenticated_at)}"
        f"<br><small>Report digest {_e(record.report_digest)}</small></p>"
        if record.authenticated_at
        else ""
    )
    maintenance = [e for e in record.events if e.kind == domain.EventKind.MAINTENANCE]
    maintenance_html = (
        "<ol>"
        + "".join(f"<li>{_date(e.occurred_at)}: {_e(e.summary)}</li>" for e in maintenance)
        + "</ol>"
        if maintenance
        else '<p class="muted">None recorded.</p>'
    )
    changes = record.ownership_changes
    ownership = (
        f"<p>{len(changes)} change(s) of owner"
        + (": " + ", ".join(_date(d) for d in changes) if changes else "")
        + "</p>"
    )
    history = "".join(
        f"<li>{_date(e.occurred_at)} · {_e(e.summary)} <small>(log entry {e.leaf_index})</small>"
        "</li>"
        for e in record.events
    )
    photo = f'<img src="{_e(record.photos[0])}" alt="">' if record.photos else ""
    checkpoint = _e(record.checkpoint or "")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{_e(record.brand)} {_e(record.model)} · provenance</title>
<style>{_STYLE}</style></head>
<body><main>
<p class="muted">Item {_e(record.public_id)}</p>
<h1>{_e(record.brand)} {_e(record.model)}</h1>
<p class="muted">{_e(record.category.title())} · status {_e(record.status.lower())}</p>
{warning}
<section class="card">{verdict}{authenticated}</section>
{photo}
<section class="card"><h2>Maintenance</h2>{maintenance_html}</section>
<section class="card"><h2>Ownership</h2>{ownership}</section>
<section class="card"><h2>History</h2><ol>{history}</ol></section>
<section class="card"><h2>Proof</h2>
<p>Every entry above is a leaf of a public, append-only transparency log
(RFC 6962). Its latest signed checkpoint:</p><pre>{checkpoint}</pre>
<p><small>Public key: {_e(record.verifier_key)} ·
<a href="?format=json">inclusion proofs (JSON)</a> ·
<a href="?format=epcis">EPCIS 2.0</a></small></p></section>
</main></body></html>
"""


def _not_found_page() -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>Unknown code</title><style>{_STYLE}</style></head>
<body><main><section class="card"><h1>We do not know this code</h1>
<p>No item we authenticated carries it. If it is printed on a tag, the tag may not be
ours: contact us before you buy.</p></section></main></body></html>
"""
