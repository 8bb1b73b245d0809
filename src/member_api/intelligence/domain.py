"""RFM scores and the key-retention tag: rules as data, compared in exact integers.

R comes from the days since the last purchase, F from the paid orders (not fully
refunded) in the trailing quarter, M from the average order value (net of refunds,
over the trailing months) against a reference value. Each is 1-5; band edges are
inclusive, as DOMAIN.md states them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from member_api.rules_data import build, count

# Scores from the best band down: the first band a member reaches is the score.
BAND_SCORES: tuple[int, ...] = (5, 4, 3, 2)
LOWEST_SCORE = 1


class ScoreTag(StrEnum):
    KEY_RETENTION = "KEY_RETENTION"


@dataclass(frozen=True)
class ScoreRules:
    """Bands of R5, R4, R3 and R2 (days at most), F5..F2 (orders at least) and M5..M2
    (multiples of the reference order value at least); below the last band scores 1."""

    recency_days: tuple[int, ...] = (15, 30, 90, 180)
    frequency_orders: tuple[int, ...] = (6, 4, 3, 2)
    frequency_window_days: int = 90
    monetary_multiples: tuple[int, ...] = (5, 4, 3, 2)
    monetary_window_months: int = 12
    reference_order_fen: int = 400_000
    key_retention_min_r: int = 4
    key_retention_min_f: int = 3
    key_retention_min_m: int = 2
    # Brand and category affinity: an order line or favourite this many days old
    # weighs half as much as one of today.
    affinity_half_life_days: int = 90

    @classmethod
    def from_mapping(cls, values: Any) -> ScoreRules:
        def bands(rising: bool, minimum: int) -> Any:
            def parse(value: Any, name: str) -> tuple[int, ...]:
                if not isinstance(value, list) or len(value) != len(BAND_SCORES):
                    raise ValueError(f"{name} must list {len(BAND_SCORES)} bands (5, 4, 3, 2)")
                numbers = tuple(count(v, name, minimum=minimum) for v in value)
                pairs = list(itertools.pairwise(numbers))
                ordered = all(a < b for a, b in pairs) if rising else all(a > b for a, b in pairs)
                if not ordered:
                    order = "rising" if rising else "falling"
                    raise ValueError(f"{name} must be strictly {order}, got {list(numbers)}")
                return numbers

            return parse

        def score(value: Any, name: str) -> int:
            return count(value, name, minimum=1, maximum=5)

        def positive(value: Any, name: str) -> int:
            return count(value, name, minimum=1)

        parsers = {
            "recency_days": bands(True, 0),
            "frequency_orders": bands(False, 1),
            "monetary_multiples": bands(False, 1),
            "frequency_window_days": positive,
            "monetary_window_months": positive,
            "reference_order_fen": positive,
            "affinity_half_life_days": positive,
            "key_retention_min_r": score,
            "key_retention_min_f": score,
            "key_retention_min_m": score,
        }
        return build(cls, values, "scores", parsers)


@dataclass(frozen=True)
class Scores:
    r: int
    f: int
    m: int
    tags: tuple[str, ...]


def recency_score(days_since_last: int | None, rules: ScoreRules) -> int:
    """R: 5 within the first band of days; no purchase ever scores 1."""
    if days_since_last is None:
        return LOWEST_SCORE
    for score, most in zip(BAND_SCORES, rules.recency_days, strict=True):
        if days_since_last <= most:
            return score
    return LOWEST_SCORE


def frequency_score(orders: int, rules: ScoreRules) -> int:
    """F: paid orders (not fully refunded) in the trailing window."""
    for score, least in zip(BAND_SCORES, rules.frequency_orders, strict=True):
        if orders >= least:
            return score
    return LOWEST_SCORE


def monetary_score(net_fen: int, orders: int, rules: ScoreRules) -> int:
    """M: the average order value (net_fen / orders) against multiples of the reference,
    compared as net_fen >= multiple * reference * orders (exact, no division)."""
    if orders <= 0:
        return LOWEST_SCORE
    for score, multiple in zip(BAND_SCORES, rules.monetary_multiples, strict=True):
        if net_fen >= multiple * rules.reference_order_fen * orders:
            return score
    return LOWEST_SCORE


def tags_of(r: int, f: int, m: int, rules: ScoreRules) -> tuple[str, ...]:
    key = (
        r >= rules.key_retention_min_r
        and f >= rules.key_retention_min_f
        and m >= rules.key_retention_min_m
    )
    return (ScoreTag.KEY_RETENTION.value,) if key else ()


def scores_of(
    days_since_last: int | None,
    quarter_orders: int,
    window_net_fen: int,
    window_orders: int,
    rules: ScoreRules,
) -> Scores:
    r = recency_score(days_since_last, rules)
    f = frequency_score(quarter_orders, rules)
    m = monetary_score(window_net_fen, window_orders, rules)
    return Scores(r, f, m, tags_of(r, f, m, rules))
