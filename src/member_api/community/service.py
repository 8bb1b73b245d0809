"""Community use cases: groups, posts, comments, likes, reports, moderation, group health
(the weekly quiz is `community.quiz`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from tortoise.expressions import F, Q, Subquery
from tortoise.transactions import in_transaction

from member_api import freshness, ratelimit
from member_api.badges import service as badges
from member_api.badges.domain import Counter
from member_api.business_calendar import business_date
from member_api.clock import BUSINESS_ZONE
from member_api.community import domain
from member_api.community.domain import ContentState, QuizVerdict
from member_api.community.models import (
    Comment,
    Group,
    GroupMembership,
    GroupMute,
    ModerationAction,
    Post,
    PostLike,
    PostReport,
)
from member_api.db import after_commit, create_once
from member_api.error_codes import CommunityErrorCode
from member_api.errors import Conflict, Forbidden, InvalidInput, NotFound
from member_api.members.models import Member
from member_api.points import service as points
from member_api.points.domain import Reason
from member_api.services import Services
from member_api.tasks import service as tasks
from member_api.tasks.domain import Action

VISIBLE = ContentState.VISIBLE.value


# --- groups -------------------------------------------------------------------------


async def create_group(
    services: Services, *, slug: str, name: str, description: str, owner_id: uuid.UUID
) -> Group:
    slug = domain.clean_slug(slug)
    name = domain.clean_text(name, limit=domain.MAX_NAME_CHARS, field="name", what="name")
    description = domain.clean_description(description)
    if not await Member.exists(id=owner_id):
        raise NotFound(CommunityErrorCode.UNKNOWN_MEMBER, "No member has that id.")
    if await Group.exists(slug=slug):
        raise Conflict(
            CommunityErrorCode.SLUG_TAKEN, f"A group is called {slug!r} already.", field="slug"
        )
    now = services.clock.now()
    async with in_transaction():
        if not await create_once(
            Group, slug=slug, name=name, description=description, owner_id=owner_id, created_at=now
        ):
            raise Conflict(
                CommunityErrorCode.SLUG_TAKEN, f"A group is called {slug!r} already.", field="slug"
            )
        group = await Group.get(slug=slug)
        await _join(services, group, owner_id)
    return await Group.get(id=group.id)


async def _group(group_id: uuid.UUID) -> Group:
    group = await Group.get_or_none(id=group_id)
    if group is None:
        raise NotFound(CommunityErrorCode.UNKNOWN_GROUP, "No group has that id.")
    return group


async def _join(services: Services, group: Group, member_id: uuid.UUID) -> bool:
    await tasks.record(
        services, member_id=member_id, action=Action.JOIN_GROUP, reference=str(group.id)
    )
    joined = await create_once(
        GroupMembership, group_id=group.id, member_id=member_id, joined_at=services.clock.now()
    )
    if joined:
        await Group.filter(id=group.id).update(member_count=F("member_count") + 1)
    return joined


async def join_group(services: Services, *, member_id: uuid.UUID, group_id: uuid.UUID) -> Group:
    """Join (joining twice changes nothing)."""
    group = await _group(group_id)
    async with in_transaction():
        await freshness.touch(freshness.GROUPS, freshness.group(group.id))
        await _join(services, group, member_id)
    return await Group.get(id=group.id)


async def leave_group(services: Services, *, member_id: uuid.UUID, group_id: uuid.UUID) -> Group:
    group = await _group(group_id)
    async with in_transaction():
        await freshness.touch(freshness.GROUPS, freshness.group(group.id))
        # The group row locked: a new owner cannot be named while their membership goes.
        group = await Group.select_for_update(no_key=True).get(id=group.id)
        if group.owner_id == member_id:
            raise Conflict(
                CommunityErrorCode.OWNER_CANNOT_LEAVE, "The group's owner cannot leave it."
            )
        left = await GroupMembership.filter(group_id=group.id, member_id=member_id).delete()
        if left:
            await Group.filter(id=group.id).update(member_count=F("member_count") - 1)
    return await Group.get(id=group.id)


async def is_member(group_id: uuid.UUID, member_id: uuid.UUID) -> bool:
    return await GroupMembership.exists(group_id=group_id, member_id=member_id)


async def require_membership(group_id: uuid.UUID, member_id: uuid.UUID) -> None:
    if not await is_member(group_id, member_id):
        raise Forbidden(CommunityErrorCode.NOT_A_GROUP_MEMBER, "Join the group first.")


async def require_not_muted(services: Services, group_id: uuid.UUID, member_id: uuid.UUID) -> None:
    """Inside the post's or comment's transaction: refuse a member muted in the group."""
    mute = await GroupMute.get_or_none(group_id=group_id, member_id=member_id)
    domain.check_not_muted(mute.muted_until if mute else None, services.clock.now())


# --- visibility ---------------------------------------------------------------------


def visible_to(viewer_id: uuid.UUID | None) -> Q:
    """Content a member sees: visible content, and their own in any state."""
    if viewer_id is None:
        return Q(state=VISIBLE)
    return Q(state=VISIBLE) | Q(author_id=viewer_id)


async def visible_post(post_id: uuid.UUID, viewer_id: uuid.UUID | None) -> Post:
    post = await Post.filter(visible_to(viewer_id), id=post_id).first()
    if post is None:
        raise NotFound(CommunityErrorCode.UNKNOWN_POST, "No post has that id.")
    return post


def group_feed(group_id: uuid.UUID, viewer_id: uuid.UUID | None) -> object:
    return Post.filter(visible_to(viewer_id), group_id=group_id)


def personal_feed(member_id: uuid.UUID) -> object:
    joined = Subquery(GroupMembership.filter(member_id=member_id).values("group_id"))
    return Post.filter(visible_to(member_id), group_id__in=joined)


# --- posts and comments -------------------------------------------------------------


async def _classify_after_commit(kind: str, source_id: uuid.UUID) -> None:
    """Once the post or comment is committed, send it for its sentiment (a care alert if
    it is a negative remark about the service); the member's write never waits on it."""
    # The task queue sits above the areas whose work it carries: imported when used.
    from member_api.background.tasks import send_classify

    await after_commit(lambda: send_classify(kind, source_id))


def _check_content(services: Services, text: str, *, limit: int, field: str, what: str) -> str:
    text = domain.clean_text(text, limit=limit, field=field, what=what)
    domain.check_words(text, services.settings.community_rules, field=field)
    return text


async def _rate(services: Services, scope: str, member_id: uuid.UUID, limit: int) -> None:
    rules = services.settings.community_rules
    await ratelimit.hit(
        services.cache,
        services.clock,
        scope,
        str(member_id),
        limit=limit,
        window_seconds=rules.rate_window_seconds,
        what=scope,
    )


async def create_post(
    services: Services,
    *,
    member_id: uuid.UUID,
    group_id: uuid.UUID,
    body: str,
    image_urls: list[str],
    quiz_question: str | None = None,
    quiz_key: QuizVerdict | None = None,
) -> Post:
    """Post in a group the member belongs to; the first three posts of a day earn points.

    With a question the post is an entry for the group's weekly quiz (`community.quiz`),
    and `quiz_key` is the verdict the author declares, kept hidden until the reveal."""
    rules = services.settings.community_rules
    body = _check_content(services, body, limit=domain.MAX_POST_CHARS, field="body", what="post")
    images = domain.clean_image_urls(image_urls)
    group = await _group(group_id)
    if quiz_question is not None:
        quiz_question = _check_content(
            services, quiz_question, limit=300, field="question", what="question"
        )
    await require_membership(group.id, member_id)
    await _rate(services, "posts", member_id, rules.posts_per_window)
    now = services.clock.now()
    today = business_date(now)
    post_id = uuid.uuid4()
    async with in_transaction():
        await freshness.touch(freshness.group(group.id))
        # Recording the action locks the member: the daily count below is exact.
        await tasks.record(
            services, member_id=member_id, action=Action.POST, reference=str(post_id)
        )
        await require_not_muted(services, group.id, member_id)
        rewarded_today = await Post.filter(
            author_id=member_id, created_on=today, points_awarded__gt=0
        ).count()
        reward = rules.post_points if rewarded_today < rules.rewarded_posts_per_day else 0
        post = await Post.create(
            id=post_id,
            group_id=group.id,
            author_id=member_id,
            kind="QUIZ" if quiz_question is not None else "POST",
            body=body,
            image_urls=images,
            points_awarded=reward,
            created_on=today,
            created_at=now,
            quiz_question=quiz_question,
            quiz_key=quiz_key.value if quiz_question is not None and quiz_key else None,
        )
        if reward:
            await points.credit_activity(
                services,
                member_id=member_id,
                reason=Reason.POST,
                points=reward,
                reference=f"post:{post_id}",
            )
        written = await Post.filter(author_id=member_id).count()
        await badges.award_reached(services, member_id, Counter.POSTS, written, at=now)
    await _classify_after_commit("POST", post.id)
    return post


async def comment_on_post(
    services: Services, *, member_id: uuid.UUID, post_id: uuid.UUID, body: str
) -> Comment:
    rules = services.settings.community_rules
    body = _check_content(
        services, body, limit=domain.MAX_COMMENT_CHARS, field="body", what="comment"
    )
    post = await visible_post(post_id, member_id)
    await require_membership(post.group_id, member_id)
    await _rate(services, "comments", member_id, rules.comments_per_window)
    comment_id = uuid.uuid4()
    async with in_transaction():
        await freshness.touch(freshness.post(post.id), freshness.group(post.group_id))
        await tasks.record(
            services, member_id=member_id, action=Action.COMMENT, reference=str(comment_id)
        )
        await require_not_muted(services, post.group_id, member_id)
        comment = await Comment.create(
            id=comment_id,
            post_id=post.id,
            author_id=member_id,
            body=body,
            created_at=services.clock.now(),
        )
        await Post.filter(id=post.id).update(comment_count=F("comment_count") + 1)
    await _classify_after_commit("COMMENT", comment.id)
    return comment


async def like_post(services: Services, *, member_id: uuid.UUID, post_id: uuid.UUID) -> Post:
    """Like once: a second like, even a concurrent one, changes nothing."""
    post = await visible_post(post_id, member_id)
    async with in_transaction():
        await freshness.touch(freshness.post(post.id), freshness.group(post.group_id))
        await tasks.record(
            services, member_id=member_id, action=Action.LIKE, reference=str(post.id)
        )
        liked = await create_once(
            PostLike, post_id=post.id, member_id=member_id, created_at=services.clock.now()
        )
        if liked:
            await Post.filter(id=post.id).update(like_count=F("like_count") + 1)
    return await Post.get(id=post.id)


async def unlike_post(services: Services, *, member_id: uuid.UUID, post_id: uuid.UUID) -> Post:
    post = await visible_post(post_id, member_id)
    async with in_transaction():
        await freshness.touch(freshness.post(post.id), freshness.group(post.group_id))
        removed = await PostLike.filter(post_id=post.id, member_id=member_id).delete()
        if removed:
            await Post.filter(id=post.id).update(like_count=F("like_count") - 1)
    return await Post.get(id=post.id)


async def report_post(
    services: Services, *, member_id: uuid.UUID, post_id: uuid.UUID, reason: str
) -> Post:
    """One report per member; at the threshold of distinct reporters the post awaits review."""
    reason = domain.clean_reason(reason)
    post = await visible_post(post_id, member_id)
    if post.author_id == member_id:
        raise InvalidInput(CommunityErrorCode.OWN_POST, "You cannot report your own post.")
    now = services.clock.now()
    async with in_transaction():
        await freshness.touch(
            freshness.post(post.id), freshness.group(post.group_id), freshness.POSTS
        )
        if not await create_once(
            PostReport, post_id=post.id, member_id=member_id, reason=reason, created_at=now
        ):
            raise Conflict(
                CommunityErrorCode.ALREADY_REPORTED, "You have reported this post already."
            )
        await Post.filter(id=post.id).update(report_count=F("report_count") + 1)
        post = await Post.get(id=post.id)  # the update holds the row: the count is exact
        threshold = services.settings.community_rules.report_threshold
        # Once a moderator has restored a post, reports alone do not hide it again.
        reviewed = await ModerationAction.exists(
            target_id=post.id, target_kind="POST", action="RESTORE"
        )
        if post.report_count >= threshold and post.state == VISIBLE and not reviewed:
            await Post.filter(id=post.id).update(
                state=ContentState.PENDING_REVIEW.value,
                hidden_reason=f"Reported by {post.report_count} members",
            )
            await ModerationAction.create(
                staff_id=None,
                target_kind="POST",
                target_id=post.id,
                action="AUTO_HIDE",
                reason=f"Reported by {post.report_count} members (threshold {threshold})",
                at=now,
            )
    return await Post.get(id=post.id)


# --- moderation ---------------------------------------------------------------------


def unknown_target(kind: str) -> CommunityErrorCode:
    """The code for a moderated post or comment that does not exist."""
    return CommunityErrorCode.UNKNOWN_POST if kind == "POST" else CommunityErrorCode.UNKNOWN_COMMENT


async def moderate(
    services: Services,
    *,
    staff_id: uuid.UUID,
    kind: str,
    target_id: uuid.UUID,
    hide: bool,
    reason: str,
) -> Post | Comment:
    """Hide or restore a post or comment, with the reason logged."""
    reason = domain.clean_reason(reason)
    model: type[Post] | type[Comment] = Post if kind == "POST" else Comment
    now = services.clock.now()
    async with in_transaction():
        row = await model.get_or_none(id=target_id)
        if row is None:
            raise NotFound(unknown_target(kind), f"No {kind.lower()} has that id.")
        if hide:
            await model.filter(id=target_id).update(
                state=ContentState.HIDDEN.value, hidden_reason=reason
            )
        else:
            if row.state == VISIBLE:
                raise Conflict(
                    CommunityErrorCode.NOT_HIDDEN, f"The {kind.lower()} is visible already."
                )
            await model.filter(id=target_id).update(state=VISIBLE, hidden_reason=None)
        await ModerationAction.create(
            staff_id=staff_id,
            target_kind=kind,
            target_id=target_id,
            action="HIDE" if hide else "RESTORE",
            reason=reason,
            at=now,
        )
    return await model.get(id=target_id)


# --- group health -------------------------------------------------------------------


@dataclass(frozen=True)
class WeekHealth:
    group: Group
    week_starting: date
    posts: int
    comments: int
    active_members: int


async def group_health(services: Services, *, weeks: int) -> list[WeekHealth]:
    """Posts, comments and distinct active members (posting, commenting or liking) per
    group per Monday-to-Sunday week, the current week last."""
    if not 1 <= weeks <= 52:
        raise InvalidInput(
            CommunityErrorCode.INVALID_WEEKS, "Ask for 1 to 52 weeks.", field="weeks"
        )
    today = business_date(services.clock.now())
    this_monday = today - timedelta(days=today.weekday())
    first_monday = this_monday - timedelta(weeks=weeks - 1)
    since = datetime.combine(first_monday, time(), tzinfo=BUSINESS_ZONE)
    groups = await Group.all().order_by("name")
    posts = await Post.filter(created_at__gte=since).values_list(
        "group_id", "author_id", "created_at"
    )
    comments = await Comment.filter(created_at__gte=since).values_list(
        "post__group_id", "author_id", "created_at"
    )
    likes = await PostLike.filter(created_at__gte=since).values_list(
        "post__group_id", "member_id", "created_at"
    )
    counts: dict[tuple[object, date], list[int]] = {}
    active: dict[tuple[object, date], set[object]] = {}

    def week_of(at: datetime) -> date:
        day = business_date(at)
        return day - timedelta(days=day.weekday())

    for rows, slot in ((posts, 0), (comments, 1), (likes, 2)):
        for group_id, who, at in rows:
            cell = (group_id, week_of(at))
            if slot < 2:
                counts.setdefault(cell, [0, 0])[slot] += 1
            active.setdefault(cell, set()).add(who)
    result = []
    for group in groups:
        for n in range(weeks):
            monday = first_monday + timedelta(weeks=n)
            cell = (group.id, monday)
            made = counts.get(cell, [0, 0])
            result.append(WeekHealth(group, monday, made[0], made[1], len(active.get(cell, set()))))
    return result
