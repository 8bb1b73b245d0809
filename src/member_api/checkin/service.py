"""Checking in: once a business day (the database says so), points as configured, a streak."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import cast

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from member_api.badges import service as badges
from member_api.badges.domain import Counter
from member_api.business_calendar import add_months, business_date
from member_api.checkin import domain
from member_api.checkin.models import CheckIn
from member_api.error_codes import CheckInErrorCode
from member_api.errors import Conflict, InvalidInput
from member_api.points import service as points
from member_api.points.domain import Reason
from member_api.services import Services
from member_api.tasks import service as tasks
from member_api.tasks.domain import Action


@dataclass(frozen=True)
class CheckInResult:
    points_awarded: int
    streak: int


def _already() -> Conflict:
    return Conflict(CheckInErrorCode.ALREADY_CHECKED_IN, "You have checked in today already.")


async def check_in(services: Services, *, member_id: uuid.UUID) -> CheckInResult:
    today = business_date(services.clock.now())
    if await CheckIn.filter(member_id=member_id, day=today).exists():
        raise _already()
    reward = services.settings.points_rules.check_in_points
    try:
        async with in_transaction():
            last = await CheckIn.filter(member_id=member_id, day__lt=today).order_by("-day").first()
            streak = domain.next_streak(
                last.day if last else None, last.streak if last else 0, today
            )
            # The unique key (member, day) is what makes a second check-in impossible,
            # even when twenty arrive at once; the points go in the same transaction.
            await CheckIn.create(
                member_id=member_id,
                day=today,
                streak=streak,
                points=reward,
                created_at=services.clock.now(),
            )
            await tasks.record(
                services, member_id=member_id, action=Action.CHECK_IN, reference=today.isoformat()
            )
            await points.credit_activity(
                services,
                member_id=member_id,
                reason=Reason.CHECK_IN,
                points=reward,
                reference=f"check-in:{today.isoformat()}",
            )
            await badges.award_reached(
                services, member_id, Counter.CHECK_IN_STREAK, streak, at=services.clock.now()
            )
    except IntegrityError as exc:
        raise _already() from exc
    return CheckInResult(points_awarded=reward, streak=streak)


@dataclass(frozen=True)
class CheckInStatus:
    checked_in_today: bool
    streak: int


async def status(services: Services, member_id: uuid.UUID) -> CheckInStatus:
    today = business_date(services.clock.now())
    last = await CheckIn.filter(member_id=member_id, day__lte=today).order_by("-day").first()
    return CheckInStatus(
        checked_in_today=last is not None and last.day == today,
        streak=domain.current_streak(last.day if last else None, last.streak if last else 0, today),
    )


def parse_month(value: str) -> date:
    try:
        year, month = (int(part) for part in value.split("-"))
        return date(year, month, 1)
    except ValueError as exc:
        raise InvalidInput(
            CheckInErrorCode.INVALID_MONTH, "Give the month as YYYY-MM.", field="month"
        ) from exc


async def calendar(member_id: uuid.UUID, month: date) -> list[date]:
    days = (
        await CheckIn.filter(member_id=member_id, day__gte=month, day__lt=add_months(month, 1))
        .order_by("day")
        .values_list("day", flat=True)
    )
    return cast(list[date], days)
