"""The business calendar: dates as the business counts them, in its own zone."""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta

from member_api.clock import BUSINESS_ZONE, Clock


def business_date(moment: datetime) -> date:
    return moment.astimezone(BUSINESS_ZONE).date()


def business_today(clock: Clock) -> date:
    return business_date(clock.now())


def start_of_business_day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=BUSINESS_ZONE)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def trailing_window_start(as_of: date, months: int) -> date:
    """First business date of the trailing window that ends on `as_of` (inclusive)."""
    return add_months(as_of, -months) + timedelta(days=1)
