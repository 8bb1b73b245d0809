"""Provenance rules: event kinds and their EPCIS/CBV vocabulary, the canonical leaf,
public codes, and the signs of a cloned tag."""

from __future__ import annotations

import itertools
import math
import re
import secrets
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import rfc8785

from member_api.error_codes import ProvenanceErrorCode
from member_api.errors import InvalidInput
from member_api.staff.domain import StaffRole

CBV = "https://ref.gs1.org/cbv/"


class EventKind(StrEnum):
    SOURCING = "SOURCING"
    AUTHENTICATION = "AUTHENTICATION"
    CONSIGNMENT = "CONSIGNMENT"
    SALE = "SALE"
    MAINTENANCE = "MAINTENANCE"
    TRANSFER = "TRANSFER"


class Verdict(StrEnum):
    GENUINE = "GENUINE"
    COUNTERFEIT = "COUNTERFEIT"


# What each kind is in the CBV's words (bizStep, disposition). Ownership transfer has
# no business step of its own in the CBV: "other", with the item still active.
_VOCABULARY: dict[EventKind, tuple[str, str]] = {
    EventKind.SOURCING: ("commissioning", "active"),
    EventKind.AUTHENTICATION: ("inspecting", "conformant"),
    EventKind.CONSIGNMENT: ("consigning", "sellable_accessible"),
    EventKind.SALE: ("retail_selling", "retail_sold"),
    EventKind.MAINTENANCE: ("repairing", "active"),
    EventKind.TRANSFER: ("other", "active"),
}
# Who records what: authenticators what they examine, operators the rest.
RECORDED_BY: dict[EventKind, StaffRole] = {
    EventKind.SOURCING: StaffRole.OPERATOR,
    EventKind.AUTHENTICATION: StaffRole.AUTHENTICATOR,
    EventKind.CONSIGNMENT: StaffRole.OPERATOR,
    EventKind.SALE: StaffRole.OPERATOR,
    EventKind.MAINTENANCE: StaffRole.AUTHENTICATOR,
    EventKind.TRANSFER: StaffRole.OPERATOR,  # refused anyway: transfers take the owner's code
}
REGISTERED_BY = (StaffRole.OPERATOR, StaffRole.AUTHENTICATOR)
STATUS_AFTER = {
    EventKind.SOURCING: "SOURCED",
    EventKind.AUTHENTICATION: "AUTHENTICATED",
    EventKind.CONSIGNMENT: "CONSIGNED",
    EventKind.SALE: "SOLD",
    EventKind.MAINTENANCE: None,
    EventKind.TRANSFER: None,
}
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")  # fullmatch: `$` would allow a final newline


def vocabulary(kind: EventKind, details: dict[str, Any]) -> tuple[str, str]:
    step, disposition = _VOCABULARY[kind]
    if kind is EventKind.AUTHENTICATION and details.get("verdict") == Verdict.COUNTERFEIT:
        disposition = "non_conformant"
    return step, disposition


def clean_details(kind: EventKind, details: dict[str, Any]) -> dict[str, Any]:
    """Only what the public may read: a verdict and a report digest, a work note."""
    if kind is EventKind.AUTHENTICATION:
        verdict = details.get("verdict")
        digest = details.get("reportDigest")
        if not isinstance(verdict, str) or verdict not in {v.value for v in Verdict}:
            raise InvalidInput(
                ProvenanceErrorCode.INVALID_VERDICT, "Give GENUINE or COUNTERFEIT.", field="verdict"
            )
        if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
            raise InvalidInput(
                ProvenanceErrorCode.INVALID_REPORT_DIGEST,
                "Give the report's digest as sha256:<64 hex digits>.",
                field="reportDigest",
            )
        return {"verdict": verdict, "reportDigest": digest}
    note = details.get("note")
    if note is None:
        return {}
    if not isinstance(note, str) or len(note.strip()) > 300:
        raise InvalidInput(
            ProvenanceErrorCode.INVALID_NOTE, "A note holds at most 300 characters.", field="note"
        )
    return {"note": note.strip()} if note.strip() else {}


@dataclass(frozen=True)
class Leaf:
    """The content of one log entry; its RFC 8785 bytes are what the tree hashes."""

    index: int
    item: str
    what: dict[str, str]
    seq: int
    previous: int | None
    kind: EventKind
    occurred_at: datetime
    place: str | None
    actor: str
    biz_step: str
    disposition: str
    details: dict[str, Any]

    def document(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "item": self.item,
            "what": self.what,
            "seq": self.seq,
            "previous": self.previous,
            "kind": self.kind.value,
            "eventTime": utc_text(self.occurred_at),
            "place": self.place,
            "actor": self.actor,
            "bizStep": self.biz_step,
            "disposition": self.disposition,
            "details": self.details,
        }

    def canonical(self) -> bytes:
        return canonical(self.document())


def canonical(document: dict[str, Any]) -> bytes:
    return bytes(rfc8785.dumps(document))


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(".000000Z", "Z")


_PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_LEADING = string.ascii_letters + string.digits


def new_public_id() -> str:
    """16 URL-safe characters (about 96 random bits) that begin with a letter or digit, so the id
    reads as an argument, never as an option, wherever it is typed."""
    return secrets.choice(_LEADING) + secrets.token_urlsafe(12)[1:]


def public_id_of(code: str) -> str | None:
    """A scanned code is the public id, or the URL printed in the QR code; None when it
    cannot be one of ours."""
    code = code.strip()
    if "/" in code:
        try:
            path = urlsplit(code).path.rstrip("/")
        except ValueError:
            return None
        code = path.rsplit("/", 1)[-1]
    return code if _PUBLIC_ID.fullmatch(code) else None


def what_of(brand: str, model: str, category: str) -> dict[str, str]:
    return {"brand": brand, "model": model, "category": category}


# --- cloned tags --------------------------------------------------------------------

# Rough centres (latitude, longitude) of cities where members scan most.
CITY_CENTRES: dict[str, tuple[float, float]] = {
    "beijing": (39.90, 116.41),
    "shanghai": (31.23, 121.47),
    "guangzhou": (23.13, 113.26),
    "shenzhen": (22.54, 114.06),
    "hangzhou": (30.27, 120.16),
    "chengdu": (30.57, 104.07),
    "chongqing": (29.56, 106.55),
    "wuhan": (30.59, 114.31),
    "nanjing": (32.06, 118.80),
    "xian": (34.34, 108.94),
    "hong kong": (22.32, 114.17),
    "macau": (22.20, 113.55),
    "taipei": (25.03, 121.57),
    "tokyo": (35.68, 139.69),
    "seoul": (37.57, 126.98),
    "singapore": (1.35, 103.82),
    "paris": (48.86, 2.35),
    "london": (51.51, -0.13),
    "new york": (40.71, -74.01),
}
CITY_ALIASES = {
    "北京": "beijing",
    "上海": "shanghai",
    "广州": "guangzhou",
    "深圳": "shenzhen",
    "杭州": "hangzhou",
    "成都": "chengdu",
    "重庆": "chongqing",
    "武汉": "wuhan",
    "南京": "nanjing",
    "西安": "xian",
    "香港": "hong kong",
    "澳门": "macau",
}


def normal_city(city: str | None) -> str | None:
    """A city we know, in our spelling; None otherwise (so made-up names count for nothing)."""
    if city is None or not city.strip():
        return None
    name = city.strip().lower()[:60]
    name = CITY_ALIASES.get(name, name)
    return name if name in CITY_CENTRES else None


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


@dataclass(frozen=True)
class ScanSeen:
    at: datetime
    city: str | None
    network: str | None


@dataclass(frozen=True)
class CloneRules:
    max_places_per_day: int = 3
    max_speed_kmh: float = 800.0


def clone_signs(scans: list[ScanSeen], rules: CloneRules) -> list[str]:
    """Why the scans look like more than one tag: too many places in 24 hours, or a
    journey between two scans faster than a plane. Empty when nothing is odd."""
    reasons: list[str] = []
    ordered = sorted(scans, key=lambda s: s.at)
    for i, first in enumerate(ordered):
        window = [s for s in ordered[i:] if s.at - first.at <= timedelta(hours=24)]
        # A place is a city; scans that name none count by network among themselves.
        cities = {s.city for s in window if s.city}
        networks = {s.network for s in window if not s.city and s.network}
        places = max(len(cities), len(networks))
        if places > rules.max_places_per_day:
            reasons.append(f"scanned in {places} places within 24 hours")
            break
    located = [s for s in ordered if s.city in CITY_CENTRES]
    for before, after in itertools.pairwise(located):
        if before.city == after.city:
            continue
        km = distance_km(CITY_CENTRES[before.city or ""], CITY_CENTRES[after.city or ""])
        hours = max((after.at - before.at).total_seconds() / 3600, 1 / 3600)
        if km / hours > rules.max_speed_kmh:
            reasons.append(
                f"{before.city} to {after.city} ({km:,.0f} km) in {hours:.1f} h "
                f"would be faster than {rules.max_speed_kmh:,.0f} km/h"
            )
            break
    return reasons
