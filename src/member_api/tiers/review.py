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

from member_api.members.models import Member
from member_api.notifications.service import notify
from member_api.services import Services
from member_api.tiers import domain
from member_api.tiers.domain import MemberFacts, start_of_business_day
from member_api.tiers.facts import load_facts, load_facts_many
from member_api.tiers.models import TierReview, TierReviewResult
from member_api.tiers.rules import TIER_NAMES, TierCode
from member_api.tiers.service import change_tier, lock_member

logger = logging.getLogger(__name__)
BATCH = 500
REVIEW_LANES = 4  # below the connection pool's size


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
        new_tier = domain.tier_after_review(current, facts, rules)
        if member.tier_since and member.tier_since >= start_of_business_day(review.review_date):
            # Earned on or after the review date, on facts the review does not look at.
            new_tier = max(new_tier, current, key=lambda tier: tier.rank)
        await TierReviewResult.create(
            review_id=review.id, member_id=member_id, from_tier=current, to_tier=new_tier
        )
        await change_tier(
            services, member, new_tier, reason="REVIEW", reference=review.review_date.isoformat()
        )
    return new_tier is not current


async def _pending_members(review: TierReview, after: uuid.UUID | None) -> list[Member]:
    done = TierReviewResult.filter(review_id=review.id).values("member_id")
    query = Member.exclude(id__in=Subquery(done))
    if after is not None:
        query = query.filter(id__gt=after)
    return list(await query.order_by("id").limit(BATCH))


def _parallel_transactions() -> int:
    """Members are independent: review several at once where the database allows it."""
    dialect = connections.get("default").capabilities.dialect
    return REVIEW_LANES if dialect == "postgres" else 1


async def run_review(services: Services, review_date: date) -> ReviewReport:
    """Review every member as of the day before `review_date`. Idempotent and resumable."""
    try:
        review, _ = await TierReview.get_or_create(
            review_date=review_date, defaults={"started_at": services.clock.now()}
        )
    except IntegrityError:
        review = await TierReview.get(review_date=review_date)
    as_of = review_date - timedelta(days=1)
    rules = services.settings.tier_rules
    reviewed = changed = 0
    after: uuid.UUID | None = None
    lanes = asyncio.Semaphore(_parallel_transactions())

    async def one(member: Member, facts: MemberFacts) -> bool | None:
        async with lanes:
            try:
                prepared = (member.facts_version, facts)
                return await review_member(services, review, member.id, as_of, prepared)
            except IntegrityError:  # a concurrent run reviewed this member first
                return None

    while batch := await _pending_members(review, after):
        facts = await load_facts_many(batch, as_of, rules)
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
        after = batch[-1].id
    if review.completed_at is None:
        review.completed_at = services.clock.now()
        await review.save(update_fields=["completed_at"])
    logger.info("review %s: %d reviewed, %d changed", review_date, reviewed, changed)
    return ReviewReport(review_date, reviewed, changed, completed=True)


async def send_downgrade_warnings(services: Services, as_of: date) -> int:
    """Warn each member who would drop at the next review, once per review."""
    rules = services.settings.tier_rules
    review_date = domain.next_review_date(as_of, rules)
    if (review_date - as_of).days > rules.warning_days_before_review:
        logger.info("no review within %d days of %s", rules.warning_days_before_review, as_of)
        return 0
    warned = 0
    after: uuid.UUID | None = None
    while True:
        query = Member.exclude(tier=TierCode.NEW.value).order_by("id").limit(BATCH)
        members = await (query.filter(id__gt=after) if after else query)
        if not members:
            return warned
        for member in members:
            warned += await _warn(services, member, review_date)
        after = members[-1].id


async def _warn(services: Services, member: Member, review_date: date) -> bool:
    """Warn if, with nothing else happening, the review would move the member down."""
    rules = services.settings.tier_rules
    current = TierCode(member.tier)
    facts = await load_facts(member, review_date - timedelta(days=1), rules)
    if not domain.tier_after_review(current, facts, rules).rank < current.rank:
        return False
    missing = domain.describe_missing(domain.retention_conditions(current, facts, rules))
    return await notify(
        member_id=member.id,
        kind="DOWNGRADE_WARNING",
        title=f"Keep your {TIER_NAMES[current]} tier",
        body=(
            f"At the review on {review_date.isoformat()} you would move down from "
            f"{TIER_NAMES[current]}. Still missing: {missing}."
        ),
        at=services.clock.now(),
        dedupe_key=f"downgrade-warning:{review_date.isoformat()}",
    )
