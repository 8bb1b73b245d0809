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
    hashes = await log.leaf_hashes(size)
    events = await CustodyEvent.filter(item_id=item.id, leaf_index__lt=size).order_by("leaf_index")
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
                "leaf": log.leaf_of(e, item.public_id).document(),
                "inclusionProof": log.b64(merkle.inclusion_proof(int(e.leaf_index), hashes)),
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
    The key must come from somewhere other than the bundle."""
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise BundleError("not a provenance bundle")
    try:
        verifier = note.Verifier.parse(verifier_key)
        text = note.open_note(str(bundle.get("checkpoint", "")), verifier)
        signed = note.Checkpoint.parse(text)
    except note.NoteError as exc:
        raise BundleError(f"checkpoint: {exc}") from exc
    item = bundle.get("item")
    events = bundle.get("events")
    if not isinstance(item, dict) or not isinstance(events, list) or not events:
        raise BundleError("the bundle names no item or holds no events")
    public_id = item.get("publicId")
    for n, entry in enumerate(events):
        leaf = entry.get("leaf") if isinstance(entry, dict) else None
        if not isinstance(leaf, dict) or leaf.get("item") != public_id:
            raise BundleError(f"event {n} is not about item {public_id}")
        index = leaf.get("index")
        if not isinstance(index, int):
            raise BundleError(f"event {n} has no leaf index")
        try:
            proof = [base64.b64decode(p, validate=True) for p in entry.get("inclusionProof", [])]
            hashed = merkle.leaf_hash(canonical(leaf))
        except (binascii.Error, TypeError, ValueError) as exc:
            raise BundleError(f"event {n}: {exc}") from exc
        if not merkle.verify_inclusion(index, signed.size, hashed, proof, signed.root):
            raise BundleError(f"event {n} (leaf {index}) is not in the log the checkpoint signs")
    return (
        f"OK: {len(events)} event(s) of item {public_id} are in the log {signed.origin} "
        f"of size {signed.size}, signed by {verifier.name}"
    )
