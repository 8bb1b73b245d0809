"""RFM scores and the key-retention tag: rules as data, compared in exact integers.

R comes from the days since the last purchase, F from the paid orders (not fully
refunded) in the trailing quarter, M from the average order value (net of refunds,
over the trailing months) against a reference value. Each is 1-5; band edges are
inclusive, as DOMAIN.md states them.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date
from enum import StrEnum
from typing import Any

from member_api.rules_data import build, count, parse_code

# Scores from the best band down: the first band a member reaches is the score.
BAND_SCORES: tuple[int, ...] = (5, 4, 3, 2)
LOWEST_SCORE = 1


class ScoreTag(StrEnum):
    KEY_RETENTION = "KEY_RETENTION"
    TREND_FOLLOWER = "TREND_FOLLOWER"  # 潮流追随者
    COLLECTOR = "COLLECTOR"  # 收藏家
    SOCIAL_BUTTERFLY = "SOCIAL_BUTTERFLY"  # 社交达人


@dataclass
class Facts:
    """One member's facts as of a business date (see intelligence/facts.py): windows are
    trailing days ending on that date; amounts in fen, net of refunds."""

    last_purchase_on: date | None = None
    last_active_on: date | None = None
    orders_30d: int = 0
    orders_90d: int = 0
    orders_prev_90d: int = 0
    orders_365d: int = 0
    spend_30d_fen: int = 0
    spend_90d_fen: int = 0
    spend_365d_fen: int = 0
    average_order_365d_fen: int = 0
    active_days_30d: int = 0
    active_days_90d: int = 0
    active_days_prev_90d: int = 0
    posts_90d: int = 0
    comments_90d: int = 0
    likes_90d: int = 0
    groups: int = 0
    favourites_90d: int = 0
    views_30d: int = 0
    views_90d: int = 0


FACT_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Facts))
# Facts a rule may compare with a whole number: the counts and amounts, and sums of them.
DERIVED_FACTS: dict[str, tuple[str, ...]] = {
    "community_actions_90d": ("posts_90d", "comments_90d", "likes_90d"),
}
NUMBER_FACTS: frozenset[str] = frozenset(
    {name for name in FACT_COLUMNS if not name.startswith("last_")} | set(DERIVED_FACTS)
)
COMPARISONS: dict[str, Callable[[int, int], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "=": operator.eq,
    "!=": operator.ne,
}


def fact_value(facts: Facts, name: str) -> int:
    parts = DERIVED_FACTS.get(name, (name,))
    return sum(int(getattr(facts, part)) for part in parts)


@dataclass(frozen=True)
class FactCondition:
    """`fact op value`, e.g. views_30d >= 20."""

    fact: str
    op: str
    value: int

    def holds(self, facts: Facts) -> bool:
        return COMPARISONS[self.op](fact_value(facts, self.fact), self.value)

    @classmethod
    def from_mapping(cls, values: Any, name: str) -> FactCondition:
        if not isinstance(values, dict) or set(values) != {"fact", "op", "value"}:
            raise ValueError(f"{name} must be an object of fact, op and value")
        fact, op = values["fact"], values["op"]
        if fact not in NUMBER_FACTS:
            raise ValueError(
                f"{name}: unknown fact {fact!r} (known: {', '.join(sorted(NUMBER_FACTS))})"
            )
        if op not in COMPARISONS:
            raise ValueError(f"{name}: op must be one of {', '.join(COMPARISONS)}, got {op!r}")
        return cls(fact, op, count(values["value"], f"{name} value"))


@dataclass(frozen=True)
class PersonaRule:
    """A persona tag given to a member whose facts meet every condition."""

    code: str
    conditions: tuple[FactCondition, ...]

    def holds(self, facts: Facts) -> bool:
        return all(condition.holds(facts) for condition in self.conditions)


def _condition(fact: str, op: str, value: int) -> FactCondition:
    return FactCondition(fact, op, value)


DEFAULT_PERSONAS: tuple[PersonaRule, ...] = (
    # Many views, few orders.
    PersonaRule(
        ScoreTag.TREND_FOLLOWER.value,
        (_condition("views_30d", ">=", 30), _condition("orders_90d", "<=", 1)),
    ),
    # A high average order (three times the reference value), bought rarely.
    PersonaRule(
        ScoreTag.COLLECTOR.value,
        (
            _condition("average_order_365d_fen", ">=", 1_200_000),
            _condition("orders_365d", ">=", 1),
            _condition("orders_365d", "<=", 3),
        ),
    ),
    # Active in the community, little spend.
    PersonaRule(
        ScoreTag.SOCIAL_BUTTERFLY.value,
        (
            _condition("community_actions_90d", ">=", 20),
            _condition("spend_365d_fen", "<", 400_000),
        ),
    ),
)


def parse_personas(value: Any, name: str) -> tuple[PersonaRule, ...]:
    if not isinstance(value, list):
        raise ValueError(f"{name} must be a list of {{code, all: [conditions]}}")
    rules: list[PersonaRule] = []
    for n, item in enumerate(value):
        label = f"{name}[{n}]"
        if not isinstance(item, dict) or set(item) != {"code", "all"}:
            raise ValueError(f"{label} must be an object of code and all")
        code = parse_code(item["code"], f"{label} code")
        if code == ScoreTag.KEY_RETENTION.value or code in {r.code for r in rules}:
            raise ValueError(f"{label}: the code {code} is taken")
        conditions = item["all"]
        if not isinstance(conditions, list) or not conditions:
            raise ValueError(f"{label} all must list at least one condition")
        rules.append(
            PersonaRule(
                code,
                tuple(
                    FactCondition.from_mapping(c, f"{label} all[{i}]")
                    for i, c in enumerate(conditions)
                ),
            )
        )
    return tuple(rules)


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
    personas: tuple[PersonaRule, ...] = DEFAULT_PERSONAS

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
            "personas": parse_personas,
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


def tags_of(
    r: int, f: int, m: int, rules: ScoreRules, facts: Facts | None = None
) -> tuple[str, ...]:
    """KEY_RETENTION from the scores, then each persona whose rule the facts meet (none
    without facts of the same date)."""
    key = (
        r >= rules.key_retention_min_r
        and f >= rules.key_retention_min_f
        and m >= rules.key_retention_min_m
    )
    tags = [ScoreTag.KEY_RETENTION.value] if key else []
    if facts is not None:
        tags += [persona.code for persona in rules.personas if persona.holds(facts)]
    return tuple(tags)


def scores_of(
    days_since_last: int | None,
    quarter_orders: int,
    window_net_fen: int,
    window_orders: int,
    rules: ScoreRules,
    facts: Facts | None = None,
) -> Scores:
    r = recency_score(days_since_last, rules)
    f = frequency_score(quarter_orders, rules)
    m = monetary_score(window_net_fen, window_orders, rules)
    return Scores(r, f, m, tags_of(r, f, m, rules, facts))
