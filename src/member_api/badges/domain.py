"""Badge rules: a milestone is a counter reaching a threshold."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Counter(StrEnum):
    AUTHENTICATIONS = "AUTHENTICATIONS"
    CHECK_IN_STREAK = "CHECK_IN_STREAK"
    POSTS = "POSTS"


@dataclass(frozen=True)
class BadgeRule:
    code: str
    name: str
    counter: Counter
    threshold: int


RULES: tuple[BadgeRule, ...] = (
    BadgeRule("FIRST_AUTHENTICATION", "初鉴 First authentication", Counter.AUTHENTICATIONS, 1),
    BadgeRule("AUTHENTICATIONS_10", "鉴定达人 10 authentications", Counter.AUTHENTICATIONS, 10),
    BadgeRule("STREAK_7", "连签7天 7-day streak", Counter.CHECK_IN_STREAK, 7),
    BadgeRule("STREAK_30", "连签30天 30-day streak", Counter.CHECK_IN_STREAK, 30),
    BadgeRule("POSTS_10", "社区达人 10 posts", Counter.POSTS, 10),
)
NAMES = {rule.code: rule.name for rule in RULES}


def reached(counter: Counter, value: int) -> list[str]:
    """Badge codes whose milestone `value` of `counter` has reached."""
    return [r.code for r in RULES if r.counter is counter and value >= r.threshold]
