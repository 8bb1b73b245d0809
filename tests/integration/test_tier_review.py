"""The quarterly review and its warnings: idempotent, resumable, one tier down at most."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
import pytest

from member_api.clock import BUSINESS_ZONE, FrozenClock
from member_api.commerce.domain import parse_event
from member_api.commerce.service import apply_event
from member_api.events.models import EventAttendance
from member_api.members.models import ActivityDay, Member
from member_api.notifications.models import Notification
from member_api.outbox.models import OutboxMessage
from member_api.services import Services
from member_api.tiers import review
from member_api.tiers.domain import tier_after_review
from member_api.tiers.facts import load_facts
from member_api.tiers.models import TierChange, TierReview, TierReviewResult
from member_api.tiers.rules import TierCode
from member_api.tiers.service import invite_to_black_diamond
from tests.commerce_support import new_member, paid

# Everything happens on fixed dates, so the windows do not depend on today's date.
START = datetime(2025, 5, 20, 4, 0, tzinfo=UTC)  # Tuesday, noon in Shanghai
REVIEW = date(2025, 7, 1)  # the first review after START
AS_OF = REVIEW - timedelta(days=1)  # the date the review looks at
AFTER_REVIEW = datetime(2025, 7, 1, 2, 0, tzinfo=UTC)  # 10:00 on the review date
NEXT_REVIEW = date(2025, 10, 1)


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=BUSINESS_ZONE)


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


class Scenario:
    """Members set up through the API, commerce events and stored facts."""

    def __init__(self, app: Any, client: httpx.AsyncClient, clock: FrozenClock) -> None:
        self.services: Services = app.state.services
        self.client = client
        self.clock = clock
        self.phones = iter(range(13900000000, 13900010000))
        clock.set(START)

    async def member(self) -> str:
        member_id, _ = await new_member(self.client, str(next(self.phones)))
        return member_id

    async def pay(self, member_id: str, amount_yuan: int, on: date) -> None:
        event = parse_event(paid(member_id, amount_yuan, at=noon(on)), now=noon(on))
        assert await apply_event(self.services, event, source="test") == "applied"

    async def active(self, member_id: str, on: list[date]) -> None:
        await ActivityDay.bulk_create([ActivityDay(member_id=member_id, day=d) for d in on])

    async def force_tier(self, member_id: str, tier: TierCode) -> None:
        # Set-up only: the scenario needs a starting tier without earning it.
        await Member.filter(id=member_id).update(tier=tier.value)

    async def tier(self, member_id: str) -> TierCode:
        return TierCode((await Member.get(id=member_id)).tier)

    async def silver(self) -> str:
        """Three orders on three days of the joining month: Silver on the third."""
        member_id = await self.member()
        for day in (18, 19, 20):
            await self.pay(member_id, 500, date(2025, 5, day))
        return member_id

    async def gold(self) -> str:
        """27,000 yuan in May 2024 (leaving the 12 months by June 2025), one referral."""
        member_id = await self.member()
        code = (await Member.get(id=member_id)).referral_code
        referee_id, _ = await new_member(self.client, str(next(self.phones)), referralCode=code)
        await self.pay(referee_id, 100, date(2025, 5, 20))
        for _ in range(3):
            await self.pay(member_id, 9_000, date(2024, 5, 25))
        return member_id

    async def diamond(self, *, active_until_review: bool) -> str:
        """Two offline events, 60,000 yuan; active every day to the review, or not."""
        member_id = await self.member()
        for n, day in enumerate((date(2025, 3, 1), date(2025, 4, 12))):
            await EventAttendance.create(
                member_id=member_id, event_ref=f"meetup-{n}", attended_on=day, recorded_at=START
            )
        if active_until_review:
            await self.active(member_id, days(date(2025, 5, 21), AS_OF))
        await self.pay(member_id, 30_000, date(2025, 5, 19))
        await self.pay(member_id, 30_000, date(2025, 5, 20))
        return member_id

    async def expected_after_review(self, member_ids: list[str]) -> dict[str, TierCode]:
        """What the pure rules say, on facts loaded before the review runs."""
        rules = self.services.settings.tier_rules
        expected = {}
        for member_id in member_ids:
            member = await Member.get(id=member_id)
            facts = await load_facts(member, AS_OF, rules)
            expected[member_id] = tier_after_review(TierCode(member.tier), facts, rules)
        return expected

    async def state(self) -> dict[str, Any]:
        members = await Member.all().order_by("id").values_list("id", "tier")
        return {
            "tiers": {str(m): t for m, t in members},
            "tier_changes": await TierChange.all().count(),
            "results": await TierReviewResult.all().count(),
            "notifications": await Notification.all().count(),
        }


@pytest.fixture
def scenario(app: Any, client: httpx.AsyncClient, clock: FrozenClock) -> Scenario:
    return Scenario(app, client, clock)


async def test_review_run_twice_ends_as_one_run(scenario: Scenario) -> None:
    newbie = await scenario.member()
    silver = await scenario.silver()
    await scenario.active(silver, [date(2025, 6, 2), date(2025, 6, 3)])
    gold = await scenario.gold()
    diamond = await scenario.diamond(active_until_review=True)
    lapsed_diamond = await scenario.diamond(active_until_review=False)
    before = {m: await scenario.tier(m) for m in (newbie, silver, gold, diamond, lapsed_diamond)}
    assert before == {
        newbie: TierCode.NEW,
        silver: TierCode.SILVER,
        gold: TierCode.GOLD,
        diamond: TierCode.DIAMOND,
        lapsed_diamond: TierCode.DIAMOND,
    }
    expected = await scenario.expected_after_review(list(before))
    assert expected == {
        **before,
        gold: TierCode.SILVER,  # its spend left the 12 months: one tier down
        lapsed_diamond: TierCode.GOLD,  # inactive: one tier down, not to what it earns
    }

    scenario.clock.set(AFTER_REVIEW)
    first = await review.run_review(scenario.services, REVIEW)
    members = await Member.all().count()  # the referee too
    assert (first.reviewed, first.changed, first.completed) == (members, 2, True)
    assert {m: await scenario.tier(m) for m in before} == expected
    once = await scenario.state()
    assert once["results"] == members
    assert await TierChange.filter(reason="REVIEW").count() == 2

    scenario.clock.advance(timedelta(hours=3))
    second = await review.run_review(scenario.services, REVIEW)
    assert (second.reviewed, second.changed, second.completed) == (0, 0, True)
    assert await scenario.state() == once
    assert await TierReview.all().count() == 1


@pytest.mark.parametrize("backend", ["postgres"])
@pytest.mark.parametrize("crash", ["before_member", "after_member"])
@pytest.mark.parametrize("path", ["batches", "one_by_one"])
async def test_review_killed_halfway_then_rerun_ends_as_one_clean_run(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch, crash: str, path: str
) -> None:
    """Killed in the middle of a batch's transaction (or of one member's, for members
    whose facts changed under the batch), then run again."""
    member_ids = []
    for n in range(30):
        kind = n % 5
        if kind == 0:
            member_ids.append(await scenario.member())
        elif kind == 1:
            member_ids.append(await scenario.silver())  # no June activity: drops
        elif kind == 2:
            member_ids.append(await scenario.diamond(active_until_review=True))
        else:
            member_ids.append(member_id := await scenario.member())
            tier = TierCode.DIAMOND if kind == 3 else TierCode.GOLD
            await scenario.force_tier(member_id, tier)  # no spend, no activity: drops
    expected = await scenario.expected_after_review(member_ids)
    changing = {m for m in member_ids if expected[m] is not await scenario.tier(m)}
    assert len(changing) == 18

    real_review_member = review.review_member
    real_review_batch = review._review_batch
    calls = 0

    async def crashing_batch(*args: Any, **kwargs: Any) -> tuple[int, int, list[Member]]:
        nonlocal calls
        calls += 1
        if calls == 2 and crash == "before_member":
            raise RuntimeError("killed")
        outcome = await real_review_batch(*args, **kwargs)
        if calls == 2:
            raise RuntimeError("killed")  # after the batch's transaction committed
        return outcome

    async def nothing_in_bulk(
        services: object, review_: object, batch: list[Member], facts: object
    ) -> tuple[int, int, list[Member]]:
        return 0, 0, batch  # as if every member's facts changed under the batch

    async def crashing(*args: Any, **kwargs: Any) -> bool:
        nonlocal calls
        calls += 1
        this_call = calls  # members run in parallel lanes: remember which call this is
        if this_call == 13 and crash == "before_member":
            raise RuntimeError("killed")
        changed = await real_review_member(*args, **kwargs)
        if this_call == 13:
            raise RuntimeError("killed")  # after the member's transaction committed
        return changed

    scenario.clock.set(AFTER_REVIEW)
    if path == "batches":
        monkeypatch.setattr(review, "BATCH", 10)
        monkeypatch.setattr(review, "_review_batch", crashing_batch)
    else:
        monkeypatch.setattr(review, "_review_batch", nothing_in_bulk)
        monkeypatch.setattr(review, "review_member", crashing)
    with pytest.raises(RuntimeError, match="killed"):
        await review.run_review(scenario.services, REVIEW)
    # Members are reviewed in batches, or one by one in parallel lanes: what was in
    # flight at the crash rolls back.
    done = await TierReviewResult.all().count()
    assert 0 < done < 30
    if path == "batches":
        assert done == (10 if crash == "before_member" else 20)
    assert (await TierReview.get(review_date=REVIEW)).completed_at is None
    monkeypatch.undo()

    rerun = await review.run_review(scenario.services, REVIEW)
    assert rerun.reviewed == 30 - done
    assert {m: await scenario.tier(m) for m in member_ids} == expected
    results = Counter(
        str(m) for m in await TierReviewResult.all().values_list("member_id", flat=True)
    )
    assert results == dict.fromkeys(member_ids, 1)
    reviews = Counter(
        str(m) for m in await TierChange.filter(reason="REVIEW").values_list("member_id", flat=True)
    )
    assert reviews == dict.fromkeys(changing, 1)
    assert (await TierReview.get(review_date=REVIEW)).completed_at is not None


async def test_review_moves_down_one_tier_at_most_and_keeps_black_diamond_by_spend(
    scenario: Scenario,
) -> None:
    diamond = await scenario.member()
    await scenario.force_tier(diamond, TierCode.DIAMOND)  # set-up: no spend, no activity
    black = await scenario.member()
    for month in (11, 12):  # 160,000 yuan, months before any counted activity
        await scenario.pay(black, 40_000, date(2024, month, 3))
        await scenario.pay(black, 40_000, date(2024, month, 17))
    assert await scenario.tier(black) is TierCode.NEW
    await invite_to_black_diamond(
        scenario.services, member_id=uuid.UUID(black), staff_id=uuid.uuid4()
    )
    assert await scenario.tier(black) is TierCode.BLACK_DIAMOND

    scenario.clock.set(AFTER_REVIEW)
    await review.run_review(scenario.services, REVIEW)
    assert await scenario.tier(diamond) is TierCode.GOLD
    assert await scenario.tier(black) is TierCode.BLACK_DIAMOND
    change = await TierChange.get(member_id=diamond, reason="REVIEW")
    assert (change.from_tier, change.to_tier) == ("DIAMOND", "GOLD")
    assert not await TierChange.filter(member_id=black, reason="REVIEW").exists()

    scenario.clock.set(datetime(2025, 10, 1, 2, 0, tzinfo=UTC))
    await review.run_review(scenario.services, NEXT_REVIEW)
    assert await scenario.tier(diamond) is TierCode.SILVER  # one more step, next quarter
    rerun = await review.run_review(scenario.services, NEXT_REVIEW)
    assert (rerun.reviewed, rerun.changed) == (0, 0)  # members with an earlier result too
    assert await TierReviewResult.filter(member_id=diamond).count() == 2


async def test_downgrade_warnings_within_30_days_of_a_review_once_per_member(
    scenario: Scenario,
) -> None:
    diamond = await scenario.member()
    await scenario.force_tier(diamond, TierCode.DIAMOND)  # set-up: at risk, nothing earned
    gold = await scenario.gold()  # its spend leaves the 12 months before the review
    kept = await scenario.diamond(active_until_review=True)
    await scenario.member()  # New: nothing to lose
    warnings = Notification.filter(kind="DOWNGRADE_WARNING")

    day_31 = REVIEW - timedelta(days=31)
    scenario.clock.set(noon(day_31))
    assert await review.send_downgrade_warnings(scenario.services, day_31) == []
    assert await warnings.count() == 0

    day_30 = REVIEW - timedelta(days=30)
    scenario.clock.set(noon(day_30))
    assert len(await review.send_downgrade_warnings(scenario.services, day_30)) == 2
    warned = Counter(str(m) for m in await warnings.values_list("member_id", flat=True))
    assert warned == {diamond: 1, gold: 1}
    assert kept not in warned

    scenario.clock.advance(timedelta(hours=1))
    assert await review.send_downgrade_warnings(scenario.services, day_30) == []
    day_5 = REVIEW - timedelta(days=5)
    scenario.clock.set(noon(day_5))
    assert await review.send_downgrade_warnings(scenario.services, day_5) == []
    assert await warnings.count() == 2
    body = (await Notification.get(member_id=gold, kind="DOWNGRADE_WARNING")).body
    assert "2025-07-01" in body
    assert "spend in 12 months" in body
    # Each warning also queued one app push, in the same transaction.
    pushes = await OutboxMessage.all().order_by("dedupe_key")
    assert sorted((m.channel, m.recipient) for m in pushes) == sorted(
        [("APP_PUSH", diamond), ("APP_PUSH", gold)]
    )
    push = next(m for m in pushes if m.recipient == gold)
    assert push.dedupe_key == f"downgrade-warning:2025-07-01:{gold}"
    assert push.payload == {
        "kind": "DOWNGRADE_WARNING",
        "title": "Keep your 金卡 tier",
        "body": body,
        "reviewDate": "2025-07-01",
    }
    assert push.created_at == noon(day_30)


async def test_a_warning_whose_push_cannot_be_queued_is_not_given_either(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    diamond = await scenario.member()
    await scenario.force_tier(diamond, TierCode.DIAMOND)
    day_30 = REVIEW - timedelta(days=30)
    scenario.clock.set(noon(day_30))

    async def broken(**kwargs: Any) -> bool:
        raise RuntimeError("the outbox is unavailable")

    monkeypatch.setattr(review, "enqueue", broken)
    with pytest.raises(RuntimeError, match="outbox"):
        await review.send_downgrade_warnings(scenario.services, day_30)
    assert await Notification.filter(member_id=diamond).count() == 0
    monkeypatch.undo()
    assert len(await review.send_downgrade_warnings(scenario.services, day_30)) == 1
    assert await Notification.filter(member_id=diamond, kind="DOWNGRADE_WARNING").count() == 1
    assert await OutboxMessage.filter(recipient=diamond).count() == 1
