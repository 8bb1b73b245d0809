"""Points rules: earning, referral, proportional reversal, debt, which lots a debit takes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from member_api.errors import Conflict
from member_api.points import domain
from member_api.points.domain import Lot, PointsRules
from member_api.tiers.rules import TierCode

RULES = PointsRules()
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fen", "tier", "points"),
    [
        (100, TierCode.NEW, 1),
        (199, TierCode.NEW, 1),  # whole yuan only
        (99, TierCode.SILVER, 0),
        (1_000_000, TierCode.SILVER, 10_000),
        (1_000_000, TierCode.GOLD, 15_000),
        (101, TierCode.GOLD, 1),  # 1.515 -> 1
        (200, TierCode.DIAMOND, 3),
        (1_000_000, TierCode.BLACK_DIAMOND, 15_000),
    ],
)
def test_points_for_payment(fen: int, tier: TierCode, points: int) -> None:
    assert domain.points_for_payment(fen, tier, RULES) == points


def test_points_per_yuan_is_configurable() -> None:
    assert domain.points_for_payment(10_000, TierCode.NEW, PointsRules(points_per_yuan=2)) == 200


def test_referral_is_ten_percent_of_the_first_order() -> None:
    assert domain.referral_points(1_234_500, RULES) == 1_234  # 12,345 yuan -> 1,234.5
    assert domain.referral_points(900, RULES) == 0


@pytest.mark.parametrize(
    ("refunded_total", "already", "due"),
    [(0, 0, 0), (25_000, 0, 250), (50_000, 250, 250), (100_000, 500, 500), (33_333, 0, 333)],
)
def test_reversal_is_proportional_and_exact_at_full_refund(
    refunded_total: int, already: int, due: int
) -> None:
    assert domain.reversal_due(1_000, 100_000, refunded_total, already) == due


def test_reversals_in_pieces_add_up_to_all_points() -> None:
    reversed_ = 0
    for refunded in (33_333, 66_666, 99_999, 100_000):
        reversed_ += domain.reversal_due(1_000, 100_000, refunded, reversed_)
    assert reversed_ == 1_000


def test_credit_pays_debt_first() -> None:
    assert domain.split_credit(100, 30) == (30, 70)
    assert domain.split_credit(20, 30) == (20, 0)
    assert domain.split_credit(50, 0) == (0, 50)


LOTS = [
    Lot(1, 100, date(2027, 6, 1), T0),
    Lot(2, 100, None, T0),
    Lot(3, 100, date(2026, 12, 1), T0, source="order:x"),
    Lot(4, 0, date(2026, 1, 1), T0),
]


def test_spend_takes_soonest_expiring_first_and_never_expiring_last() -> None:
    assert domain.plan_spend(LOTS, 150) == [(3, 100), (1, 50)]
    assert domain.plan_spend(LOTS, 300) == [(3, 100), (1, 100), (2, 100)]


def test_spend_beyond_the_balance_is_refused() -> None:
    with pytest.raises(Conflict) as caught:
        domain.plan_spend(LOTS, 301)
    assert caught.value.code == "INSUFFICIENT_POINTS"


def test_reversal_takes_the_orders_own_lots_first_then_makes_debt() -> None:
    own_first = [Lot(1, 100, date(2026, 2, 1), T0), Lot(9, 40, date(2029, 1, 1), T0, "order:y")]
    assert domain.plan_reversal(own_first, 60, "order:y") == ([(9, 40), (1, 20)], 0)
    assert domain.plan_reversal(own_first, 200, "order:y") == ([(9, 40), (1, 100)], 60)


def test_expiry_date_is_configurable_or_off() -> None:
    assert RULES.expiry_for(date(2026, 2, 28)) == date(2029, 2, 28)
    assert PointsRules(expiry_months=0).expiry_for(date(2026, 2, 28)) is None
