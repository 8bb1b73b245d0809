"""Tier rules as data. Defaults are DOMAIN.md's; operators override them in a JSON file."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any


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

    def discount_rate(self, tier: TierCode) -> float:
        return self.discount_percent.get(tier.value, 100) / 100

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> TierRules:
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown tier rule(s): {', '.join(unknown)}")
        cleaned: dict[str, Any] = {}
        for name, value in values.items():
            if name == "review_months":
                cleaned[name] = tuple(int(v) for v in value)
            elif name == "discount_percent":
                percents = {str(k): int(v) for k, v in value.items()}
                if set(percents) - {t.value for t in TierCode} or any(
                    not 0 < v <= 100 for v in percents.values()
                ):
                    raise ValueError("discount_percent: tier codes to percents in 1..100")
                cleaned[name] = {**cls().discount_percent, **percents}
            elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"tier rule {name} must be a non-negative integer")
            else:
                cleaned[name] = value
        rules = cls(**cleaned)
        if not rules.review_months or any(m < 1 or m > 12 for m in rules.review_months):
            raise ValueError("review_months must list months 1..12")
        return rules

    @classmethod
    def from_file(cls, path: str | None) -> TierRules:
        if not path:
            return cls()
        return cls.from_mapping(json.loads(Path(path).read_text(encoding="utf-8")))
