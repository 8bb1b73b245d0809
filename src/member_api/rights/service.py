"""Rights: what a member has, staff recording the use of a countable right, and the uses
that events record themselves (the first authentication)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from tortoise.exceptions import IntegrityError

from member_api.business_calendar import business_date, business_today
from member_api.db import create_once
from member_api.error_codes import RightErrorCode
from member_api.errors import Conflict, Forbidden, InvalidInput, NotFound
from member_api.members.models import Member
from member_api.rights.domain import (
    RECORDED_BY_EVENTS,
    Period,
    Right,
    check_birthday_month,
    period_bounds,
)
from member_api.rights.models import RightUsage
from member_api.services import Services
from member_api.tiers.rules import TierCode


@dataclass(frozen=True)
class Usage:
    used: int
    limit: int
    period: Period
    period_end: date


@dataclass(frozen=True)
class MemberRight:
    right: Right
    usage: Usage | None


@dataclass(frozen=True)
class Counted:
    """The rights of a tier on a day, and which uses of them count: the countable rights'
    codes and the first days of their current periods."""

    rights: list[Right]
    day: date
    codes: list[str]
    starts: list[date]


def counted_rights(services: Services, tier: TierCode) -> Counted:
    rights = services.settings.rights_rules.rights_for(tier)
    day = business_today(services.clock)
    countable = [r for r in rights if r.limit is not None and r.period is not None]
    starts = sorted({period_bounds(r.period, day)[0] for r in countable if r.period})
    return Counted(rights, day, [r.code for r in countable], starts)


def with_usage(counted: Counted, used: dict[tuple[str, date], int]) -> list[MemberRight]:
    """Each right with its usage, `used` counting uses by (code, period start)."""
    result = []
    for right in counted.rights:
        usage = None
        if right.limit is not None and right.period is not None:
            start, end = period_bounds(right.period, counted.day)
            usage = Usage(
                used=used.get((right.code, start), 0),
                limit=right.limit,
                period=right.period,
                period_end=end,
            )
        result.append(MemberRight(right, usage))
    return result


async def member_rights(services: Services, member: Member) -> list[MemberRight]:
    counted = counted_rights(services, TierCode(member.tier))
    used: dict[tuple[str, date], int] = {}
    if counted.codes:
        rows = await RightUsage.filter(
            member_id=member.id,
            right_code__in=counted.codes,
            period_start__in=counted.starts,
        ).values_list("right_code", "period_start")
        for code, start in rows:
            used[(code, start)] = used.get((code, start), 0) + 1
    return with_usage(counted, used)


async def record_right_use(
    services: Services, *, member_id: uuid.UUID, right_code: str, staff_id: uuid.UUID, note: str
) -> Usage:
    right = services.settings.rights_rules.by_code(right_code.strip().upper())
    if right is None:
        raise InvalidInput(
            RightErrorCode.UNKNOWN_RIGHT, f"No right {right_code!r}.", field="rightCode"
        )
    if right.limit is None or right.period is None:
        raise InvalidInput(
            RightErrorCode.RIGHT_NOT_COUNTABLE,
            f"{right.code} has no usage to record.",
            field="rightCode",
        )
    member = await Member.get_or_none(id=member_id)
    if member is None:
        raise NotFound(RightErrorCode.UNKNOWN_MEMBER, "No member has that id.")
    if TierCode(member.tier).rank < right.min_tier.rank:
        raise Forbidden(
            RightErrorCode.NOT_ENTITLED, f"{right.code} needs tier {right.min_tier.value}."
        )
    today = business_today(services.clock)
    check_birthday_month(right.code, member.birthday_month, today)
    start, end = period_bounds(right.period, today)
    if right.code in RECORDED_BY_EVENTS:
        await _refuse_staff_use(member, right, start, end)
    for _ in range(right.limit + 1):
        used = await RightUsage.filter(
            member_id=member.id, right_code=right.code, period_start=start
        ).count()
        if used >= right.limit:
            raise Conflict(
                RightErrorCode.RIGHT_LIMIT_REACHED,
                f"{right.code} was used {used} of {right.limit} time(s) until {end}.",
            )
        try:
            await RightUsage.create(
                member_id=member.id,
                right_code=right.code,
                period_start=start,
                sequence=used + 1,  # unique per period: two concurrent uses cannot share it
                used_at=services.clock.now(),
                staff_id=staff_id,
                note=note[:500],
            )
        except IntegrityError:
            continue  # someone else took this slot; count again
        return Usage(used=used + 1, limit=right.limit, period=right.period, period_end=end)
    raise Conflict(
        RightErrorCode.RIGHT_LIMIT_REACHED, f"{right.code} has no use left in this period."
    )


async def _refuse_staff_use(member: Member, right: Right, start: date, end: date) -> None:
    """A right that events use up is never recorded by staff: used, it is exhausted like
    any other; unused, it waits for the event (recording it now would spend it early)."""
    used = await RightUsage.filter(
        member_id=member.id, right_code=right.code, period_start=start
    ).count()
    if right.limit is not None and used >= right.limit:
        raise Conflict(
            RightErrorCode.RIGHT_LIMIT_REACHED,
            f"{right.code} was used {used} of {right.limit} time(s) until {end}.",
        )
    raise InvalidInput(
        RightErrorCode.RIGHT_RECORDED_AUTOMATICALLY,
        f"{right.code} is recorded when the commerce systems report the event that uses it.",
        field="rightCode",
    )


async def use_on_event(
    services: Services, member: Member, *, right_code: str, at: datetime, reference: str
) -> bool:
    """Inside an event's transaction: use one slot of `right_code` for the member, if the
    member holds the right and a slot of the event's period is left. Each slot is a row
    under the unique key (member, right, period, sequence), so an event replayed or
    arriving beside another can never take a slot twice; False when none was taken."""
    right = services.settings.rights_rules.by_code(right_code)
    if right is None or right.limit is None or right.period is None:
        return False
    if TierCode(member.tier).rank < right.min_tier.rank:
        return False
    try:
        check_birthday_month(right.code, member.birthday_month, business_date(at))
    except Forbidden:
        return False
    start, _ = period_bounds(right.period, business_date(at))
    for sequence in range(1, right.limit + 1):
        taken = await create_once(
            RightUsage,
            member_id=member.id,
            right_code=right.code,
            period_start=start,
            sequence=sequence,
            used_at=at,
            staff_id=None,
            note=f"event {reference}"[:500],
        )
        if taken:
            return True
    return False
