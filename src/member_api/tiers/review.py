"""The quarterly review and the downgrade warnings before it (run as jobs)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Subquery
from tortoise.transactions import in_transaction

from member_api.members.models import Member
from member_api.notifications.service import notify
from member_api.services import Services
from member_api.tiers import domain
from member_api.tiers.facts import load_facts
from member_api.tiers.models import TierReview, TierReviewResult
from member_api.tiers.rules import TIER_NAMES, TierCode
from member_api.tiers.service import change_tier, lock_member

logger = logging.getLogger(__name__)
BATCH = 500


@dataclass(frozen=True)
class ReviewReport:
    review_date: date
    reviewed: int
    changed: int
    completed: bool


async def review_member(
    services: Services, review: TierReview, member_id: uuid.UUID, as_of: date
) -> bool | None:
    """Review one member in one transaction: True when the tier changed, False when it
    did not, None when this review had already been done for the member.

    The result row is unique per review and member: a member is reviewed once,
    whatever crashes or reruns happen around it.
    """
    rules = services.settings.tier_rules
    async with in_transaction():
        member = await lock_member(member_id)
        if await TierReviewResult.filter(review_id=review.id, member_id=member_id).exists():
            return None
        current = TierCode(member.tier)
        facts = await load_facts(member, as_of, rules)
        new_tier = domain.tier_after_review(current, facts, rules)
        await TierReviewResult.create(
            review_id=review.id, member_id=member_id, from_tier=current, to_tier=new_tier
        )
        await change_tier(
            services, member, new_tier, reason="REVIEW", reference=review.review_date.isoformat()
        )
    return new_tier is not current


async def _pending_members(review: TierReview, after: uuid.UUID | None) -> list[uuid.UUID]:
    done = TierReviewResult.filter(review_id=review.id).values("member_id")
    query = Member.exclude(id__in=Subquery(done))
    if after is not None:
        query = query.filter(id__gt=after)
    ids = await query.order_by("id").limit(BATCH).values_list("id", flat=True)
    return [uuid.UUID(str(i)) for i in ids]


async def run_review(services: Services, review_date: date) -> ReviewReport:
    """Review every member as of the day before `review_date`. Idempotent and resumable."""
    try:
        review, _ = await TierReview.get_or_create(
            review_date=review_date, defaults={"started_at": services.clock.now()}
        )
    except IntegrityError:
        review = await TierReview.get(review_date=review_date)
    as_of = review_date - timedelta(days=1)
    reviewed = changed = 0
    after: uuid.UUID | None = None
    while batch := await _pending_members(review, after):
        for member_id in batch:
            try:
                outcome = await review_member(services, review, member_id, as_of)
            except IntegrityError:  # a concurrent run reviewed this member first
                continue
            if outcome is None:
                continue
            reviewed += 1
            changed += outcome
        after = batch[-1]
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
