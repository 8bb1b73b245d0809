"""The community pages the clients read cost a fixed number of SQL statements.

Each client operation is sent signed in as a member, over 5 rows and again over 20 rows
of everything it lists (groups joined or not, posts by authors of every tier with likes
by the reader and by others and comments, a thread's comments by many authors). The
statement count must not change with the rows, and stays under the ceiling named here.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from member_api.clock import FrozenClock
from member_api.community.models import Comment, Group, GroupMembership, Post, PostLike
from member_api.members.models import Member
from member_api.settings import Settings
from member_api.tiers.rules import TIER_ORDER
from tests.commerce_support import new_member
from tests.support import gql, op, sql_statements


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The computed path is what is counted here: stored answers off (rows are written
    straight to the database, past the writes that would move their versions)."""
    return dataclasses.replace(settings, response_cache_size=0)


# Statements per operation, whatever the number of rows:
GROUPS_CEILING = 2  # the groups; the reader's memberships among them
FEED_CEILING = 3  # the group; its page of posts with their authors; the reader's likes
THREAD_CEILING = 3  # the post with its author; the reader's like; the comments with theirs

FEW, MANY = 5, 20


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 18, 4, 0, tzinfo=UTC))


class Rows:
    """Rows written straight to storage: many of them, quickly, with distinct authors."""

    def __init__(self, clock: FrozenClock) -> None:
        self.clock = clock
        self.made = 0

    def moment(self) -> datetime:
        self.made += 1
        return self.clock.now() - timedelta(hours=1) + timedelta(seconds=self.made)

    async def member(self) -> Member:
        at = self.moment()
        return await Member.create(
            display_name=f"Author {self.made}",
            avatar_url=f"https://img.example/{self.made}.png" if self.made % 2 else None,
            referral_code=f"CEIL{self.made:06d}",
            tier=TIER_ORDER[self.made % len(TIER_ORDER)].value,
            joined_at=at,
            updated_at=at,
        )

    async def group(self, owner: Member, *members: Member) -> Group:
        n = self.made
        group = await Group.create(
            slug=f"group-{n}",
            name=f"Group {n:03d}",
            description=f"About group {n}",
            owner_id=owner.id,
            member_count=1 + len(members),
            created_at=self.moment(),
        )
        for member in (owner, *members):
            await GroupMembership.create(
                group_id=group.id, member_id=member.id, joined_at=self.moment()
            )
        return group

    async def post(self, group: Group, author: Member, likers: list[Member], comments: int) -> Post:
        at = self.moment()
        post = await Post.create(
            group_id=group.id,
            author_id=author.id,
            body=f"Post {self.made}",
            image_urls=[f"https://img.example/p{self.made}.jpg"],
            like_count=len(likers),
            comment_count=comments,
            created_on=at.date(),
            created_at=at,
        )
        for liker in likers:
            await PostLike.create(post_id=post.id, member_id=liker.id, created_at=self.moment())
        for _ in range(comments):
            await self.comment(post, author)
        return post

    async def comment(self, post: Post, author: Member) -> Comment:
        return await Comment.create(
            post_id=post.id,
            author_id=author.id,
            body=f"Comment {self.made}",
            created_at=self.moment(),
        )


async def statements_of(
    client: httpx.AsyncClient, name: str, variables: dict[str, Any], token: str
) -> tuple[dict[str, Any], list[str]]:
    with sql_statements() as statements:
        body = await gql(client, op(name), variables, token=token)
    assert "errors" not in body, body
    return body["data"], list(statements)


async def reader(client: httpx.AsyncClient) -> tuple[Member, str]:
    member_id, token = await new_member(client, "13900000001")
    return await Member.get(id=member_id), token


async def test_community_groups_cost_the_same_for_5_and_20_groups(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    me, token = await reader(client)
    rows = Rows(clock)
    other = await rows.member()

    async def add_groups(count: int) -> None:
        for _ in range(count):
            joined = (me,) if rows.made % 2 else ()
            await rows.group(await rows.member(), other, *joined)

    await add_groups(FEW)
    few_data, few = await statements_of(client, "CommunityGroups", {}, token)
    await add_groups(MANY - FEW)
    many_data, many = await statements_of(client, "CommunityGroups", {}, token)

    assert len(few_data["communityGroups"]) == FEW
    listed = many_data["communityGroups"]
    assert len(listed) == MANY
    assert 0 < sum(g["joinedByMe"] for g in listed) < MANY
    assert len(few) == len(many), (few, many)
    assert len(many) <= GROUPS_CEILING, many


async def test_group_feed_costs_the_same_for_5_and_20_posts(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    me, token = await reader(client)
    rows = Rows(clock)
    group = await rows.group(await rows.member(), me)
    others = [await rows.member() for _ in range(3)]

    async def add_posts(count: int) -> None:
        for n in range(count):
            likers = [*others[: n % 4], *([me] if n % 2 else [])]
            await rows.post(group, await rows.member(), likers, comments=n % 3)

    async def feed() -> tuple[list[dict[str, Any]], list[str]]:
        variables = {"groupId": str(group.id), "first": MANY}
        data, statements = await statements_of(client, "GroupFeed", variables, token)
        return [e["node"] for e in data["communityGroup"]["posts"]["edges"]], statements

    await add_posts(FEW)
    few_posts, few = await feed()
    await add_posts(MANY - FEW)
    many_posts, many = await feed()

    assert len(few_posts) == FEW
    assert len(many_posts) == MANY
    assert 0 < sum(p["likedByMe"] for p in many_posts) < MANY
    assert len({p["author"]["displayName"] for p in many_posts}) == MANY
    assert {p["author"]["tier"]["code"] for p in many_posts} == {t.value for t in TIER_ORDER}
    assert any(p["commentCount"] for p in many_posts)
    assert len(few) == len(many), (few, many)
    assert len(many) <= FEED_CEILING, many


async def test_post_thread_costs_the_same_for_5_and_20_comments(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    me, token = await reader(client)
    rows = Rows(clock)
    group = await rows.group(await rows.member(), me)
    post = await rows.post(group, await rows.member(), [me], comments=0)

    async def add_comments(count: int) -> None:
        for _ in range(count):
            await rows.comment(post, await rows.member())

    async def thread() -> tuple[list[dict[str, Any]], list[str]]:
        variables = {"postId": str(post.id), "first": MANY}
        data, statements = await statements_of(client, "PostThread", variables, token)
        return [e["node"] for e in data["post"]["comments"]["edges"]], statements

    await add_comments(FEW)
    few_comments, few = await thread()
    await add_comments(MANY - FEW)
    many_comments, many = await thread()

    assert len(few_comments) == FEW
    assert len(many_comments) == MANY
    assert len({c["author"]["displayName"] for c in many_comments}) == MANY
    assert len(few) == len(many), (few, many)
    assert len(many) <= THREAD_CEILING, many
