"""The rewards rules: the catalogue's checks, the sale window, tier gates, the per-member
limit, stock, prices, idempotent requests, vouchers and the redemption's states."""

from __future__ import annotations

import re
import uuid
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from itertools import cycle
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from member_api.errors import Conflict, DomainError, Forbidden, InvalidInput
from member_api.points import ledger
from member_api.rewards.domain import (
    MAX_QUANTITY,
    VOUCHER_ALPHABET,
    Currency,
    Offer,
    RedemptionStatus,
    RewardChanges,
    RewardDraft,
    RewardKind,
    can_afford,
    check_cancellable,
    check_draft,
    check_gates,
    check_limit,
    check_replay,
    check_request,
    check_stock,
    check_usable,
    in_stock,
    new_voucher_code,
    normal_voucher_code,
    redeemable,
    tier_allows,
    total_price,
    unavailable_reason,
    within_limit,
)
from member_api.tiers.rules import TIER_ORDER, TierCode

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
TICK = timedelta(microseconds=1)
DRAFT = RewardDraft(
    name="鉴定券 Authentication voucher",
    description="",
    kind=RewardKind.AUTHENTICATION_VOUCHER,
    price=500,
    stock=200,
)
OFFER = Offer(price=500, stock=200)
# The largest price whose ten units still fit a 32-bit total.
MAX_PRICE = (2**31 - 1) // MAX_QUANTITY
VOUCHER = re.compile(r"^V-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$")


def refusal(check: Any, *args: Any, **kwargs: Any) -> DomainError:
    with pytest.raises(DomainError) as raised:
        check(*args, **kwargs)
    return raised.value


# --- The catalogue: what an operator may create -------------------------------------------


def test_a_plain_reward_is_accepted() -> None:
    check_draft(DRAFT)


@pytest.mark.parametrize("name", ["x", "n" * 120, "  padded  "])
def test_names_of_one_to_120_characters_are_accepted(name: str) -> None:
    check_draft(replace(DRAFT, name=name))


@pytest.mark.parametrize("name", ["", "   ", "\t\n", "n" * 121])
def test_an_empty_or_too_long_name_is_refused(name: str) -> None:
    error = refusal(check_draft, replace(DRAFT, name=name))
    assert isinstance(error, InvalidInput)
    assert (error.code, error.field) == ("INVALID_NAME", "name")


@pytest.mark.parametrize("price", [1, MAX_PRICE])
def test_prices_from_one_to_the_largest_whose_ten_units_fit_are_accepted(price: int) -> None:
    assert price * MAX_QUANTITY < 2**31
    check_draft(replace(DRAFT, price=price))


@pytest.mark.parametrize("price", [0, -1, MAX_PRICE + 1, 2**31])
def test_a_price_that_is_not_positive_or_too_large_is_refused(price: int) -> None:
    error = refusal(check_draft, replace(DRAFT, price=price))
    assert (error.code, error.field) == ("INVALID_PRICE", "price")


@pytest.mark.parametrize("stock", [0, 1, 2**31 - 1])
def test_stock_from_zero_to_the_largest_32_bit_number_is_accepted(stock: int) -> None:
    check_draft(replace(DRAFT, stock=stock))


@pytest.mark.parametrize("stock", [-1, 2**31])
def test_negative_or_oversized_stock_is_refused(stock: int) -> None:
    error = refusal(check_draft, replace(DRAFT, stock=stock))
    assert (error.code, error.field) == ("INVALID_STOCK", "stock")


@pytest.mark.parametrize("limit", [None, 1, 10, 1000])
def test_no_limit_or_a_limit_of_at_least_one_is_accepted(limit: int | None) -> None:
    check_draft(replace(DRAFT, limit_per_member=limit))


@pytest.mark.parametrize("limit", [0, -1])
def test_a_limit_below_one_is_refused(limit: int) -> None:
    error = refusal(check_draft, replace(DRAFT, limit_per_member=limit))
    assert (error.code, error.field) == ("INVALID_LIMIT", "limitPerMember")


@pytest.mark.parametrize("currency", ["POINTS", "CARBON", Currency.POINTS, Currency.CARBON])
def test_rewards_are_priced_in_points_or_carbon_credits(currency: str) -> None:
    check_draft(replace(DRAFT, currency=currency))


@pytest.mark.parametrize("currency", ["", "points", "CNY", "POINTS "])
def test_any_other_currency_is_refused(currency: str) -> None:
    error = refusal(check_draft, replace(DRAFT, currency=currency))
    assert (error.code, error.field) == ("INVALID_CURRENCY", "currency")


def test_the_currencies_are_the_ledgers_accounts() -> None:
    assert (Currency.POINTS.value, Currency.CARBON.value) == (ledger.POINTS, ledger.CARBON)
    assert DRAFT.currency == ledger.POINTS  # by default a reward costs points


@pytest.mark.parametrize("end", ["active_from", "active_until"])
def test_window_times_without_an_offset_are_refused(end: str) -> None:
    naive = datetime(2026, 5, 1, 12, 0)
    error = refusal(check_draft, replace(DRAFT, **{end: naive}))
    assert error.code == "INVALID_WINDOW"


@pytest.mark.parametrize("length", [timedelta(0), -TICK, -timedelta(days=1)])
def test_a_window_that_ends_when_or_before_it_starts_is_refused(length: timedelta) -> None:
    error = refusal(check_draft, replace(DRAFT, active_from=NOW, active_until=NOW + length))
    assert error.code == "INVALID_WINDOW"


@pytest.mark.parametrize(
    ("start", "end"), [(NOW, NOW + TICK), (NOW, None), (None, NOW), (None, None)]
)
def test_a_window_of_any_positive_length_or_open_at_either_end_is_accepted(
    start: datetime | None, end: datetime | None
) -> None:
    check_draft(replace(DRAFT, active_from=start, active_until=end))


def test_a_change_replaces_only_the_fields_it_gives() -> None:
    assert RewardChanges().given() == {}
    assert RewardChanges(stock=0, active=False).given() == {"stock": 0, "active": False}
    every = RewardChanges(
        name="n",
        description="",
        price=1,
        stock=2,
        limit_per_member=3,
        active=True,
        active_from=NOW,
        active_until=NOW + TICK,
    )
    assert set(every.given()) == {f.name for f in fields(RewardChanges)}


# --- On sale: the window includes its first instant and excludes its last -----------------


def test_an_active_reward_without_a_window_is_always_on_sale() -> None:
    assert unavailable_reason(OFFER, NOW) is None
    assert unavailable_reason(OFFER, datetime(1970, 1, 1, tzinfo=UTC)) is None


def test_a_withdrawn_reward_is_not_on_sale_even_inside_its_window() -> None:
    withdrawn = replace(OFFER, active=False, active_from=NOW - TICK, active_until=NOW + TICK)
    assert unavailable_reason(withdrawn, NOW) == "This reward is no longer offered."


@pytest.mark.parametrize(
    ("at", "reason"),
    [
        (NOW - timedelta(days=1), "This reward is not offered yet."),
        (NOW - TICK, "This reward is not offered yet."),
        (NOW, None),  # the first instant is in the window
        (NOW + timedelta(days=7) - TICK, None),
        (NOW + timedelta(days=7), "This reward is no longer offered."),  # the last is not
        (NOW + timedelta(days=8), "This reward is no longer offered."),
    ],
)
def test_the_sale_window_boundaries(at: datetime, reason: str | None) -> None:
    week = replace(OFFER, active_from=NOW, active_until=NOW + timedelta(days=7))
    assert unavailable_reason(week, at) == reason


def test_the_window_compares_instants_not_wall_clocks() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    offer = replace(OFFER, active_from=datetime(2026, 5, 1, 20, 0, tzinfo=shanghai))
    assert unavailable_reason(offer, datetime(2026, 5, 1, 12, 0, tzinfo=UTC)) is None
    assert unavailable_reason(offer, datetime(2026, 5, 1, 11, 59, tzinfo=UTC)) is not None


@given(st.integers(min_value=-(10**6), max_value=10**6), st.integers(min_value=1, max_value=10**6))
def test_on_sale_exactly_from_the_start_until_before_the_end(offset: int, length: int) -> None:
    offer = replace(OFFER, active_from=NOW, active_until=NOW + timedelta(seconds=length))
    at = NOW + timedelta(seconds=offset)
    assert (unavailable_reason(offer, at) is None) is (0 <= offset < length)


# --- Tier gates ---------------------------------------------------------------------------


@pytest.mark.parametrize("member", TIER_ORDER)
@pytest.mark.parametrize("needed", TIER_ORDER)
def test_a_reward_is_open_to_its_minimum_tier_and_above(member: TierCode, needed: TierCode) -> None:
    assert tier_allows(member, needed) is (member.rank >= needed.rank)
    assert tier_allows(member, None)


def test_gates_say_why_a_reward_cannot_be_redeemed() -> None:
    check_gates(replace(OFFER, min_tier=TierCode.GOLD), TierCode.GOLD, NOW)
    unavailable = refusal(check_gates, replace(OFFER, active_until=NOW), TierCode.NEW, NOW)
    assert isinstance(unavailable, Conflict)
    assert (unavailable.code, unavailable.message) == (
        "REWARD_UNAVAILABLE",
        "This reward is no longer offered.",
    )
    too_low = refusal(check_gates, replace(OFFER, min_tier=TierCode.GOLD), TierCode.SILVER, NOW)
    assert isinstance(too_low, Forbidden)
    assert (too_low.code, too_low.message) == ("TIER_TOO_LOW", "This reward needs tier GOLD.")


def test_being_off_sale_is_reported_before_the_tier() -> None:
    both = replace(OFFER, active=False, min_tier=TierCode.BLACK_DIAMOND)
    assert refusal(check_gates, both, TierCode.NEW, NOW).code == "REWARD_UNAVAILABLE"


# --- Per-member limit ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("already", "quantity", "allowed"),
    [
        (0, 3, True),  # exactly the limit in one go
        (0, 4, False),  # one over
        (2, 1, True),  # reaches the limit
        (2, 2, False),  # one over
        (3, 1, False),  # at the limit already
    ],
)
def test_the_limit_counts_what_the_member_holds_plus_what_they_ask_for(
    already: int, quantity: int, allowed: bool
) -> None:
    assert within_limit(3, already, quantity) is allowed


def test_no_limit_allows_any_quantity() -> None:
    assert within_limit(None, 10**9, MAX_QUANTITY)


def test_over_the_limit_is_refused_with_the_limit_in_the_message() -> None:
    check_limit(3, 2, 1)
    check_limit(None, 99, 10)
    error = refusal(check_limit, 3, 2, 2)
    assert isinstance(error, Conflict)
    assert (error.code, error.message) == ("LIMIT_REACHED", "At most 3 per member.")


@given(
    st.integers(min_value=1, max_value=50),
    st.integers(min_value=0, max_value=60),
    st.integers(min_value=1, max_value=MAX_QUANTITY),
)
def test_within_the_limit_exactly_when_the_total_does_not_pass_it(
    limit: int, already: int, quantity: int
) -> None:
    assert within_limit(limit, already, quantity) is (already + quantity <= limit)


# --- Stock --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stock", "quantity", "enough"), [(2, 1, True), (2, 2, True), (2, 3, False), (0, 1, False)]
)
def test_stock_covers_the_quantity_or_the_redemption_is_refused(
    stock: int, quantity: int, enough: bool
) -> None:
    assert in_stock(stock, quantity) is enough
    if enough:
        check_stock(stock, quantity)
    else:
        error = refusal(check_stock, stock, quantity)
        assert isinstance(error, Conflict)
        assert (error.code, error.message) == (
            "OUT_OF_STOCK",
            "Not enough of this reward is left.",
        )


# --- Price and balance --------------------------------------------------------------------


@given(st.integers(min_value=1, max_value=MAX_PRICE), st.integers(1, MAX_QUANTITY))
def test_the_total_is_the_unit_price_times_the_quantity_and_fits_32_bits(
    price: int, quantity: int
) -> None:
    assert total_price(price, quantity) == price * quantity
    assert total_price(price, quantity) < 2**31


@pytest.mark.parametrize(
    ("balance", "quantity", "affordable"),
    [(30, 1, True), (29, 1, False), (90, 3, True), (89, 3, False), (0, 1, False)],
)
def test_a_member_can_afford_exactly_the_total(
    balance: int, quantity: int, affordable: bool
) -> None:
    assert can_afford(balance, 30, quantity) is affordable


def test_affordability_is_for_one_unit_unless_told() -> None:
    assert can_afford(30, 30)
    assert not can_afford(-5, 1)  # a debt affords nothing


# --- The request: quantity and idempotency key --------------------------------------------


@pytest.mark.parametrize("quantity", [1, MAX_QUANTITY])
def test_one_to_ten_units_may_be_asked_for(quantity: int) -> None:
    assert MAX_QUANTITY == 10
    check_request(quantity, "k")


@pytest.mark.parametrize("quantity", [0, -1, MAX_QUANTITY + 1, 10**12])
def test_any_other_quantity_is_refused(quantity: int) -> None:
    error = refusal(check_request, quantity, "k")
    assert (error.code, error.field) == ("INVALID_QUANTITY", "quantity")
    assert error.message == "Quantity must be 1 to 10."


@pytest.mark.parametrize("key", ["k", "k" * 128])
def test_keys_of_one_to_128_characters_are_accepted(key: str) -> None:
    check_request(1, key)


@pytest.mark.parametrize("key", ["", "k" * 129])
def test_an_empty_or_too_long_key_is_refused(key: str) -> None:
    error = refusal(check_request, 1, key)
    assert (error.code, error.field) == ("INVALID_IDEMPOTENCY_KEY", "idempotencyKey")


def test_the_quantity_is_checked_before_the_key() -> None:
    assert refusal(check_request, 0, "").code == "INVALID_QUANTITY"


def test_a_key_replays_only_the_request_it_was_first_sent_with() -> None:
    reward, other = uuid.uuid4(), uuid.uuid4()
    check_replay(reward, 2, reward, 2)
    for asked in [(reward, 1), (other, 2), (other, 1)]:
        error = refusal(check_replay, reward, 2, *asked)
        assert isinstance(error, Conflict)
        assert error.code == "IDEMPOTENCY_KEY_REUSED"


# --- Vouchers -----------------------------------------------------------------------------


def test_a_voucher_code_is_v_and_three_groups_of_four_unambiguous_characters() -> None:
    codes = {new_voucher_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(VOUCHER.match(code) for code in codes)
    assert not set(VOUCHER_ALPHABET) & set("01IO")


def test_a_voucher_code_takes_twelve_characters_in_the_order_drawn() -> None:
    letters = cycle("ABCDEFGHJKLM")
    assert new_voucher_code(lambda _alphabet: next(letters)) == "V-ABCD-EFGH-JKLM"


def test_characters_are_drawn_from_the_voucher_alphabet() -> None:
    seen: list[str] = []

    def choose(alphabet: str) -> str:
        seen.append(alphabet)
        return alphabet[-1]

    assert new_voucher_code(choose) == "V-9999-9999-9999"
    assert seen == [VOUCHER_ALPHABET] * 12


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("v-abcd-efgh-jkmn", "V-ABCD-EFGH-JKMN"),
        ("  V-ABCD-EFGH-JKMN\n", "V-ABCD-EFGH-JKMN"),
        ("V-ABCD-EFGH-JKMN", "V-ABCD-EFGH-JKMN"),
    ],
)
def test_a_typed_code_is_read_without_case_or_surrounding_space(typed: str, code: str) -> None:
    assert normal_voucher_code(typed) == code


@given(st.text(alphabet=VOUCHER_ALPHABET, min_size=12, max_size=12))
def test_an_issued_code_reads_back_as_itself(drawn: str) -> None:
    letters = iter(drawn)
    code = new_voucher_code(lambda _alphabet: next(letters))
    assert VOUCHER.match(code)
    assert code.replace("V-", "", 1).replace("-", "") == drawn
    assert normal_voucher_code(code) == code
    assert normal_voucher_code(f" {code.lower()} ") == code


# --- The redemption's states --------------------------------------------------------------


def test_only_an_active_redemption_can_be_cancelled() -> None:
    check_cancellable(RedemptionStatus.ACTIVE)
    check_cancellable("ACTIVE")
    for status, message in [
        (RedemptionStatus.USED, "This redemption is used already."),
        (RedemptionStatus.CANCELLED, "This redemption is cancelled already."),
    ]:
        error = refusal(check_cancellable, status.value)
        assert isinstance(error, Conflict)
        assert (error.code, error.message) == ("NOT_CANCELLABLE", message)


def test_only_an_active_voucher_can_be_used() -> None:
    check_usable("ACTIVE")
    for status, message in [
        ("USED", "The voucher is used."),
        ("CANCELLED", "The voucher is cancelled."),
    ]:
        error = refusal(check_usable, status)
        assert isinstance(error, Conflict)
        assert (error.code, error.message) == ("VOUCHER_NOT_ACTIVE", message)


def test_the_states_are_the_stored_strings() -> None:
    assert [s.value for s in RedemptionStatus] == ["ACTIVE", "USED", "CANCELLED"]


# --- Redeemable: what the catalogue tells a member ------------------------------------


@given(
    price=st.integers(min_value=1, max_value=1_000),
    stock=st.integers(min_value=0, max_value=3),
    limit=st.none() | st.integers(min_value=1, max_value=3),
    already=st.integers(min_value=0, max_value=4),
    balance=st.integers(min_value=-100, max_value=2_000),
    min_tier=st.none() | st.sampled_from(TIER_ORDER),
    tier=st.sampled_from(TIER_ORDER),
    start=st.none() | st.sampled_from([NOW - TICK, NOW, NOW + TICK]),
    end=st.none() | st.sampled_from([NOW, NOW + TICK]),
)
def test_a_reward_is_redeemable_exactly_when_one_unit_passes_every_check(
    price: int,
    stock: int,
    limit: int | None,
    already: int,
    balance: int,
    min_tier: TierCode | None,
    tier: TierCode,
    start: datetime | None,
    end: datetime | None,
) -> None:
    offer = Offer(
        price=price,
        stock=stock,
        limit_per_member=limit,
        min_tier=min_tier,
        active_from=start,
        active_until=end,
    )
    try:
        check_gates(offer, tier, NOW)
        check_limit(limit, already, 1)
        check_stock(stock, 1)
        passes = can_afford(balance, price)
    except DomainError:
        passes = False
    assert redeemable(offer, tier, balance, already, NOW) is passes
