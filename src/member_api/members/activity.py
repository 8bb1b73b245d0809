"""Active days: any authenticated member action marks the business date as active."""

from __future__ import annotations

import uuid
from datetime import date

from tortoise.expressions import F

from member_api import freshness
from member_api.db import create_once
from member_api.members.models import ActivityDay, Member


async def was_active(member_id: uuid.UUID, day: date) -> bool:
    return await ActivityDay.filter(member_id=member_id, day=day).exists()


async def mark_active(member_id: uuid.UUID, day: date) -> bool:
    """Record `day` as active; True the first time (the tier facts changed)."""
    if await was_active(member_id, day):
        return False
    if not await create_once(ActivityDay, member_id=member_id, day=day):
        return False  # the same first action, twice at once
    await bump_facts_version(member_id)
    return True


async def bump_facts_version(member_id: uuid.UUID) -> None:
    await freshness.touch(freshness.member(member_id))
    await Member.filter(id=member_id).update(facts_version=F("facts_version") + 1)
