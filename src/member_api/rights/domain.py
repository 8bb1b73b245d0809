"""The rights catalogue by tier (DOMAIN.md's by default, configurable) and the periods of
countable rights."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from member_api.business_calendar import add_months
from member_api.error_codes import RightErrorCode
from member_api.errors import Forbidden
from member_api.rules_data import choice, count, merge_catalogue, refuse_unknown, text
from member_api.tiers.rules import TierCode


class Period(StrEnum):
    YEAR = "YEAR"
    MONTH = "MONTH"
    # Once ever: one period from the first day to the last, so a use never lapses.
    ONCE = "ONCE"


# The right the commerce systems use up themselves: the member's first authentication,
# reported by an `authentication.completed` event, is the free one. Staff never record it.
FIRST_AUTHENTICATION_FREE = "FIRST_AUTHENTICATION_FREE"
RECORDED_BY_EVENTS = frozenset({FIRST_AUTHENTICATION_FREE})
# Rights usable only in the member's birthday month (DOMAIN.md: birthday-month 10% off).
BIRTHDAY_DISCOUNT = "BIRTHDAY_DISCOUNT"
BIRTHDAY_MONTH_ONLY = frozenset({BIRTHDAY_DISCOUNT})


@dataclass(frozen=True)
class Right:
    code: str
    name: str
    description: str
    min_tier: TierCode
    limit: int | None = None  # uses per period; None when not countable
    period: Period | None = None


_ALL, _S, _G, _D, _B = (
    TierCode.NEW,
    TierCode.SILVER,
    TierCode.GOLD,
    TierCode.DIAMOND,
    TierCode.BLACK_DIAMOND,
)

DEFAULT_CATALOGUE: tuple[Right, ...] = (
    Right("AUTHENTICITY_GUARANTEE", "正品保障", "Every item is authenticated before sale.", _ALL),
    Right("FREE_PACKAGING", "免费包装", "Gift packaging at no charge.", _ALL),
    Right("NO_REASON_RETURN_7D", "7天无理由退货", "Return within 7 days, no reason needed.", _ALL),
    # DOMAIN.md gives it to New members; tiers stand on their own (a member may reach Gold
    # without ever being New), so every tier holds it, once in a membership.
    Right(
        FIRST_AUTHENTICATION_FREE,
        "首次鉴定免费",
        "Your first authentication is free, whatever your tier; once per membership.",
        _ALL,
        1,
        Period.ONCE,
    ),
    Right("PRIORITY_AUTHENTICATION", "优先鉴定", "Authentication within 48 hours.", _S),
    Right(
        BIRTHDAY_DISCOUNT, "生日月9折", "10% off once in your birthday month.", _S, 1, Period.YEAR
    ),
    Right("POINTS_MULTIPLIER", "积分1.5倍", "Points earned x1.5 on purchases.", _G),
    Right("PRESALE_ACCESS", "新品预售", "Access to new arrivals before they go on sale.", _G),
    Right("MASTERCLASSES", "大师课", "Invitations to masterclasses.", _G),
    Right("VIP_AUCTIONS", "VIP拍卖", "Entry to VIP auctions.", _G),
    Right(
        "FREE_MAINTENANCE", "免费保养", "One free maintenance service a year.", _D, 1, Period.YEAR
    ),
    Right(
        "DEDICATED_SERVICE", "专属客服", "A dedicated service channel, reply within 10 minutes.", _D
    ),
    Right(
        "ANNIVERSARY_GIFT", "周年礼", "A gift on your membership anniversary.", _D, 1, Period.YEAR
    ),
    Right(
        "REPAIR_AND_BUYBACK",
        "保修与回购",
        "Free repair for a year, buy-back after two years.",
        _D,
    ),
    Right(
        "AUTHENTICATION_COMPENSATION",
        "鉴定错误全额赔付",
        "Full compensation if an authentication is ever wrong.",
        _D,
    ),
    Right("PERSONAL_ADVISOR", "1对1顾问", "A personal advisor.", _B),
    Right(
        "CURATED_SELECTION",
        "臻选推荐",
        "Three rare items picked for you each month.",
        _B,
        3,
        Period.MONTH,
    ),
    Right("LIMITED_EDITION_PRIORITY", "限量优先购", "First access to limited editions.", _B),
    Right("EVENT_PRIORITY", "活动优先", "Priority for offline events.", _B),
    Right("CUSTOM_PROVENANCE_REPORT", "定制溯源报告", "A custom provenance report.", _B),
)
_RIGHT_FIELDS = ("name", "description", "min_tier", "limit", "period")


def _right(code: str, spec: Mapping[str, Any], base: Right | None) -> Right:
    """A catalogue entry from configuration: a new right names every field but `limit` and
    `period` (countable rights give both); a known right changes only the fields given."""
    what = f"rights catalogue entry {code}"
    refuse_unknown(spec, _RIGHT_FIELDS, what)
    if base is None:
        missing = [name for name in ("name", "description", "min_tier") if name not in spec]
        if missing:
            raise ValueError(f"{what} is new, so it needs {', '.join(missing)}")
        base = Right(code, "", "", TierCode.NEW)
    changes: dict[str, Any] = {}
    for name in ("name", "description"):
        if name in spec:
            changes[name] = text(spec[name], f"{what}: {name}")
    if "min_tier" in spec:
        changes["min_tier"] = choice(spec["min_tier"], f"{what}: min_tier", TierCode)
    if "limit" in spec:
        limit = spec["limit"]
        changes["limit"] = None if limit is None else count(limit, f"{what}: limit", minimum=1)
    if "period" in spec:
        period = spec["period"]
        changes["period"] = None if period is None else choice(period, f"{what}: period", Period)
    right = replace(base, **changes)
    if (right.limit is None) != (right.period is None):
        raise ValueError(f"{what}: a countable right has both a limit and a period, or neither")
    return right


@dataclass(frozen=True)
class RightsRules:
    """The catalogue of rights; each applies from its `min_tier` up."""

    catalogue: tuple[Right, ...] = DEFAULT_CATALOGUE

    def rights_for(self, tier: TierCode) -> list[Right]:
        return [right for right in self.catalogue if right.min_tier.rank <= tier.rank]

    def by_code(self, code: str) -> Right | None:
        return next((right for right in self.catalogue if right.code == code), None)

    @classmethod
    def from_mapping(cls, values: Any) -> RightsRules:
        values = refuse_unknown(values, ("catalogue",), "rights")
        if "catalogue" not in values:
            return cls()
        catalogue = merge_catalogue(
            DEFAULT_CATALOGUE,
            values["catalogue"],
            "rights catalogue",
            code_of=lambda right: right.code,
            entry=_right,
        )
        for right in catalogue:
            if right.code in RECORDED_BY_EVENTS and right.limit is None:
                raise ValueError(
                    f"rights catalogue entry {right.code} is used up by events, so it needs "
                    "a limit and a period (remove it with null to switch it off)"
                )
        return cls(catalogue=catalogue)


def period_bounds(period: Period, day: date) -> tuple[date, date]:
    """First and last business date of the period containing `day`. A once-ever period
    is all of time, the same for every day: a use recorded in it is never given back."""
    if period is Period.ONCE:
        return date.min, date.max
    if period is Period.YEAR:
        return date(day.year, 1, 1), date(day.year, 12, 31)
    start = date(day.year, day.month, 1)
    return start, add_months(start, 1) - timedelta(days=1)


def check_birthday_month(code: str, birthday_month: int | None, today: date) -> None:
    """A birthday right is used in the member's birthday month only: refused without a
    birthday entered, or in another month."""
    if code not in BIRTHDAY_MONTH_ONLY:
        return
    if birthday_month is None:
        raise Forbidden(
            RightErrorCode.BIRTHDAY_NOT_SET,
            f"{code} needs the member's birthday; the member enters it in the app.",
        )
    if today.month != birthday_month:
        raise Forbidden(
            RightErrorCode.NOT_BIRTHDAY_MONTH,
            f"{code} is usable in the birthday month only (month {birthday_month}); "
            f"today is in month {today.month}.",
        )
