"""Care use cases: find members by what a caller can tell, write care notes."""

from __future__ import annotations

import uuid

from tortoise.queryset import QuerySet

from member_api.care import domain
from member_api.care.domain import Search, SearchKey
from member_api.care.models import CareNote
from member_api.error_codes import CareErrorCode
from member_api.errors import NotFound
from member_api.members.models import Member
from member_api.members.service import phone_index
from member_api.services import Services


def members_matching(services: Services, search: Search) -> QuerySet[Member]:
    """The members a search finds. A phone is found through its keyed index, exactly as
    at sign-in; no stored phone number is ever decrypted to compare."""
    key, value = search.key, search.value
    if key is SearchKey.PHONE:
        return Member.filter(phone_index=phone_index(services, value))
    if key is SearchKey.MEMBER_ID:
        return Member.filter(id=uuid.UUID(value))
    if key is SearchKey.REFERRAL_CODE:
        return Member.filter(referral_code=value)
    if key is SearchKey.MINI_PROGRAM_OPENID:
        return Member.filter(miniprogram_openid=value)
    return Member.filter(display_name__istartswith=value)


def search_members(services: Services, *, key: SearchKey, value: str) -> QuerySet[Member]:
    return members_matching(services, domain.parse_search(key, value))


async def add_care_note(
    services: Services, *, member_id: uuid.UUID, staff_id: uuid.UUID, text: str
) -> CareNote:
    cleaned = domain.clean_note(text)
    if not await Member.exists(id=member_id):
        raise NotFound(CareErrorCode.UNKNOWN_MEMBER, "No member has that id.")
    return await CareNote.create(
        member_id=member_id, staff_id=staff_id, text=cleaned, created_at=services.clock.now()
    )
