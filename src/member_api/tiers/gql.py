"""GraphQL types for tiers, progress, rights and tier history."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from fractions import Fraction

import strawberry

from member_api.business_calendar import start_of_business_day
from member_api.graphql.scalars import ConditionValue
from member_api.rights.domain import Period
from member_api.rights.service import MemberRight, Usage
from member_api.tiers import domain
from member_api.tiers.rules import TIER_NAMES, TierRules
from member_api.tiers.rules import TierCode as TierCodeValue

# Registered in place: the domain enum is the GraphQL enum.
RightPeriod = Period
strawberry.enum(RightPeriod, name="RightPeriod")


@strawberry.enum(description="NEW < SILVER < GOLD < DIAMOND < BLACK_DIAMOND")
class TierCode(Enum):
    NEW = "NEW"
    SILVER = "SILVER"
    GOLD = "GOLD"
    DIAMOND = "DIAMOND"
    BLACK_DIAMOND = "BLACK_DIAMOND"


@strawberry.enum(description="FEN: money in fen; COUNT; DAYS_PER_MONTH; PERCENT; FLAG: 1 when met.")
class ConditionUnit(Enum):
    FEN = "FEN"
    COUNT = "COUNT"
    DAYS_PER_MONTH = "DAYS_PER_MONTH"
    PERCENT = "PERCENT"
    FLAG = "FLAG"


@strawberry.type(description="A membership tier.")
class Tier:
    code: TierCode
    name: str
    discount_rate: float = strawberry.field(
        description="Price multiplier on the member's own purchases (0.9 = 10% off)."
    )
    consignment_commission_rate: float = strawberry.field(
        description="Commission taken on the member's consignments (0.1 = 10%)."
    )

    @classmethod
    def of(cls, code: TierCodeValue, rules: TierRules) -> Tier:
        return cls(
            code=TierCode(code.value),
            name=TIER_NAMES[code],
            discount_rate=rules.discount_rate(code),
            consignment_commission_rate=rules.commission_rate(code),
        )


@strawberry.type(description="One condition: met when `current` reaches `target`.")
class TierCondition:
    key: str
    met: bool
    current: ConditionValue
    target: ConditionValue
    unit: ConditionUnit
    missing: ConditionValue = strawberry.field(description="How much is still needed; 0 when met.")
    group: str | None = strawberry.field(
        description="Conditions with the same group are alternatives: one of them is enough."
    )

    @classmethod
    def of(cls, condition: domain.Condition) -> TierCondition:
        return cls(
            key=condition.key,
            met=condition.met,
            current=ConditionValue(condition.shown_current),
            target=ConditionValue(Fraction(condition.target)),
            unit=ConditionUnit(condition.unit.value),
            missing=ConditionValue(condition.shown_missing),
            group=condition.group,
        )


@strawberry.type(description="Where the member stands: the next tier and keeping this one.")
class TierProgress:
    next_tier: Tier | None
    next_review_at: datetime
    downgrade_risk: bool = strawberry.field(
        description="True when the member would move down at the next review as things stand."
    )
    conditions: list[TierCondition] = strawberry.field(description="For the next tier.")
    retention_conditions: list[TierCondition] = strawberry.field(
        description="What keeps the current tier at the review."
    )
    missing_summary: str = strawberry.field(
        description="The next tier's unmet conditions in words, e.g. '2,300 yuan more spend'."
    )

    @classmethod
    def of(cls, progress: domain.Progress, rules: TierRules) -> TierProgress:
        return cls(
            next_tier=Tier.of(progress.next_tier, rules) if progress.next_tier else None,
            next_review_at=start_of_business_day(progress.next_review),
            downgrade_risk=progress.downgrade_risk,
            conditions=[TierCondition.of(c) for c in progress.conditions],
            retention_conditions=[TierCondition.of(c) for c in progress.retention],
            missing_summary=domain.describe_missing(progress.conditions),
        )


@strawberry.type(description="Uses of a countable right in its current period.")
class RightUsage:
    used: int
    limit: int
    period: RightPeriod = strawberry.field(
        description="How long a period runs: a year, a month, or once (the whole membership)."
    )
    period_end: date = strawberry.field(
        description="The last day of the current period; 9999-12-31 for a once-ever right, "
        "whose uses never come back."
    )

    @classmethod
    def of(cls, usage: Usage) -> RightUsage:
        return cls(
            used=usage.used, limit=usage.limit, period=usage.period, period_end=usage.period_end
        )


@strawberry.type(name="Right", description="A benefit of membership.")
class RightType:
    code: str
    name: str
    description: str
    min_tier: Tier
    usage: RightUsage | None

    @classmethod
    def of(cls, item: MemberRight, rules: TierRules) -> RightType:
        usage = item.usage
        return cls(
            code=item.right.code,
            name=item.right.name,
            description=item.right.description,
            min_tier=Tier.of(item.right.min_tier, rules),
            usage=RightUsage.of(usage) if usage else None,
        )


@strawberry.type(description="A change of tier and why it happened.")
class TierChange:
    from_: Tier | None = strawberry.field(name="from")
    to: Tier
    changed_at: datetime
    reason: str = strawberry.field(
        description="REGISTRATION, EVENT, REVIEW, INVITATION or OVERRIDE (set by staff by hand)."
    )
    reference: str | None = strawberry.field(
        description="What caused it: the commerce event id, or the review date."
    )
    note: str | None = strawberry.field(
        default=None, description="For an OVERRIDE, the reason staff gave."
    )
