"""Awarding badges when a counter moves (inside the transaction that moved it)."""

from __future__ import annotations

import uuid
from datetime import datetime

from member_api.badges import domain
from member_api.badges.models import Badge
from member_api.notifications.service import notify
from member_api.services import Services


async def award_reached(
    services: Services, member_id: uuid.UUID, counter: domain.Counter, value: int, *, at: datetime
) -> list[str]:
    """Award every badge the new value reaches that the member lacks; returns new codes."""
    rules = services.settings.badge_rules
    codes = rules.reached(counter, value)
    if not codes:
        return []
    rows = await Badge.filter(member_id=member_id, code__in=codes).values_list("code", flat=True)
    held = {str(code) for code in rows}
    new = [code for code in codes if code not in held]
    for code in new:
        await Badge.create(member_id=member_id, code=code, earned_at=at)
        await notify(
            member_id=member_id,
            kind="BADGE",
            title=f"New badge: {rules.name_of(code)}",
            body=f"You earned the badge {rules.name_of(code)}.",
            at=at,
            dedupe_key=f"badge:{code}",
        )
    return new
