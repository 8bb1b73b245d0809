"""Staff GraphQL for customer care: finding members, the member 360, care notes.

Every read of a member's personal data here goes through `_staff_read`, the one place
where such a read is recorded.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime
from typing import Annotated

import strawberry
from tortoise.expressions import Q, Subquery

from member_api.audit import service as audit
from member_api.care import service
from member_api.care.admin_types import (
    CareNote,
    CareNoteConnection,
    CommerceEventRecordConnection,
    LedgerEntryRecordConnection,
    MemberItem,
    MemberOrderConnection,
    MemberSummary,
    MemberSummaryConnection,
    MemberSummaryEdge,
    RightUse,
    care_notes_page,
    commerce_events_page,
    items_with_history,
    ledger_page,
    orders_page,
    right_uses_of,
)
from member_api.care.domain import SearchKey
from member_api.care.models import CareNote as CareNoteRow
from member_api.checkin.gql import CheckInStatusType, calendar_of, status_of
from member_api.commerce.models import CommerceEvent as CommerceEventRow
from member_api.commerce.models import MemberOrder as OrderRow
from member_api.community.admin_gql import ModerationLogConnection, moderation_log_page
from member_api.community.gql import Comment as CommentType
from member_api.community.gql import CommentConnection, CommentEdge, PostConnection, _posts_page
from member_api.community.models import Comment as CommentRow
from member_api.community.models import ModerationAction
from member_api.community.models import Post as PostRow
from member_api.compliance.admin_gql import AmlFlagConnection, aml_flags_page
from member_api.compliance.models import AmlFlag as AmlFlagRow
from member_api.error_codes import CareErrorCode
from member_api.errors import DomainError
from member_api.graphql.context import GqlInfo
from member_api.graphql.errors import AnyError, ClientError
from member_api.graphql.ids import parse_id
from member_api.graphql.pagination import newest_first_page
from member_api.graphql.results import outcome
from member_api.graphql.roles import Roles
from member_api.intelligence import sentiment_service
from member_api.intelligence.admin_gql import (
    ManualTagType,
    MemberFactsType,
    MemberScoreType,
    StoredRecommendationType,
    facts_of,
    latest_score,
    manual_tags_of,
    score_of_day,
    stored_recommendations,
)
from member_api.intelligence.models import CareAlert as CareAlertRow
from member_api.intelligence.sentiment_admin_gql import CareAlertConnection, care_alerts_page
from member_api.members.gql import BadgeType, Birthday, badges_of, tier_history_of
from member_api.members.models import Member
from member_api.notifications.gql import NotificationConnection, notifications_page
from member_api.points.gql import Points, points_of
from member_api.points.models import LedgerEntry
from member_api.privacy.gql import AccountDeletion, Consent, consents_of
from member_api.privacy.models import AccountDeletion as AccountDeletionRow
from member_api.rewards.gql import RedemptionConnection, RewardCurrency, redemptions_page
from member_api.rights import service as rights_service
from member_api.staff.domain import StaffRole
from member_api.tasks.gql import CouponType, coupons_of
from member_api.tiers import service as tiers
from member_api.tiers.gql import RightType, Tier, TierChange, TierProgress
from member_api.tiers.rules import TierCode

logger = logging.getLogger(__name__)
strawberry.enum(SearchKey, name="MemberSearchKey")

# Who sees which part of a member. Customer care sees everything; the other roles the
# parts their work needs: authenticators a member's items, moderators the community.
CARE = (StaffRole.OPERATOR, StaffRole.ADVISOR)
COMMUNITY = (*CARE, StaffRole.MODERATOR)
ITEMS = (*CARE, StaffRole.AUTHENTICATOR)
ANY_PART = (*CARE, StaffRole.MODERATOR, StaffRole.AUTHENTICATOR)


async def _staff_read(info: GqlInfo, action: str, member_ids: list[uuid.UUID]) -> None:
    """A staff member read members' personal data. Every such read in this module
    passes here: one audit row per member (its action the field's name), and a log line."""
    claims = info.context.claims()
    for member_id in member_ids:
        logger.info(
            "staff read: %s of member %s by staff %s (%s), request %s",
            action,
            member_id,
            claims.subject_id if claims else None,
            ",".join(claims.roles) if claims else "",
            info.context.request_id,
        )
    await audit.record_reads(info, info.field_name, member_ids)


@strawberry.type(description="Everything the service holds about one member, part by part.")
class Member360:
    row: strawberry.Private[Member]
    id: strawberry.ID
    display_name: str
    avatar_url: str | None
    phone_masked: str | None = strawberry.field(description="e.g. 138****0001; never in full.")
    joined_at: datetime
    referral_code: str
    referred_by_id: strawberry.ID | None
    mini_program_linked: bool = strawberry.field(description="Signs in from the mini-program.")

    @classmethod
    def of(cls, row: Member) -> Member360:
        return cls(
            row=row,
            id=strawberry.ID(str(row.id)),
            display_name=row.display_name,
            avatar_url=row.avatar_url,
            phone_masked=row.phone_masked,
            joined_at=row.joined_at,
            referral_code=row.referral_code,
            referred_by_id=strawberry.ID(str(row.referred_by_id)) if row.referred_by_id else None,
            mini_program_linked=row.miniprogram_openid is not None,
        )

    @strawberry.field(description="The tier now.", extensions=[Roles(*ANY_PART)])
    def tier(self, info: GqlInfo) -> Tier | None:
        return Tier.of(TierCode(self.row.tier), info.context.services.settings.tier_rules)

    @strawberry.field(description="Every change of tier, newest first.", extensions=[Roles(*CARE)])
    async def tier_history(self, info: GqlInfo) -> list[TierChange] | None:
        return await tier_history_of(info, self.row.id)

    @strawberry.field(description="Conditions for the next tier.", extensions=[Roles(*CARE)])
    async def tier_progress(self, info: GqlInfo) -> TierProgress | None:
        view = await tiers.view_of(info.context.services, self.row)
        return TierProgress.of(view.progress, info.context.services.settings.tier_rules)

    @strawberry.field(description="Rights of the tier, with usage.", extensions=[Roles(*CARE)])
    async def rights(self, info: GqlInfo) -> list[RightType] | None:
        services = info.context.services
        items = await rights_service.member_rights(services, self.row)
        return [RightType.of(item, services.settings.tier_rules) for item in items]

    @strawberry.field(
        description="Uses of countable rights, newest first.", extensions=[Roles(*CARE)]
    )
    async def right_uses(self) -> list[RightUse] | None:
        return await right_uses_of(self.row.id)

    @strawberry.field(description="Balance, debt, points expiring soon.", extensions=[Roles(*CARE)])
    async def points(self, info: GqlInfo) -> Points | None:
        return await points_of(info, self.row.id)

    @strawberry.field(
        description="Ledger entries, newest first, each with its cause and, for a manual "
        "adjustment, the staff member behind it.",
        extensions=[Roles(*CARE)],
    )
    async def ledger(
        self,
        currency: RewardCurrency = RewardCurrency.POINTS,
        first: int = 20,
        after: str | None = None,
    ) -> LedgerEntryRecordConnection | None:
        query = LedgerEntry.filter(account__member_id=self.row.id, account__currency=currency.value)
        return await ledger_page(query, first, after)

    @strawberry.field(
        description="Orders, refunds and consignments reported by commerce, newest first.",
        extensions=[Roles(*CARE)],
    )
    async def commerce_events(
        self, first: int = 20, after: str | None = None
    ) -> CommerceEventRecordConnection | None:
        return await commerce_events_page(
            CommerceEventRow.filter(member_id=self.row.id), first, after
        )

    @strawberry.field(description="Paid orders, newest first.", extensions=[Roles(*CARE)])
    async def orders(
        self, first: int = 20, after: str | None = None
    ) -> MemberOrderConnection | None:
        return await orders_page(OrderRow.filter(member_id=self.row.id), first, after)

    @strawberry.field(description="Redemptions and their vouchers.", extensions=[Roles(*CARE)])
    async def redemptions(
        self, first: int = 20, after: str | None = None
    ) -> RedemptionConnection | None:
        return await redemptions_page(self.row.id, first, after)

    @strawberry.field(description="Coupons held, newest first.", extensions=[Roles(*CARE)])
    async def coupons(self) -> list[CouponType] | None:
        return await coupons_of(self.row)

    @strawberry.field(description="Milestone badges, oldest first.", extensions=[Roles(*COMMUNITY)])
    async def badges(self, info: GqlInfo) -> list[BadgeType] | None:
        return await badges_of(info, self.row.id)

    @strawberry.field(description="Today's check-in and the streak.", extensions=[Roles(*CARE)])
    async def check_in(self, info: GqlInfo) -> CheckInStatusType | None:
        return await status_of(info, self.row.id)

    @strawberry.field(
        description="Days checked in during a month, given as YYYY-MM.", extensions=[Roles(*CARE)]
    )
    async def check_in_calendar(self, month: str) -> list[date] | None:
        return await calendar_of(self.row.id, month)

    @strawberry.field(
        description="Posts in any state, newest first.", extensions=[Roles(*COMMUNITY)]
    )
    async def posts(
        self, info: GqlInfo, first: int = 20, after: str | None = None
    ) -> PostConnection | None:
        return await _posts_page(info, PostRow.filter(author_id=self.row.id), first, after)

    @strawberry.field(
        description="Comments in any state, newest first.", extensions=[Roles(*COMMUNITY)]
    )
    async def comments(self, first: int = 20, after: str | None = None) -> CommentConnection | None:
        rows, page = await newest_first_page(
            CommentRow.filter(author_id=self.row.id),
            first=first,
            after=after,
            time_field="created_at",
        )
        return CommentConnection(
            edges=[CommentEdge(cursor=c, node=CommentType.of(r)) for c, r in rows], page_info=page
        )

    @strawberry.field(
        description="Moderation of the member's posts and comments, newest first.",
        extensions=[Roles(*COMMUNITY)],
    )
    async def moderation_history(
        self, first: int = 20, after: str | None = None
    ) -> ModerationLogConnection | None:
        posts = PostRow.filter(author_id=self.row.id).values("id")
        comments = CommentRow.filter(author_id=self.row.id).values("id")
        query = ModerationAction.filter(
            Q(target_kind="POST", target_id__in=Subquery(posts))
            | Q(target_kind="COMMENT", target_id__in=Subquery(comments))
        )
        return await moderation_log_page(query, first, after)

    @strawberry.field(
        description="Items owned, with their custody history.", extensions=[Roles(*ITEMS)]
    )
    async def items(self, info: GqlInfo) -> list[MemberItem] | None:
        return await items_with_history(info, self.row.id)

    @strawberry.field(description="AML flags, newest first.", extensions=[Roles(*CARE)])
    async def aml_flags(
        self, first: int = 20, after: str | None = None
    ) -> AmlFlagConnection | None:
        return await aml_flags_page(AmlFlagRow.filter(member_id=self.row.id), first, after)

    @strawberry.field(
        description="In-app notifications sent, newest first.", extensions=[Roles(*CARE)]
    )
    async def notifications(
        self, first: int = 20, after: str | None = None
    ) -> NotificationConnection | None:
        return await notifications_page(self.row.id, first, after)

    @strawberry.field(description="Month and day; null until entered.", extensions=[Roles(*CARE)])
    def birthday(self) -> Birthday | None:
        month, day = self.row.birthday_month, self.row.birthday_day
        return Birthday(month=month, day=day) if month and day else None

    @strawberry.field(
        description="Every consent purpose with the member's decision under the policy in force.",
        extensions=[Roles(*CARE)],
    )
    async def consents(self, info: GqlInfo) -> list[Consent] | None:
        return await consents_of(info, self.row.id)

    @strawberry.field(
        description="The member's latest request to delete the account, if any.",
        extensions=[Roles(*CARE)],
    )
    async def account_deletion(self) -> AccountDeletion | None:
        row = await AccountDeletionRow.filter(member_id=self.row.id).order_by("-id").first()
        return AccountDeletion.of(row) if row is not None else None

    @strawberry.field(
        description="The latest RFM scores and tags (the nightly member-scores job); null "
        "until first scored.",
        extensions=[Roles(*CARE)],
    )
    async def scores(self) -> MemberScoreType | None:
        return await latest_score(self.row.id)

    @strawberry.field(
        description="The member's facts and brand/category affinity (the data platform's); "
        "null until first computed.",
        extensions=[Roles(*CARE)],
    )
    async def facts(self) -> MemberFactsType | None:
        return await facts_of(self.row.id)

    @strawberry.field(
        description="Tags staff put on the member by hand: those held now, or at the end "
        "of business day `on`.",
        extensions=[Roles(*CARE)],
    )
    async def manual_tags(self, on: date | None = None) -> list[ManualTagType] | None:
        return await manual_tags_of(self.row.id, on)

    @strawberry.field(
        description="The RFM scores and tags as of a past business date; null when the "
        "member was not scored that day.",
        extensions=[Roles(*CARE)],
    )
    async def score_on(self, day: date) -> MemberScoreType | None:
        return await score_of_day(self.row.id, day)

    @strawberry.field(
        description="How many of the member's posts and comments were negative remarks "
        "about the service.",
        extensions=[Roles(*CARE)],
    )
    async def negative_remarks(self) -> int | None:
        return await sentiment_service.negative_remarks(self.row.id)

    @strawberry.field(
        description="Care alerts raised by the member's posts and comments, newest first.",
        extensions=[Roles(*CARE)],
    )
    async def care_alerts(
        self, first: int = 20, after: str | None = None
    ) -> CareAlertConnection | None:
        return await care_alerts_page(CareAlertRow.filter(member_id=self.row.id), first, after)

    @strawberry.field(
        description="The member's recommendations as the nightly job stored them, best "
        "first (the member sees those they can use now); empty for a member without the "
        "PERSONALISATION consent or not yet ranked, who is shown the popular list of "
        "their tier.",
        extensions=[Roles(*CARE)],
    )
    async def recommendations(self) -> list[StoredRecommendationType] | None:
        return await stored_recommendations(self.row.id)

    @strawberry.field(description="Care notes, newest first.", extensions=[Roles(*CARE)])
    async def care_notes(
        self, first: int = 20, after: str | None = None
    ) -> CareNoteConnection | None:
        return await care_notes_page(CareNoteRow.filter(member_id=self.row.id), first, after)


@strawberry.input
class AddCareNoteInput:
    member_id: strawberry.ID
    text: str = strawberry.field(description="At most 2,000 characters.")


AddCareNoteResult = Annotated[CareNote | AnyError, strawberry.union("AddCareNoteResult")]


@strawberry.type
class CareAdminQuery:
    @strawberry.field(
        description="Find members by phone, member id, referral code, mini-program openid "
        "or the start of the display name; newest members first, masked as members see "
        "themselves.",
        extensions=[Roles(*ANY_PART)],
    )
    async def search_members(
        self,
        info: GqlInfo,
        by: SearchKey,
        value: str,
        first: int = 20,
        after: str | None = None,
    ) -> MemberSummaryConnection:
        services = info.context.services
        try:
            query = service.search_members(services, key=by, value=value)
        except DomainError as exc:
            raise ClientError(exc.code, exc.message, field=exc.field) from exc
        rows, page = await newest_first_page(
            query, first=first, after=after, time_field="joined_at"
        )
        rules = services.settings.tier_rules
        await _staff_read(info, "member.search", [row.id for _, row in rows])
        return MemberSummaryConnection(
            edges=[MemberSummaryEdge(cursor=c, node=MemberSummary.of(r, rules)) for c, r in rows],
            page_info=page,
        )

    @strawberry.field(
        description="One member's whole record; each part says which roles see it, and a "
        "part a role may not see answers FORBIDDEN while the rest answers. Null when no "
        "member has that id.",
        extensions=[Roles(*ANY_PART)],
    )
    async def member360(self, info: GqlInfo, member_id: strawberry.ID) -> Member360 | None:
        try:
            member = uuid.UUID(str(member_id))
        except ValueError:
            return None
        row = await Member.get_or_none(id=member)
        if row is None:
            return None
        await _staff_read(info, "member.view", [row.id])
        return Member360.of(row)


@strawberry.type
class CareAdminMutation:
    @strawberry.mutation(description="Write a care note about a member.", extensions=[Roles(*CARE)])
    async def add_care_note(self, info: GqlInfo, input: AddCareNoteInput) -> AddCareNoteResult:
        async def work() -> CareNoteRow:
            staff_id = info.context.require_subject()
            return await service.add_care_note(
                info.context.services,
                member_id=parse_id(
                    input.member_id, code=CareErrorCode.UNKNOWN_MEMBER, what="member"
                ),
                staff_id=staff_id,
                text=input.text,
            )

        return await outcome(work(), CareNote.of)
