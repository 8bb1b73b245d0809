"""Provenance use cases: items, custody events, scans, transfers, and what the public sees."""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from tortoise.transactions import in_transaction

from member_api import freshness
from member_api.error_codes import ProvenanceErrorCode
from member_api.errors import Conflict, Forbidden, InvalidInput, NotFound
from member_api.members.models import Member
from member_api.provenance import domain, log
from member_api.provenance.domain import EventKind, Verdict
from member_api.provenance.models import Checkpoint, CustodyEvent, Item, Scan, TransferCode
from member_api.services import Services
from member_api.text import is_digits

CATEGORIES = ("BAG", "WATCH", "JEWELLERY", "APPAREL", "SHOES", "ACCESSORY")


def log_key(services: Services) -> log.LogKey:
    settings = services.settings
    return log.LogKey(origin=settings.provenance_origin, key=settings.provenance_signing_key)


def public_url(services: Services, public_id: str) -> str:
    return f"{services.settings.public_base_url}/p/{public_id}"


def digital_link(item: Item, serial: str | None) -> str | None:
    """The GS1 Digital Link URI of the item, where its GTIN and serial are known."""
    if not item.gtin or not serial:
        return None
    return f"https://id.gs1.org/01/{item.gtin}/21/{quote(serial, safe='')}"


def serial_of(services: Services, item: Item) -> str | None:
    if not item.serial_encrypted:
        return None
    return services.protector.decrypt(item.serial_encrypted, context=f"serial:{item.id}")


def _pseudonym(services: Services, kind: str, value: str) -> str:
    digest = services.protector.blind_index(value, context=f"provenance-{kind}")
    return f"{kind}-{digest[:12]}"


def _text(value: str, *, limit: int, field: str) -> str:
    value = value.strip()
    if not value or len(value) > limit:
        raise InvalidInput(
            ProvenanceErrorCode.INVALID_TEXT, f"{field}: 1 to {limit} characters.", field=field
        )
    return value


def _gtin(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    digits = value.strip()
    if not is_digits(digits) or len(digits) not in (8, 12, 13, 14):
        raise InvalidInput(
            ProvenanceErrorCode.INVALID_GTIN, "A GTIN has 8, 12, 13 or 14 digits.", field="gtin"
        )
    body, check = digits[:-1].zfill(13), int(digits[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(body))
    if (10 - total % 10) % 10 != check:
        raise InvalidInput(
            ProvenanceErrorCode.INVALID_GTIN, "The GTIN's check digit is wrong.", field="gtin"
        )
    return digits.zfill(14)


async def register_item(
    services: Services,
    *,
    brand: str,
    model: str,
    category: str,
    photos: list[str],
    gtin: str | None = None,
    serial: str | None = None,
    owner_id: uuid.UUID | None = None,
) -> Item:
    if category not in CATEGORIES:
        raise InvalidInput(
            ProvenanceErrorCode.INVALID_CATEGORY,
            f"Category: one of {', '.join(CATEGORIES)}.",
            field="category",
        )
    if len(photos) > 9 or any(not p.startswith("https://") or len(p) > 500 for p in photos):
        raise InvalidInput(
            ProvenanceErrorCode.INVALID_PHOTOS,
            "Up to 9 photo links, each https://.",
            field="photos",
        )
    if owner_id is not None and not await Member.exists(id=owner_id):
        raise NotFound(ProvenanceErrorCode.UNKNOWN_MEMBER, "No member has that id.")
    item_id = uuid.uuid4()
    serial = serial.strip() if serial else None
    await freshness.touch(freshness.PROVENANCE)
    return await Item.create(
        id=item_id,
        public_id=domain.new_public_id(),
        brand=_text(brand, limit=80, field="brand"),
        model=_text(model, limit=120, field="model"),
        category=category,
        photos=photos,
        gtin=_gtin(gtin),
        serial_encrypted=(
            services.protector.encrypt(serial, context=f"serial:{item_id}") if serial else None
        ),
        owner_id=owner_id,
        created_at=services.clock.now(),
    )


async def item_by_public_id(public_id: str) -> Item:
    code = domain.public_id_of(public_id)
    item = await Item.get_or_none(public_id=code) if code else None
    if item is None:
        raise NotFound(ProvenanceErrorCode.UNKNOWN_ITEM, "No item has that code.")
    return item


async def record_event(
    services: Services,
    *,
    staff_id: uuid.UUID,
    item_public_id: str,
    kind: EventKind,
    occurred_at: datetime,
    place: str | None,
    details: dict[str, Any],
    new_owner_id: uuid.UUID | None = None,
) -> CustodyEvent:
    """Staff record what happened to an item; it is appended to the log for good."""
    if kind is EventKind.TRANSFER:
        raise InvalidInput(
            ProvenanceErrorCode.USE_TRANSFER_CODE,
            "Ownership moves by the owner's transfer code.",
            field="kind",
        )
    now = services.clock.now()
    if (
        occurred_at.tzinfo is None
        or occurred_at > now + timedelta(minutes=5)
        or occurred_at.year < 2000
    ):
        raise InvalidInput(
            ProvenanceErrorCode.INVALID_TIME,
            "Give when it happened, with a UTC offset, not in the future.",
            field="occurredAt",
        )
    clean = domain.clean_details(kind, details)
    place = place.strip()[:60] if place and place.strip() else None
    if new_owner_id is not None and not await Member.exists(id=new_owner_id):
        raise NotFound(ProvenanceErrorCode.UNKNOWN_MEMBER, "No member has that id.")
    item = await item_by_public_id(item_public_id)
    step, disposition = domain.vocabulary(kind, clean)
    async with in_transaction():
        # The item, then the log head: the order a transfer takes them in too.
        item = await Item.select_for_update().get(id=item.id)
        event = await log.append(
            log_key(services),
            item=item,
            kind=kind,
            occurred_at=occurred_at,
            place=place,
            actor=_pseudonym(services, "staff", str(staff_id)),
            biz_step=step,
            disposition=disposition,
            details=clean,
            now=now,
        )
        status = domain.STATUS_AFTER[kind]
        if kind is EventKind.AUTHENTICATION and clean["verdict"] == Verdict.COUNTERFEIT:
            status = "REJECTED"
        changes: dict[str, Any] = {"status": status} if status else {}
        if kind is EventKind.SALE:
            # Sold: the seller's hold ends, whether or not the buyer is a member.
            changes["owner_id"] = new_owner_id
        if changes:
            await Item.filter(id=item.id).update(**changes)
    return event


# --- transfers ----------------------------------------------------------------------


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


async def create_transfer_code(
    services: Services, *, member_id: uuid.UUID, item_public_id: str
) -> tuple[str, datetime]:
    """A one-time code the owner gives the buyer; it expires in 24 hours."""
    item = await item_by_public_id(item_public_id)
    if item.owner_id != member_id:
        raise Forbidden(ProvenanceErrorCode.NOT_THE_OWNER, "Only the item's owner can transfer it.")
    code = "T-" + secrets.token_hex(6).upper()
    now = services.clock.now()
    expires = now + timedelta(hours=24)
    await TransferCode.create(
        code_hash=_code_hash(code),
        item_id=item.id,
        from_member_id=member_id,
        expires_at=expires,
        created_at=now,
    )
    return code, expires


async def claim_transfer(services: Services, *, member_id: uuid.UUID, code: str) -> Item:
    now = services.clock.now()
    found = await TransferCode.get_or_none(code_hash=_code_hash(code))
    if found is None:
        raise NotFound(ProvenanceErrorCode.UNKNOWN_TRANSFER_CODE, "No transfer has that code.")
    if found.from_member_id == member_id:
        raise Forbidden(
            ProvenanceErrorCode.OWN_TRANSFER_CODE, "You cannot claim your own transfer."
        )
    if found.used_at is not None:
        raise Conflict(ProvenanceErrorCode.TRANSFER_CODE_USED, "This code has been used already.")
    if found.expires_at <= now:
        raise Conflict(
            ProvenanceErrorCode.TRANSFER_CODE_EXPIRED, "This code has expired; ask for a new one."
        )
    async with in_transaction():
        taken = await TransferCode.filter(id=found.id, used_at__isnull=True).update(
            used_at=now, used_by_id=member_id
        )
        if not taken:
            raise Conflict(
                ProvenanceErrorCode.TRANSFER_CODE_USED, "This code has been used already."
            )
        item = await Item.select_for_update().get(id=found.item_id)
        if item.owner_id != found.from_member_id:
            raise Conflict(
                ProvenanceErrorCode.OWNER_CHANGED, "The item has changed hands since this code."
            )
        transfers = await CustodyEvent.filter(item_id=item.id, kind=EventKind.TRANSFER).count()
        await log.append(
            log_key(services),
            item=item,
            kind=EventKind.TRANSFER,
            occurred_at=now,
            place=None,
            actor=_pseudonym(services, "owner", f"{item.id}:{member_id}"),
            biz_step=domain.vocabulary(EventKind.TRANSFER, {})[0],
            disposition=domain.vocabulary(EventKind.TRANSFER, {})[1],
            details={"transfer": transfers + 1},
            now=now,
        )
        await Item.filter(id=item.id).update(owner_id=member_id, status="OWNED")
        # The seller's other codes die with the change of hands.
        await TransferCode.filter(item_id=item.id, used_at__isnull=True).update(expires_at=now)
    return await Item.get(id=item.id)


# --- scans and the public record ----------------------------------------------------


def network_of(address: str | None) -> str | None:
    """The coarse network of a client address: /24 for IPv4, /48 for IPv6."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


async def record_scan(
    services: Services, item: Item, *, city: str | None, address: str | None
) -> None:
    """Keep a coarse place; the same place scanning again within 10 minutes adds nothing."""
    await _record_scan(services, item.id, item.public_id, city=city, address=address)


async def record_scan_of(
    services: Services, public_id: str, *, city: str | None, address: str | None
) -> bool:
    """`record_scan` by public id (no item, nothing recorded): True when the scan was
    new, so what the item's page says about clones may have changed."""
    found = await Item.filter(public_id=public_id).values_list("id", flat=True)
    if not found:
        return False
    return await _record_scan(services, found[0], public_id, city=city, address=address)


async def _record_scan(
    services: Services, item_id: Any, public_id: str, *, city: str | None, address: str | None
) -> bool:
    now = services.clock.now()
    known_city, network = domain.normal_city(city), network_of(address)
    recent = now - timedelta(minutes=10)
    if await Scan.exists(item_id=item_id, at__gte=recent, city=known_city, network=network):
        return False
    async with freshness.writing(services.cache) as writes:
        await writes.touch(freshness.item(public_id))
        await Scan.create(item_id=item_id, at=now, city=known_city, network=network)
    return True


async def clone_signs(services: Services, item: Item) -> list[str]:
    since = services.clock.now() - timedelta(days=7)
    scans = await Scan.filter(item_id=item.id, at__gte=since).order_by("at")
    seen = [domain.ScanSeen(s.at, s.city, s.network) for s in scans]
    return domain.clone_signs(seen, services.settings.clone_rules)


@dataclass
class PublicEvent:
    kind: str
    occurred_at: datetime
    summary: str
    leaf_index: int
    place: str | None
    details: dict[str, Any]
    proof: list[str] = field(default_factory=list)


@dataclass
class PublicRecord:
    """What anyone scanning the tag may see: never the owner, prices or the serial."""

    public_id: str
    url: str
    brand: str
    model: str
    category: str
    photos: list[str]
    status: str
    authentic: bool | None
    verdict: str | None
    authenticated_at: datetime | None
    report_digest: str | None
    events: list[PublicEvent]
    ownership_changes: list[datetime]
    clone_warning: bool
    clone_reasons: list[str]
    tree_size: int
    checkpoint: str | None
    verifier_key: str

    def as_json(self) -> dict[str, Any]:
        return {
            "publicId": self.public_id,
            "url": self.url,
            "brand": self.brand,
            "model": self.model,
            "category": self.category,
            "photos": self.photos,
            "status": self.status,
            "authentic": self.authentic,
            "authentication": (
                {
                    "verdict": self.verdict,
                    "authenticatedAt": domain.utc_text(self.authenticated_at),
                    "reportDigest": self.report_digest,
                }
                if self.authenticated_at
                else None
            ),
            "ownershipChanges": {
                "count": len(self.ownership_changes),
                "dates": [d.date().isoformat() for d in self.ownership_changes],
            },
            "cloneWarning": self.clone_warning,
            "events": [
                {
                    "kind": e.kind,
                    "occurredAt": domain.utc_text(e.occurred_at),
                    "summary": e.summary,
                    "leafIndex": e.leaf_index,
                    "inclusionProof": e.proof,
                }
                for e in self.events
            ],
            "treeSize": self.tree_size,
            "checkpoint": self.checkpoint,
            "verifierKey": self.verifier_key,
        }


def summary_of(kind: EventKind, place: str | None, details: dict[str, Any]) -> str:
    where = f" in {place}" if place else ""
    if kind is EventKind.AUTHENTICATION:
        word = "genuine" if details.get("verdict") == Verdict.GENUINE else "counterfeit"
        return f"Authenticated{where}: {word}"
    if kind is EventKind.MAINTENANCE:
        note = details.get("note")
        return f"Maintenance{where}" + (f": {note}" if note else "")
    if kind is EventKind.TRANSFER:
        return f"Ownership transfer #{details.get('transfer', '?')}"
    words = {
        EventKind.SOURCING: "Sourced",
        EventKind.CONSIGNMENT: "Consigned",
        EventKind.SALE: "Sold",
    }
    return f"{words[kind]}{where}"


async def public_record(services: Services, item: Item) -> PublicRecord:
    # Only what a signed checkpoint covers is shown, each event with its proof.
    checkpoint = await Checkpoint.all().order_by("-size").first()
    size = int(checkpoint.size) if checkpoint else 0
    events = await CustodyEvent.filter(item_id=item.id, leaf_index__lt=size).order_by("leaf_index")
    proofs = await log.inclusion_proofs([int(e.leaf_index) for e in events], size)
    public = [
        PublicEvent(
            kind=e.kind,
            occurred_at=e.occurred_at,
            summary=summary_of(EventKind(e.kind), e.place, dict(e.details)),
            leaf_index=int(e.leaf_index),
            place=e.place,
            details=dict(e.details),
            proof=log.b64(proofs[int(e.leaf_index)]),
        )
        for e in events
    ]
    authentications = [e for e in public if e.kind == EventKind.AUTHENTICATION]
    last = authentications[-1] if authentications else None
    reasons = await clone_signs(services, item)
    return PublicRecord(
        public_id=item.public_id,
        url=public_url(services, item.public_id),
        brand=item.brand,
        model=item.model,
        category=item.category,
        photos=list(item.photos),
        status=item.status,
        authentic=None if last is None else last.details.get("verdict") == Verdict.GENUINE,
        verdict=str(last.details["verdict"]) if last else None,
        authenticated_at=last.occurred_at if last else None,
        report_digest=str(last.details["reportDigest"]) if last else None,
        events=public,
        ownership_changes=[e.occurred_at for e in public if e.kind == EventKind.TRANSFER],
        clone_warning=bool(reasons),
        clone_reasons=reasons,
        tree_size=size,
        checkpoint=checkpoint.note if checkpoint else None,
        verifier_key=log_key(services).verifier_key,
    )


async def scan(
    services: Services, *, code: str, city: str | None, address: str | None
) -> PublicRecord | None:
    """Look up a scanned code, recording the scan; None for a code we never issued."""
    public_id = domain.public_id_of(code)
    item = await Item.get_or_none(public_id=public_id) if public_id else None
    if item is None:
        return None
    await record_scan(services, item, city=city, address=address)
    return await public_record(services, item)


# --- staff alerts -------------------------------------------------------------------


@dataclass(frozen=True)
class CloneAlert:
    item: Item
    reasons: list[str]
    scans: int


async def clone_alerts(services: Services) -> list[CloneAlert]:
    since = services.clock.now() - timedelta(days=7)
    item_ids = set(await Scan.filter(at__gte=since).values_list("item_id", flat=True))
    alerts = []
    for item in await Item.filter(id__in=item_ids).order_by("public_id"):
        reasons = await clone_signs(services, item)
        if reasons:
            count = await Scan.filter(item_id=item.id, at__gte=since).count()
            alerts.append(CloneAlert(item, reasons, count))
    return alerts
