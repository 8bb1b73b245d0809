"""Provenance rules: vocabulary, public details, the canonical leaf, codes and cloned tags."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from random import Random
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from member_api.errors import InvalidInput
from member_api.provenance.domain import (
    CITY_ALIASES,
    CITY_CENTRES,
    RECORDED_BY,
    STATUS_AFTER,
    CloneRules,
    EventKind,
    Leaf,
    ScanSeen,
    Verdict,
    canonical,
    clean_details,
    clone_signs,
    distance_km,
    new_public_id,
    normal_city,
    public_id_of,
    utc_text,
    vocabulary,
)
from member_api.staff.domain import StaffRole


def wide(text: str) -> str:
    """The full-width form of ASCII letters and digits."""
    return "".join(chr(ord(ch) + 0xFEE0) for ch in text)


SHANGHAI = ZoneInfo("Asia/Shanghai")
DIGEST = "sha256:" + "0123456789abcdef" * 4
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


# --- Vocabulary and who records what ---------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "step", "disposition"),
    [
        (EventKind.SOURCING, "commissioning", "active"),
        (EventKind.AUTHENTICATION, "inspecting", "conformant"),
        (EventKind.CONSIGNMENT, "consigning", "sellable_accessible"),
        (EventKind.SALE, "retail_selling", "retail_sold"),
        (EventKind.MAINTENANCE, "repairing", "active"),
        (EventKind.TRANSFER, "other", "active"),
    ],
)
def test_each_event_kind_has_its_cbv_step_and_disposition(
    kind: EventKind, step: str, disposition: str
) -> None:
    assert vocabulary(kind, {"verdict": "GENUINE"}) == (step, disposition)


def test_a_counterfeit_verdict_makes_an_authentication_non_conformant() -> None:
    counterfeit = {"verdict": "COUNTERFEIT"}
    assert vocabulary(EventKind.AUTHENTICATION, counterfeit) == ("inspecting", "non_conformant")
    assert vocabulary(EventKind.MAINTENANCE, counterfeit) == ("repairing", "active")


def test_authenticators_record_what_they_examine_and_operators_the_rest() -> None:
    examined = {k for k, role in RECORDED_BY.items() if role is StaffRole.AUTHENTICATOR}
    assert examined == {EventKind.AUTHENTICATION, EventKind.MAINTENANCE}
    assert set(RECORDED_BY) == set(EventKind) == set(STATUS_AFTER)


def test_maintenance_and_transfer_leave_the_status_unchanged() -> None:
    assert STATUS_AFTER[EventKind.MAINTENANCE] is None
    assert STATUS_AFTER[EventKind.TRANSFER] is None
    assert STATUS_AFTER[EventKind.AUTHENTICATION] == "AUTHENTICATED"
    assert STATUS_AFTER[EventKind.SALE] == "SOLD"


# --- Public details ---------------------------------------------------------------------


@pytest.mark.parametrize("verdict", ["GENUINE", "COUNTERFEIT", Verdict.GENUINE])
def test_an_authentication_keeps_only_its_verdict_and_report_digest(verdict: str) -> None:
    details = {"verdict": verdict, "reportDigest": DIGEST, "owner": "Li Ming", "price": 1}
    assert clean_details(EventKind.AUTHENTICATION, details) == {
        "verdict": verdict,
        "reportDigest": DIGEST,
    }


@pytest.mark.parametrize("verdict", [None, "", "genuine", "FAKE", "GENUINE ", 1])
def test_an_authentication_without_a_known_verdict_is_refused(verdict: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        clean_details(EventKind.AUTHENTICATION, {"verdict": verdict, "reportDigest": DIGEST})
    assert (caught.value.code, caught.value.field) == ("INVALID_VERDICT", "verdict")


@pytest.mark.parametrize(
    "digest",
    [
        None,
        "",
        DIGEST[7:],  # no algorithm
        "sha1:" + "0" * 40,
        DIGEST[:-1],  # 63 hex digits
        DIGEST + "0",  # 65 hex digits
        DIGEST.upper().replace("SHA256", "sha256"),  # upper-case hex
        DIGEST[:-1] + "g",
        " " + DIGEST,
        64,
    ],
)
def test_an_authentication_without_a_sha256_report_digest_is_refused(digest: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        clean_details(EventKind.AUTHENTICATION, {"verdict": "GENUINE", "reportDigest": digest})
    assert (caught.value.code, caught.value.field) == ("INVALID_REPORT_DIGEST", "reportDigest")


def test_a_report_digest_with_a_trailing_newline_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        clean_details(
            EventKind.AUTHENTICATION, {"verdict": "GENUINE", "reportDigest": DIGEST + "\n"}
        )
    assert caught.value.code == "INVALID_REPORT_DIGEST"


def test_an_authentication_with_a_list_as_verdict_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        clean_details(EventKind.AUTHENTICATION, {"verdict": ["GENUINE"], "reportDigest": DIGEST})
    assert caught.value.code == "INVALID_VERDICT"


@pytest.mark.parametrize("kind", [k for k in EventKind if k is not EventKind.AUTHENTICATION])
def test_other_events_keep_only_a_trimmed_note(kind: EventKind) -> None:
    details = {"note": "  polished the hardware \n", "owner": "Li Ming"}
    assert clean_details(kind, details) == {"note": "polished the hardware"}


@pytest.mark.parametrize("details", [{}, {"note": None}, {"note": "   "}, {"owner": "x"}])
def test_an_event_with_no_note_has_no_public_details(details: dict[str, Any]) -> None:
    assert clean_details(EventKind.MAINTENANCE, details) == {}


def test_a_note_of_exactly_300_characters_is_kept() -> None:
    note = "修" * 300
    assert clean_details(EventKind.MAINTENANCE, {"note": f" {note} "}) == {"note": note}


@pytest.mark.parametrize("note", ["修" * 301, 42, ["note"], {"text": "x"}])
def test_a_note_longer_than_300_characters_or_not_text_is_refused(note: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        clean_details(EventKind.SALE, {"note": note})
    assert (caught.value.code, caught.value.field) == ("INVALID_NOTE", "note")


# --- The canonical leaf -----------------------------------------------------------------


def _leaf(**values: Any) -> Leaf:
    base: dict[str, Any] = {
        "index": 0,
        "item": "ITEM1",
        "what": {"brand": "Hermès", "model": "Birkin 30", "category": "bag"},
        "seq": 1,
        "previous": None,
        "kind": EventKind.AUTHENTICATION,
        "occurred_at": T0,
        "place": "上海",
        "actor": "staff:1",
        "biz_step": "inspecting",
        "disposition": "conformant",
        "details": {"verdict": "GENUINE", "reportDigest": DIGEST},
    }
    return Leaf(**{**base, **values})


def test_a_leaf_document_names_every_field_in_epcis_words() -> None:
    document = _leaf().document()
    assert set(document) == {
        "index",
        "item",
        "what",
        "seq",
        "previous",
        "kind",
        "eventTime",
        "place",
        "actor",
        "bizStep",
        "disposition",
        "details",
    }
    assert document["kind"] == "AUTHENTICATION"
    assert document["eventTime"] == "2026-11-23T10:00:00Z"


def test_the_canonical_form_sorts_keys_and_keeps_unicode_as_utf8() -> None:
    assert canonical({"b": 1, "a": "é", "c": None}) == '{"a":"é","b":1,"c":null}'.encode()


def test_the_canonical_bytes_do_not_depend_on_key_order_or_time_zone() -> None:
    shanghai = T0.astimezone(SHANGHAI)  # 18:00 in Shanghai
    reordered = {"reportDigest": DIGEST, "verdict": "GENUINE"}
    assert _leaf(occurred_at=shanghai, details=reordered).canonical() == _leaf().canonical()
    parsed = json.loads(_leaf().canonical())
    assert parsed == _leaf().document()


def test_any_change_to_a_leaf_changes_its_canonical_bytes() -> None:
    original = _leaf().canonical()
    assert _leaf(details={"verdict": "COUNTERFEIT", "reportDigest": DIGEST}).canonical() != (
        original
    )
    assert _leaf(occurred_at=T0 + timedelta(microseconds=1)).canonical() != original
    assert _leaf(seq=2).canonical() != original


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 11, 23, 0, 0, tzinfo=SHANGHAI), "2026-11-22T16:00:00Z"),
        (datetime(2026, 11, 22, 23, 59, 59, tzinfo=SHANGHAI), "2026-11-22T15:59:59Z"),
        (datetime(2026, 11, 23, 10, 0, 0, 1, tzinfo=UTC), "2026-11-23T10:00:00.000001Z"),
        (datetime(2026, 11, 23, 10, 0, 0, 500_000, tzinfo=UTC), "2026-11-23T10:00:00.500000Z"),
    ],
)
def test_event_time_is_written_in_utc_with_microseconds_only_when_present(
    moment: datetime, text: str
) -> None:
    assert utc_text(moment) == text


# --- Public codes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "public_id"),
    [
        ("ITEM1", "ITEM1"),
        ("  Ab_9-z \n", "Ab_9-z"),
        ("x" * 32, "x" * 32),
        ("https://p.example.com/i/ITEM1", "ITEM1"),
        ("https://p.example.com/i/ITEM1/", "ITEM1"),
        ("https://p.example.com/i/ITEM1?utm_source=tag#top", "ITEM1"),
        ("p.example.com/i/ITEM1", "ITEM1"),
    ],
)
def test_a_scanned_code_or_its_url_gives_the_public_id(code: str, public_id: str) -> None:
    assert public_id_of(code) == public_id


@pytest.mark.parametrize(
    "code",
    [
        "",
        "   ",
        "x" * 33,
        "ITEM 1",
        "ITEM1\x00",
        wide("ITEM1"),
        "物品1",
        "https://p.example.com",
        "https://p.example.com/i/ITEM%201",
        "https://[::1/i/ITEM1",
    ],
)
def test_a_code_that_cannot_be_ours_gives_none(code: str) -> None:
    assert public_id_of(code) is None


_PUBLIC = st.from_regex(r"[A-Za-z0-9_-]{1,32}", fullmatch=True)


@given(_PUBLIC)
def test_a_public_id_is_read_back_from_itself_and_from_its_url(public_id: str) -> None:
    assert public_id_of(public_id) == public_id
    assert public_id_of(f"https://p.example.com/i/{public_id}") == public_id


@given(st.text(max_size=60))
def test_whatever_is_scanned_the_result_is_none_or_a_short_safe_id(code: str) -> None:
    result = public_id_of(code)
    if result is not None:
        assert 1 <= len(result) <= 32
        assert result.isascii()
        assert all(ch.isalnum() or ch in "_-" for ch in result)


# --- Cities and distances ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("city", "known"),
    [
        ("Shanghai", "shanghai"),
        ("  SHANGHAI ", "shanghai"),
        ("上海", "shanghai"),
        ("香港", "hong kong"),
        ("New York", "new york"),
    ],
)
def test_a_known_city_is_spelled_our_way(city: str, known: str) -> None:
    assert normal_city(city) == known


@pytest.mark.parametrize("city", [None, "", "   ", "Atlantis", "上海市", "shang hai", "x" * 200])
def test_an_unknown_or_empty_city_counts_for_nothing(city: str | None) -> None:
    assert normal_city(city) is None


def test_every_alias_names_a_city_we_know() -> None:
    assert set(CITY_ALIASES.values()) <= set(CITY_CENTRES)


def test_shanghai_to_beijing_is_about_1070_km() -> None:
    km = distance_km(CITY_CENTRES["shanghai"], CITY_CENTRES["beijing"])
    assert 1_050 < km < 1_090


_CITY = st.sampled_from(sorted(CITY_CENTRES))


@given(_CITY, _CITY)
def test_distance_is_symmetric_non_negative_and_zero_only_for_the_same_city(a: str, b: str) -> None:
    there = distance_km(CITY_CENTRES[a], CITY_CENTRES[b])
    back = distance_km(CITY_CENTRES[b], CITY_CENTRES[a])
    assert there == pytest.approx(back)
    assert 0 <= there <= 20_016  # half the Earth's circumference
    assert (there == 0) is (a == b)


# --- Cloned tags ------------------------------------------------------------------------


RULES = CloneRules()


def scan(hours: float, city: str | None, network: str | None = None) -> ScanSeen:
    return ScanSeen(T0 + timedelta(hours=hours), city, network)


def test_scans_in_one_city_are_not_odd() -> None:
    assert clone_signs([scan(h, "shanghai") for h in range(10)], RULES) == []
    assert clone_signs([], RULES) == []


def test_three_places_in_24_hours_are_allowed() -> None:
    scans = [scan(0, "shanghai"), scan(8, "hangzhou"), scan(16, "nanjing")]
    assert clone_signs(scans, RULES) == []


def test_four_places_in_24_hours_are_a_sign_of_a_cloned_tag() -> None:
    scans = [scan(0, "shanghai"), scan(8, "hangzhou"), scan(16, "nanjing"), scan(24, "wuhan")]
    assert clone_signs(scans, RULES) == ["scanned in 4 places within 24 hours"]


def test_a_fourth_place_just_after_24_hours_is_a_new_day() -> None:
    late = ScanSeen(T0 + timedelta(hours=24, microseconds=1), "wuhan", None)
    scans = [scan(0, "shanghai"), scan(8, "hangzhou"), scan(16, "nanjing"), late]
    assert clone_signs(scans, RULES) == []


def test_scans_without_a_city_count_by_network_among_themselves() -> None:
    four_networks = [scan(h, None, f"net-{h}") for h in range(4)]
    assert clone_signs(four_networks, RULES) == ["scanned in 4 places within 24 hours"]
    three_networks = [scan(h, None, f"net-{h}") for h in range(3)]
    two_cities = [scan(4, "shanghai", "net-4"), scan(5, "hangzhou", "net-5")]
    assert clone_signs(three_networks + two_cities, RULES) == []  # 3 and 2, not 5


def test_the_places_limit_is_configurable() -> None:
    scans = [scan(0, "shanghai"), scan(8, "hangzhou")]
    assert clone_signs(scans, CloneRules(max_places_per_day=1)) == [
        "scanned in 2 places within 24 hours"
    ]


SHANGHAI_BEIJING_KM = distance_km(CITY_CENTRES["shanghai"], CITY_CENTRES["beijing"])


def test_a_journey_faster_than_a_plane_is_a_sign_of_a_cloned_tag() -> None:
    hours = SHANGHAI_BEIJING_KM / 800 - 0.01
    signs = clone_signs([scan(0, "shanghai"), scan(hours, "beijing")], RULES)
    assert len(signs) == 1
    assert signs[0].startswith("shanghai to beijing (1,067 km)")
    assert "faster than 800 km/h" in signs[0]


def test_a_journey_at_plane_speed_is_not_odd() -> None:
    hours = SHANGHAI_BEIJING_KM / 800 + 0.01
    assert clone_signs([scan(0, "shanghai"), scan(hours, "beijing")], RULES) == []


def test_two_cities_at_the_same_instant_are_a_sign_of_a_cloned_tag() -> None:
    signs = clone_signs([scan(0, "shanghai"), scan(0, "hangzhou")], RULES)
    assert len(signs) == 1
    assert "shanghai" in signs[0]
    assert "hangzhou" in signs[0]


def test_unknown_cities_never_make_a_journey() -> None:
    assert clone_signs([scan(0, "shanghai"), scan(0, "atlantis")], RULES) == []


def test_scans_are_compared_in_time_order_across_time_zones() -> None:
    # 09:00 in Shanghai is 01:00 UTC: the Paris scan came first, eight hours before.
    paris = ScanSeen(datetime(2026, 11, 22, 17, 0, tzinfo=UTC), "paris", None)
    shanghai = ScanSeen(datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI), "shanghai", None)
    signs = clone_signs([shanghai, paris], RULES)
    assert len(signs) == 1
    assert signs[0].startswith("paris to shanghai")
    assert "in 8.0 h" in signs[0]


@given(
    st.lists(
        st.builds(
            ScanSeen,
            st.integers(min_value=0, max_value=72 * 60).map(
                lambda minutes: T0 + timedelta(minutes=minutes)
            ),
            st.none() | _CITY,
            st.none() | st.sampled_from(["net-a", "net-b", "net-c", "net-d"]),
        ),
        max_size=8,
        unique_by=lambda s: s.at,
    ),
    st.randoms(use_true_random=False),
)
def test_the_signs_do_not_depend_on_the_order_scans_arrive_in(
    scans: list[ScanSeen], random: Random
) -> None:
    shuffled = list(scans)
    random.shuffle(shuffled)
    assert clone_signs(shuffled, RULES) == clone_signs(scans, RULES)
    assert len(clone_signs(scans, RULES)) <= 2


def test_a_new_public_id_is_a_valid_code_that_never_reads_as_an_option() -> None:
    ids = {new_public_id() for _ in range(5000)}
    assert len(ids) == 5000
    assert all(len(code) == 16 and code[0].isalnum() for code in ids)
    assert all(public_id_of(code) == code for code in ids)
