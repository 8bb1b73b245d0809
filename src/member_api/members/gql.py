"""Member-facing GraphQL: identity mutations, `me`, the profile."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime, timedelta
from typing import Annotated, Any

import strawberry
from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode

from member_api.badges.models import Badge as BadgeRow
from member_api.business_calendar import business_date
from member_api.checkin import domain as checkin_domain
from member_api.checkin.gql import CheckInStatusType, calendar_of
from member_api.graphql.auth_types import (
    AuthResult,
    AuthTokens,
    LogoutInput,
    LogoutResult,
    RefreshTokensInput,
    logged_out,
)
from member_api.graphql.context import GqlInfo
from member_api.graphql.errors import AnyError
from member_api.graphql.results import outcome, outcome_as_is
from member_api.graphql.scalars import PointCount
from member_api.intelligence.gql import RecommendationConnection, recommendations_page
from member_api.members import centre, service
from member_api.members.models import Member as MemberRow
from member_api.notifications.gql import NotificationConnection, notifications_page
from member_api.points import ledger
from member_api.points.gql import ExpiringPoints, Points
from member_api.privacy.gql import Consent, DataExport, consents_of, data_exports_of
from member_api.provenance.gql import OwnedItem, items_of
from member_api.rewards.gql import RedemptionConnection, redemptions_page
from member_api.rights import service as rights_service
from member_api.services import Services
from member_api.tasks.gql import CouponType, TaskType, coupons_of, tasks_of
from member_api.tiers import service as tiers
from member_api.tiers.gql import RightType, Tier, TierChange, TierProgress
from member_api.tiers.models import TierChange as TierChangeRow
from member_api.tiers.rules import TierCode as TierCodeValue


async def _consents(root: MemberType, info: GqlInfo) -> list[Consent]:
    return await consents_of(info, root.row.id)


async def _data_exports(root: MemberType, info: GqlInfo) -> list[DataExport]:
    return await data_exports_of(info, root.row.id)


async def _tier_history(root: MemberType, info: GqlInfo) -> list[TierChange]:
    return await tier_history_of(info, root.row.id)


async def _tasks(root: MemberType, info: GqlInfo) -> list[TaskType]:
    return await tasks_of(info, root.row)


async def _items(root: MemberType, info: GqlInfo) -> list[OwnedItem]:
    return await items_of(info, root.row)


async def _coupons(root: MemberType) -> list[CouponType]:
    return await coupons_of(root.row)


@strawberry.type(name="Member", description="A member of the programme, as they see themselves.")
class MemberType:
    """Built by `member_of` with every field the request selected already in place: the
    fields below without a resolver are plain attributes, read without any work."""

    id: strawberry.ID
    display_name: str
    avatar_url: str | None
    phone_masked: str | None = strawberry.field(description="e.g. 138****0001; never in full.")
    joined_at: datetime
    referral_code: str = strawberry.field(description="Give it to a friend who registers.")
    row: strawberry.Private[MemberRow]
    birthday: Birthday | None = strawberry.field(
        description="Month and day, entered once; null until entered."
    )

    consents: list[Consent] = strawberry.field(
        resolver=_consents, description="Every consent purpose with the member's decision."
    )
    data_exports: list[DataExport] = strawberry.field(
        resolver=_data_exports, description="The member's data exports, newest first."
    )

    # Filled in by `member_of` when selected (left as None when not).
    tier: Tier = strawberry.field(description="The member's tier now.")
    tier_progress: TierProgress | None = strawberry.field(
        description="Conditions for the next tier and for keeping this one."
    )
    rights: list[RightType] = strawberry.field(
        description="Rights of the member's tier, with usage where counted."
    )

    tier_history: list[TierChange] = strawberry.field(
        resolver=_tier_history, description="Every change of tier, newest first."
    )

    points: Points = strawberry.field(description="Points: balance, expiring soon, history.")
    carbon_credits: PointCount = strawberry.field(
        description="Carbon credits from completed consignments."
    )
    badges: list[BadgeType] = strawberry.field(description="Milestone badges earned, oldest first.")

    tasks: list[TaskType] = strawberry.field(
        resolver=_tasks, description="The task catalogue with the member's progress."
    )
    items: list[OwnedItem] = strawberry.field(
        resolver=_items, description="Items the member owns, with their QR codes."
    )
    coupons: list[CouponType] = strawberry.field(
        resolver=_coupons, description="Coupons the member holds, newest first."
    )

    check_in: CheckInStatusType = strawberry.field(
        description="Today's check-in and the running streak."
    )

    @strawberry.field(description="Days checked in during a month, given as YYYY-MM.")
    async def check_in_calendar(self, month: str) -> list[date]:
        return await calendar_of(self.row.id, month)

    @strawberry.field(description="The member's redemptions, newest first.")
    async def redemptions(self, first: int = 20, after: str | None = None) -> RedemptionConnection:
        return await redemptions_page(self.row.id, first, after)

    @strawberry.field(description="The in-app inbox, newest first.")
    async def notifications(
        self, first: int = 20, after: str | None = None
    ) -> NotificationConnection:
        return await notifications_page(self.row.id, first, after)

    @strawberry.field(
        description="Rewards, events, groups and posts for the member, best first, each "
        "with its reason (computed nightly): from what similar members did and the "
        "member's brand and category affinity, or the popular items of their tier for a "
        "newcomer or without the PERSONALISATION consent. What the member cannot use now "
        "(above their tier, sold out, past, full, hidden, joined already) is left out. "
        "`first` is 0 to 100."
    )
    async def recommendations(
        self, info: GqlInfo, first: int, after: str | None = None
    ) -> RecommendationConnection:
        return await recommendations_page(info, self.row, first, after)


# Member fields that `member_of` fills in, and what each needs read.
_TIER_FIELDS = frozenset({"tier", "tierProgress"})
_PARTS = {
    "points": centre.Part.LEDGER,
    "carbonCredits": centre.Part.LEDGER,
    "rights": centre.Part.RIGHTS,
    "checkIn": centre.Part.CHECK_IN,
    "badges": centre.Part.BADGES,
}


def _selected_names(info: GqlInfo) -> set[str]:
    """The names of the fields selected on the member, through fragments. A field under
    @skip or @include counts as selected: at worst it is read and not shown."""
    raw = info._raw_info
    names: set[str] = set()
    pending = [node.selection_set for node in raw.field_nodes]
    while pending:
        selection_set = pending.pop()
        if selection_set is None:
            continue
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                names.add(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = raw.fragments.get(selection.name.value)
                if fragment is not None:
                    pending.append(fragment.selection_set)
    return names


async def member_of(info: GqlInfo, row: MemberRow) -> MemberType:
    """The member as GraphQL shows them, with the fields this request selected read: the
    tier view from its cache, the rest by at most one statement."""
    services = info.context.services
    names = _selected_names(info)
    member = MemberType(
        id=strawberry.ID(str(row.id)),
        display_name=row.display_name,
        avatar_url=row.avatar_url,
        phone_masked=row.phone_masked,
        joined_at=row.joined_at,
        referral_code=row.referral_code,
        row=row,
        birthday=(
            Birthday(month=row.birthday_month, day=row.birthday_day)
            if row.birthday_month and row.birthday_day
            else None
        ),
        tier=_NOT_SELECTED,
        tier_progress=None,
        rights=_NOT_SELECTED,
        points=_NOT_SELECTED,
        carbon_credits=_NOT_SELECTED,
        badges=_NOT_SELECTED,
        check_in=_NOT_SELECTED,
    )
    parts = {_PARTS[name] for name in names if name in _PARTS}
    if names & _TIER_FIELDS and parts:
        view, extras = await asyncio.gather(
            tiers.view_of(services, row), _read_parts(services, row, parts)
        )
    elif parts:
        view, extras = None, await _read_parts(services, row, parts)
    elif names & _TIER_FIELDS:
        view, extras = await tiers.view_of(services, row), None
    else:
        return member
    rules = services.settings.tier_rules
    if view is not None:
        member.tier = Tier.of(view.tier, rules)
        member.tier_progress = TierProgress.of(view.progress, rules)
    if extras is not None:
        _fill(member, services, extras, parts)
    return member


_NOT_SELECTED: Any = None


class _Read:
    __slots__ = ("counted", "extras", "today")

    def __init__(self, counted: rights_service.Counted, extras: centre.Extras, today: date):
        self.counted = counted
        self.extras = extras
        self.today = today


async def _read_parts(services: Services, row: MemberRow, parts: set[centre.Part]) -> _Read:
    today = business_date(services.clock.now())
    counted = rights_service.counted_rights(services, TierCodeValue(row.tier))
    extras = await centre.read_extras(
        row.id,
        parts,
        today=today,
        horizon=today + timedelta(days=services.settings.points_rules.expiring_soon_days),
        right_codes=counted.codes,
        period_starts=counted.starts,
    )
    return _Read(counted, extras, today)


def _fill(member: MemberType, services: Services, read: _Read, parts: set[centre.Part]) -> None:
    extras = read.extras
    settings = services.settings
    if centre.Part.LEDGER in parts:
        balance = extras.balances.get(ledger.POINTS) or centre.Balance()
        member.points = Points(
            member_id=member.row.id,
            balance=PointCount(balance.total),
            debt=PointCount(balance.debt),
            expiring_soon=[
                ExpiringPoints(amount=PointCount(a), expires_on=d)
                for d, a in extras.expiring.get(ledger.POINTS, [])
            ],
        )
        carbon = extras.balances.get(ledger.CARBON) or centre.Balance()
        member.carbon_credits = PointCount(carbon.total)
    if centre.Part.RIGHTS in parts:
        member.rights = [
            RightType.of(item, settings.tier_rules)
            for item in rights_service.with_usage(read.counted, extras.right_uses)
        ]
    if centre.Part.CHECK_IN in parts:
        last_day, last_streak = extras.last_check_in or (None, 0)
        member.check_in = CheckInStatusType(
            checked_in_today=last_day == read.today,
            streak=checkin_domain.current_streak(last_day, last_streak, read.today),
        )
    if centre.Part.BADGES in parts:
        names = settings.badge_rules
        member.badges = [
            BadgeType(code=code, name=names.name_of(code), earned_at=earned_at)
            for code, earned_at in extras.badges
        ]


@strawberry.type(description="A birthday without the year.")
class Birthday:
    month: int
    day: int


@strawberry.type(name="Badge")
class BadgeType:
    code: str
    name: str
    earned_at: datetime


async def tier_history_of(info: GqlInfo, member_id: uuid.UUID) -> list[TierChange]:
    """Every change of a member's tier, newest first."""
    rules = info.context.services.settings.tier_rules
    rows = await TierChangeRow.filter(member_id=member_id).order_by("-changed_at", "-id")
    return [
        TierChange(
            from_=Tier.of(TierCodeValue(r.from_tier), rules) if r.from_tier else None,
            to=Tier.of(TierCodeValue(r.to_tier), rules),
            changed_at=r.changed_at,
            reason=r.reason,
            # Staff ids stay on the staff side.
            reference=None if r.reason in ("INVITATION", "OVERRIDE") else r.reference,
            note=r.note,
        )
        for r in rows
    ]


async def badges_of(info: GqlInfo, member_id: uuid.UUID) -> list[BadgeType]:
    """Milestone badges a member earned, oldest first."""
    rules = info.context.services.settings.badge_rules
    rows = await BadgeRow.filter(member_id=member_id).order_by("earned_at", "id")
    return [BadgeType(code=r.code, name=rules.name_of(r.code), earned_at=r.earned_at) for r in rows]


@strawberry.input
class RegisterInput:
    phone: str
    password: str
    display_name: str | None = None
    referral_code: str | None = strawberry.field(
        default=None, description="The referral code of the member who invited you."
    )


@strawberry.input
class LoginInput:
    phone: str
    password: str


@strawberry.input
class MiniProgramLoginInput:
    code: str = strawberry.field(description="The code from the mini-program's login call.")


@strawberry.input
class UpdateProfileInput:
    display_name: str | None = None
    avatar_url: str | None = strawberry.field(
        default=None, description="An https URL; an empty string removes the avatar."
    )


@strawberry.input
class SetBirthdayInput:
    month: int = strawberry.field(description="1-12.")
    day: int = strawberry.field(description="A day of that month (29 February included).")


SetBirthdayResult = Annotated[MemberType | AnyError, strawberry.union("SetBirthdayResult")]
UpdateProfileResult = Annotated[MemberType | AnyError, strawberry.union("UpdateProfileResult")]


@strawberry.type
class MemberQuery:
    @strawberry.field(description="The signed-in member; null without a token.")
    async def me(self, info: GqlInfo) -> MemberType | None:
        member_id = info.context.viewer_id()
        row = await centre.read_member(member_id) if member_id is not None else None
        return await member_of(info, row) if row is not None else None


@strawberry.type
class MemberMutation:
    @strawberry.mutation(description="Register with a phone number and password.")
    async def register(self, info: GqlInfo, input: RegisterInput) -> AuthResult:
        work = service.register(
            info.context.services,
            phone=input.phone,
            password=input.password,
            display_name=input.display_name,
            referral_code=input.referral_code,
            device=info.context.device,
        )
        return await outcome(work, AuthTokens.from_issued)

    @strawberry.mutation(description="Sign in with phone number and password.")
    async def login(self, info: GqlInfo, input: LoginInput) -> AuthResult:
        work = service.login(
            info.context.services,
            phone=input.phone,
            password=input.password,
            client_address=info.context.client_address,
            device=info.context.device,
        )
        return await outcome(work, AuthTokens.from_issued)

    @strawberry.mutation(description="Sign in from the mini-program; the first time registers.")
    async def login_with_mini_program(
        self, info: GqlInfo, input: MiniProgramLoginInput
    ) -> AuthResult:
        work = service.login_with_miniprogram(
            info.context.services, code=input.code, device=info.context.device
        )
        return await outcome(work, AuthTokens.from_issued)

    @strawberry.mutation(description="Trade a refresh token for new tokens; the old one dies.")
    async def refresh_tokens(self, info: GqlInfo, input: RefreshTokensInput) -> AuthResult:
        work = service.refresh_tokens(info.context.services, refresh_token=input.refresh_token)
        return await outcome(work, AuthTokens.from_issued)

    @strawberry.mutation(description="Sign out: the refresh token and its family stop working.")
    async def logout(self, info: GqlInfo, input: LogoutInput) -> LogoutResult:
        work = service.logout(info.context.services, refresh_token=input.refresh_token)
        return await outcome(work, logged_out)

    @strawberry.mutation(description="Change the display name or avatar.")
    async def update_profile(self, info: GqlInfo, input: UpdateProfileInput) -> UpdateProfileResult:
        async def work() -> MemberType:
            member_id = await info.context.record_member_action()
            row = await service.update_profile(
                info.context.services,
                member_id=member_id,
                display_name=input.display_name,
                avatar_url=input.avatar_url,
            )
            return await member_of(info, row)

        return await outcome_as_is(work())

    @strawberry.mutation(
        description="Enter your birthday (month and day) once; customer service corrects it."
    )
    async def set_birthday(self, info: GqlInfo, input: SetBirthdayInput) -> SetBirthdayResult:
        async def work() -> MemberType:
            member_id = await info.context.record_member_action()
            row = await service.set_birthday(
                info.context.services, member_id=member_id, month=input.month, day=input.day
            )
            return await member_of(info, row)

        return await outcome_as_is(work())
