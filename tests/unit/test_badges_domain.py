"""Badges: a milestone is reached when its counter reaches the threshold."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from member_api.badges.domain import BadgeRules, Counter

DEFAULTS = BadgeRules()
RULES = DEFAULTS.catalogue
NAMES = {rule.code: DEFAULTS.name_of(rule.code) for rule in RULES}
reached = DEFAULTS.reached


@pytest.mark.parametrize(
    ("counter", "value", "badges"),
    [
        (Counter.AUTHENTICATIONS, 0, []),
        (Counter.AUTHENTICATIONS, 1, ["FIRST_AUTHENTICATION"]),
        (Counter.AUTHENTICATIONS, 9, ["FIRST_AUTHENTICATION"]),
        (Counter.AUTHENTICATIONS, 10, ["FIRST_AUTHENTICATION", "AUTHENTICATIONS_10"]),
        (Counter.AUTHENTICATIONS, 11, ["FIRST_AUTHENTICATION", "AUTHENTICATIONS_10"]),
        (Counter.CHECK_IN_STREAK, 6, []),
        (Counter.CHECK_IN_STREAK, 7, ["STREAK_7"]),
        (Counter.CHECK_IN_STREAK, 29, ["STREAK_7"]),
        (Counter.CHECK_IN_STREAK, 30, ["STREAK_7", "STREAK_30"]),
        (Counter.CHECK_IN_STREAK, 31, ["STREAK_7", "STREAK_30"]),
        (Counter.POSTS, 9, []),
        (Counter.POSTS, 10, ["POSTS_10"]),
        (Counter.POSTS, 11, ["POSTS_10"]),
    ],
)
def test_a_badge_is_reached_at_its_threshold_and_not_one_below(
    counter: Counter, value: int, badges: list[str]
) -> None:
    assert reached(counter, value) == badges


def test_ten_authentications_is_a_milestone() -> None:
    assert "AUTHENTICATIONS_10" in reached(Counter.AUTHENTICATIONS, 10)
    assert "AUTHENTICATIONS_10" not in reached(Counter.AUTHENTICATIONS, 9)


def test_a_counter_only_reaches_its_own_badges() -> None:
    assert reached(Counter.POSTS, 1_000) == ["POSTS_10"]
    assert "POSTS_10" not in reached(Counter.AUTHENTICATIONS, 1_000)
    assert "POSTS_10" not in reached(Counter.CHECK_IN_STREAK, 1_000)


@pytest.mark.parametrize("value", [0, -1, -100])
def test_no_badge_at_zero_or_below(value: int) -> None:
    assert all(reached(counter, value) == [] for counter in Counter)


def test_an_unknown_counter_is_refused() -> None:
    with pytest.raises(ValueError, match="LIKES"):
        Counter("LIKES")


def test_every_badge_has_a_unique_code_and_a_name() -> None:
    codes = [rule.code for rule in RULES]
    assert len(set(codes)) == len(codes)
    assert set(NAMES) == set(codes)
    assert all(name.strip() for name in NAMES.values())
    assert all(rule.threshold >= 1 for rule in RULES)


@given(st.sampled_from(list(Counter)), st.integers(min_value=-5, max_value=100))
def test_reaching_more_never_loses_a_badge(counter: Counter, value: int) -> None:
    now, later = reached(counter, value), reached(counter, value + 1)
    assert set(now) <= set(later)
    due = [rule.code for rule in RULES if rule.counter is counter and rule.threshold <= value]
    assert now == due
