"""Community in GraphQL: groups, feeds, posts, comments, likes, reports, the weekly quiz.

Pages of posts and comments are read as plain values (no model instance per row) with
their authors' columns in the same statement; like state, membership, quiz answers and
other authors are loaded through per-request DataLoaders, so a page costs the same
queries at any size.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Any

import strawberry

from member_api.community import quiz, service
from member_api.community.domain import ContentState, QuizVerdict
from member_api.community.models import Comment as CommentRow
from member_api.community.models import Group as GroupRow
from member_api.community.models import GroupMembership, PostLike, QuizAnswer
from member_api.community.models import Post as PostRow
from member_api.error_codes import CommunityErrorCode, ErrorCode, RequestErrorCode
from member_api.graphql.context import GqlInfo
from member_api.graphql.errors import AnyError, ClientError
from member_api.graphql.ids import parse_id
from member_api.graphql.pagination import PageInfo, newest_first_values
from member_api.graphql.results import outcome, outcome_as_is
from member_api.members.models import Member
from member_api.tiers.gql import Tier
from member_api.tiers.rules import TierCode as TierCodeValue

strawberry.enum(ContentState, name="ContentState")
strawberry.enum(QuizVerdict, name="QuizVerdict")


def _authors(info: GqlInfo) -> Any:
    """The public face of members by id, read for many at once: four columns, no model
    instances, and one `Tier` per code."""
    tiers = _AuthorFaces(info)

    async def load(ids: list[uuid.UUID]) -> list[PostAuthor]:
        rows = await Member.filter(id__in=ids).values_list("id", *_AUTHOR_COLUMNS)
        found = {member_id: tiers.author(member_id, *columns) for member_id, *columns in rows}
        return [found[i] for i in ids]

    return info.context.loader("community-authors", load)


# An author's columns, in the order `_AuthorFaces.author` takes them, and as read along with
# the posts or comments they wrote (in the same statement).
_AUTHOR_COLUMNS = ("display_name", "avatar_url", "tier")
_AUTHOR_JOINED = {f"author_{name}": f"author__{name}" for name in _AUTHOR_COLUMNS}


class _AuthorFaces:
    """Builds authors that share one `Tier` per tier code."""

    def __init__(self, info: GqlInfo) -> None:
        self.rules = info.context.services.settings.tier_rules
        self.tiers: dict[str, Tier] = {}

    def author(
        self, member_id: uuid.UUID, display_name: str, avatar_url: str | None, tier: str
    ) -> PostAuthor:
        shown = self.tiers.get(tier)
        if shown is None:
            shown = self.tiers[tier] = Tier.of(TierCodeValue(tier), self.rules)
        return PostAuthor(
            id=strawberry.ID(str(member_id)),
            display_name=display_name,
            avatar_url=avatar_url,
            tier=shown,
        )


def _joined_authors(info: GqlInfo, rows: Sequence[dict[str, Any]]) -> None:
    """Take the author columns read along with `rows` out of them, and hand the authors to
    the request's author loader: reading them costs no statement of its own."""
    tiers = _AuthorFaces(info)
    authors: dict[uuid.UUID, PostAuthor] = {}
    for row in rows:
        columns = [row.pop(key) for key in _AUTHOR_JOINED]
        author_id = row["author_id"]
        if author_id not in authors:
            authors[author_id] = tiers.author(author_id, *columns)
    _authors(info).prime_many(authors)


def _viewer_set_loader(info: GqlInfo, name: str, model: Any, key_field: str) -> Any:
    """Loads, for many keys at once, whether the viewer has a row of `model` for each."""
    viewer = info.context.viewer_id()

    async def load(keys: list[uuid.UUID]) -> list[bool]:
        if viewer is None:
            return [False for _ in keys]
        filters = {f"{key_field}__in": keys, "member_id": viewer}
        held = set(await model.filter(**filters).values_list(key_field, flat=True))
        return [k in held for k in keys]

    return info.context.loader(name, load)


def _likes(info: GqlInfo) -> Any:
    return _viewer_set_loader(info, "liked", PostLike, "post_id")


def _quiz_answer_loader(info: GqlInfo) -> Any:
    viewer = info.context.viewer_id()

    async def load(keys: list[uuid.UUID]) -> list[str | None]:
        if viewer is None:
            return [None for _ in keys]
        rows = await QuizAnswer.filter(post_id__in=keys, member_id=viewer).values_list(
            "post_id", "answer"
        )
        answers = dict(rows)
        return [answers.get(k) for k in keys]

    return info.context.loader("quiz-answers", load)


def _is_staff(info: GqlInfo) -> bool:
    return info.context.audience == "staff"


@strawberry.type(description="The public face of a member in the community.")
class PostAuthor:
    id: strawberry.ID
    display_name: str
    avatar_url: str | None
    tier: Tier


async def _author(info: GqlInfo, member_id: uuid.UUID) -> PostAuthor:
    author: PostAuthor = await _authors(info).load(member_id)
    return author


@dataclasses.dataclass(slots=True, frozen=True)
class PostFacts:
    """What a post's fields and resolvers read, as plain values: a page of posts is read
    into these without building a model instance per row."""

    id: uuid.UUID
    group_id: uuid.UUID
    author_id: uuid.UUID
    kind: str
    body: str
    image_urls: list[str]
    like_count: int
    comment_count: int
    report_count: int
    state: str
    hidden_reason: str | None
    created_at: datetime
    quiz_question: str | None
    quiz_answer: str | None
    quiz_revealed_at: datetime | None
    quiz_week: date | None

    @classmethod
    def of(cls, row: PostRow) -> PostFacts:
        return cls(**{name: getattr(row, name) for name in _POST_COLUMNS})


_POST_COLUMNS = tuple(f.name for f in dataclasses.fields(PostFacts))


@strawberry.type(description="The weekly authentication quiz a post asks.")
class Quiz:
    row: strawberry.Private[PostFacts]
    question: str
    revealed: bool
    answer: QuizVerdict | None = strawberry.field(description="The verdict, once revealed.")
    week: date | None = strawberry.field(
        description="Monday of the week the quiz is open for answers; null while it waits "
        "for its turn (a group has one quiz a week)."
    )

    @strawberry.field(description="The signed-in member's answer.")
    async def my_answer(self, info: GqlInfo) -> QuizVerdict | None:
        answer = await _quiz_answer_loader(info).load(self.row.id)
        return QuizVerdict(answer) if answer else None


@dataclasses.dataclass(slots=True, frozen=True)
class CommentFacts:
    """What a comment's fields and resolvers read, as plain values."""

    id: uuid.UUID
    post_id: uuid.UUID
    author_id: uuid.UUID
    body: str
    state: str
    hidden_reason: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: CommentRow) -> CommentFacts:
        return cls(**{name: getattr(row, name) for name in _COMMENT_COLUMNS})


_COMMENT_COLUMNS = tuple(f.name for f in dataclasses.fields(CommentFacts))


@strawberry.type
class Comment:
    row: strawberry.Private[CommentFacts]
    id: strawberry.ID
    body: str
    created_at: datetime
    state: ContentState

    @classmethod
    def of(cls, row: CommentRow | CommentFacts) -> Comment:
        facts = row if isinstance(row, CommentFacts) else CommentFacts.of(row)
        return cls(
            row=facts,
            id=strawberry.ID(str(facts.id)),
            body=facts.body,
            created_at=facts.created_at,
            state=ContentState(facts.state),
        )

    @strawberry.field
    async def author(self, info: GqlInfo) -> PostAuthor:
        return await _author(info, self.row.author_id)

    @strawberry.field(description="Why it was hidden: for its author and staff.")
    def hidden_reason(self, info: GqlInfo) -> str | None:
        mine = info.context.viewer_id() == self.row.author_id
        return self.row.hidden_reason if mine or _is_staff(info) else None


@strawberry.type
class CommentEdge:
    cursor: str
    node: Comment


@strawberry.type
class CommentConnection:
    edges: list[CommentEdge]
    page_info: PageInfo


@strawberry.type
class Post:
    row: strawberry.Private[PostFacts]
    id: strawberry.ID
    body: str
    image_urls: list[str]
    like_count: int
    comment_count: int
    created_at: datetime
    state: ContentState = strawberry.field(
        description="VISIBLE; HIDDEN by a moderator; PENDING_REVIEW after enough reports. "
        "Members see hidden content only when it is their own."
    )
    # Filled for a whole page at once (`posts_of`): plain fields cost far less to serve
    # than a resolver per post.
    author: PostAuthor
    liked_by_me: bool = strawberry.field(description="Whether the signed-in member likes it.")

    @strawberry.field(description="Why it was hidden: for its author and staff.")
    def hidden_reason(self, info: GqlInfo) -> str | None:
        mine = info.context.viewer_id() == self.row.author_id
        return self.row.hidden_reason if mine or _is_staff(info) else None

    @strawberry.field(description="Staff only: how many members reported it.")
    def report_count(self, info: GqlInfo) -> int | None:
        return self.row.report_count if _is_staff(info) else None

    @strawberry.field(description="The quiz, when the post is one.")
    def quiz(self) -> Quiz | None:
        row = self.row
        if row.kind != "QUIZ" or row.quiz_question is None:
            return None
        revealed = row.quiz_revealed_at is not None
        return Quiz(
            row=row,
            question=row.quiz_question,
            revealed=revealed,
            answer=QuizVerdict(row.quiz_answer) if revealed and row.quiz_answer else None,
            week=row.quiz_week,
        )

    @strawberry.field
    async def group(self, info: GqlInfo) -> CommunityGroup:
        async def load(ids: list[uuid.UUID]) -> list[GroupFacts]:
            rows = await GroupRow.filter(id__in=ids).values(*_GROUP_COLUMNS)
            found = {r["id"]: GroupFacts(**r) for r in rows}
            return [found[i] for i in ids]

        return CommunityGroup.of(await info.context.loader("groups", load).load(self.row.group_id))

    @strawberry.field(description="Comments, oldest first.")
    async def comments(
        self, info: GqlInfo, first: int = 20, after: str | None = None
    ) -> CommentConnection:
        query = CommentRow.filter(post_id=self.row.id)
        if not _is_staff(info):
            query = query.filter(service.visible_to(info.context.viewer_id()))
        rows, page = await newest_first_values(
            query,
            _COMMENT_COLUMNS,
            first=first,
            after=after,
            time_field="created_at",
            oldest_first=True,
            related=_AUTHOR_JOINED,
        )
        _joined_authors(info, [r for _, r in rows])
        edges = [CommentEdge(cursor=c, node=Comment.of(CommentFacts(**r))) for c, r in rows]
        return CommentConnection(edges=edges, page_info=page)


@strawberry.type
class PostEdge:
    cursor: str
    node: Post


@strawberry.type
class PostConnection:
    edges: list[PostEdge]
    page_info: PageInfo


async def posts_of(info: GqlInfo, rows: Sequence[PostRow | PostFacts]) -> list[Post]:
    """Posts with their authors and the viewer's likes: at most two batched reads for them
    all, and none for authors already read along with the posts."""
    facts = [r if isinstance(r, PostFacts) else PostFacts.of(r) for r in rows]
    authors, liked = await asyncio.gather(
        _authors(info).load_many([f.author_id for f in facts]),
        _likes(info).load_many([f.id for f in facts]),
    )
    return [
        Post(
            row=f,
            id=strawberry.ID(str(f.id)),
            body=f.body,
            image_urls=list(f.image_urls or []),
            like_count=f.like_count,
            comment_count=f.comment_count,
            created_at=f.created_at,
            state=ContentState(f.state),
            author=author,
            liked_by_me=bool(likes),
        )
        for f, author, likes in zip(facts, authors, liked, strict=True)
    ]


async def post_of(info: GqlInfo, row: PostRow | PostFacts) -> Post:
    return (await posts_of(info, [row]))[0]


async def _posts_page(info: GqlInfo, query: Any, first: int, after: str | None) -> PostConnection:
    rows, page = await newest_first_values(
        query,
        _POST_COLUMNS,
        first=first,
        after=after,
        time_field="created_at",
        related=_AUTHOR_JOINED,
    )
    _joined_authors(info, [r for _, r in rows])
    posts = await posts_of(info, [PostFacts(**r) for _, r in rows])
    return PostConnection(
        edges=[PostEdge(cursor=c, node=p) for (c, _), p in zip(rows, posts, strict=True)],
        page_info=page,
    )


@dataclasses.dataclass(slots=True, frozen=True)
class GroupFacts:
    """What a group's fields and resolvers read, as plain values."""

    id: uuid.UUID
    slug: str
    name: str
    description: str
    member_count: int
    owner_id: uuid.UUID

    @classmethod
    def of(cls, row: GroupRow) -> GroupFacts:
        return cls(**{name: getattr(row, name) for name in _GROUP_COLUMNS})


_GROUP_COLUMNS = tuple(f.name for f in dataclasses.fields(GroupFacts))


@strawberry.type
class CommunityGroup:
    row: strawberry.Private[GroupFacts]
    id: strawberry.ID
    slug: str
    name: str
    description: str
    member_count: int

    @classmethod
    def of(cls, row: GroupRow | GroupFacts) -> CommunityGroup:
        facts = row if isinstance(row, GroupFacts) else GroupFacts.of(row)
        return cls(
            row=facts,
            id=strawberry.ID(str(facts.id)),
            slug=facts.slug,
            name=facts.name,
            description=facts.description,
            member_count=facts.member_count,
        )

    @strawberry.field(description="Whether the signed-in member belongs to it.")
    async def joined_by_me(self, info: GqlInfo) -> bool:
        loader = _viewer_set_loader(info, "joined", GroupMembership, "group_id")
        return bool(await loader.load(self.row.id))

    @strawberry.field(description="The key opinion consumer who runs the group.")
    async def owner(self, info: GqlInfo) -> PostAuthor:
        return await _author(info, self.row.owner_id)

    @strawberry.field(description="The group's feed, newest first.")
    async def posts(
        self, info: GqlInfo, first: int = 20, after: str | None = None
    ) -> PostConnection:
        query = PostRow.filter(group_id=self.row.id)
        if not _is_staff(info):
            query = query.filter(service.visible_to(info.context.viewer_id()))
        return await _posts_page(info, query, first, after)


def _id(value: strawberry.ID, code: ErrorCode, what: str) -> uuid.UUID:
    return parse_id(value, code=code, what=what)


def _query_id(value: strawberry.ID) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


@strawberry.type
class CommunityQuery:
    @strawberry.field(description="The interest groups, by name.")
    async def community_groups(self) -> list[CommunityGroup]:
        rows = await GroupRow.all().order_by("name", "id").values(*_GROUP_COLUMNS)
        return [CommunityGroup.of(GroupFacts(**r)) for r in rows]

    @strawberry.field(description="A group by id; null when there is none.")
    async def community_group(self, id: strawberry.ID) -> CommunityGroup | None:
        group_id = _query_id(id)
        if group_id is None:
            return None
        found = await GroupRow.filter(id=group_id).first().values(*_GROUP_COLUMNS)
        return CommunityGroup.of(GroupFacts(**found)) if found else None

    @strawberry.field(description="A post by id; null when there is none or it is hidden.")
    async def post(self, info: GqlInfo, id: strawberry.ID) -> Post | None:
        post_id = _query_id(id)
        if post_id is None:
            return None
        visible = PostRow.filter(service.visible_to(info.context.viewer_id()), id=post_id)
        found = await visible.first().values(*_POST_COLUMNS, **_AUTHOR_JOINED)
        if not found:
            return None
        _joined_authors(info, [found])
        return await post_of(info, PostFacts(**found))

    @strawberry.field(description="Posts of the groups the signed-in member joined, newest first.")
    async def feed(
        self, info: GqlInfo, first: int = 20, after: str | None = None
    ) -> PostConnection:
        viewer = info.context.viewer_id()
        if viewer is None:
            raise ClientError(RequestErrorCode.UNAUTHENTICATED, "Sign in to see your feed.")
        return await _posts_page(info, service.personal_feed(viewer), first, after)


@strawberry.input
class JoinGroupInput:
    group_id: strawberry.ID


@strawberry.input
class CreatePostInput:
    group_id: strawberry.ID
    body: str
    image_urls: list[str] = strawberry.field(default_factory=list)


@strawberry.input
class CreateQuizInput:
    group_id: strawberry.ID
    body: str
    question: str
    image_urls: list[str] = strawberry.field(default_factory=list)
    verdict: QuizVerdict | None = strawberry.field(
        default=None,
        description="Your item's verdict, hidden until the reveal; with it, the quiz "
        "reveals itself when its week is over.",
    )


@strawberry.input
class CommentOnPostInput:
    post_id: strawberry.ID
    body: str


@strawberry.input
class LikePostInput:
    post_id: strawberry.ID


@strawberry.input
class ReportPostInput:
    post_id: strawberry.ID
    reason: str


@strawberry.input
class QuizVerdictInput:
    post_id: strawberry.ID
    verdict: QuizVerdict


@strawberry.type
class PostReported:
    post_id: strawberry.ID


GroupResult = Annotated[CommunityGroup | AnyError, strawberry.union("CommunityGroupResult")]
PostResult = Annotated[Post | AnyError, strawberry.union("PostResult")]
CommentResult = Annotated[Comment | AnyError, strawberry.union("CommentResult")]
ReportResult = Annotated[PostReported | AnyError, strawberry.union("ReportPostResult")]


def _post_id(value: strawberry.ID) -> uuid.UUID:
    return _id(value, CommunityErrorCode.UNKNOWN_POST, "post")


def _group_id(value: strawberry.ID) -> uuid.UUID:
    return _id(value, CommunityErrorCode.UNKNOWN_GROUP, "group")


@strawberry.type
class CommunityMutation:
    @strawberry.mutation(description="Join a group (joining twice changes nothing).")
    async def join_group(self, info: GqlInfo, input: JoinGroupInput) -> GroupResult:
        async def work() -> GroupRow:
            member_id = await info.context.record_member_action()
            return await service.join_group(
                info.context.services, member_id=member_id, group_id=_group_id(input.group_id)
            )

        return await outcome(work(), CommunityGroup.of)

    @strawberry.mutation(description="Leave a group.")
    async def leave_group(self, info: GqlInfo, input: JoinGroupInput) -> GroupResult:
        async def work() -> GroupRow:
            member_id = await info.context.record_member_action()
            return await service.leave_group(
                info.context.services, member_id=member_id, group_id=_group_id(input.group_id)
            )

        return await outcome(work(), CommunityGroup.of)

    @strawberry.mutation(description="Post in a group you belong to: text and up to 9 images.")
    async def create_post(self, info: GqlInfo, input: CreatePostInput) -> PostResult:
        async def work() -> Post:
            member_id = await info.context.record_member_action()
            row = await service.create_post(
                info.context.services,
                member_id=member_id,
                group_id=_group_id(input.group_id),
                body=input.body,
                image_urls=input.image_urls,
            )
            return await post_of(info, row)

        return await outcome_as_is(work())

    @strawberry.mutation(
        description="Put up an item of yours for your group's weekly authentication quiz; it "
        "opens now if the group has none open this week, else in a later week."
    )
    async def create_quiz(self, info: GqlInfo, input: CreateQuizInput) -> PostResult:
        async def work() -> Post:
            member_id = await info.context.record_member_action()
            row = await quiz.create_quiz(
                info.context.services,
                member_id=member_id,
                group_id=_group_id(input.group_id),
                body=input.body,
                question=input.question,
                image_urls=input.image_urls,
                verdict=QuizVerdict(input.verdict) if input.verdict else None,
            )
            return await post_of(info, row)

        return await outcome_as_is(work())

    @strawberry.mutation(description="Answer a quiz: once, before the answer is revealed.")
    async def answer_quiz(self, info: GqlInfo, input: QuizVerdictInput) -> PostResult:
        async def work() -> Post:
            member_id = await info.context.record_member_action()
            row = await quiz.answer_quiz(
                info.context.services,
                member_id=member_id,
                post_id=_post_id(input.post_id),
                verdict=QuizVerdict(input.verdict),
            )
            return await post_of(info, row)

        return await outcome_as_is(work())

    @strawberry.mutation(description="Reveal a quiz's verdict; correct answers earn points.")
    async def reveal_quiz(self, info: GqlInfo, input: QuizVerdictInput) -> PostResult:
        async def work() -> Post:
            member_id = await info.context.record_member_action()
            row = await quiz.reveal_quiz(
                info.context.services,
                member_id=member_id,
                post_id=_post_id(input.post_id),
                verdict=QuizVerdict(input.verdict),
            )
            return await post_of(info, row)

        return await outcome_as_is(work())

    @strawberry.mutation(description="Comment on a post in a group you belong to.")
    async def comment_on_post(self, info: GqlInfo, input: CommentOnPostInput) -> CommentResult:
        async def work() -> CommentRow:
            member_id = await info.context.record_member_action()
            return await service.comment_on_post(
                info.context.services,
                member_id=member_id,
                post_id=_post_id(input.post_id),
                body=input.body,
            )

        return await outcome(work(), Comment.of)

    @strawberry.mutation(description="Like a post (liking twice counts once).")
    async def like_post(self, info: GqlInfo, input: LikePostInput) -> PostResult:
        async def work() -> Post:
            member_id = await info.context.record_member_action()
            row = await service.like_post(
                info.context.services, member_id=member_id, post_id=_post_id(input.post_id)
            )
            _likes(info).prime(row.id, True, force=True)  # over what this request read before
            return await post_of(info, row)

        return await outcome_as_is(work())

    @strawberry.mutation(description="Take a like back.")
    async def unlike_post(self, info: GqlInfo, input: LikePostInput) -> PostResult:
        async def work() -> Post:
            member_id = await info.context.record_member_action()
            row = await service.unlike_post(
                info.context.services, member_id=member_id, post_id=_post_id(input.post_id)
            )
            _likes(info).prime(row.id, False, force=True)  # over what this request read before
            return await post_of(info, row)

        return await outcome_as_is(work())

    @strawberry.mutation(description="Report a post to the moderators, once.")
    async def report_post(self, info: GqlInfo, input: ReportPostInput) -> ReportResult:
        async def work() -> PostRow:
            member_id = await info.context.record_member_action()
            return await service.report_post(
                info.context.services,
                member_id=member_id,
                post_id=_post_id(input.post_id),
                reason=input.reason,
            )

        return await outcome(work(), lambda row: PostReported(post_id=strawberry.ID(str(row.id))))
