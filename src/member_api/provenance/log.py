"""The transparency log: appending leaves under one lock, a signed checkpoint per append,
proofs, and the audit that recomputes everything from the event rows."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from member_api import freshness
from member_api.db import create_once
from member_api.provenance import merkle, note
from member_api.provenance.domain import EventKind, Leaf, what_of
from member_api.provenance.models import Checkpoint, CustodyEvent, Item, LogHead, MerkleNode


@dataclass(frozen=True)
class LogKey:
    """Who signs the log: the origin line of its checkpoints and the Ed25519 key."""

    origin: str
    key: Ed25519PrivateKey

    @property
    def verifier_key(self) -> str:
        return note.verifier_key(self.origin, note.raw_public_key(self.key))

    @property
    def verifier(self) -> note.Verifier:
        return note.Verifier.parse(self.verifier_key)


def _push(frontier: list[bytes], sizes: list[int], leaf: bytes) -> list[tuple[int, bytes]]:
    """Add a leaf to the frontier; the perfect subtrees it completes, as (leaves, hash)."""
    frontier.append(leaf)
    sizes.append(1)
    completed = []
    while len(sizes) > 1 and sizes[-1] == sizes[-2]:
        right, left = frontier.pop(), frontier.pop()
        sizes.pop()
        sizes[-1] *= 2
        frontier.append(merkle.node_hash(left, right))
        completed.append((sizes[-1], frontier[-1]))
    return completed


def _node_key(leaves: int, last_leaf: int) -> tuple[int, int]:
    """(level, position) of the perfect subtree of `leaves` leaves ending at `last_leaf`."""
    return leaves.bit_length() - 1, (last_leaf + 1) // leaves - 1


def _sizes(size: int) -> list[int]:
    """The sizes of the perfect subtrees of a tree of `size` leaves, left to right."""
    return [1 << bit for bit in range(size.bit_length() - 1, -1, -1) if size >> bit & 1]


def _root(frontier: list[bytes]) -> bytes:
    if not frontier:
        return merkle.EMPTY_ROOT
    root = frontier[-1]
    for left in reversed(frontier[:-1]):
        root = merkle.node_hash(left, root)
    return root


async def append(
    log_key: LogKey,
    *,
    item: Item,
    kind: EventKind,
    occurred_at: datetime,
    place: str | None,
    actor: str,
    biz_step: str,
    disposition: str,
    details: dict[str, object],
    now: datetime,
) -> CustodyEvent:
    """Append one event and sign the new checkpoint. Call inside a transaction: the log
    head stays locked until it commits, so leaves get consecutive indexes."""
    await freshness.touch(freshness.PROVENANCE, freshness.item(item.public_id))
    await create_once(LogHead, id=1, size=0, frontier=[])  # the first append makes it
    head = await LogHead.select_for_update().get(id=1)
    before = await CustodyEvent.filter(item_id=item.id).order_by("-leaf_index").first()
    leaf = Leaf(
        index=head.size,
        item=item.public_id,
        what=what_of(item.brand, item.model, item.category),
        seq=before.item_seq + 1 if before else 1,
        previous=int(before.leaf_index) if before else None,
        kind=kind,
        occurred_at=occurred_at,
        place=place,
        actor=actor,
        biz_step=biz_step,
        disposition=disposition,
        details=dict(details),
    )
    hashed = merkle.leaf_hash(leaf.canonical())
    event = await CustodyEvent.create(
        leaf_index=leaf.index,
        item_id=item.id,
        kind=kind.value,
        item_seq=leaf.seq,
        previous_leaf=leaf.previous,
        occurred_at=occurred_at,
        place=place,
        actor=actor,
        biz_step=biz_step,
        disposition=disposition,
        details=leaf.details,
        leaf_hash=hashed.hex(),
        recorded_at=now,
    )
    frontier = [bytes.fromhex(h) for h in head.frontier]
    sizes = _sizes(head.size)
    completed = _push(frontier, sizes, hashed)
    if completed:
        await MerkleNode.bulk_create(
            [
                MerkleNode(level=level, position=position, hash=h.hex())
                for leaves, h in completed
                for level, position in [_node_key(leaves, leaf.index)]
            ]
        )
    size = head.size + 1
    root = _root(frontier)
    await LogHead.filter(id=1).update(size=size, frontier=[h.hex() for h in frontier])
    body = note.Checkpoint(log_key.origin, size, root).body()
    await Checkpoint.create(
        size=size,
        root_hash=root.hex(),
        note=note.sign(body, log_key.origin, log_key.key),
        created_at=now,
    )
    return event


async def latest_checkpoint() -> Checkpoint | None:
    return await Checkpoint.all().order_by("-size").first()


async def leaf_hashes(start: int, end: int) -> list[bytes]:
    rows = (
        await CustodyEvent.filter(leaf_index__gte=start, leaf_index__lt=end)
        .order_by("leaf_index")
        .values_list("leaf_hash", flat=True)
    )
    return [bytes.fromhex(str(h)) for h in rows]


async def _subtree_hashes(wanted: set[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """The hashes of perfect subtrees (level, position): leaves from the event rows, the
    rest from the stored nodes. A node missing there (the log is older than the nodes)
    is computed from its leaves once and kept."""
    found: dict[tuple[int, int], bytes] = {}
    leaves = [position for level, position in wanted if level == 0]
    if leaves:
        rows = await CustodyEvent.filter(leaf_index__in=leaves).values_list(
            "leaf_index", "leaf_hash"
        )
        found.update({(0, int(i)): bytes.fromhex(str(h)) for i, h in rows})
    by_level: dict[int, list[int]] = {}
    for level, position in wanted:
        if level > 0:
            by_level.setdefault(level, []).append(position)
    if by_level:
        query = Q(
            *[Q(level=level, position__in=ps) for level, ps in by_level.items()],
            join_type="OR",
        )
        rows = await MerkleNode.filter(query).values_list("level", "position", "hash")
        found.update({(int(lv), int(p)): bytes.fromhex(str(h)) for lv, p, h in rows})
    for level, position in sorted(wanted - found.keys()):
        count = 1 << level
        hashes = await leaf_hashes(position * count, (position + 1) * count)
        if len(hashes) != count:
            raise LookupError(f"the log has no subtree at level {level}, position {position}")
        found[(level, position)] = merkle.root(hashes)
        if level > 0:
            await create_once(
                MerkleNode, level=level, position=position, hash=found[(level, position)].hex()
            )
    return found


async def _proofs(ranges: dict[int, list[tuple[int, int]]]) -> dict[int, list[bytes]]:
    wanted = {piece for spans in ranges.values() for a, b in spans for piece in merkle.pieces(a, b)}
    nodes = await _subtree_hashes(wanted)
    return {
        key: [merkle.range_root(a, b, nodes) for a, b in spans] for key, spans in ranges.items()
    }


async def inclusion_proofs(leaf_indexes: list[int], size: int) -> dict[int, list[bytes]]:
    """PATH(i, D[size]) for each leaf index i, from O(log size) stored hashes each."""
    return await _proofs({i: merkle.inclusion_ranges(i, size) for i in leaf_indexes})


async def inclusion_proof(leaf_index: int, size: int) -> list[bytes]:
    return (await inclusion_proofs([leaf_index], size))[leaf_index]


async def consistency_proof(old_size: int, new_size: int) -> list[bytes]:
    return (await _proofs({0: merkle.consistency_ranges(old_size, new_size)}))[0]


def b64(values: list[bytes]) -> list[str]:
    return [base64.b64encode(v).decode() for v in values]


# --- the audit ----------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    leaf_index: int | None
    item: str | None
    problem: str


def leaf_of(event: CustodyEvent, item: Item) -> Leaf:
    return Leaf(
        index=int(event.leaf_index),
        item=item.public_id,
        what=what_of(item.brand, item.model, item.category),
        seq=int(event.item_seq),
        previous=int(event.previous_leaf) if event.previous_leaf is not None else None,
        kind=EventKind(event.kind),
        occurred_at=event.occurred_at,
        place=event.place,
        actor=event.actor,
        biz_step=event.biz_step,
        disposition=event.disposition,
        details=dict(event.details),
    )


async def audit(log_key: LogKey) -> list[Finding]:
    """Recompute the tree from the event rows and item rows, and hold it against every
    signed checkpoint. Finds rows changed, added, removed or reordered, stored hashes that
    no longer match, and forged checkpoints. Appends wait while it reads."""
    async with in_transaction():
        head = await LogHead.select_for_update().get_or_none(id=1)
        events = await CustodyEvent.all().order_by("leaf_index")
        checkpoints = await Checkpoint.all().order_by("size")
        stored = (
            await MerkleNode.all()
            .order_by("level", "position")
            .values_list("level", "position", "hash")
        )
    items = {i.id: i for i in await Item.filter(id__in={e.item_id for e in events})}
    findings: list[Finding] = []
    leaves: list[bytes] = []
    owners: list[str] = []
    for position, event in enumerate(events):
        if event.leaf_index != position:
            findings.append(
                Finding(
                    position,
                    None,
                    f"leaf {position} is missing (the next row is leaf {event.leaf_index})",
                )
            )
            return findings
        item = items.get(event.item_id)
        public_id = item.public_id if item else "?"
        hashed = merkle.leaf_hash(leaf_of(event, item).canonical()) if item else b""
        if event.leaf_hash != hashed.hex():
            findings.append(
                Finding(
                    position,
                    public_id,
                    f"leaf {position} (item {public_id}) no longer matches its stored hash",
                )
            )
        leaves.append(hashed)
        owners.append(public_id)
    size = int(head.size) if head else 0
    if len(leaves) != size or (checkpoints and int(checkpoints[-1].size) != size):
        signed_size = int(checkpoints[-1].size) if checkpoints else 0
        findings.append(
            Finding(
                None,
                owners[-1] if len(leaves) > size and owners else None,
                f"{len(leaves)} event rows, but the log head says {size} and the last "
                f"signed checkpoint {signed_size}",
            )
        )
    verifier = log_key.verifier
    roots: dict[int, bytes] = {}
    frontier: list[bytes] = []
    sizes: list[int] = []
    subtrees: dict[tuple[int, int], str] = {}
    for n, leaf in enumerate(leaves, start=1):
        for count, h in _push(frontier, sizes, leaf):
            subtrees[_node_key(count, n - 1)] = h.hex()
        roots[n] = _root(frontier)
    for level, position, h in stored:
        if subtrees.get((int(level), int(position))) != h:
            first = int(position) << int(level)
            last = first + (1 << int(level)) - 1
            findings.append(
                Finding(
                    None,
                    None,
                    f"the stored hash of leaves {first} to {last} no longer matches them",
                )
            )
    signed_as = {c.note.split("\n", 1)[0] for c in checkpoints}
    if checkpoints and log_key.origin not in signed_as:
        # Every checkpoint would fail its signature for the same reason: say it once.
        names = ", ".join(sorted(signed_as))
        findings.append(
            Finding(
                None,
                None,
                f"the checkpoints are signed as log {names}, but this server names its log "
                f"{log_key.origin} (from PROVENANCE_LOG_NAME, else PUBLIC_BASE_URL's host); "
                f"set PROVENANCE_LOG_NAME={sorted(signed_as)[0]} to check them",
            )
        )
        return findings
    for checkpoint in checkpoints:
        try:
            signed = note.Checkpoint.parse(note.open_note(checkpoint.note, verifier))
        except note.NoteError as exc:
            findings.append(Finding(None, None, f"checkpoint {checkpoint.size}: {exc}"))
            continue
        if signed.size > len(leaves):
            findings.append(
                Finding(
                    len(leaves),
                    None,
                    f"the signed checkpoint of size {signed.size} covers leaves that are "
                    f"no longer in the database ({len(leaves)} are)",
                )
            )
            continue
        if roots.get(signed.size) != signed.root:
            # A checkpoint is signed at every append, in order: the first one that
            # disagrees ends with the first leaf that changed.
            bad = signed.size - 1
            findings.append(
                Finding(
                    bad,
                    owners[bad],
                    f"leaf {bad} (item {owners[bad]}) differs from what the signed "
                    "checkpoint of its size committed to",
                )
            )
            return findings
    return findings
