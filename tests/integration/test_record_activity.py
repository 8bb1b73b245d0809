"""A member's first action of a day: the active day, the facts version and the upgrade
check commit together, so a failure part-way through is made good by the next action."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from member_api.clock import FrozenClock
from member_api.members import activity
from member_api.members.models import ActivityDay, Member
from member_api.services import Services
from member_api.tiers.models import TierChange
from member_api.tiers.service import record_activity, today
from tests.commerce_support import new_member, paid, send_event


@pytest.fixture
def clock() -> FrozenClock:
    """Mid-month, so the next day is in the month the member joined."""
    return FrozenClock(datetime(2026, 11, 18, 4, 0, tzinfo=UTC))


async def test_record_activity_after_a_failed_version_bump_does_everything(
    client: httpx.AsyncClient, app: Any, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    services: Services = app.state.services
    member_id, _ = await new_member(client, "13900000001")
    response = await send_event(client, clock, paid(member_id, 5_000, at=clock.now()))
    assert response.status_code == 200, response.text
    member = await Member.get(id=member_id)
    assert member.tier == "NEW"  # the spend is there; one active day a month is not enough
    clock.advance(timedelta(days=1))  # the second active day of the month earns Silver
    day = today(services)
    bump = activity.bump_facts_version

    async def fail_once(member_id: uuid.UUID) -> None:
        monkeypatch.setattr(activity, "bump_facts_version", bump)
        raise ConnectionError("the database went away")

    monkeypatch.setattr(activity, "bump_facts_version", fail_once)
    with pytest.raises(ConnectionError):
        await record_activity(services, member.id)
    assert not await ActivityDay.exists(member_id=member.id, day=day)
    assert (member.id, day) not in services.active_days
    assert (await Member.get(id=member.id)).facts_version == member.facts_version

    await record_activity(services, member.id)
    assert await ActivityDay.exists(member_id=member.id, day=day)
    after = await Member.get(id=member.id)
    assert after.tier == "SILVER"
    assert after.facts_version > member.facts_version
    change = await TierChange.get(member_id=member.id, to_tier="SILVER")
    assert change.reference == f"activity:{day.isoformat()}"
