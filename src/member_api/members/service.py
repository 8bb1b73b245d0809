"""Member use cases: register, sign in, refresh, sign out, edit the profile."""

from __future__ import annotations

import uuid
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from member_api import freshness
from member_api.auth.passwords import check_password_policy
from member_api.auth.sessions import IssuedTokens
from member_api.auth.tokens import CANCEL_DELETION_ROLE
from member_api.error_codes import AuthErrorCode, MemberErrorCode, RequestErrorCode
from member_api.errors import (
    AccountDeletionPending,
    Conflict,
    InvalidInput,
    NotAuthenticated,
    NotFound,
)
from member_api.members import domain
from member_api.members.models import Member
from member_api.services import Services
from member_api.tasks import service as tasks
from member_api.tasks.domain import Action
from member_api.tiers import service as tiers

PHONE_CONTEXT = "member.phone"
_CODE_ATTEMPTS = 5


def phone_index(services: Services, phone: str) -> str:
    return services.protector.blind_index(phone, context=PHONE_CONTEXT)


async def _create_member(services: Services, **values: Any) -> Member:
    """Insert a member with a fresh referral code, retrying the rare code collision. The
    member row, its first tier and its new-member coupon pack commit together: after a
    failure none of them exists."""
    now = services.clock.now()
    for _ in range(_CODE_ATTEMPTS):
        code = domain.new_referral_code()
        if await Member.filter(referral_code=code).exists():
            continue
        values.setdefault("display_name", domain.default_display_name(code))
        async with in_transaction():
            member = await Member.create(
                referral_code=code, joined_at=now, updated_at=now, **values
            )
            await tiers.record_registration(member)
            await tasks.issue_new_member_pack(services, member.id)
        return member
    raise RuntimeError("could not find a free referral code")


async def register(
    services: Services,
    *,
    phone: str,
    password: str,
    display_name: str | None = None,
    referral_code: str | None = None,
    device: str | None = None,
) -> IssuedTokens:
    phone = domain.normalise_phone(phone)
    check_password_policy(password)
    name = domain.clean_display_name(display_name) if display_name is not None else None
    referrer: Member | None = None
    code = domain.normalise_referral_code(referral_code) if referral_code else None
    if code is not None:
        referrer = await Member.get_or_none(referral_code=code)
        if referrer is None:
            raise InvalidInput(
                MemberErrorCode.REFERRAL_CODE_UNKNOWN,
                "That referral code does not exist.",
                field="referralCode",
            )
    index = phone_index(services, phone)
    if await Member.filter(phone_index=index).exists():
        raise _phone_taken()
    values: dict[str, Any] = {
        "phone_index": index,
        "phone_encrypted": services.protector.encrypt(phone, context=PHONE_CONTEXT),
        "phone_masked": domain.mask_phone(phone),
        "password_hash": await services.passwords.hash(password),
        "referred_by": referrer,
    }
    if name is not None:
        values["display_name"] = name
    try:
        member = await _create_member(services, **values)
    except IntegrityError as exc:  # a concurrent registration of the same phone won
        raise _phone_taken() from exc
    await tiers.record_activity(services, member.id)
    return await services.sessions.start("member", member.id, device=device)


def _phone_taken() -> Conflict:
    return Conflict(
        MemberErrorCode.PHONE_ALREADY_REGISTERED,
        "This phone number is already registered; sign in instead.",
        field="phone",
    )


async def login(
    services: Services,
    *,
    phone: str,
    password: str,
    client_address: str | None,
    device: str | None = None,
) -> IssuedTokens:
    phone = domain.normalise_phone(phone)
    index = phone_index(services, phone)
    await services.login_throttle.check(index, client_address)
    member = await Member.get_or_none(phone_index=index)
    stored = member.password_hash if member is not None else None
    if member is None or not await services.passwords.verify(stored, password):
        await services.login_throttle.record_failure(index, client_address)
        raise NotAuthenticated(
            MemberErrorCode.INVALID_CREDENTIALS, "Phone number or password is wrong."
        )
    await services.login_throttle.reset(index)
    _refuse_closed_account(services, member)
    await tiers.record_activity(services, member.id)
    return await services.sessions.start("member", member.id, device=device)


def _refuse_closed_account(services: Services, member: Member) -> None:
    """A member whose account waits for erasure cannot sign in; they are told when the
    erasure happens and get a token that can only cancel it."""
    if member.erasure_due_at is None:
        return
    token = services.tokens.issue(member.id, "member", (CANCEL_DELETION_ROLE,))
    raise AccountDeletionPending(
        AuthErrorCode.ACCOUNT_DELETION_PENDING,
        f"This account is closed and its personal data will be erased at "
        f"{member.erasure_due_at.isoformat()}. Until then the deletion can be cancelled "
        "(cancelAccountDeletion, with the cancelToken of this error).",
        erases_at=member.erasure_due_at,
        cancel_token=token,
    )


async def login_with_miniprogram(
    services: Services, *, code: str, device: str | None = None
) -> IssuedTokens:
    code = code.strip()
    if not code or len(code) > 256:
        raise InvalidInput(
            MemberErrorCode.INVALID_CODE, "The mini-program login code is missing.", field="code"
        )
    session = await services.miniprogram.code2session(code)
    member = await _member_for_miniprogram(services, session.openid, session.unionid)
    _refuse_closed_account(services, member)
    await tiers.record_activity(services, member.id)
    return await services.sessions.start("member", member.id, device=device)


async def _member_for_miniprogram(services: Services, openid: str, unionid: str | None) -> Member:
    member = await Member.get_or_none(miniprogram_openid=openid)
    if member is not None:
        if unionid and member.miniprogram_unionid != unionid:
            member.miniprogram_unionid = unionid
            await member.save(update_fields=["miniprogram_unionid"])
        return member
    try:
        return await _create_member(
            services, miniprogram_openid=openid, miniprogram_unionid=unionid
        )
    except IntegrityError:  # the same first login, sent twice at once
        return await Member.get(miniprogram_openid=openid)


async def _member_exists(member_id: uuid.UUID) -> tuple[str, ...]:
    if not await Member.filter(id=member_id, erasure_due_at__isnull=True).exists():
        raise NotAuthenticated(
            MemberErrorCode.INVALID_REFRESH_TOKEN, "The refresh token is not valid."
        )
    return ()


async def refresh_tokens(services: Services, *, refresh_token: str) -> IssuedTokens:
    async def still_a_member(member_id: uuid.UUID) -> tuple[str, ...]:
        roles = await _member_exists(member_id)
        await tiers.record_activity(services, member_id)
        return roles

    return await services.sessions.refresh("member", refresh_token, still_a_member)


async def logout(services: Services, *, refresh_token: str) -> None:
    await services.sessions.logout("member", refresh_token)


async def update_profile(
    services: Services,
    *,
    member_id: uuid.UUID,
    display_name: str | None = None,
    avatar_url: str | None = None,
) -> Member:
    member = await Member.get_or_none(id=member_id)
    if member is None:
        raise NotAuthenticated(RequestErrorCode.UNAUTHENTICATED, "This account no longer exists.")
    if display_name is not None:
        member.display_name = domain.clean_display_name(display_name)
    if avatar_url is not None:
        member.avatar_url = domain.clean_avatar_url(avatar_url)
    member.updated_at = services.clock.now()
    async with in_transaction():
        await freshness.touch(freshness.member(member.id), freshness.PROFILES)
        # Only the profile's own columns: a save of the whole row could undo a tier
        # change committed meanwhile.
        await member.save(update_fields=["display_name", "avatar_url", "updated_at"])
        if member.display_name and member.avatar_url:
            await tasks.record(
                services, member_id=member.id, action=Action.PROFILE_COMPLETED, reference="profile"
            )
    return member


async def set_birthday(services: Services, *, member_id: uuid.UUID, month: int, day: int) -> Member:
    """The member enters their birthday once; a change after that goes through staff."""
    month, day = domain.check_birthday(month, day)
    member = await Member.get_or_none(id=member_id)
    if member is None:
        raise NotAuthenticated(RequestErrorCode.UNAUTHENTICATED, "This account no longer exists.")
    now = services.clock.now()
    # Conditional: of two first entries sent at once, one wins.
    changed = await Member.filter(id=member_id, birthday_month__isnull=True).update(
        birthday_month=month, birthday_day=day, updated_at=now
    )
    if not changed:
        raise Conflict(
            MemberErrorCode.BIRTHDAY_ALREADY_SET,
            "Your birthday is set already; customer service can correct it.",
            field="month",
        )
    return await Member.get(id=member_id)


async def correct_birthday(
    services: Services, *, member_id: uuid.UUID, month: int, day: int, note: str
) -> Member:
    """Staff correct a member's birthday (after the member asked customer service)."""
    month, day = domain.check_birthday(month, day)
    note = note.strip()
    if not note or len(note) > 500:
        raise InvalidInput(
            MemberErrorCode.NOTE_REQUIRED,
            "Say why the birthday changes (at most 500 characters).",
            field="note",
        )
    changed = await Member.filter(id=member_id, erased_at__isnull=True).update(
        birthday_month=month, birthday_day=day, updated_at=services.clock.now()
    )
    if not changed:
        raise NotFound(MemberErrorCode.UNKNOWN_MEMBER, "No member has that id.")
    return await Member.get(id=member_id)


async def get_member(member_id: uuid.UUID) -> Member | None:
    return await Member.get_or_none(id=member_id)
