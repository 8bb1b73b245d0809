"""Community over HTTP: groups, posts and their limits, comments, likes, points, rate limits."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from member_api.badges.models import Badge
from member_api.clock import FrozenClock
from member_api.community import service as community
from member_api.community.domain import CommunityRules
from member_api.community.models import Comment, Post
from member_api.points.models import LedgerEntry
from member_api.settings import Settings
from tests.commerce_support import new_member
from tests.community_support import (
    ADMIN,
    CREATE_GROUP,
    create_group,
    group_with_members,
    join,
    operator,
    post,
)
from tests.support import gql, login, op

GROUPS = "{ communityGroups { id slug name memberCount joinedByMe } }"
BALANCE = "{ me { points { balance } } }"
LEAVE = """
mutation($id: ID!) {
  leaveGroup(input: {groupId: $id}) {
    __typename ... on CommunityGroup { memberCount joinedByMe } ... on Error { code }
  }
}
"""


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 18, 4, 0, tzinfo=UTC))


@pytest.fixture
def settings(settings: Settings) -> Settings:
    rules = dataclasses.replace(CommunityRules(), posts_per_window=5, comments_per_window=3)
    return dataclasses.replace(settings, community_rules=rules)


async def test_groups_join_leave_and_counts(client: httpx.AsyncClient, app: Any) -> None:
    staff = await operator(client, app)
    owner_id, owner = await new_member(client, "13900000001")
    _, member = await new_member(client, "13900000002")
    group_id = await create_group(client, staff, owner_id)
    listed = (await gql(client, op("CommunityGroups"), token=member))["data"]["communityGroups"]
    assert [(g["slug"], g["memberCount"], g["joinedByMe"]) for g in listed] == [
        ("bag-study-club", 1, False)
    ]
    joined = await join(client, member, group_id)
    assert joined == {
        "__typename": "CommunityGroup",
        "id": group_id,
        "joinedByMe": True,
        "memberCount": 2,
    }
    assert (await join(client, member, group_id))["memberCount"] == 2  # twice: no change
    left = (await gql(client, LEAVE, {"id": group_id}, token=member))["data"]["leaveGroup"]
    assert left == {"__typename": "CommunityGroup", "memberCount": 1, "joinedByMe": False}
    refused = (await gql(client, LEAVE, {"id": group_id}, token=owner))["data"]["leaveGroup"]
    assert refused == {"__typename": "ConflictError", "code": "OWNER_CANNOT_LEAVE"}
    unknown = await join(client, member, "00000000-0000-0000-0000-000000000000")
    assert unknown["code"] == "UNKNOWN_GROUP"
    assert (await join(client, member, "not-an-id"))["code"] == "UNKNOWN_GROUP"


async def test_group_creation_rules(client: httpx.AsyncClient, app: Any) -> None:
    staff = await operator(client, app)
    owner_id, member = await new_member(client, "13900000001")
    await create_group(client, staff, owner_id)
    for values, code in (
        ({"slug": "bag-study-club", "name": "Again"}, "SLUG_TAKEN"),
        ({"slug": "Bad Slug!", "name": "x"}, "INVALID_SLUG"),
        ({"slug": "ok-slug", "name": " "}, "EMPTY_TEXT"),
    ):
        variables = {"input": {**values, "ownerId": owner_id}}
        body = await gql(client, CREATE_GROUP, variables, token=staff, path=ADMIN)
        assert body["data"]["createGroup"]["code"] == code
    variables = {"input": {"slug": "watch", "name": "Watch", "ownerId": owner_id}}
    as_member = await gql(client, CREATE_GROUP, variables, token=member, path=ADMIN)
    assert as_member["data"]["createGroup"]["code"] == "WRONG_AUDIENCE"


async def test_joining_completes_the_join_group_task_once(
    client: httpx.AsyncClient, app: Any
) -> None:
    group_id, members = await group_with_members(client, app, 2)
    token = members[1][1]
    await gql(client, LEAVE, {"id": group_id}, token=token)
    await join(client, token, group_id)
    assert (await gql(client, BALANCE, token=token))["data"]["me"]["points"]["balance"] == 10


async def test_only_members_post_and_every_limit_is_typed(
    client: httpx.AsyncClient, app: Any
) -> None:
    group_id, members = await group_with_members(client, app, 2)
    _, outsider = await new_member(client, "13900009999")
    token = members[1][1]
    assert (await post(client, outsider, group_id))["code"] == "NOT_A_GROUP_MEMBER"
    image = "https://img.example.com/1.jpg"
    cases: list[tuple[dict[str, Any], str]] = [
        ({"body": "x" * 2001}, "TEXT_TOO_LONG"),
        ({"body": "   "}, "EMPTY_TEXT"),
        ({"body": "ok", "imageUrls": [image] * 10}, "TOO_MANY_IMAGES"),
        ({"body": "ok", "imageUrls": ["http://img.example.com/1.jpg"]}, "INVALID_IMAGE_URL"),
        ({"body": "ok", "imageUrls": ["https://"]}, "INVALID_IMAGE_URL"),
        ({"body": "ok", "imageUrls": ["javascript:alert(1)"]}, "INVALID_IMAGE_URL"),
        ({"body": "Selling a REPLICA, cheap"}, "BANNED_WORDS"),
        ({"body": "全新高仿包"}, "BANNED_WORDS"),
    ]
    for fields, code in cases:
        result = await post(client, token, group_id, **fields)
        assert (result["__typename"], result["code"]) == ("ValidationError", code), fields
    assert await Post.all().count() == 0
    longest = await post(client, token, group_id, "x" * 2000, imageUrls=[image] * 9)
    assert longest["__typename"] == "Post"
    feed = await gql(client, op("GroupFeed"), {"groupId": group_id, "first": 5}, token=token)
    node = feed["data"]["communityGroup"]["posts"]["edges"][0]["node"]
    assert (len(node["body"]), len(node["imageUrls"])) == (2000, 9)
    assert node["author"]["tier"]["code"] == "NEW"


async def test_posts_earn_ten_points_for_three_a_day(
    client: httpx.AsyncClient, app: Any, clock: FrozenClock
) -> None:
    group_id, members = await group_with_members(client, app, 2)
    token = members[1][1]
    for n in range(4):
        assert (await post(client, token, group_id, f"post {n}"))["__typename"] == "Post"
        clock.advance(timedelta(minutes=3))
    balance = (await gql(client, BALANCE, token=token))["data"]["me"]["points"]["balance"]
    # Joining (10), the first post task (20), three rewarded posts (30).
    assert balance == 10 + 20 + 30
    assert await LedgerEntry.filter(reason="POST").count() == 3
    clock.advance(timedelta(days=1))
    token = (await login(client, "13900000001"))["accessToken"]
    await post(client, token, group_id, "the next day")
    assert await LedgerEntry.filter(reason="POST").count() == 4


async def test_posting_and_commenting_are_rate_limited(
    client: httpx.AsyncClient, app: Any, clock: FrozenClock
) -> None:
    group_id, members = await group_with_members(client, app, 2)
    token = members[1][1]
    for n in range(5):
        assert (await post(client, token, group_id, f"post {n}"))["__typename"] == "Post"
    limited = await gql(
        client,
        'mutation($g: ID!) { createPost(input: {groupId: $g, body: "six"}) {'
        " __typename ... on RateLimitedError { code retryAfterSeconds } } }",
        {"g": group_id},
        token=token,
    )
    result = limited["data"]["createPost"]
    assert (result["__typename"], result["code"]) == ("RateLimitedError", "RATE_LIMITED")
    assert 0 < result["retryAfterSeconds"] <= 600
    assert await Post.all().count() == 5
    post_id = (await Post.first()).id  # type: ignore[union-attr]
    comment = {"input": {"postId": str(post_id), "body": "Nice"}}
    outcomes = [
        (await gql(client, op("CommentOnPost"), comment, token=token))["data"]["commentOnPost"]
        for _ in range(4)
    ]
    assert [o["__typename"] for o in outcomes] == ["Comment"] * 3 + ["RateLimitedError"]
    clock.advance(timedelta(minutes=10))
    token = (await login(client, "13900000001"))["accessToken"]
    assert (await post(client, token, group_id, "later"))["__typename"] == "Post"


async def test_comments_and_the_thread(client: httpx.AsyncClient, app: Any) -> None:
    group_id, members = await group_with_members(client, app, 2)
    token = members[1][1]
    post_id = (await post(client, token, group_id))["id"]
    too_long = {"input": {"postId": post_id, "body": "y" * 501}}
    result = (await gql(client, op("CommentOnPost"), too_long, token=token))["data"]
    assert result["commentOnPost"]["code"] == "TEXT_TOO_LONG"
    ok = {"input": {"postId": post_id, "body": "y" * 500}}
    assert (await gql(client, op("CommentOnPost"), ok, token=token))["data"]["commentOnPost"][
        "__typename"
    ] == "Comment"
    unknown = {"input": {"postId": "00000000-0000-0000-0000-000000000000", "body": "hi"}}
    body = await gql(client, op("CommentOnPost"), unknown, token=token)
    assert body["data"]["commentOnPost"]["code"] == "UNKNOWN_POST"
    thread = await gql(client, op("PostThread"), {"postId": post_id, "first": 10}, token=token)
    got = thread["data"]["post"]
    assert got["likeCount"] == 0
    assert [len(e["node"]["body"]) for e in got["comments"]["edges"]] == [500]
    assert await Comment.all().count() == 1
    assert (await Post.get(id=post_id)).comment_count == 1


async def test_likes_are_idempotent(client: httpx.AsyncClient, app: Any) -> None:
    group_id, members = await group_with_members(client, app, 3)
    post_id = (await post(client, members[0][1], group_id))["id"]
    like = {"input": {"postId": post_id}}
    for _ in range(2):
        liked = await gql(client, op("LikePost"), like, token=members[1][1])
        assert liked["data"]["likePost"] == {
            "__typename": "Post",
            "id": post_id,
            "likeCount": 1,
            "likedByMe": True,
        }
    await gql(client, op("LikePost"), like, token=members[2][1])
    unliked = await gql(client, op("UnlikePost"), like, token=members[1][1])
    assert unliked["data"]["unlikePost"]["likeCount"] == 1
    assert not unliked["data"]["unlikePost"]["likedByMe"]
    again = await gql(client, op("UnlikePost"), like, token=members[1][1])
    assert again["data"]["unlikePost"]["likeCount"] == 1
    # One document, three steps in order: each answer shows the state after its step.
    steps = await gql(
        client,
        "mutation($input: LikePostInput!) {"
        " a: likePost(input: $input) { ... on Post { likedByMe likeCount } }"
        " b: unlikePost(input: $input) { ... on Post { likedByMe likeCount } }"
        " c: likePost(input: $input) { ... on Post { likedByMe likeCount } } }",
        like,
        token=members[1][1],
    )
    assert steps["data"] == {
        "a": {"likedByMe": True, "likeCount": 2},
        "b": {"likedByMe": False, "likeCount": 1},
        "c": {"likedByMe": True, "likeCount": 2},
    }


async def test_personal_feed_shows_joined_groups_only(client: httpx.AsyncClient, app: Any) -> None:
    staff = await operator(client, app)
    owner_id, owner = await new_member(client, "13900000001")
    _, reader = await new_member(client, "13900000002")
    bags = await create_group(client, staff, owner_id, "bags")
    watches = await create_group(client, staff, owner_id, "watches")
    await post(client, owner, bags, "about bags")
    await post(client, owner, watches, "about watches")
    await join(client, reader, watches)
    feed = await gql(client, "{ feed(first: 10) { edges { node { body } } } }", token=reader)
    assert [e["node"]["body"] for e in feed["data"]["feed"]["edges"]] == ["about watches"]
    anonymous = await gql(client, "{ feed(first: 10) { edges { node { body } } } }")
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_feed_pages_have_no_gaps_or_repeats_while_posts_arrive(
    client: httpx.AsyncClient, app: Any, clock: FrozenClock
) -> None:
    group_id, members = await group_with_members(client, app, 1)
    services = app.state.services

    async def write(n: int) -> None:
        await community.create_post(
            services,
            member_id=uuid.UUID(members[0][0]),
            group_id=uuid.UUID(group_id),
            body=f"post {n}",
            image_urls=[],
        )
        clock.advance(timedelta(minutes=3))  # past the rate limit's window

    for n in range(12):
        await write(n)
    seen: list[str] = []
    after = None
    while True:
        variables = {"groupId": group_id, "first": 4, "after": after}
        page = await gql(client, op("GroupFeed"), variables)  # the public community pages
        posts = page["data"]["communityGroup"]["posts"]
        seen += [e["node"]["body"] for e in posts["edges"]]
        for n in range(2):  # newer posts arrive between pages
            await write(100 + len(seen) * 10 + n)
        if not posts["pageInfo"]["hasNextPage"]:
            break
        after = posts["pageInfo"]["endCursor"]
    assert seen == [f"post {n}" for n in range(11, -1, -1)]


async def test_ten_posts_earn_the_posts_badge_once(
    client: httpx.AsyncClient, app: Any, clock: FrozenClock
) -> None:
    group_id, members = await group_with_members(client, app, 1)
    member_id = uuid.UUID(members[0][0])
    for n in range(11):
        await community.create_post(
            app.state.services,
            member_id=member_id,
            group_id=uuid.UUID(group_id),
            body=f"post {n}",
            image_urls=[],
        )
        clock.advance(timedelta(minutes=3))
        if n == 8:
            assert not await Badge.filter(member_id=member_id, code="POSTS_10").exists()
    token = (await login(client, "13900000000"))["accessToken"]
    badges = (await gql(client, op("Tasks"), token=token))["data"]["me"]["badges"]
    assert [b["code"] for b in badges] == ["POSTS_10"]
    assert badges[0]["earnedAt"] == (clock.now() - timedelta(minutes=3 * 2)).isoformat()
