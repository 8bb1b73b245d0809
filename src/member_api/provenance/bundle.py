"""Offline evidence: a bundle of one item's events with inclusion proofs and the signed
checkpoint, checked with nothing but the bundle and the log's public key."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from member_api.provenance import log, merkle, note
from member_api.provenance.domain import canonical
from member_api.provenance.models import Checkpoint, CustodyEvent, Item

FORMAT = "member-api/provenance-bundle/v1"


async def export(log_key: log.LogKey, item: Item) -> dict[str, Any]:
    latest = await Checkpoint.all().order_by("-size").first()
    if latest is None:
        raise ValueError("the log is empty")
    size = int(latest.size)
    events = await CustodyEvent.filter(item_id=item.id, leaf_index__lt=size).order_by("leaf_index")
    proofs = await log.inclusion_proofs([int(e.leaf_index) for e in events], size)
    return {
        "format": FORMAT,
        "item": {
            "publicId": item.public_id,
            "brand": item.brand,
            "model": item.model,
            "category": item.category,
        },
        "events": [
            {
                "leaf": log.leaf_of(e, item).document(),
                "inclusionProof": log.b64(proofs[int(e.leaf_index)]),
            }
            for e in events
        ],
        "checkpoint": latest.note,
        "verifierKey": log_key.verifier_key,
    }


class BundleError(ValueError):
    pass


def verify(bundle: Any, verifier_key: str) -> str:
    """A one-line account of what the bundle proves; BundleError when it proves nothing.
    The key must come from somewhere other than the bundle.

    It proves that the item's first N events, in order and without gaps (each leaf names
    its predecessor), are in the log as of the signed checkpoint. It cannot prove that
    nothing was added after that checkpoint: ask the log for a newer one."""
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise BundleError("not a provenance bundle")
    try:
        verifier = note.Verifier.parse(verifier_key)
        signed = note.Checkpoint.parse(note.open_note(str(bundle.get("checkpoint", "")), verifier))
    except note.NoteError as exc:
        raise BundleError(f"checkpoint: {exc}") from exc
    if signed.origin != verifier.name:
        raise BundleError(f"the checkpoint is of log {signed.origin}, not {verifier.name}")
    item = bundle.get("item")
    events = bundle.get("events")
    if not isinstance(item, dict) or not isinstance(events, list) or not events:
        raise BundleError("the bundle names no item or holds no events")
    public_id = item.get("publicId")
    what = {k: item.get(k) for k in ("brand", "model", "category")}
    previous: int | None = None
    for n, entry in enumerate(events):
        leaf = entry.get("leaf") if isinstance(entry, dict) else None
        if not isinstance(leaf, dict) or leaf.get("item") != public_id:
            raise BundleError(f"event {n} is not about item {public_id}")
        if leaf.get("what") != what:
            raise BundleError(f"event {n} describes the item otherwise than the bundle does")
        index = leaf.get("index")
        if not isinstance(index, int) or isinstance(index, bool):
            raise BundleError(f"event {n} has no leaf index")
        if leaf.get("seq") != n + 1 or leaf.get("previous") != previous:
            raise BundleError(
                f"event {n} is not the item's event {n + 1} following leaf {previous}: "
                "events are missing, repeated or out of order"
            )
        try:
            proof = [base64.b64decode(p, validate=True) for p in entry.get("inclusionProof", [])]
            hashed = merkle.leaf_hash(canonical(leaf))
        except (binascii.Error, TypeError, ValueError) as exc:
            raise BundleError(f"event {n}: {exc}") from exc
        if not merkle.verify_inclusion(index, signed.size, hashed, proof, signed.root):
            raise BundleError(f"event {n} (leaf {index}) is not in the log the checkpoint signs")
        previous = index
    return (
        f"OK: the first {len(events)} event(s) of item {public_id} "
        f"({what['brand']} {what['model']}) are in log {signed.origin} as of its signed "
        f"checkpoint of size {signed.size}"
    )
