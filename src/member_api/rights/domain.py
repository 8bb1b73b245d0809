"""The rights catalogue by tier (DOMAIN.md) and the periods of countable rights."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from member_api.tiers.domain import add_months
from member_api.tiers.rules import TierCode


class Period(StrEnum):
    YEAR = "YEAR"
    MONTH = "MONTH"


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

CATALOGUE: tuple[Right, ...] = (
    Right("AUTHENTICITY_GUARANTEE", "正品保障", "Every item is authenticated before sale.", _ALL),
    Right("FREE_PACKAGING", "免费包装", "Gift packaging at no charge.", _ALL),
    Right("NO_REASON_RETURN_7D", "7天无理由退货", "Return within 7 days, no reason needed.", _ALL),
    Right("PRIORITY_AUTHENTICATION", "优先鉴定", "Authentication within 48 hours.", _S),
    Right(
        "BIRTHDAY_DISCOUNT", "生日月9折", "10% off once in your birthday month.", _S, 1, Period.YEAR
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
BY_CODE = {right.code: right for right in CATALOGUE}

# Consignment commission by tier, in percent of the sale price.
COMMISSION_PERCENT = {_ALL: 15, _S: 10, _G: 10, _D: 8, _B: 8}


def rights_for(tier: TierCode) -> list[Right]:
    return [right for right in CATALOGUE if right.min_tier.rank <= tier.rank]


def period_bounds(period: Period, day: date) -> tuple[date, date]:
    """First and last business date of the period containing `day`."""
    if period is Period.YEAR:
        return date(day.year, 1, 1), date(day.year, 12, 31)
    start = date(day.year, day.month, 1)
    return start, add_months(start, 1) - timedelta(days=1)
