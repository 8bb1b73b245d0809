"""Member-facing GraphQL: identity mutations, `me`, the profile."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime
from typing import Annotated

import strawberry

from member_api.badges.models import Badge as BadgeRow
from member_api.business_calendar import business_date
from member_api.checkin.gql import CheckInStatusType, calendar_of, status_of
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
from member_api.graphql.results import outcome
from member_api.graphql.scalars import PointCount
from member_api.members import service
from member_api.members.models import Member as MemberRow
from member_api.notifications.gql import NotificationConnection, notifications_page
from member_api.points import ledger
from member_api.points.gql import Points, points_of
from member_api.privacy.gql import Consent, DataExport, consents_of, data_exports_of
from member_api.provenance.gql import OwnedItem, items_of
from member_api.rewards.gql import RedemptionConnection, redemptions_page
from member_api.rights import service as rights_service
from member_api.tasks.gql import CouponType, TaskType, coupons_of, tasks_of
from member_api.tiers import service as tiers
from member_api.tiers.gql import RightType, Tier, TierChange, TierProgress
from member_api.tiers.models import TierChange as TierChangeRow
from member_api.tiers.rules import TierCode as TierCodeValue


@strawberry.type(name="Member", description="A member of the programme, as they see themselves.")
class MemberType:
    id: strawberry.ID
    display_name: str
    avatar_url: str | None
    phone_masked: str | None = strawberry.field(description="e.g. 138****0001; never in full.")
    joined_at: datetime
    referral_code: str = strawberry.field(description="Give it to a friend who registers.")
    row: strawberry.Private[MemberRow]
    # `tier` and `tierProgress` share one look-up of the view.
    view: strawberry.Private[asyncio.Future[tiers.TierView] | None] = None

    @strawberry.field(description="Month and day, entered once; null until entered.")
    def birthday(self) -> Birthday | None:
        month, day = self.row.birthday_month, self.row.birthday_day
        return Birthday(month=month, day=day) if month and day else None

    @strawberry.field(description="Every consent purpose with the member's decision.")
    async def consents(self, info: GqlInfo) -> list[Consent]:
        return await consents_of(info, self.row.id)

    @strawberry.field(description="The member's data exports, newest first.")
    async def data_exports(self, info: GqlInfo) -> list[DataExport]:
        return await data_exports_of(info, self.row.id)

    @classmethod
    def from_row(cls, row: MemberRow) -> MemberType:
        return cls(
            id=strawberry.ID(str(row.id)),
            display_name=row.display_name,
            avatar_url=row.avatar_url,
            phone_masked=row.phone_masked,
            joined_at=row.joined_at,
            referral_code=row.referral_code,
            row=row,
        )

    def _tier_view(self, info: GqlInfo) -> asyncio.Future[tiers.TierView]:
        if self.view is None:
            self.view = asyncio.ensure_future(tiers.view_of(info.context.services, self.row))
        return self.view

    @strawberry.field(description="The member's tier now.")
    async def tier(self, info: GqlInfo) -> Tier:
        view = await self._tier_view(info)
        return Tier.of(view.tier, info.context.services.settings.tier_rules)

    @strawberry.field(description="Conditions for the next tier and for keeping this one.")
    async def tier_progress(self, info: GqlInfo) -> TierProgress | None:
        view = await self._tier_view(info)
        return TierProgress.of(view.progress, info.context.services.settings.tier_rules)

    @strawberry.field(description="Rights of the member's tier, with usage where counted.")
    async def rights(self, info: GqlInfo) -> list[RightType]:
        services = info.context.services
        items = await rights_service.member_rights(services, self.row)
        return [RightType.of(item, services.settings.tier_rules) for item in items]

    @strawberry.field(description="Every change of tier, newest first.")
    async def tier_history(self, info: GqlInfo) -> list[TierChange]:
        return await tier_history_of(info, self.row.id)

    @strawberry.field(description="Points: balance, expiring soon, history.")
    async def points(self, info: GqlInfo) -> Points:
        return await points_of(info, self.row.id)

    @strawberry.field(description="Carbon credits from completed consignments.")
    async def carbon_credits(self, info: GqlInfo) -> PointCount:
        today = business_date(info.context.services.clock.now())
        balance, _ = await ledger.balance(self.row.id, ledger.CARBON, as_of=today)
        return PointCount(balance)

    @strawberry.field(description="Milestone badges earned, oldest first.")
    async def badges(self, info: GqlInfo) -> list[BadgeType]:
        return await badges_of(info, self.row.id)

    @strawberry.field(description="The task catalogue with the member's progress.")
    async def tasks(self, info: GqlInfo) -> list[TaskType]:
        return await tasks_of(info, self.row)

    @strawberry.field(description="Items the member owns, with their QR codes.")
    async def items(self, info: GqlInfo) -> list[OwnedItem]:
        return await items_of(info, self.row)

    @strawberry.field(description="Coupons the member holds, newest first.")
    async def coupons(self) -> list[CouponType]:
        return await coupons_of(self.row)

    @strawberry.field(description="Today's check-in and the running streak.")
    async def check_in(self, info: GqlInfo) -> CheckInStatusType:
        return await status_of(info, self.row.id)

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
        row = await service.get_member(member_id) if member_id is not None else None
        return MemberType.from_row(row) if row is not None else None


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
        async def work() -> MemberRow:
            member_id = await info.context.record_member_action()
            return await service.update_profile(
                info.context.services,
                member_id=member_id,
                display_name=input.display_name,
                avatar_url=input.avatar_url,
            )

        return await outcome(work(), MemberType.from_row)

    @strawberry.mutation(
        description="Enter your birthday (month and day) once; customer service corrects it."
    )
    async def set_birthday(self, info: GqlInfo, input: SetBirthdayInput) -> SetBirthdayResult:
        async def work() -> MemberRow:
            member_id = await info.context.record_member_action()
            return await service.set_birthday(
                info.context.services, member_id=member_id, month=input.month, day=input.day
            )

        return await outcome(work(), MemberType.from_row)
