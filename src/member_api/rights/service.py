"""Rights: what a member has, and staff recording the use of a countable right."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from tortoise.exceptions import IntegrityError

from member_api.errors import Conflict, Forbidden, InvalidInput, NotFound
from member_api.members.models import Member
from member_api.rights.domain import BY_CODE, Right, period_bounds, rights_for
from member_api.rights.models import RightUsage
from member_api.services import Services
from member_api.tiers.rules import TierCode
from member_api.tiers.service import today


@dataclass(frozen=True)
class Usage:
    used: int
    limit: int
    period_end: date


@dataclass(frozen=True)
class MemberRight:
    right: Right
    usage: Usage | None


async def member_rights(services: Services, member: Member) -> list[MemberRight]:
    rights = rights_for(TierCode(member.tier))
    day = today(services)
    countable = [r for r in rights if r.limit is not None and r.period is not None]
    used: dict[tuple[str, date], int] = {}
    if countable:
        starts = {period_bounds(r.period, day)[0] for r in countable if r.period}
        rows = await RightUsage.filter(
            member_id=member.id,
            right_code__in=[r.code for r in countable],
            period_start__in=list(starts),
        ).values_list("right_code", "period_start")
        for code, start in rows:
            used[(code, start)] = used.get((code, start), 0) + 1
    result = []
    for right in rights:
        usage = None
        if right.limit is not None and right.period is not None:
            start, end = period_bounds(right.period, day)
            usage = Usage(used=used.get((right.code, start), 0), limit=right.limit, period_end=end)
        result.append(MemberRight(right, usage))
    return result


async def record_right_use(
    services: Services, *, member_id: uuid.UUID, right_code: str, staff_id: uuid.UUID, note: str
) -> Usage:
    right = BY_CODE.get(right_code.strip().upper())
    if right is None:
        raise InvalidInput("UNKNOWN_RIGHT", f"No right {right_code!r}.", field="rightCode")
    if right.limit is None or right.period is None:
        raise InvalidInput(
            "RIGHT_NOT_COUNTABLE", f"{right.code} has no usage to record.", field="rightCode"
        )
    member = await Member.get_or_none(id=member_id)
    if member is None:
        raise NotFound("UNKNOWN_MEMBER", "No member has that id.")
    if TierCode(member.tier).rank < right.min_tier.rank:
        raise Forbidden("NOT_ENTITLED", f"{right.code} needs tier {right.min_tier.value}.")
    start, end = period_bounds(right.period, today(services))
    for _ in range(right.limit + 1):
        used = await RightUsage.filter(
            member_id=member.id, right_code=right.code, period_start=start
        ).count()
        if used >= right.limit:
            raise Conflict(
                "RIGHT_LIMIT_REACHED",
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
        return Usage(used=used + 1, limit=right.limit, period_end=end)
    raise Conflict("RIGHT_LIMIT_REACHED", f"{right.code} has no use left in this period.")
