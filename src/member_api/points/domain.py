"""The points rules as plain functions: earning, which lots a debit takes, reversals, debt."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from member_api.business_calendar import add_months
from member_api.error_codes import PointsErrorCode
from member_api.errors import Conflict
from member_api.rules_data import build, count, table
from member_api.tiers.rules import TierCode


class Reason(StrEnum):
    SPEND = "SPEND"
    CHECK_IN = "CHECK_IN"
    POST = "POST"
    EVENT = "EVENT"
    REFERRAL = "REFERRAL"
    REFERRAL_REVERSAL = "REFERRAL_REVERSAL"
    QUIZ = "QUIZ"
    TASK = "TASK"
    REDEMPTION = "REDEMPTION"
    CANCELLATION = "CANCELLATION"
    REFUND_REVERSAL = "REFUND_REVERSAL"
    EXPIRY = "EXPIRY"
    ADJUSTMENT = "ADJUSTMENT"
    CARBON_CREDIT = "CARBON_CREDIT"


@dataclass(frozen=True)
class PointsRules:
    points_per_yuan: int = 1
    # Earning on purchases by tier code, in percent (150 = x1.5).
    multiplier_percent: dict[str, int] = field(
        default_factory=lambda: {
            "NEW": 100,
            "SILVER": 100,
            "GOLD": 150,
            "DIAMOND": 150,
            "BLACK_DIAMOND": 150,
        }
    )
    referral_percent: int = 10
    expiry_months: int = 36  # 0: points never expire
    event_attendance_points: int = 50
    check_in_points: int = 5
    expiring_soon_days: int = 90

    def multiplier(self, tier: TierCode) -> int:
        return self.multiplier_percent.get(tier.value, 100)

    @classmethod
    def from_mapping(cls, values: Any) -> PointsRules:
        codes = [t.value for t in TierCode]

        def multipliers(value: Any, name: str) -> dict[str, int]:
            return table(value, name, codes, cls().multiplier_percent)

        def percent(value: Any, name: str) -> int:
            return count(value, name, maximum=100)

        parsers = {"multiplier_percent": multipliers, "referral_percent": percent}
        return build(cls, values, "points", parsers)

    def expiry_for(self, earned_on: date) -> date | None:
        return add_months(earned_on, self.expiry_months) if self.expiry_months else None


def points_for_payment(amount_fen: int, tier: TierCode, rules: PointsRules) -> int:
    """Whole points for a payment: 1 per yuan by default, x1.5 from Gold, rounded down."""
    return amount_fen * rules.points_per_yuan * rules.multiplier(tier) // (100 * 100)


def referral_points(first_order_fen: int, rules: PointsRules) -> int:
    return first_order_fen * rules.points_per_yuan * rules.referral_percent // (100 * 100)


def reversal_due(
    order_points: int, paid_fen: int, refunded_fen_total: int, already_reversed: int
) -> int:
    """Points to take back now so that, in total, the refunded share of the order's points
    has been reversed (exactly all of them once the order is fully refunded)."""
    target = order_points * refunded_fen_total // paid_fen
    return max(target - already_reversed, 0)


@dataclass(frozen=True)
class Lot:
    id: int
    remaining: int
    expires_on: date | None
    earned_at: datetime
    source: str | None = None


def spending_order(lots: list[Lot]) -> list[Lot]:
    """Soonest-expiring first; lots that never expire last; then oldest first."""
    return sorted(
        (lot for lot in lots if lot.remaining > 0),
        key=lambda lot: (lot.expires_on is None, lot.expires_on or date.max, lot.earned_at, lot.id),
    )


def plan_spend(lots: list[Lot], amount: int) -> list[tuple[int, int]]:
    """(lot id, points) taken for a debit of `amount`; refused if the lots hold too little."""
    if amount <= 0:
        raise ValueError("a debit takes a positive amount")
    available = sum(lot.remaining for lot in lots if lot.remaining > 0)
    if available < amount:
        raise Conflict(
            PointsErrorCode.INSUFFICIENT_POINTS,
            f"This needs {amount} points; the balance is {available}.",
        )
    return _take(spending_order(lots), amount)


def plan_reversal(
    lots: list[Lot], amount: int, own_source: str
) -> tuple[list[tuple[int, int]], int]:
    """Take back `amount`: the order's own unspent lots first, then the others soonest-
    expiring first; what cannot be taken becomes debt. Returns (takes, debt)."""
    own = [lot for lot in spending_order(lots) if lot.source == own_source]
    others = [lot for lot in spending_order(lots) if lot.source != own_source]
    takes = _take(own + others, amount)
    return takes, amount - sum(points for _, points in takes)


def _take(ordered: list[Lot], amount: int) -> list[tuple[int, int]]:
    takes: list[tuple[int, int]] = []
    left = amount
    for lot in ordered:
        if left == 0:
            break
        points = min(lot.remaining, left)
        if points > 0:
            takes.append((lot.id, points))
            left -= points
    return takes


def split_credit(amount: int, debt: int) -> tuple[int, int]:
    """A credit pays the debt first: (repaid, left for a new lot)."""
    repaid = min(amount, debt)
    return repaid, amount - repaid
