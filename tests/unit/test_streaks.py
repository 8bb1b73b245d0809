"""Streaks at their edges: breaks, month ends, leap days."""

from __future__ import annotations

from datetime import date

import pytest

from member_api.checkin.domain import current_streak, next_streak


@pytest.mark.parametrize(
    ("last", "streak", "today", "expected"),
    [
        (None, 0, date(2026, 11, 23), 1),
        (date(2026, 11, 22), 4, date(2026, 11, 23), 5),
        (date(2026, 11, 21), 4, date(2026, 11, 23), 1),  # a missed day breaks it
        (date(2026, 10, 31), 9, date(2026, 11, 1), 10),  # month end
        (date(2026, 12, 31), 2, date(2027, 1, 1), 3),  # year end
        (date(2028, 2, 28), 6, date(2028, 2, 29), 7),  # leap day
        (date(2028, 2, 29), 7, date(2028, 3, 1), 8),
        (date(2027, 2, 28), 3, date(2027, 3, 1), 4),  # no leap day that year
    ],
)
def test_next_streak(last: date | None, streak: int, today: date, expected: int) -> None:
    assert next_streak(last, streak, today) == expected


def test_the_streak_shown_survives_until_a_day_is_missed() -> None:
    assert current_streak(date(2026, 11, 23), 5, date(2026, 11, 23)) == 5
    assert current_streak(date(2026, 11, 22), 5, date(2026, 11, 23)) == 5
    assert current_streak(date(2026, 11, 21), 5, date(2026, 11, 23)) == 0
    assert current_streak(None, 0, date(2026, 11, 23)) == 0
