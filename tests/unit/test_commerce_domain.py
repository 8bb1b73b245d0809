"""Commerce events: the webhook signature, and the shape and meaning of each event."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from member_api.commerce.domain import (
    EARLIEST_EVENT,
    MAX_AMOUNT_FEN,
    MAX_ID_LENGTH,
    SIGNATURE_TOLERANCE_SECONDS,
    EventType,
    Interaction,
    OrderLine,
    parse_event,
    sign,
    verify_signature,
)
from member_api.errors import InvalidInput, NotAuthenticated

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
SECRET = "webhook-secret"
BODY = b'{"type":"order.paid"}'
MEMBER = uuid.UUID("0b6f3a4e-5c1d-4e8f-9a2b-3c4d5e6f7a8b")
SHANGHAI = ZoneInfo("Asia/Shanghai")


# --- Signature --------------------------------------------------------------------------


def _verify(
    *,
    secret: str = SECRET,
    timestamp: str | None = None,
    signature: str | None = None,
    body: bytes = BODY,
    now: datetime = NOW,
) -> None:
    timestamp = str(int(NOW.timestamp())) if timestamp is None else timestamp
    signature = sign(SECRET, timestamp, BODY) if signature is None else signature
    verify_signature(secret=secret, timestamp=timestamp, signature=signature, body=body, now=now)


def _refused_signature(**values: Any) -> str:
    with pytest.raises(NotAuthenticated) as caught:
        _verify(**values)
    return caught.value.code


def test_the_signature_is_an_hmac_sha256_over_timestamp_dot_body() -> None:
    expected = hmac.new(b"key", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert sign("key", "1700000000", b"{}") == f"sha256={expected}"
    assert sign("key", "1", b"x") != sign("other", "1", b"x")


def test_a_correctly_signed_fresh_request_is_accepted() -> None:
    _verify()
    _verify(signature=f"  {sign(SECRET, str(int(NOW.timestamp())), BODY)}\n")


@pytest.mark.parametrize("offset", [-SIGNATURE_TOLERANCE_SECONDS, SIGNATURE_TOLERANCE_SECONDS])
def test_a_timestamp_exactly_300_seconds_off_is_accepted(offset: int) -> None:
    _verify(now=NOW + timedelta(seconds=offset))


@pytest.mark.parametrize("offset", [-301, 301])
def test_a_timestamp_more_than_300_seconds_off_is_refused(offset: int) -> None:
    assert _refused_signature(now=NOW + timedelta(seconds=offset)) == "STALE_TIMESTAMP"


def test_without_a_secret_the_webhook_is_disabled() -> None:
    assert _refused_signature(secret="") == "WEBHOOK_DISABLED"


@pytest.mark.parametrize(("timestamp", "signature"), [("", "sha256=x"), ("1", "")])
def test_missing_signature_headers_are_refused(timestamp: str, signature: str) -> None:
    assert _refused_signature(timestamp=timestamp, signature=signature) == "SIGNATURE_MISSING"


def test_absent_signature_headers_are_refused() -> None:
    with pytest.raises(NotAuthenticated) as caught:
        verify_signature(secret=SECRET, timestamp=None, signature=None, body=BODY, now=NOW)
    assert caught.value.code == "SIGNATURE_MISSING"


@pytest.mark.parametrize("timestamp", ["yesterday", "1.7e9", "0x10", "12 34"])
def test_a_timestamp_that_is_not_unix_seconds_is_refused(timestamp: str) -> None:
    assert _refused_signature(timestamp=timestamp) == "BAD_TIMESTAMP"


@pytest.mark.parametrize(
    "values",
    [
        {"secret": "another-secret"},
        {"body": BODY + b" "},
        {"signature": "sha256=" + "0" * 64},
        {"signature": sign(SECRET, str(int(NOW.timestamp())), BODY).removeprefix("sha256=")},
        {"signature": sign(SECRET, str(int(NOW.timestamp())), BODY).upper()},
    ],
)
def test_a_signature_that_does_not_match_is_refused(values: dict[str, Any]) -> None:
    assert _refused_signature(**values) == "BAD_SIGNATURE"


def test_a_replayed_signature_with_a_new_timestamp_is_refused() -> None:
    old = str(int(NOW.timestamp()) - 3600)
    fresh = str(int(NOW.timestamp()))
    assert _refused_signature(timestamp=fresh, signature=sign(SECRET, old, BODY)) == (
        "BAD_SIGNATURE"
    )


def test_an_absurdly_large_timestamp_is_refused_typed() -> None:
    assert _refused_signature(timestamp="1" + "0" * 400) == "BAD_TIMESTAMP"


def test_a_signature_with_non_ascii_characters_is_refused() -> None:
    assert _refused_signature(signature="sha256=\u00e9") == "BAD_SIGNATURE"


# --- Events -----------------------------------------------------------------------------


def payload(**values: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "eventId": "evt-1",
        "type": "order.paid",
        "occurredAt": "2026-11-23T12:00:00+08:00",
        "memberId": str(MEMBER),
        "amountFen": 123_400,
        "orderId": "order-1",
    }
    base.update(values)
    return {k: v for k, v in base.items() if v is not ...}


def refused(body: object) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        parse_event(body, now=NOW)
    return caught.value


def test_an_order_paid_event_is_parsed() -> None:
    event = parse_event(payload(itemPublicId=" ITEM1 "), now=NOW)
    assert event.event_id == "evt-1"
    assert event.type is EventType.ORDER_PAID
    assert event.occurred_at == datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
    assert event.member_id == MEMBER
    assert event.amount_fen == 123_400
    assert event.order_id == "order-1"
    assert event.consignment_id is None
    assert event.item_public_id == "ITEM1"


@pytest.mark.parametrize("body", [None, [], "order.paid", 42, [payload()]])
def test_an_event_that_is_not_an_object_is_malformed(body: object) -> None:
    assert refused(body).code == "MALFORMED_EVENT"


@pytest.mark.parametrize("kind", [None, ..., "", "order.shipped", "ORDER.PAID", " order.paid", 1])
def test_an_unknown_event_type_is_refused(kind: object) -> None:
    error = refused(payload(type=kind))
    assert error.code == "UNKNOWN_EVENT_TYPE"
    assert error.field == "type"


@pytest.mark.parametrize("kind", list(EventType))
def test_every_event_type_is_understood(kind: EventType) -> None:
    item = {"itemId": "i-1", "brand": "Hermès", "category": "bags", "count": 3}
    event = parse_event(
        payload(type=kind.value, consignmentId="c-1", day="2026-11-22", **item), now=NOW
    )
    assert event.type is kind


# Order lines and item interactions


LINES = [
    {"brand": " Hermès ", "category": "bags", "amountFen": 100_000},
    {"brand": "Cartier", "category": "jewellery  watches", "amountFen": 23_400},
]


def test_an_order_may_carry_its_lines_and_an_old_one_none() -> None:
    event = parse_event(payload(lines=LINES), now=NOW)
    assert event.lines == (
        OrderLine("Hermès", "bags", 100_000),
        OrderLine("Cartier", "jewellery watches", 23_400),
    )
    assert parse_event(payload(), now=NOW).lines == ()


def test_lines_may_leave_part_of_the_amount_out_but_never_exceed_it() -> None:
    assert parse_event(payload(lines=LINES[:1]), now=NOW).lines[0].amount_fen == 100_000
    over = [*LINES, {"brand": "Gucci", "category": "shoes", "amountFen": 1}]
    error = refused(payload(lines=over))
    assert (error.code, error.field) == ("INVALID_LINES", "lines")


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([], "lines"),
        ({"brand": "x"}, "lines"),
        ([LINES[0]] * 101, "lines"),
        (["Hermès"], "lines[0]"),
        ([{**LINES[0], "amountFen": 0}], "lines[0].amountFen"),
        ([{**LINES[0], "amountFen": True}], "lines[0].amountFen"),
        ([{**LINES[0], "amountFen": "100"}], "lines[0].amountFen"),
        ([LINES[0], {**LINES[1], "brand": "  "}], "lines[1].brand"),
        ([{**LINES[0], "category": "x" * 81}], "lines[0].category"),
        ([{**LINES[0], "category": None}], "lines[0].category"),
    ],
)
def test_a_bad_line_is_refused_naming_it(lines: object, field: str) -> None:
    error = refused(payload(lines=lines))
    assert error.field == field
    assert error.code in ("INVALID_LINES", "INVALID_FIELD")


def test_only_a_paid_order_has_lines() -> None:
    error = refused(payload(type="order.refunded", lines=LINES))
    assert (error.code, error.field) == ("INVALID_LINES", "lines")


def viewed(**values: object) -> dict[str, object]:
    fields = {"itemId": "i-1", "brand": "Chanel", "category": "bags", "count": 4}
    fields["day"] = "2026-11-23"
    return payload(type="item.viewed", orderId=..., amountFen=..., **{**fields, **values})


def test_a_days_views_of_an_item_are_one_event() -> None:
    event = parse_event(viewed(), now=NOW)
    assert event.interaction == Interaction("i-1", "Chanel", "bags", 4, date(2026, 11, 23))
    assert event.amount_fen is None


def test_a_favourite_counts_once_on_the_business_day_it_happened() -> None:
    late = datetime(2026, 11, 22, 17, 30, tzinfo=UTC)  # 01:30 on the 23rd in Shanghai
    event = parse_event(
        payload(
            type="item.favourited",
            orderId=...,
            occurredAt=late.isoformat(),
            itemId="i-9",
            brand="Rolex",
            category="watches",
        ),
        now=NOW,
    )
    assert event.interaction == Interaction("i-9", "Rolex", "watches", 1, date(2026, 11, 23))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"itemId": ...}, "itemId"),
        ({"brand": ...}, "brand"),
        ({"category": ""}, "category"),
        ({"count": 0}, "count"),
        ({"count": 10_001}, "count"),
        ({"count": 2.5}, "count"),
        ({"count": ...}, "count"),
        ({"day": ...}, "day"),
        ({"day": "23/11/2026"}, "day"),
        ({"day": "2026-11-24"}, "day"),  # after the day of occurredAt
    ],
)
def test_a_bad_view_batch_is_refused_naming_the_field(
    change: dict[str, object], field: str
) -> None:
    error = refused(viewed(**change))
    assert error.field == field


# Ids


@pytest.mark.parametrize("name", ["eventId", "orderId"])
def test_a_required_id_that_is_missing_is_refused(name: str) -> None:
    error = refused(payload(**{name: ...}))
    assert (error.code, error.field) == ("MISSING_FIELD", name)


def test_an_order_refund_needs_an_order_id() -> None:
    error = refused(payload(type="order.refunded", orderId=None))
    assert (error.code, error.field) == ("MISSING_FIELD", "orderId")


def test_a_completed_consignment_needs_a_consignment_id_but_no_order_id() -> None:
    error = refused(payload(type="consignment.completed", orderId=...))
    assert (error.code, error.field) == ("MISSING_FIELD", "consignmentId")
    event = parse_event(
        payload(type="consignment.completed", orderId=..., consignmentId="c-1"), now=NOW
    )
    assert (event.order_id, event.consignment_id) == (None, "c-1")


def test_an_id_of_exactly_128_characters_is_kept() -> None:
    event = parse_event(payload(eventId="e" * MAX_ID_LENGTH), now=NOW)
    assert event.event_id == "e" * 128


@pytest.mark.parametrize("value", ["", "   ", "e" * 129, 42, ["evt-1"], True])
def test_an_id_that_is_blank_too_long_or_not_text_is_refused(value: object) -> None:
    error = refused(payload(eventId=value))
    assert (error.code, error.field) == ("INVALID_FIELD", "eventId")


def test_ids_are_trimmed() -> None:
    event = parse_event(payload(eventId=" evt-1 ", orderId="\torder-1\n"), now=NOW)
    assert (event.event_id, event.order_id) == ("evt-1", "order-1")


# Amounts


@pytest.mark.parametrize("amount", [1, MAX_AMOUNT_FEN])
def test_an_amount_from_one_fen_to_ten_billion_yuan_is_kept(amount: int) -> None:
    assert parse_event(payload(amountFen=amount), now=NOW).amount_fen == amount


@pytest.mark.parametrize(
    "amount", [0, -1, MAX_AMOUNT_FEN + 1, 100.0, "100", True, None, ..., [100]]
)
def test_an_amount_that_is_not_a_positive_whole_number_of_fen_is_refused(amount: object) -> None:
    error = refused(payload(amountFen=amount))
    assert (error.code, error.field) == ("INVALID_AMOUNT", "amountFen")


@pytest.mark.parametrize("kind", ["order.refunded", "consignment.completed"])
def test_refunds_and_consignments_need_an_amount(kind: str) -> None:
    assert refused(payload(type=kind, consignmentId="c-1", amountFen=...)).code == (
        "INVALID_AMOUNT"
    )


def test_an_authentication_needs_no_amount_but_a_given_one_must_be_valid() -> None:
    event = parse_event(payload(type="authentication.completed", amountFen=...), now=NOW)
    assert event.amount_fen is None
    assert refused(payload(type="authentication.completed", amountFen=0)).code == ("INVALID_AMOUNT")


# Time


def test_an_occurred_at_in_shanghai_time_is_the_same_instant_in_utc() -> None:
    # Midnight in Shanghai is 16:00 UTC the day before.
    event = parse_event(payload(occurredAt="2026-11-23T00:00:00+08:00"), now=NOW)
    assert event.occurred_at == datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
    assert event.occurred_at.astimezone(SHANGHAI).date().isoformat() == "2026-11-23"


def test_an_occurred_at_may_be_a_datetime_or_end_in_z() -> None:
    moment = datetime(2026, 11, 23, 3, 0, tzinfo=SHANGHAI)
    assert parse_event(payload(occurredAt=moment), now=NOW).occurred_at == moment
    zulu = parse_event(payload(occurredAt="2026-11-23T03:00:00Z"), now=NOW)
    assert zulu.occurred_at == datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def test_an_occurred_at_exactly_at_the_bounds_is_kept() -> None:
    earliest = parse_event(payload(occurredAt="2000-01-01T08:00:00+08:00"), now=NOW)
    assert earliest.occurred_at == EARLIEST_EVENT
    latest = NOW + timedelta(days=1)
    assert parse_event(payload(occurredAt=latest), now=NOW).occurred_at == latest


@pytest.mark.parametrize(
    "moment",
    [
        "2000-01-01T07:59:59+08:00",  # one second before 2000-01-01 UTC
        "1999-12-31T23:59:59.999999Z",
        (NOW + timedelta(days=1, microseconds=1)).isoformat(),
        "2026-11-23T12:00:00",  # no offset
        datetime(2026, 11, 23, 12, 0),  # naive
        "2026-13-01T00:00:00+08:00",
        "23/11/2026",
        "",
    ],
)
def test_an_implausible_or_unzoned_occurred_at_is_refused(moment: object) -> None:
    error = refused(payload(occurredAt=moment))
    assert (error.code, error.field) == ("INVALID_TIMESTAMP", "occurredAt")


@pytest.mark.parametrize("moment", [..., None, 1_763_870_400])
def test_a_missing_occurred_at_is_refused(moment: object) -> None:
    error = refused(payload(occurredAt=moment))
    assert (error.code, error.field) == ("MISSING_FIELD", "occurredAt")


# Members


@pytest.mark.parametrize("member", [..., None, "", "member-1", 42, str(MEMBER)[:-1]])
def test_a_member_id_that_is_not_a_uuid_is_an_unknown_member(member: object) -> None:
    error = refused(payload(memberId=member))
    assert (error.code, error.field) == ("UNKNOWN_MEMBER", "memberId")


def test_a_member_id_in_upper_case_is_the_same_member() -> None:
    assert parse_event(payload(memberId=str(MEMBER).upper()), now=NOW).member_id == MEMBER


# Any payload


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=5,
)
_FIELDS = ("eventId", "type", "occurredAt", "memberId", "amountFen", "orderId", "consignmentId")


@given(st.dictionaries(st.sampled_from(_FIELDS), _JSON), st.booleans())
def test_any_payload_is_parsed_or_refused_with_a_typed_error(
    fuzz: dict[str, Any], start_valid: bool
) -> None:
    body = {**payload(), **fuzz} if start_valid else fuzz
    try:
        event = parse_event(body, now=NOW)
    except InvalidInput:
        return
    assert event.occurred_at.tzinfo is not None
    assert event.amount_fen is None or 1 <= event.amount_fen <= MAX_AMOUNT_FEN
    assert 1 <= len(event.event_id) <= MAX_ID_LENGTH
