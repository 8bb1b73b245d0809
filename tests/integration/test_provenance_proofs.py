"""Proofs come from the subtree hashes each append stores, not from a read of every
leaf; a log older than those hashes still proves, and fills them in as it goes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tortoise.transactions import in_transaction

from member_api.provenance import domain, log, merkle
from member_api.provenance.domain import EventKind
from member_api.provenance.models import CustodyEvent, Item, MerkleNode

SIZE = 100
NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


async def _log_of(size: int) -> tuple[list[bytes], bytes]:
    key = log.LogKey("member-api.example/log", Ed25519PrivateKey.generate())
    item = await Item.create(
        public_id="PX7Q2M9K4R", brand="Hermès", model="Kelly 28", category="BAG", created_at=NOW
    )
    step, disposition = domain.vocabulary(EventKind.MAINTENANCE, {})
    for n in range(size):
        async with in_transaction():
            await log.append(
                key,
                item=item,
                kind=EventKind.MAINTENANCE,
                occurred_at=NOW,
                place=None,
                actor="staff:test",
                biz_step=step,
                disposition=disposition,
                details={"note": f"care {n}"},
                now=NOW,
            )
    rows = await CustodyEvent.all().order_by("leaf_index").values_list("leaf_hash", flat=True)
    checkpoint = await log.latest_checkpoint()
    assert checkpoint is not None
    assert checkpoint.size == size
    return [bytes.fromhex(str(h)) for h in rows], bytes.fromhex(checkpoint.root_hash)


def _no_leaf_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    async def refuse(start: int, end: int) -> Any:
        raise AssertionError(f"read leaves {start} to {end}")

    monkeypatch.setattr(log, "leaf_hashes", refuse)


async def test_proofs_read_stored_subtrees_not_every_leaf(
    orm: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    leaves, root = await _log_of(SIZE)
    # One node for each perfect subtree above the leaves: n minus the ones in n's bits.
    assert await MerkleNode.all().count() == SIZE - bin(SIZE).count("1")
    _no_leaf_scan(monkeypatch)
    proofs = await log.inclusion_proofs(list(range(SIZE)), SIZE)
    for index in range(SIZE):
        assert proofs[index] == merkle.inclusion_proof(index, leaves)
        assert merkle.verify_inclusion(index, SIZE, leaves[index], proofs[index], root)
    older = merkle.root(leaves[:37])
    assert await log.inclusion_proof(5, 37) == merkle.inclusion_proof(5, leaves[:37])
    for old in (1, 37, 64, SIZE - 1, SIZE):
        proof = await log.consistency_proof(old, SIZE)
        assert proof == merkle.consistency_proof(old, leaves)
    assert merkle.verify_consistency(37, SIZE, older, root, await log.consistency_proof(37, SIZE))


async def test_a_log_without_stored_subtrees_still_proves_and_fills_them_in(
    orm: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    leaves, root = await _log_of(SIZE)
    await MerkleNode.all().delete()
    proof = await log.inclusion_proof(41, SIZE)
    assert proof == merkle.inclusion_proof(41, leaves)
    assert merkle.verify_inclusion(41, SIZE, leaves[41], proof, root)
    assert await MerkleNode.all().count() > 0
    _no_leaf_scan(monkeypatch)  # the second time, from what the first one kept
    assert await log.inclusion_proof(41, SIZE) == proof
