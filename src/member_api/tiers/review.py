"""The quarterly review and the downgrade warnings before it (run as jobs)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Subquery
from tortoise.transactions import in_transaction

from member_api.business_calendar import start_of_business_day
from member_api.members.models import Member
from member_api.notifications.models import Notification
from member_api.notifications.service import notify
from member_api.outbox.domain import Channel
from member_api.outbox.service import enqueue
from member_api.services import Services
from member_api.tiers import domain
from member_api.tiers.domain import MemberFacts
from member_api.tiers.facts import load_facts, load_facts_many
from member_api.tiers.models import TierChange as TierChangeRow
from member_api.tiers.models import TierReview, TierReviewResult
from member_api.tiers.rules import TIER_NAMES, TierCode
from member_api.tiers.service import change_tier, lock_member, tier_change_notice

logger = logging.getLogger(__name__)
BATCH = 500
REVIEW_LANES = 4  # below the connection pool's size
WARNING_KIND = "DOWNGRADE_WARNING"


@dataclass(frozen=True)
class ReviewReport:
    review_date: date
    reviewed: int
    changed: int
    completed: bool


async def review_member(
    services: Services,
    review: TierReview,
    member_id: uuid.UUID,
    as_of: date,
    prepared: tuple[int, MemberFacts] | None = None,
) -> bool | None:
    """Review one member in one transaction: True when the tier changed, False when it
    did not, None when this review had already been done for the member.

    `prepared` is (facts_version, facts) loaded in bulk beforehand; they are used only
    if the member's facts did not change since. The result row is unique per review
    and member: a member is reviewed once, whatever crashes or reruns happen.
    """
    rules = services.settings.tier_rules
    async with in_transaction():
        member = await lock_member(member_id)
        if await TierReviewResult.filter(review_id=review.id, member_id=member_id).exists():
            return None
        current = TierCode(member.tier)
        if prepared is not None and prepared[0] == member.facts_version:
            facts = prepared[1]
        else:
            facts = await load_facts(member, as_of, rules)
        new_tier = _decide(services, review, member, facts)
        await TierReviewResult.create(
            review_id=review.id, member_id=member_id, from_tier=current, to_tier=new_tier
        )
        await change_tier(
            services, member, new_tier, reason="REVIEW", reference=review.review_date.isoformat()
        )
    return new_tier is not current


async def _pending_members(
    review: TierReview, after: uuid.UUID | None, high: uuid.UUID | None = None
) -> list[Member]:
    done = TierReviewResult.filter(review_id=review.id).values("member_id")
    query = Member.exclude(id__in=Subquery(done))
    if after is not None:
        query = query.filter(id__gt=after)
    if high is not None:
        query = query.filter(id__lt=high)
    return list(await query.order_by("id").limit(BATCH))


def _on_postgres() -> bool:
    return bool(connections.get("default").capabilities.dialect == "postgres")


def _parallel_transactions() -> int:
    """Members are independent: review several at once where the database allows it."""
    return REVIEW_LANES if _on_postgres() else 1


def _decide(services: Services, review: TierReview, member: Member, facts: MemberFacts) -> TierCode:
    """The member's tier after the review, on these facts."""
    rules = services.settings.tier_rules
    current = TierCode(member.tier)
    new_tier = domain.tier_after_review(current, facts, rules)
    if member.tier_since and member.tier_since >= start_of_business_day(review.review_date):
        # Earned on or after the review date, on facts the review does not look at.
        new_tier = max(new_tier, current, key=lambda tier: tier.rank)
    return new_tier


# Locks the batch's members that are still as the facts were loaded for (same facts
# version and tier), in id order; the others are reviewed one by one afterwards.
_LOCK_UNCHANGED = """
SELECT m.id FROM member m
JOIN unnest($1::uuid[], $2::int[], $3::text[]) AS e(id, facts_version, tier)
  ON m.id = e.id AND m.facts_version = e.facts_version AND m.tier = e.tier
ORDER BY m.id FOR UPDATE OF m
"""
_MOVE = """
UPDATE member SET tier = v.tier, tier_since = $1, facts_version = member.facts_version + 1
FROM unnest($2::uuid[], $3::text[]) AS v(id, tier) WHERE member.id = v.id
"""


async def _review_batch(
    services: Services, review: TierReview, batch: list[Member], facts: dict[uuid.UUID, MemberFacts]
) -> tuple[int, int, list[Member]]:
    """Review a batch in one transaction (PostgreSQL): every member whose facts did not
    change since they were loaded gets its result, tier change, history and notice in
    bulk. Returns (reviewed, changed, the members left to review one by one)."""
    decided = {member.id: _decide(services, review, member, facts[member.id]) for member in batch}
    by_id = {member.id: member for member in batch}
    now = services.clock.now()
    async with in_transaction() as connection:
        rows = await connection.execute_query_dict(
            _LOCK_UNCHANGED,
            [
                [member.id for member in batch],
                [member.facts_version for member in batch],
                [member.tier for member in batch],
            ],
        )
        locked = [row["id"] for row in rows]
        done = set(
            await TierReviewResult.filter(review_id=review.id, member_id__in=locked).values_list(
                "member_id", flat=True
            )
        )
        todo = [member_id for member_id in locked if member_id not in done]
        await TierReviewResult.bulk_create(
            [
                TierReviewResult(
                    review_id=review.id,
                    member_id=member_id,
                    from_tier=by_id[member_id].tier,
                    to_tier=decided[member_id].value,
                )
                for member_id in todo
            ]
        )
        moved = [m for m in todo if decided[m].value != by_id[m].tier]
        if moved:
            await connection.execute_query(
                _MOVE, [now, moved, [decided[member_id].value for member_id in moved]]
            )
            reference = review.review_date.isoformat()
            changes, notices = [], []
            for member_id in moved:
                old, new = TierCode(by_id[member_id].tier), decided[member_id]
                changes.append(
                    TierChangeRow(
                        member_id=member_id,
                        from_tier=old.value,
                        to_tier=new.value,
                        changed_at=now,
                        reason="REVIEW",
                        reference=reference,
                    )
                )
                kind, title, body = tier_change_notice(old, new)
                notices.append(
                    Notification(
                        member_id=member_id, kind=kind, title=title, body=body, created_at=now
                    )
                )
            await TierChangeRow.bulk_create(changes)
            await Notification.bulk_create(notices)
    left = [member for member in batch if member.id not in set(locked)]
    return len(todo), len(moved), left


async def _review_of(services: Services, review_date: date) -> TierReview:
    try:
        review, _ = await TierReview.get_or_create(
            review_date=review_date, defaults={"started_at": services.clock.now()}
        )
    except IntegrityError:
        review = await TierReview.get(review_date=review_date)
    return review


async def review_range(
    services: Services, review_date: date, low: uuid.UUID, high: uuid.UUID
) -> tuple[int, int]:
    """Review the members with ids in [low, high) not reviewed yet: (reviewed, changed).
    One chunk of a review spread over workers; rerunning it reviews nobody twice."""
    review = await _review_of(services, review_date)
    return await _review_members(services, review, low, high)


async def run_review(services: Services, review_date: date) -> ReviewReport:
    """Review every member as of the day before `review_date`. Idempotent and resumable."""
    review = await _review_of(services, review_date)
    reviewed, changed = await _review_members(services, review, None, None)
    if review.completed_at is None:
        review.completed_at = services.clock.now()
        await review.save(update_fields=["completed_at"])
    logger.info("review %s: %d reviewed, %d changed", review_date, reviewed, changed)
    return ReviewReport(review_date, reviewed, changed, completed=True)


async def _review_members(
    services: Services, review: TierReview, low: uuid.UUID | None, high: uuid.UUID | None
) -> tuple[int, int]:
    as_of = review.review_date - timedelta(days=1)
    rules = services.settings.tier_rules
    reviewed = changed = 0
    # Ids from `low` on: start just below it (UUIDs order as their 128-bit numbers).
    after: uuid.UUID | None = uuid.UUID(int=low.int - 1) if low is not None and low.int else None
    lanes = asyncio.Semaphore(_parallel_transactions())

    async def one(member: Member, facts: MemberFacts) -> bool | None:
        async with lanes:
            try:
                prepared = (member.facts_version, facts)
                return await review_member(services, review, member.id, as_of, prepared)
            except IntegrityError:  # a concurrent run reviewed this member first
                return None

    bulk = _on_postgres()
    while batch := await _pending_members(review, after, high):
        facts = await load_facts_many(batch, as_of, rules)
        after = batch[-1].id
        if bulk:
            done, moved, batch = await _review_batch(services, review, batch, facts)
            reviewed += done
            changed += moved
        tasks = [asyncio.create_task(one(m, facts[m.id])) for m in batch]
        try:
            outcomes = await asyncio.gather(*tasks)
        except BaseException:
            # Stop like a killed process would: the others roll back, and a rerun
            # picks them up.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        reviewed += sum(outcome is not None for outcome in outcomes)
        changed += sum(bool(outcome) for outcome in outcomes)
    return reviewed, changed


@dataclass(frozen=True)
class TierChange:
    member_id: uuid.UUID
    display_name: str
    from_tier: TierCode
    to_tier: TierCode

    def line(self) -> str:
        return f"{self.member_id} {self.display_name}: {self.from_tier} -> {self.to_tier}"


async def review_changes(review_date: date) -> list[TierChange]:
    """Whom the review of `review_date` moved, from its result rows (every run of it)."""
    rows = await TierReviewResult.filter(review__review_date=review_date).values_list(
        "member_id", "member__display_name", "from_tier", "to_tier"
    )
    return [
        TierChange(member_id, name, TierCode(old), TierCode(new))
        for member_id, name, old, new in sorted(rows, key=lambda row: str(row[0]))
        if old != new
    ]


async def preview_review(services: Services, review_date: date) -> list[TierChange]:
    """What the review of `review_date` would change for members it has not reviewed
    yet, without writing anything."""
    rules = services.settings.tier_rules
    as_of = review_date - timedelta(days=1)
    done = TierReviewResult.filter(review__review_date=review_date).values("member_id")
    start = start_of_business_day(review_date)
    changes: list[TierChange] = []
    after: uuid.UUID | None = None
    while True:
        query = Member.exclude(id__in=Subquery(done)).order_by("id").limit(BATCH)
        batch = list(await (query.filter(id__gt=after) if after else query))
        if not batch:
            return changes
        facts = await load_facts_many(batch, as_of, rules)
        for member in batch:
            current = TierCode(member.tier)
            new_tier = domain.tier_after_review(current, facts[member.id], rules)
            if member.tier_since and member.tier_since >= start:
                new_tier = max(new_tier, current, key=lambda tier: tier.rank)
            if new_tier is not current:
                changes.append(TierChange(member.id, member.display_name, current, new_tier))
        after = batch[-1].id


async def send_downgrade_warnings(
    services: Services,
    as_of: date,
    *,
    dry_run: bool = False,
    low: uuid.UUID | None = None,
    high: uuid.UUID | None = None,
) -> list[TierChange]:
    """Warn each member who would drop at the next review, once per review; returns
    whom it warned (with `dry_run`, whom it would warn, and warns nobody)."""
    rules = services.settings.tier_rules
    review_date = domain.next_review_date(as_of, rules)
    if (review_date - as_of).days > rules.warning_days_before_review:
        logger.info("no review within %d days of %s", rules.warning_days_before_review, as_of)
        return []
    warned: list[TierChange] = []
    after: uuid.UUID | None = None
    while True:
        query = Member.exclude(tier=TierCode.NEW.value).order_by("id").limit(BATCH)
        if low is not None:
            query = query.filter(id__gte=low)
        if high is not None:
            query = query.filter(id__lt=high)
        members = await (query.filter(id__gt=after) if after else query)
        if not members:
            return warned
        for member in members:
            drop = await _warn(services, member, review_date, dry_run=dry_run)
            if drop is not None:
                warned.append(drop)
        after = members[-1].id


async def warned_count(
    services: Services,
    as_of: date,
    *,
    low: uuid.UUID | None = None,
    high: uuid.UUID | None = None,
) -> int:
    """How many members (with ids in [low, high)) hold the warning of the review after
    `as_of`, whoever sent it."""
    review_date = domain.next_review_date(as_of, services.settings.tier_rules)
    query = Notification.filter(dedupe_key=_warning_key(review_date))
    if low is not None:
        query = query.filter(member_id__gte=low)
    if high is not None:
        query = query.filter(member_id__lt=high)
    return await query.count()


def _warning_key(review_date: date) -> str:
    return f"downgrade-warning:{review_date.isoformat()}"


async def _warn(
    services: Services, member: Member, review_date: date, *, dry_run: bool
) -> TierChange | None:
    """Warn if, with nothing else happening, the review would move the member down."""
    rules = services.settings.tier_rules
    current = TierCode(member.tier)
    facts = await load_facts(member, review_date - timedelta(days=1), rules)
    after_review = domain.tier_after_review(current, facts, rules)
    if not after_review.rank < current.rank:
        return None
    drop = TierChange(member.id, member.display_name, current, after_review)
    dedupe_key = _warning_key(review_date)
    if dry_run:
        already = await Notification.filter(member_id=member.id, dedupe_key=dedupe_key).exists()
        return None if already else drop
    missing = domain.describe_missing(domain.retention_conditions(current, facts, rules))
    title = f"Keep your {TIER_NAMES[current]} tier"
    body = (
        f"At the review on {review_date.isoformat()} you would move down from "
        f"{TIER_NAMES[current]}. Still missing: {missing}."
    )
    now = services.clock.now()
    # The inbox entry and the push go together: both or neither, once per review.
    async with in_transaction():
        sent = await notify(
            member_id=member.id,
            kind=WARNING_KIND,
            title=title,
            body=body,
            at=now,
            dedupe_key=dedupe_key,
        )
        if sent:
            await enqueue(
                channel=Channel.APP_PUSH,
                recipient=str(member.id),
                payload={
                    "kind": WARNING_KIND,
                    "title": title,
                    "body": body,
                    "reviewDate": review_date.isoformat(),
                },
                dedupe_key=f"{dedupe_key}:{member.id}",
                at=now,
            )
    return drop if sent else None
