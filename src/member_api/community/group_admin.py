"""Staff running groups: edit a group, hand it to a new owner, mute a member for a time."""

from __future__ import annotations

import uuid

from tortoise.transactions import in_transaction

from member_api.community import domain
from member_api.community.models import Group, GroupMembership, GroupMute
from member_api.db import create_once
from member_api.error_codes import CommunityErrorCode
from member_api.errors import Conflict, Forbidden, NotFound
from member_api.members.models import Member
from member_api.services import Services


async def _locked_group(group_id: uuid.UUID) -> Group:
    group = await Group.select_for_update(no_key=True).get_or_none(id=group_id)
    if group is None:
        raise NotFound(CommunityErrorCode.UNKNOWN_GROUP, "No group has that id.")
    return group


async def update_group(
    services: Services,
    *,
    group_id: uuid.UUID,
    name: str | None = None,
    description: str | None = None,
) -> Group:
    """Change a group's name or description (None leaves it); the slug stays."""
    changes: dict[str, str] = {}
    if name is not None:
        changes["name"] = domain.clean_text(
            name, limit=domain.MAX_NAME_CHARS, field="name", what="name"
        )
    if description is not None:
        changes["description"] = domain.clean_description(description)
    async with in_transaction():
        group = await _locked_group(group_id)
        if changes:
            await Group.filter(id=group.id).update(**changes)
    return await Group.get(id=group_id)


async def change_group_owner(
    services: Services, *, group_id: uuid.UUID, owner_id: uuid.UUID
) -> Group:
    """Hand the group to one of its members. The group row is locked, as leaving locks it,
    so the new owner is still a member when the change commits."""
    async with in_transaction():
        group = await _locked_group(group_id)
        if not await Member.exists(id=owner_id):
            raise NotFound(CommunityErrorCode.UNKNOWN_MEMBER, "No member has that id.")
        if not await GroupMembership.exists(group_id=group.id, member_id=owner_id):
            raise Forbidden(
                CommunityErrorCode.NOT_A_GROUP_MEMBER,
                "The new owner must be a member of the group.",
            )
        await Group.filter(id=group.id).update(owner_id=owner_id)
    return await Group.get(id=group_id)


async def mute_member(
    services: Services,
    *,
    group_id: uuid.UUID,
    member_id: uuid.UUID,
    hours: int,
    reason: str,
    staff_id: uuid.UUID,
) -> GroupMute:
    """Mute a member of the group for `hours` (1 to 720): their posts and comments there
    are refused until it ends. Muting a muted member sets a new end from now. The mute
    outlives leaving and joining again (one row per group and member)."""
    now = services.clock.now()
    until = domain.mute_ends(now, hours)
    reason = domain.clean_reason(reason)
    values = {"muted_at": now, "muted_until": until, "muted_by": staff_id, "reason": reason}
    async with in_transaction():
        group = await _locked_group(group_id)
        if not await GroupMembership.exists(group_id=group.id, member_id=member_id):
            raise Forbidden(
                CommunityErrorCode.NOT_A_GROUP_MEMBER, "Only a member of the group can be muted."
            )
        if not await create_once(GroupMute, group_id=group.id, member_id=member_id, **values):
            await GroupMute.filter(group_id=group.id, member_id=member_id).update(**values)
    return await GroupMute.get(group_id=group_id, member_id=member_id)


async def unmute_member(
    services: Services, *, group_id: uuid.UUID, member_id: uuid.UUID
) -> GroupMute:
    """End a mute now; NOT_MUTED when the member is not muted in the group."""
    now = services.clock.now()
    async with in_transaction():
        group = await _locked_group(group_id)
        ended = await GroupMute.filter(
            group_id=group.id, member_id=member_id, muted_until__gt=now
        ).update(muted_until=now)
        if not ended:
            raise Conflict(CommunityErrorCode.NOT_MUTED, "The member is not muted in this group.")
    return await GroupMute.get(group_id=group_id, member_id=member_id)
