"""Attendance at offline events: it earns points later, and counts toward Diamond now."""

from __future__ import annotations

import uuid
from datetime import date

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from member_api.events.models import EventAttendance
from member_api.members.activity import bump_facts_version, mark_active
from member_api.points import service as points
from member_api.points.domain import Reason
from member_api.services import Services
from member_api.tiers import service as tiers


async def record_attendance(
    services: Services, *, member_id: uuid.UUID, event_ref: str, attended_on: date
) -> bool:
    """Record that the member attended; False when it was recorded already."""
    try:
        async with in_transaction():
            member = await tiers.lock_member(member_id)
            if await EventAttendance.filter(member_id=member_id, event_ref=event_ref).exists():
                return False
            await EventAttendance.create(
                member_id=member_id,
                event_ref=event_ref,
                attended_on=attended_on,
                recorded_at=services.clock.now(),
            )
            await mark_active(member_id, attended_on)
            await points.credit_activity(
                services,
                member_id=member_id,
                reason=Reason.EVENT,
                points=services.settings.points_rules.event_attendance_points,
                reference=f"attendance:{event_ref}",
            )
            await bump_facts_version(member_id)
            await tiers.upgrade_if_earned(services, member, reference=f"attendance:{event_ref}")
    except IntegrityError:
        return False
    return True
