"""Erasure after the cooling-off period: the member row stays, anonymous, so that the
ledger, orders, redemptions and provenance keep their accounting and audit value without
naming anyone; everything that identifies the person goes."""

from __future__ import annotations

import secrets
import uuid
from datetime import date

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from member_api.auth.models import RefreshToken
from member_api.care.models import CareNote
from member_api.commerce.models import ItemInteraction
from member_api.intelligence.models import (
    CareAlert,
    ContentSentiment,
    MemberAffinity,
    MemberFact,
    MemberRecommendation,
)
from member_api.members.activity import bump_facts_version
from member_api.members.models import Member
from member_api.notifications.models import Notification
from member_api.outbox.models import OutboxMessage
from member_api.privacy.domain import ERASED_NAME, DeletionStatus, ExportStatus
from member_api.privacy.models import AccountDeletion, ConsentRecord, DataExport
from member_api.services import Services

# An erased member's referral code: unusable (registration codes have no `-`), unique.
ERASED_CODE_PREFIX = "X-"


async def erase_member(services: Services, member_id: uuid.UUID) -> bool:
    """Erase one member whose cooling-off period is over; False when none was due (not
    closed, cancelled meanwhile, or erased already)."""
    now = services.clock.now()
    async with in_transaction():
        member = await Member.select_for_update().get_or_none(
            id=member_id, erasure_due_at__lte=now, erased_at__isnull=True
        )
        if member is None:
            return False
        recipients = [str(member.id)] + [
            value for value in (member.miniprogram_openid, member.miniprogram_unionid) if value
        ]
        await Member.filter(id=member.id).update(
            display_name=ERASED_NAME,
            avatar_url=None,
            phone_encrypted=None,
            phone_index=None,
            phone_masked=None,
            password_hash=None,
            miniprogram_openid=None,
            miniprogram_unionid=None,
            referral_code=ERASED_CODE_PREFIX + secrets.token_hex(7).upper(),
            referred_by_id=None,
            birthday_month=None,
            birthday_day=None,
            erasure_due_at=None,
            erased_at=now,
            updated_at=now,
            facts_version=F("facts_version") + 1,
        )
        # Those they referred no longer point at them. Referrals are facts of the tier
        # rules: the referrer's cached views go with the link.
        await Member.filter(referred_by_id=member.id).update(referred_by_id=None)
        if member.referred_by_id is not None:
            await bump_facts_version(member.referred_by_id)
        await ConsentRecord.filter(member_id=member.id).delete()
        await DataExport.filter(member_id=member.id).delete()
        await Notification.filter(member_id=member.id).delete()
        # What staff noted about them, and what they looked at and kept in the shop.
        await CareNote.filter(member_id=member.id).delete()
        await ItemInteraction.filter(member_id=member.id).delete()
        # What the data platform derived from their behaviour.
        await MemberFact.filter(member_id=member.id).delete()
        await MemberAffinity.filter(member_id=member.id).delete()
        # What was read into their posts: verdicts and care alerts. Their posts stay, and
        # the sentiment sweep passes over an erased author's.
        await ContentSentiment.filter(member_id=member.id).delete()
        await CareAlert.filter(member_id=member.id).delete()
        # What was recommended to them, worked out from what they did.
        await MemberRecommendation.filter(member_id=member.id).delete()
        await RefreshToken.filter(subject_kind="member", subject_id=member.id).delete()
        # Messages to them: the address and the text go, the fact of a send stays.
        await OutboxMessage.filter(recipient__in=recipients).update(recipient="erased", payload={})
        await AccountDeletion.filter(member_id=member.id, status=DeletionStatus.PENDING).update(
            status=DeletionStatus.ERASED, erased_at=now, reason=""
        )
    return True


async def erase_due(
    services: Services, *, low: uuid.UUID | None = None, high: uuid.UUID | None = None
) -> list[uuid.UUID]:
    """Erase every member (with an id in [low, high) if given) whose period is over."""
    query = Member.filter(erasure_due_at__lte=services.clock.now(), erased_at__isnull=True)
    if low is not None:
        query = query.filter(id__gte=low)
    if high is not None:
        query = query.filter(id__lt=high)
    erased: list[uuid.UUID] = []
    for value in await query.order_by("id").values_list("id", flat=True):
        member_id = uuid.UUID(str(value))
        if await erase_member(services, member_id):
            erased.append(member_id)
    return erased


async def purge_expired_exports(
    services: Services, *, low: uuid.UUID | None = None, high: uuid.UUID | None = None
) -> int:
    """Empty the files of ready exports whose link ran out without a download."""
    query = DataExport.filter(status=ExportStatus.READY, expires_at__lte=services.clock.now())
    if low is not None:
        query = query.filter(member_id__gte=low)
    if high is not None:
        query = query.filter(member_id__lt=high)
    return await query.update(status=ExportStatus.EXPIRED, content=None)


async def erase_accounts(services: Services, as_of: date, dry_run: bool) -> tuple[str, list[str]]:
    """The job: erase the accounts whose cooling-off period is over."""
    if dry_run:
        due = await Member.filter(
            erasure_due_at__lte=services.clock.now(), erased_at__isnull=True
        ).values_list("id", flat=True)
        return f"{len(due)} account(s) due for erasure", [f"{m} would be erased" for m in due]
    erased = await erase_due(services)
    await purge_expired_exports(services)
    return f"{len(erased)} account(s) erased", [f"{m} erased" for m in erased]
