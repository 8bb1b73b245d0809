"""Badge rules: a milestone is a counter reaching a threshold (configurable)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from member_api.rules_data import choice, count, merge_catalogue, refuse_unknown, text


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


DEFAULT_BADGES: tuple[BadgeRule, ...] = (
    BadgeRule("FIRST_AUTHENTICATION", "初鉴 First authentication", Counter.AUTHENTICATIONS, 1),
    BadgeRule("AUTHENTICATIONS_10", "鉴定达人 10 authentications", Counter.AUTHENTICATIONS, 10),
    BadgeRule("STREAK_7", "连签7天 7-day streak", Counter.CHECK_IN_STREAK, 7),
    BadgeRule("STREAK_30", "连签30天 30-day streak", Counter.CHECK_IN_STREAK, 30),
    BadgeRule("POSTS_10", "社区达人 10 posts", Counter.POSTS, 10),
)

_BADGE_FIELDS = ("name", "counter", "threshold")


def _badge(code: str, spec: Mapping[str, Any], base: BadgeRule | None) -> BadgeRule:
    """A badge from configuration: a new one names every field; a known one changes only
    the fields given."""
    what = f"badges catalogue entry {code}"
    refuse_unknown(spec, _BADGE_FIELDS, what)
    if base is None:
        missing = [name for name in _BADGE_FIELDS if name not in spec]
        if missing:
            raise ValueError(f"{what} is new, so it needs {', '.join(missing)}")
        base = BadgeRule(code, "", Counter.POSTS, 1)
    changes: dict[str, Any] = {}
    if "name" in spec:
        changes["name"] = text(spec["name"], f"{what}: name")
    if "counter" in spec:
        changes["counter"] = choice(spec["counter"], f"{what}: counter", Counter)
    if "threshold" in spec:
        changes["threshold"] = count(spec["threshold"], f"{what}: threshold", minimum=1)
    return replace(base, **changes)


@dataclass(frozen=True)
class BadgeRules:
    catalogue: tuple[BadgeRule, ...] = DEFAULT_BADGES

    def reached(self, counter: Counter, value: int) -> list[str]:
        """Badge codes whose milestone `value` of `counter` has reached."""
        return [r.code for r in self.catalogue if r.counter is counter and value >= r.threshold]

    def name_of(self, code: str) -> str:
        """The badge's name; a badge no longer configured keeps its code as its name."""
        return next((r.name for r in self.catalogue if r.code == code), code)

    @classmethod
    def from_mapping(cls, values: Any) -> BadgeRules:
        values = refuse_unknown(values, ("catalogue",), "badges")
        if "catalogue" not in values:
            return cls()
        catalogue = merge_catalogue(
            DEFAULT_BADGES,
            values["catalogue"],
            "badges catalogue",
            code_of=lambda rule: rule.code,
            entry=_badge,
        )
        return cls(catalogue=catalogue)
