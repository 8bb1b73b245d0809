"""Commerce events as the other systems send them: signature, shape and meaning."""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from member_api.clock import BUSINESS_ZONE
from member_api.error_codes import CommerceErrorCode
from member_api.errors import InvalidInput, NotAuthenticated
from member_api.signatures import sign as sign  # the scheme, shared with the outbox
from member_api.text import is_digits

SIGNATURE_TOLERANCE_SECONDS = 300
MAX_AMOUNT_FEN = 10**12  # ten billion yuan
EARLIEST_EVENT = datetime(2000, 1, 1, tzinfo=UTC)
MAX_ID_LENGTH = 128


class EventType(StrEnum):
    ORDER_PAID = "order.paid"
    ORDER_REFUNDED = "order.refunded"
    CONSIGNMENT_COMPLETED = "consignment.completed"
    AUTHENTICATION_COMPLETED = "authentication.completed"
    # What members look at and keep, reported by the shop: one favourite, or a day's
    # views of one item in a batch.
    ITEM_FAVOURITED = "item.favourited"
    ITEM_VIEWED = "item.viewed"


INTERACTIONS = {EventType.ITEM_FAVOURITED, EventType.ITEM_VIEWED}
MAX_LINES = 100
MAX_NAME_LENGTH = 80
MAX_VIEWS = 10_000


# Which reference each type must carry, and whether it carries an amount.
_NEEDS_ORDER = {EventType.ORDER_PAID, EventType.ORDER_REFUNDED}
_NEEDS_AMOUNT = {EventType.ORDER_PAID, EventType.ORDER_REFUNDED, EventType.CONSIGNMENT_COMPLETED}


@dataclass(frozen=True)
class CommerceEventIn:
    event_id: str
    type: EventType
    occurred_at: datetime
    member_id: uuid.UUID
    amount_fen: int | None
    order_id: str | None = None
    consignment_id: str | None = None
    item_public_id: str | None = None
    # order.paid: what the order held, when the shop says (older events carry none).
    lines: tuple[OrderLine, ...] = ()
    # item.favourited and item.viewed.
    interaction: Interaction | None = None


@dataclass(frozen=True)
class OrderLine:
    brand: str
    category: str
    amount_fen: int


@dataclass(frozen=True)
class Interaction:
    item_id: str
    brand: str
    category: str
    count: int
    day: date


def _name(value: object, field: str) -> str:
    """A brand or category: trimmed text, compared without regard to case."""
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > MAX_NAME_LENGTH:
        raise InvalidInput(
            CommerceErrorCode.INVALID_FIELD,
            f"{field} must be a string of 1..{MAX_NAME_LENGTH} characters.",
            field=field,
        )
    return " ".join(value.split())


def _lines(value: object, amount_fen: int | None) -> tuple[OrderLine, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_LINES:
        raise InvalidInput(
            CommerceErrorCode.INVALID_LINES,
            f"lines must be a list of 1..{MAX_LINES} lines.",
            field="lines",
        )
    lines = []
    for n, raw in enumerate(value):
        where = f"lines[{n}]"
        if not isinstance(raw, dict):
            raise InvalidInput(
                CommerceErrorCode.INVALID_LINES, f"{where} must be an object.", field=where
            )
        amount = raw.get("amountFen")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise InvalidInput(
                CommerceErrorCode.INVALID_LINES,
                f"{where}.amountFen must be a positive integer.",
                field=f"{where}.amountFen",
            )
        lines.append(
            OrderLine(
                brand=_name(raw.get("brand"), f"{where}.brand"),
                category=_name(raw.get("category"), f"{where}.category"),
                amount_fen=amount,
            )
        )
    if amount_fen is not None and sum(line.amount_fen for line in lines) > amount_fen:
        raise InvalidInput(
            CommerceErrorCode.INVALID_LINES,
            "The lines add up to more than the order's amountFen.",
            field="lines",
        )
    return tuple(lines)


def _interaction(payload: dict[str, Any], event_type: EventType, occurred: datetime) -> Interaction:
    item_id = _required(payload, "itemId")
    count = 1
    day = occurred.astimezone(BUSINESS_ZONE).date()
    if event_type is EventType.ITEM_VIEWED:
        raw_count = payload.get("count")
        if isinstance(raw_count, bool) or not isinstance(raw_count, int):
            raise InvalidInput(
                CommerceErrorCode.INVALID_FIELD, "count must be an integer.", field="count"
            )
        if not 1 <= raw_count <= MAX_VIEWS:
            raise InvalidInput(
                CommerceErrorCode.INVALID_FIELD,
                f"count must be 1 to {MAX_VIEWS} views.",
                field="count",
            )
        count = raw_count
        raw_day = payload.get("day")
        try:
            day = date.fromisoformat(str(raw_day))
        except ValueError as exc:
            raise InvalidInput(
                CommerceErrorCode.INVALID_FIELD, "day must be a date (2026-11-30).", field="day"
            ) from exc
        if raw_day is None or day > occurred.astimezone(BUSINESS_ZONE).date():
            raise InvalidInput(
                CommerceErrorCode.INVALID_FIELD,
                "day is the business day of the views, at most that of occurredAt.",
                field="day",
            )
    return Interaction(
        item_id=item_id,
        brand=_name(payload.get("brand"), "brand"),
        category=_name(payload.get("category"), "category"),
        count=count,
        day=day,
    )


def _required(payload: dict[str, Any], name: str) -> str:
    value = _text(payload, name, required=True)
    if value is None:  # _text refuses a missing required field already
        raise InvalidInput(CommerceErrorCode.MISSING_FIELD, f"{name} is required.", field=name)
    return value


def verify_signature(
    *, secret: str, timestamp: str | None, signature: str | None, body: bytes, now: datetime
) -> None:
    """Refuse a request that is unsigned, signed with another secret, or replayed late."""
    if not secret:
        raise NotAuthenticated(
            CommerceErrorCode.WEBHOOK_DISABLED, "The commerce webhook has no secret set."
        )
    if not timestamp or not signature:
        raise NotAuthenticated(
            CommerceErrorCode.SIGNATURE_MISSING, "Signature headers are missing."
        )
    if not is_digits(timestamp) or len(timestamp) > 12:
        raise NotAuthenticated(
            CommerceErrorCode.BAD_TIMESTAMP, "The timestamp is not unix seconds."
        )
    sent = int(timestamp)
    if abs(now.timestamp() - sent) > SIGNATURE_TOLERANCE_SECONDS:
        raise NotAuthenticated(
            CommerceErrorCode.STALE_TIMESTAMP, "The timestamp is more than 300 s off."
        )
    given = signature.strip().encode("utf-8", "surrogateescape")
    if not hmac.compare_digest(sign(secret, timestamp, body).encode(), given):
        raise NotAuthenticated(CommerceErrorCode.BAD_SIGNATURE, "The signature does not match.")


def _text(payload: dict[str, Any], name: str, *, required: bool) -> str | None:
    value = payload.get(name)
    if value is None:
        if required:
            raise InvalidInput(CommerceErrorCode.MISSING_FIELD, f"{name} is required.", field=name)
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_ID_LENGTH:
        raise InvalidInput(
            CommerceErrorCode.INVALID_FIELD,
            f"{name} must be a string of 1..{MAX_ID_LENGTH} characters.",
            field=name,
        )
    return value.strip()


def _occurred_at(value: object, now: datetime) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError as exc:
            raise InvalidInput(
                CommerceErrorCode.INVALID_TIMESTAMP,
                "occurredAt must be ISO-8601.",
                field="occurredAt",
            ) from exc
    else:
        raise InvalidInput(
            CommerceErrorCode.MISSING_FIELD, "occurredAt is required.", field="occurredAt"
        )
    if moment.tzinfo is None:
        raise InvalidInput(
            CommerceErrorCode.INVALID_TIMESTAMP,
            "occurredAt needs a UTC offset.",
            field="occurredAt",
        )
    if not EARLIEST_EVENT <= moment <= now + timedelta(days=1):
        raise InvalidInput(
            CommerceErrorCode.INVALID_TIMESTAMP,
            "occurredAt is not a plausible time.",
            field="occurredAt",
        )
    return moment


def _member_id(value: object) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise InvalidInput(
            CommerceErrorCode.UNKNOWN_MEMBER, "No member has that id.", field="memberId"
        ) from exc


def _amount(value: object, event_type: EventType) -> int | None:
    if value is None and event_type not in _NEEDS_AMOUNT:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(
            CommerceErrorCode.INVALID_AMOUNT, "amountFen must be an integer.", field="amountFen"
        )
    if value <= 0 or value > MAX_AMOUNT_FEN:
        raise InvalidInput(
            CommerceErrorCode.INVALID_AMOUNT,
            f"amountFen must be 1 to {MAX_AMOUNT_FEN}.",
            field="amountFen",
        )
    return value


def parse_event(payload: object, *, now: datetime) -> CommerceEventIn:
    """Check an event's shape; anything wrong is a typed error and nothing is applied.
    `now` bounds `occurredAt`: an event cannot come from more than a day ahead."""
    if not isinstance(payload, dict):
        raise InvalidInput(CommerceErrorCode.MALFORMED_EVENT, "The event must be a JSON object.")
    raw_type = payload.get("type")
    try:
        event_type = EventType(str(raw_type))
    except ValueError as exc:
        raise InvalidInput(
            CommerceErrorCode.UNKNOWN_EVENT_TYPE, f"Unknown event type {raw_type!r}.", field="type"
        ) from exc
    event_id = _required(payload, "eventId")
    amount = _amount(payload.get("amountFen"), event_type)
    occurred_at = _occurred_at(payload.get("occurredAt"), now)
    if "lines" in payload and event_type is not EventType.ORDER_PAID:
        raise InvalidInput(
            CommerceErrorCode.INVALID_LINES, "Only an order.paid event has lines.", field="lines"
        )
    return CommerceEventIn(
        event_id=event_id,
        type=event_type,
        occurred_at=occurred_at,
        member_id=_member_id(payload.get("memberId")),
        amount_fen=amount,
        order_id=_text(payload, "orderId", required=event_type in _NEEDS_ORDER),
        consignment_id=_text(
            payload, "consignmentId", required=event_type is EventType.CONSIGNMENT_COMPLETED
        ),
        item_public_id=_text(payload, "itemPublicId", required=False),
        lines=_lines(payload.get("lines"), amount),
        interaction=(
            _interaction(payload, event_type, occurred_at) if event_type in INTERACTIONS else None
        ),
    )
