"""Tier use cases: upgrades on events, invitations, the cached view, the what-if."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from member_api import freshness
from member_api.business_calendar import business_today
from member_api.cache import key
from member_api.error_codes import TierErrorCode
from member_api.errors import Conflict, InvalidInput, NotFound
from member_api.intelligence import facts
from member_api.intelligence import service as intelligence
from member_api.members.activity import mark_active, was_active
from member_api.members.models import Member
from member_api.notifications.service import notify
from member_api.services import Services
from member_api.tiers import domain
from member_api.tiers.domain import Condition, Progress, Unit
from member_api.tiers.facts import load_facts
from member_api.tiers.models import TierChange
from member_api.tiers.rules import TIER_NAMES, TierCode

VIEW_TTL_SECONDS = 3600
VIEW_FORMAT = 2  # in the cache key: a view cached in another format is never read


def today(services: Services) -> date:
    return business_today(services.clock)


async def lock_member(member_id: uuid.UUID) -> Member:
    """Lock the member's row for the rest of the transaction (serialises tier changes)."""
    # FOR NO KEY UPDATE: rows that reference the member (orders, redemptions) can still
    # be inserted by others meanwhile, which avoids deadlocks with the ledger's locks.
    await freshness.touch(freshness.member(member_id))
    member = await Member.select_for_update(no_key=True).get_or_none(id=member_id)
    if member is None:
        raise NotFound(TierErrorCode.UNKNOWN_MEMBER, "No member has that id.")
    return member


async def change_tier(
    services: Services,
    member: Member,
    new_tier: TierCode,
    *,
    reason: str,
    reference: str | None,
    note: str | None = None,
) -> None:
    """Move a (locked) member to `new_tier`, keeping the history and telling them."""
    old_tier = TierCode(member.tier)
    if new_tier is old_tier:
        return
    await freshness.touch(freshness.member(member.id), freshness.PROFILES)
    now = services.clock.now()
    member.tier = new_tier.value
    member.tier_since = now
    await Member.filter(id=member.id).update(
        tier=new_tier.value, tier_since=now, facts_version=F("facts_version") + 1
    )
    await TierChange.create(
        member_id=member.id,
        from_tier=old_tier.value,
        to_tier=new_tier.value,
        changed_at=now,
        reason=reason,
        reference=reference,
        note=note,
    )
    kind, title, body = tier_change_notice(old_tier, new_tier)
    await notify(member_id=member.id, kind=kind, title=title, body=body, at=now)


def tier_change_notice(old_tier: TierCode, new_tier: TierCode) -> tuple[str, str, str]:
    """What a member is told when their tier changes: (kind, title, body)."""
    up = new_tier.rank > old_tier.rank
    return (
        "TIER_UPGRADE" if up else "TIER_DOWNGRADE",
        f"{'Welcome to' if up else 'You are now'} {TIER_NAMES[new_tier]}",
        f"Your tier changed from {TIER_NAMES[old_tier]} to {TIER_NAMES[new_tier]}.",
    )


async def record_registration(member: Member, at_reference: str | None = None) -> None:
    await TierChange.create(
        member_id=member.id,
        from_tier=None,
        to_tier=member.tier,
        changed_at=member.joined_at,
        reason="REGISTRATION",
        reference=at_reference,
    )


async def upgrade_if_earned(services: Services, member: Member, *, reference: str) -> TierCode:
    """After an event, inside its transaction, with the member locked: raise if earned."""
    rules = services.settings.tier_rules
    facts = await load_facts(member, today(services), rules)
    new_tier = domain.tier_after_event(TierCode(member.tier), facts, rules)
    await change_tier(services, member, new_tier, reason="EVENT", reference=reference)
    return new_tier


async def record_activity(services: Services, member_id: uuid.UUID) -> None:
    """Mark today active for the member; the first action of a day may earn a tier.

    The day, the facts version and the upgrade check commit together: after a failure
    none of them holds, and the next action of the day does all three.
    """
    day = today(services)
    if (member_id, day) in services.active_days:
        return  # recorded already: no need to ask the database again
    if not await was_active(member_id, day):
        async with in_transaction():
            member = await lock_member(member_id)
            if await mark_active(member_id, day):
                _, rules = await intelligence.rules_in_force(services)
                await facts.refresh_member(member_id, day, services.clock.now(), rules)
                reference = f"activity:{day.isoformat()}"
                await upgrade_if_earned(services, member, reference=reference)
    services.active_days.put((member_id, day), True)  # only once it is committed


async def invite_to_black_diamond(
    services: Services, *, member_id: uuid.UUID, staff_id: uuid.UUID
) -> Member:
    rules = services.settings.tier_rules
    async with in_transaction():
        member = await lock_member(member_id)
        if member.tier == TierCode.BLACK_DIAMOND.value:
            raise Conflict(
                TierErrorCode.ALREADY_BLACK_DIAMOND, "The member is Black Diamond already."
            )
        facts = await load_facts(member, today(services), rules)
        if not domain.may_invite_to_black_diamond(facts, rules):
            needed = rules.black_diamond_spend_12m_fen - facts.spend_12m_fen
            raise InvalidInput(
                TierErrorCode.SPEND_CONDITION_NOT_MET,
                f"Black Diamond needs {rules.black_diamond_spend_12m_fen / 100:,.0f} yuan "
                f"of spend in 12 months; {needed / 100:,.2f} yuan are missing.",
                field="memberId",
            )
        await change_tier(
            services,
            member,
            TierCode.BLACK_DIAMOND,
            reason="INVITATION",
            reference=f"staff:{staff_id}",
        )
    return member


async def override_tier(
    services: Services, *, member_id: uuid.UUID, tier: TierCode, reason: str, staff_id: uuid.UUID
) -> Member:
    """Staff set a member's tier by hand, with a reason kept in the tier history (reason
    OVERRIDE); this is how Black Diamond is revoked. The usual rules go on from there: an
    event raises the member to a tier they earn, the quarterly review may lower it."""
    async with in_transaction():
        member = await lock_member(member_id)
        note = domain.check_override(TierCode(member.tier), tier, reason)
        await change_tier(
            services, member, tier, reason="OVERRIDE", reference=f"staff:{staff_id}", note=note
        )
    return member


# --- the member's view: tier and progress, cached per facts version and business date ---


@dataclass(frozen=True)
class TierView:
    tier: TierCode
    progress: Progress


def _encode(view: TierView) -> dict[str, Any]:
    def conditions(items: list[Condition]) -> list[dict[str, Any]]:
        return [
            {
                "key": c.key,
                "current": str(c.current),  # exact: "5/3", not 1.67
                "target": c.target,
                "unit": c.unit.value,
                "group": c.group,
                "strictly_above": c.strictly_above,
            }
            for c in items
        ]

    p = view.progress
    return {
        "tier": view.tier.value,
        "next_tier": p.next_tier.value if p.next_tier else None,
        "conditions": conditions(p.conditions),
        "retention": conditions(p.retention),
        "next_review": p.next_review.isoformat(),
        "downgrade_risk": p.downgrade_risk,
    }


def _decode(data: dict[str, Any]) -> TierView:
    def conditions(items: list[dict[str, Any]]) -> list[Condition]:
        return [
            Condition(
                key=c["key"],
                current=Fraction(c["current"]),
                target=c["target"],
                unit=Unit(c["unit"]),
                group=c["group"],
                strictly_above=c["strictly_above"],
            )
            for c in items
        ]

    tier = TierCode(data["tier"])
    return TierView(
        tier=tier,
        progress=Progress(
            tier=tier,
            next_tier=TierCode(data["next_tier"]) if data["next_tier"] else None,
            conditions=conditions(data["conditions"]),
            retention=conditions(data["retention"]),
            next_review=date.fromisoformat(data["next_review"]),
            downgrade_risk=bool(data["downgrade_risk"]),
        ),
    )


async def compute_view(services: Services, member: Member, as_of: date) -> TierView:
    rules = services.settings.tier_rules
    facts = await load_facts(member, as_of, rules)
    tier = TierCode(member.tier)
    return TierView(tier=tier, progress=domain.progress(tier, facts, rules))


async def tier_view(services: Services, member_id: uuid.UUID) -> TierView | None:
    """The member's tier and progress; computed once per facts version and business date.

    The version is bumped in the same transaction as every change the rules read,
    so a value cached before a change is never looked up after it.
    """
    member = await Member.get_or_none(id=member_id)
    if member is None:
        return None
    return await view_of(services, member)


async def view_of(services: Services, member: Member) -> TierView:
    """`tier_view` for a member row the caller has just read."""
    as_of = today(services)
    cache_key = key(
        "tier-view", VIEW_FORMAT, str(member.id), member.facts_version, as_of.isoformat()
    )

    async def compute() -> dict[str, Any]:
        return _encode(await compute_view(services, member, as_of))

    data = await services.cached(cache_key, compute, ttl=VIEW_TTL_SECONDS)
    return _decode(data)


@dataclass(frozen=True)
class Forecast:
    member_id: uuid.UUID
    current: TierCode
    at_review: TierCode
    review_date: date
    retention: list[Condition]
    next_tier_conditions: list[Condition]


async def forecast(services: Services, *, member_id: uuid.UUID) -> Forecast:
    """The tier the member would have at the next review if nothing else happened."""
    rules = services.settings.tier_rules
    member = await Member.get_or_none(id=member_id)
    if member is None:
        raise NotFound(TierErrorCode.UNKNOWN_MEMBER, "No member has that id.")
    review_date = domain.next_review_date(today(services), rules)
    facts = await load_facts(member, review_date - timedelta(days=1), rules)
    current = TierCode(member.tier)
    upcoming = current.above()
    return Forecast(
        member_id=member.id,
        current=current,
        at_review=domain.tier_after_review(current, facts, rules),
        review_date=review_date,
        retention=domain.retention_conditions(current, facts, rules),
        next_tier_conditions=(
            domain.qualifying_conditions(upcoming, facts, rules) if upcoming else []
        ),
    )
