"""Tier rules as data. Defaults are DOMAIN.md's; operators override them in a JSON file."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from member_api.rules_data import build, count, table


class TierCode(StrEnum):
    NEW = "NEW"
    SILVER = "SILVER"
    GOLD = "GOLD"
    DIAMOND = "DIAMOND"
    BLACK_DIAMOND = "BLACK_DIAMOND"

    @property
    def rank(self) -> int:
        return TIER_ORDER.index(self)

    def below(self) -> TierCode:
        return TIER_ORDER[max(self.rank - 1, 0)]

    def above(self) -> TierCode | None:
        return TIER_ORDER[self.rank + 1] if self.rank + 1 < len(TIER_ORDER) else None


TIER_ORDER: tuple[TierCode, ...] = tuple(TierCode)

TIER_NAMES: dict[TierCode, str] = {
    TierCode.NEW: "新客",
    TierCode.SILVER: "银卡",
    TierCode.GOLD: "金卡",
    TierCode.DIAMOND: "钻石",
    TierCode.BLACK_DIAMOND: "黑钻",
}


@dataclass(frozen=True)
class TierRules:
    """Thresholds in fen, counts, days and percent. `>=` unless the name says `above`."""

    silver_lifetime_spend_fen: int = 500_000
    silver_lifetime_orders: int = 3
    silver_active_days_per_month: int = 2
    silver_activity_months: int = 3

    gold_spend_12m_fen: int = 2_000_000
    gold_average_order_above_fen: int = 800_000
    gold_referrals: int = 1

    diamond_spend_12m_fen: int = 5_000_000
    diamond_active_weeks_percent: int = 90
    diamond_activity_weeks: int = 13
    diamond_events_12m: int = 2

    black_diamond_spend_12m_fen: int = 15_000_000

    trailing_months: int = 12
    observation_days: int = 30
    warning_days_before_review: int = 30
    review_months: tuple[int, ...] = (1, 4, 7, 10)

    # Price multiplier on the member's own purchases, in percent (90 = 10% off).
    discount_percent: dict[str, int] = field(
        default_factory=lambda: {
            "NEW": 100,
            "SILVER": 100,
            "GOLD": 90,
            "DIAMOND": 85,
            "BLACK_DIAMOND": 80,
        }
    )

    # Consignment commission, in percent of the sale price.
    commission_percent: dict[str, int] = field(
        default_factory=lambda: {
            "NEW": 15,
            "SILVER": 10,
            "GOLD": 10,
            "DIAMOND": 8,
            "BLACK_DIAMOND": 8,
        }
    )

    def discount_rate(self, tier: TierCode) -> float:
        return self.discount_percent.get(tier.value, 100) / 100

    def commission_rate(self, tier: TierCode) -> float:
        return self.commission_percent[tier.value] / 100

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> TierRules:
        defaults = cls()
        codes = [t.value for t in TierCode]

        def months(value: Any, name: str) -> tuple[int, ...]:
            if not isinstance(value, list) or not value:
                raise ValueError(f"{name} must list months 1..12")
            return tuple(count(v, name, minimum=1, maximum=12) for v in value)

        def discounts(value: Any, name: str) -> dict[str, int]:
            percents = defaults.discount_percent
            return table(value, name, codes, percents, minimum=1, maximum=100)

        def commissions(value: Any, name: str) -> dict[str, int]:
            return table(value, name, codes, defaults.commission_percent, maximum=100)

        parsers = {
            "review_months": months,
            "discount_percent": discounts,
            "commission_percent": commissions,
        }
        return build(cls, values, "tier", parsers)

    @classmethod
    def from_file(cls, path: str | None) -> TierRules:
        if not path:
            return cls()
        return cls.from_mapping(json.loads(Path(path).read_text(encoding="utf-8")))
