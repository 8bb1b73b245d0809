"""Operators' checks on the transparency log: the full audit, one item's evidence bundle."""

from __future__ import annotations

import json

from member_api.provenance import bundle, log, service
from member_api.services import Services


async def verify_log(services: Services) -> tuple[bool, str]:
    """Recompute the log from the database and check every signed checkpoint:
    (True, a summary) when all match, else (False, one line per finding)."""
    key = service.log_key(services)
    findings = await log.audit(key)
    if findings:
        return False, "\n".join(f"FAIL: {f.problem}" for f in findings)
    latest = await log.latest_checkpoint()
    size = latest.size if latest else 0
    return True, f"OK: {size} log entries match every signed checkpoint of {key.origin}"


async def export_bundle(services: Services, public_id: str) -> str:
    """The item's evidence bundle (events, proofs, checkpoint) as JSON text."""
    key = service.log_key(services)
    item = await service.item_by_public_id(public_id)
    return json.dumps(await bundle.export(key, item), ensure_ascii=False, indent=2)
