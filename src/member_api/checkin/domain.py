"""Streaks: consecutive business dates with a check-in."""

from __future__ import annotations

from datetime import date, timedelta


def next_streak(last_day: date | None, last_streak: int, today: date) -> int:
    """The streak after checking in `today`, given the latest earlier check-in."""
    if last_day is not None and last_day == today - timedelta(days=1):
        return last_streak + 1
    return 1


def current_streak(last_day: date | None, last_streak: int, today: date) -> int:
    """The streak shown today: alive if the last check-in was today or yesterday."""
    if last_day is not None and today - last_day <= timedelta(days=1):
        return last_streak
    return 0
