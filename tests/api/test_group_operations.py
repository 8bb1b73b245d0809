"""Staff run groups: edit one, hand it to a new owner, mute a member for a time."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from member_api.clock import FrozenClock
from member_api.community import group_admin
from member_api.community import service as community
from member_api.community.models import Comment, Group, GroupMembership, GroupMute, Post
from member_api.errors import DomainError
from tests.community_support import ADMIN, create_group, group_with_members, join, moderator, post
from tests.support import gql, op, staff_token

UPDATE = """
mutation($input: UpdateGroupInput!) {
  updateGroup(input: $input) {
    __typename ... on CommunityGroup { name description slug } ... on Error { code }
  }
}
"""
OWNER = """
mutation($g: ID!, $o: ID!) {
  changeGroupOwner(input: {groupId: $g, ownerId: $o}) {
    __typename ... on CommunityGroup { owner { id } } ... on Error { code }
  }
}
"""
MUTE = """
mutation($input: MuteGroupMemberInput!) {
  muteGroupMember(input: $input) {
    __typename
    ... on GroupMute { mutedAt mutedUntil reason active member { id phoneMasked } }
    ... on Error { code }
  }
}
"""
UNMUTE = """
mutation($g: ID!, $m: ID!) {
  unmuteGroupMember(input: {groupId: $g, memberId: $m}) {
    __typename ... on GroupMute { active } ... on Error { code }
  }
}
"""
MUTES = """
query($g: ID!, $active: Boolean!) {
  groupMutes(groupId: $g, activeOnly: $active) { edges { node { member { id } active } } }
}
"""
LEAVE = """
mutation($g: ID!) { leaveGroup(input: {groupId: $g}) { __typename ... on Error { code } } }
"""


async def staff_do(client: httpx.AsyncClient, token: str, query: str, **variables: Any) -> Any:
    body = await gql(client, query, variables, token=token, path=ADMIN)
    return next(iter(body["data"].values()))


async def comment(client: httpx.AsyncClient, token: str, post_id: str) -> dict[str, Any]:
    variables = {"input": {"postId": post_id, "body": "Lovely stitching"}}
    body = await gql(client, op("CommentOnPost"), variables, token=token)
    return dict(body["data"]["commentOnPost"])


async def test_a_group_is_renamed_and_described(client: httpx.AsyncClient, app: Any) -> None:
    group_id, _ = await group_with_members(client, app, 1)
    mod = await moderator(client, app)
    changes = {"groupId": group_id, "name": " Bag Study Circle ", "description": "Hermès first."}
    done = await staff_do(client, mod, UPDATE, input=changes)
    assert done == {
        "__typename": "CommunityGroup",
        "name": "Bag Study Circle",
        "description": "Hermès first.",
        "slug": "bag-study-club",
    }
    before = await Group.filter(id=group_id).first().values()
    for change, code in (
        ({"name": "  "}, "EMPTY_TEXT"),
        ({"name": "x" * 61}, "TEXT_TOO_LONG"),
        ({"description": "x" * 1001}, "TEXT_TOO_LONG"),
        ({"groupId": str(uuid.uuid4())}, "UNKNOWN_GROUP"),
        ({"groupId": "nope"}, "UNKNOWN_GROUP"),
    ):
        assert (await staff_do(client, mod, UPDATE, input={**changes, **change}))["code"] == code
    assert await Group.filter(id=group_id).first().values() == before


async def test_a_group_is_handed_to_one_of_its_members(client: httpx.AsyncClient, app: Any) -> None:
    group_id, members = await group_with_members(client, app, 3)
    (owner_id, owner), (heir_id, heir), (outsider_id, outsider) = members
    op_token = await staff_token(client, app.state.services, "groups-op", ["operator"])
    await gql(client, LEAVE, {"g": group_id}, token=outsider)
    refused = await staff_do(client, op_token, OWNER, g=group_id, o=outsider_id)
    assert refused["code"] == "NOT_A_GROUP_MEMBER"
    unknown = await staff_do(client, op_token, OWNER, g=group_id, o=str(uuid.uuid4()))
    assert unknown["code"] == "UNKNOWN_MEMBER"
    nowhere = await staff_do(client, op_token, OWNER, g=str(uuid.uuid4()), o=heir_id)
    assert nowhere["code"] == "UNKNOWN_GROUP"
    assert str((await Group.get(id=group_id)).owner_id) == owner_id

    handed = await staff_do(client, op_token, OWNER, g=group_id, o=heir_id)
    assert handed["owner"]["id"] == heir_id
    stays = await gql(client, LEAVE, {"g": group_id}, token=heir)
    assert stays["data"]["leaveGroup"]["code"] == "OWNER_CANNOT_LEAVE"
    left = await gql(client, LEAVE, {"g": group_id}, token=owner)
    assert left["data"]["leaveGroup"]["__typename"] == "CommunityGroup"


async def test_a_muted_member_neither_posts_nor_comments_in_the_group_until_it_ends(
    client: httpx.AsyncClient, app: Any, clock: FrozenClock
) -> None:
    services = app.state.services
    group_id, members = await group_with_members(client, app, 3)
    (owner_id, owner), (muted_id, muted), (_, other) = members
    other_group = await create_group(
        client, await staff_token(client, services, "op2", ["operator"]), owner_id, "watches"
    )
    await join(client, muted, other_group)
    mod = await moderator(client, app)
    post_id = (await post(client, owner, group_id, "My Kelly 28"))["id"]
    mute = {"groupId": group_id, "memberId": muted_id, "hours": 2, "reason": "Spam links"}

    for change, code in (
        ({"hours": 0}, "INVALID_MUTE_DURATION"),
        ({"hours": 721}, "INVALID_MUTE_DURATION"),
        ({"reason": " "}, "REASON_REQUIRED"),
        ({"memberId": str(uuid.uuid4())}, "NOT_A_GROUP_MEMBER"),
        ({"memberId": "nope"}, "UNKNOWN_MEMBER"),
        ({"groupId": str(uuid.uuid4())}, "UNKNOWN_GROUP"),
    ):
        assert (await staff_do(client, mod, MUTE, input={**mute, **change}))["code"] == code
    assert await GroupMute.all().count() == 0
    assert (await staff_do(client, mod, UNMUTE, g=group_id, m=muted_id))["code"] == "NOT_MUTED"

    done = await staff_do(client, mod, MUTE, input=mute)
    assert (done["active"], done["reason"], done["member"]["phoneMasked"]) == (
        True,
        "Spam links",
        "139****0001",
    )
    assert (await post(client, muted, group_id, "Buy here"))["code"] == "MUTED_IN_GROUP"
    assert (await comment(client, muted, post_id))["code"] == "MUTED_IN_GROUP"
    assert await Post.filter(author_id=muted_id).count() == 0
    assert await Comment.filter(author_id=muted_id).count() == 0
    assert (await post(client, muted, other_group, "Watches"))["__typename"] == "Post"
    assert (await comment(client, other, post_id))["__typename"] == "Comment"
    listed = await staff_do(client, mod, MUTES, g=group_id, active=True)
    assert [e["node"]["member"]["id"] for e in listed["edges"]] == [muted_id]

    # Leaving and joining again does not end it.
    await gql(client, LEAVE, {"g": group_id}, token=muted)
    await join(client, muted, group_id)
    assert (await post(client, muted, group_id, "Back"))["code"] == "MUTED_IN_GROUP"

    clock.advance(timedelta(hours=2, seconds=1))
    written = await community.create_post(
        services,
        member_id=uuid.UUID(muted_id),
        group_id=uuid.UUID(group_id),
        body="Sorry",
        image_urls=[],
    )
    assert written.author_id == uuid.UUID(muted_id)
    later = await staff_token(client, services, "mod-later", ["moderator"])
    assert (await staff_do(client, later, MUTES, g=group_id, active=True))["edges"] == []


async def test_unmuting_ends_a_mute_at_once(client: httpx.AsyncClient, app: Any) -> None:
    services = app.state.services
    group_id, members = await group_with_members(client, app, 2)
    muted_id, muted = members[1]
    op_token = await staff_token(client, services, "groups-op", ["operator"])
    mute = {"groupId": group_id, "memberId": muted_id, "hours": 720, "reason": "Cool down"}
    assert (await staff_do(client, op_token, MUTE, input=mute))["active"] is True
    assert (await post(client, muted, group_id, "Hello"))["code"] == "MUTED_IN_GROUP"
    assert (await staff_do(client, op_token, UNMUTE, g=group_id, m=muted_id))["active"] is False
    assert (await post(client, muted, group_id, "Hello"))["__typename"] == "Post"
    again = await staff_do(client, op_token, UNMUTE, g=group_id, m=muted_id)
    assert again["code"] == "NOT_MUTED"
    ended = await staff_do(client, op_token, MUTES, g=group_id, active=False)
    assert [e["node"]["active"] for e in ended["edges"]] == [False]


async def test_only_moderators_and_operators_run_groups(
    client: httpx.AsyncClient, app: Any
) -> None:
    group_id, members = await group_with_members(client, app, 2)
    authenticator = await staff_token(client, app.state.services, "auth", ["authenticator"])
    mute = {"groupId": group_id, "memberId": members[1][0], "hours": 1, "reason": "No"}
    assert (await staff_do(client, authenticator, MUTE, input=mute))["code"] == "FORBIDDEN"
    edit = {"groupId": group_id, "name": "Taken over"}
    assert (await staff_do(client, authenticator, UPDATE, input=edit))["code"] == "FORBIDDEN"
    owner = await staff_do(client, authenticator, OWNER, g=group_id, o=members[1][0])
    assert owner["code"] == "FORBIDDEN"
    assert await GroupMute.all().count() == 0
    assert (await Group.get(id=group_id)).name == "Bag Study Club"


@pytest.mark.parametrize("backend", ["postgres"])
async def test_the_owner_is_always_a_member_when_leaving_races_the_handover(
    client: httpx.AsyncClient, app: Any
) -> None:
    services = app.state.services
    group_id, members = await group_with_members(client, app, 6)
    gid = uuid.UUID(group_id)

    async def hand_over(member_id: str) -> str:
        try:
            await group_admin.change_group_owner(
                services, group_id=gid, owner_id=uuid.UUID(member_id)
            )
        except DomainError as exc:
            return exc.code
        return "ok"

    async def leave(member_id: str) -> str:
        try:
            await community.leave_group(services, member_id=uuid.UUID(member_id), group_id=gid)
        except DomainError as exc:
            return exc.code
        return "ok"

    for member_id, _ in members[1:]:
        await asyncio.gather(hand_over(member_id), leave(member_id))
        group = await Group.get(id=gid)
        assert await GroupMembership.exists(group_id=gid, member_id=group.owner_id)
        assert group.member_count == await GroupMembership.filter(group_id=gid).count()
