"""Staff GraphQL for the community: groups (edit, new owner, mutes), moderation, its log,
group health."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

import strawberry
from tortoise.queryset import QuerySet

from member_api.community import group_admin, service
from member_api.community.domain import ContentState
from member_api.community.gql import (
    Comment,
    CommunityGroup,
    Post,
    PostConnection,
    _posts_page,
    post_of,
)
from member_api.community.models import Group as GroupRow
from member_api.community.models import GroupMute as MuteRow
from member_api.community.models import ModerationAction as ActionRow
from member_api.community.models import Post as PostRow
from member_api.error_codes import CommunityErrorCode
from member_api.errors import DomainError
from member_api.graphql.context import GqlInfo
from member_api.graphql.errors import AnyError, ClientError
from member_api.graphql.ids import parse_id
from member_api.graphql.pagination import PageInfo, newest_first_page
from member_api.graphql.results import outcome, outcome_as_is
from member_api.graphql.roles import Roles
from member_api.members.masked import MaskedMember, masked_member
from member_api.staff.domain import StaffRole

# Groups are run by moderators and operators alike.
RUN_GROUPS = (StaffRole.MODERATOR, StaffRole.OPERATOR)


@strawberry.type
class ModerationLogEntry:
    id: strawberry.ID
    staff_id: strawberry.ID | None = strawberry.field(description="Null: the report threshold.")
    target_kind: str = strawberry.field(description="POST or COMMENT.")
    target_id: strawberry.ID
    action: str = strawberry.field(description="HIDE, RESTORE or AUTO_HIDE.")
    reason: str
    at: datetime


@strawberry.type
class ModerationLogEdge:
    cursor: str
    node: ModerationLogEntry


@strawberry.type
class ModerationLogConnection:
    edges: list[ModerationLogEdge]
    page_info: PageInfo


async def moderation_log_page(
    query: QuerySet[ActionRow], first: int, after: str | None
) -> ModerationLogConnection:
    """A page of moderation actions, newest first."""
    rows, page = await newest_first_page(query, first=first, after=after, time_field="at")
    return ModerationLogConnection(
        edges=[
            ModerationLogEdge(
                cursor=c,
                node=ModerationLogEntry(
                    id=strawberry.ID(str(r.id)),
                    staff_id=strawberry.ID(str(r.staff_id)) if r.staff_id else None,
                    target_kind=r.target_kind,
                    target_id=strawberry.ID(str(r.target_id)),
                    action=r.action,
                    reason=r.reason,
                    at=r.at,
                ),
            )
            for c, r in rows
        ],
        page_info=page,
    )


@strawberry.type(description="One group's activity in one Monday-to-Sunday week.")
class GroupWeek:
    group: CommunityGroup
    week_starting: date
    posts: int
    comments: int
    active_members: int = strawberry.field(
        description="Distinct members who posted, commented or liked."
    )


@strawberry.input
class CreateGroupInput:
    slug: str
    name: str
    owner_id: strawberry.ID = strawberry.field(description="The member who runs it (a KOC).")
    description: str = ""


@strawberry.input
class ModeratePostInput:
    post_id: strawberry.ID
    reason: str


@strawberry.input
class ModerateCommentInput:
    comment_id: strawberry.ID
    reason: str


GroupResult = Annotated[CommunityGroup | AnyError, strawberry.union("CreateGroupResult")]
ModeratePostResult = Annotated[Post | AnyError, strawberry.union("ModeratePostResult")]
ModerateCommentResult = Annotated[Comment | AnyError, strawberry.union("ModerateCommentResult")]


@strawberry.type
class CommunityAdminQuery:
    @strawberry.field(
        description="Posts awaiting review or hidden, newest first.",
        extensions=[Roles(StaffRole.MODERATOR)],
    )
    async def moderation_queue(
        self,
        info: GqlInfo,
        state: ContentState = ContentState.PENDING_REVIEW,
        first: int = 20,
        after: str | None = None,
    ) -> PostConnection:
        return await _posts_page(info, PostRow.filter(state=state.value), first, after)

    @strawberry.field(
        description="A post in any state, with all its comments.",
        extensions=[Roles(StaffRole.MODERATOR)],
    )
    async def community_post(self, info: GqlInfo, id: strawberry.ID) -> Post | None:
        try:
            post_id = uuid.UUID(str(id))
        except ValueError:
            return None
        row = await PostRow.get_or_none(id=post_id)
        return await post_of(info, row) if row else None

    @strawberry.field(
        description="Every moderation action, newest first.",
        extensions=[Roles(StaffRole.MODERATOR)],
    )
    async def moderation_log(
        self, info: GqlInfo, first: int = 20, after: str | None = None
    ) -> ModerationLogConnection:
        return await moderation_log_page(ActionRow.all(), first, after)

    @strawberry.field(
        description="Posts, comments and active members per group per week.",
        extensions=[Roles(StaffRole.MODERATOR)],
    )
    async def group_health(self, info: GqlInfo, weeks: int = 4) -> list[GroupWeek]:
        try:
            rows = await service.group_health(info.context.services, weeks=weeks)
        except DomainError as exc:
            raise ClientError(exc.code, exc.message) from exc
        return [
            GroupWeek(
                group=CommunityGroup.of(r.group),
                week_starting=r.week_starting,
                posts=r.posts,
                comments=r.comments,
                active_members=r.active_members,
            )
            for r in rows
        ]


async def _moderate(
    info: GqlInfo, kind: str, target: strawberry.ID, reason: str, *, hide: bool
) -> object:
    """Hide or restore a post or comment; the result is the row, shown as its type."""

    async def work() -> Post | Comment:
        staff_id = info.context.require_subject()
        row = await service.moderate(
            info.context.services,
            staff_id=staff_id,
            kind=kind,
            target_id=parse_id(target, code=service.unknown_target(kind), what=kind.lower()),
            hide=hide,
            reason=reason,
        )
        return await post_of(info, row) if isinstance(row, PostRow) else Comment.of(row)

    return await outcome_as_is(work())


@strawberry.type
class CommunityAdminMutation:
    @strawberry.mutation(
        description="Create an interest group owned by a member.",
        extensions=[Roles(StaffRole.OPERATOR)],
    )
    async def create_group(self, info: GqlInfo, input: CreateGroupInput) -> GroupResult:
        async def work() -> GroupRow:
            return await service.create_group(
                info.context.services,
                slug=input.slug,
                name=input.name,
                description=input.description,
                owner_id=parse_id(
                    input.owner_id, code=CommunityErrorCode.UNKNOWN_MEMBER, what="member"
                ),
            )

        return await outcome(work(), CommunityGroup.of)

    @strawberry.mutation(
        description="Hide a post, with the reason.", extensions=[Roles(StaffRole.MODERATOR)]
    )
    async def hide_post(self, info: GqlInfo, input: ModeratePostInput) -> ModeratePostResult:
        return await _moderate(info, "POST", input.post_id, input.reason, hide=True)  # type: ignore[return-value]

    @strawberry.mutation(
        description="Restore a hidden post, with the reason.",
        extensions=[Roles(StaffRole.MODERATOR)],
    )
    async def restore_post(self, info: GqlInfo, input: ModeratePostInput) -> ModeratePostResult:
        return await _moderate(info, "POST", input.post_id, input.reason, hide=False)  # type: ignore[return-value]

    @strawberry.mutation(
        description="Hide a comment, with the reason.", extensions=[Roles(StaffRole.MODERATOR)]
    )
    async def hide_comment(
        self, info: GqlInfo, input: ModerateCommentInput
    ) -> ModerateCommentResult:
        return await _moderate(info, "COMMENT", input.comment_id, input.reason, hide=True)  # type: ignore[return-value]

    @strawberry.mutation(
        description="Restore a hidden comment, with the reason.",
        extensions=[Roles(StaffRole.MODERATOR)],
    )
    async def restore_comment(
        self, info: GqlInfo, input: ModerateCommentInput
    ) -> ModerateCommentResult:
        return await _moderate(info, "COMMENT", input.comment_id, input.reason, hide=False)  # type: ignore[return-value]


def _group_id(value: strawberry.ID) -> uuid.UUID:
    return parse_id(value, code=CommunityErrorCode.UNKNOWN_GROUP, what="group")


def _member_id(value: strawberry.ID) -> uuid.UUID:
    return parse_id(value, code=CommunityErrorCode.UNKNOWN_MEMBER, what="member")


@strawberry.type(description="A member muted in a group: no posts or comments there until it ends.")
class GroupMute:
    row: strawberry.Private[MuteRow]
    group_id: strawberry.ID
    muted_at: datetime
    muted_until: datetime = strawberry.field(description="When it ends (or ended).")
    muted_by: strawberry.ID = strawberry.field(description="The staff member who muted.")
    reason: str
    active: bool

    @classmethod
    def of(cls, row: MuteRow, now: datetime) -> GroupMute:
        return cls(
            row=row,
            group_id=strawberry.ID(str(row.group_id)),
            muted_at=row.muted_at,
            muted_until=row.muted_until,
            muted_by=strawberry.ID(str(row.muted_by)),
            reason=row.reason,
            active=now < row.muted_until,
        )

    @strawberry.field(description="The muted member, masked.")
    async def member(self, info: GqlInfo) -> MaskedMember | None:
        return await masked_member(info, self.row.member_id)


@strawberry.type
class GroupMuteEdge:
    cursor: str
    node: GroupMute


@strawberry.type
class GroupMuteConnection:
    edges: list[GroupMuteEdge]
    page_info: PageInfo


@strawberry.input(description="Only the fields given change; the slug stays.")
class UpdateGroupInput:
    group_id: strawberry.ID
    name: str | None = None
    description: str | None = None


@strawberry.input
class ChangeGroupOwnerInput:
    group_id: strawberry.ID
    owner_id: strawberry.ID = strawberry.field(description="A member of the group.")


@strawberry.input
class MuteGroupMemberInput:
    group_id: strawberry.ID
    member_id: strawberry.ID
    hours: int = strawberry.field(description="1 to 720 (30 days), from now.")
    reason: str


@strawberry.input
class UnmuteGroupMemberInput:
    group_id: strawberry.ID
    member_id: strawberry.ID


UpdateGroupResult = Annotated[CommunityGroup | AnyError, strawberry.union("UpdateGroupResult")]
ChangeOwnerResult = Annotated[CommunityGroup | AnyError, strawberry.union("ChangeGroupOwnerResult")]
MuteResult = Annotated[GroupMute | AnyError, strawberry.union("GroupMuteResult")]


@strawberry.type
class GroupAdminQuery:
    @strawberry.field(
        description="Mutes in a group, newest first; `activeOnly` leaves out ended ones.",
        extensions=[Roles(*RUN_GROUPS)],
    )
    async def group_mutes(
        self,
        info: GqlInfo,
        group_id: strawberry.ID,
        active_only: bool = True,
        first: int = 20,
        after: str | None = None,
    ) -> GroupMuteConnection:
        try:
            query = MuteRow.filter(group_id=_group_id(group_id))
        except DomainError as exc:
            raise ClientError(exc.code, exc.message) from exc
        now = info.context.services.clock.now()
        if active_only:
            query = query.filter(muted_until__gt=now)
        rows, page = await newest_first_page(query, first=first, after=after, time_field="muted_at")
        return GroupMuteConnection(
            edges=[GroupMuteEdge(cursor=c, node=GroupMute.of(r, now)) for c, r in rows],
            page_info=page,
        )


@strawberry.type
class GroupAdminMutation:
    @strawberry.mutation(
        description="Rename a group or change its description.", extensions=[Roles(*RUN_GROUPS)]
    )
    async def update_group(self, info: GqlInfo, input: UpdateGroupInput) -> UpdateGroupResult:
        async def work() -> GroupRow:
            return await group_admin.update_group(
                info.context.services,
                group_id=_group_id(input.group_id),
                name=input.name,
                description=input.description,
            )

        return await outcome(work(), CommunityGroup.of)

    @strawberry.mutation(
        description="Hand a group to another of its members.", extensions=[Roles(*RUN_GROUPS)]
    )
    async def change_group_owner(
        self, info: GqlInfo, input: ChangeGroupOwnerInput
    ) -> ChangeOwnerResult:
        async def work() -> GroupRow:
            return await group_admin.change_group_owner(
                info.context.services,
                group_id=_group_id(input.group_id),
                owner_id=_member_id(input.owner_id),
            )

        return await outcome(work(), CommunityGroup.of)

    @strawberry.mutation(
        description=(
            "Mute a member in a group for 1 hour to 30 days: their posts and comments there "
            "are refused (MUTED_IN_GROUP) until it ends. Muting again sets a new end."
        ),
        extensions=[Roles(*RUN_GROUPS)],
    )
    async def mute_group_member(self, info: GqlInfo, input: MuteGroupMemberInput) -> MuteResult:
        services = info.context.services

        async def work() -> MuteRow:
            return await group_admin.mute_member(
                services,
                group_id=_group_id(input.group_id),
                member_id=_member_id(input.member_id),
                hours=input.hours,
                reason=input.reason,
                staff_id=info.context.require_subject(),
            )

        return await outcome(work(), lambda row: GroupMute.of(row, services.clock.now()))

    @strawberry.mutation(
        description="End a member's mute in a group now.", extensions=[Roles(*RUN_GROUPS)]
    )
    async def unmute_group_member(self, info: GqlInfo, input: UnmuteGroupMemberInput) -> MuteResult:
        services = info.context.services

        async def work() -> MuteRow:
            return await group_admin.unmute_member(
                services, group_id=_group_id(input.group_id), member_id=_member_id(input.member_id)
            )

        return await outcome(work(), lambda row: GroupMute.of(row, services.clock.now()))
