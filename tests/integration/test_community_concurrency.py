"""On PostgreSQL: like counts stay exact under concurrency; a feed costs the same queries at
any page size."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from member_api.community import service as community
from member_api.community.models import Post, PostLike
from tests.commerce_support import new_member
from tests.community_support import group_with_members, post
from tests.support import gql, login, op, tasks_done


@pytest.fixture
def backend() -> str:
    return "postgres"


async def test_fifty_members_like_one_post_at_once(client: httpx.AsyncClient, app: Any) -> None:
    group_id, members = await group_with_members(client, app, 1)
    post_id = (await post(client, members[0][1], group_id))["id"]
    likers = [await new_member(client, f"1380000{n:04d}") for n in range(50)]
    like = {"input": {"postId": post_id}}
    results = await asyncio.gather(
        *(gql(client, op("LikePost"), like, token=token) for _, token in likers)
    )
    assert all(r["data"]["likePost"]["__typename"] == "Post" for r in results)
    assert (await Post.get(id=post_id)).like_count == 50
    assert await PostLike.filter(post_id=post_id).count() == 50


async def test_one_members_ten_likes_at_once_count_once(
    client: httpx.AsyncClient, app: Any
) -> None:
    group_id, members = await group_with_members(client, app, 2)
    post_id = (await post(client, members[0][1], group_id))["id"]
    like = {"input": {"postId": post_id}}
    results = await asyncio.gather(
        *(gql(client, op("LikePost"), like, token=members[1][1]) for _ in range(10))
    )
    assert {r["data"]["likePost"]["likeCount"] for r in results} <= {1}
    assert (await Post.get(id=post_id)).like_count == 1
    unlikes = await asyncio.gather(
        *(gql(client, op("UnlikePost"), like, token=members[1][1]) for _ in range(10))
    )
    assert all(r["data"]["unlikePost"]["__typename"] == "Post" for r in unlikes)
    assert (await Post.get(id=post_id)).like_count == 0


class _CountQueries(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage().lstrip().upper()
        if message.startswith(("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")):
            self.count += 1


@pytest.fixture
def sql_counter() -> Iterator[_CountQueries]:
    logger = logging.getLogger("tortoise.db_client")
    handler = _CountQueries()
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


async def test_group_feed_costs_the_same_queries_for_5_and_50_posts(
    client: httpx.AsyncClient, app: Any, sql_counter: _CountQueries
) -> None:
    services = app.state.services
    group_id, members = await group_with_members(client, app, 10)

    async def write(count: int) -> None:
        for n in range(count):
            author_id, _ = members[n % len(members)]
            row = await community.create_post(
                services,
                member_id=uuid.UUID(author_id),
                group_id=uuid.UUID(group_id),
                body=f"post {n}",
                image_urls=[],
            )
            if n % 2:
                await community.like_post(
                    services, member_id=uuid.UUID(members[0][0]), post_id=row.id
                )
            services.clock.advance(timedelta(minutes=3))

    async def feed_queries(first: int) -> int:
        variables = {"groupId": group_id, "first": first}
        sql_counter.count = 0
        body = await gql(client, op("GroupFeed"), variables, token=reader)
        edges = body["data"]["communityGroup"]["posts"]["edges"]
        assert len(edges) == first
        assert any(e["node"]["likedByMe"] for e in edges)
        return sql_counter.count

    await write(50)
    await tasks_done()  # each post's classification, sent after its write
    reader = (await login(client, "13900000000"))["accessToken"]  # the clock moved on
    few, many = await feed_queries(5), await feed_queries(50)
    assert few == many, (few, many)
    assert many <= 5  # group, posts, authors, likes
