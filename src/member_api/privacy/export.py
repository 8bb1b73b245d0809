"""Building a member's data export: one JSON document of everything held about them."""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson

from member_api.members.models import Member
from member_api.members.service import PHONE_CONTEXT
from member_api.privacy import registry
from member_api.privacy.domain import ExportStatus
from member_api.privacy.models import DataExport
from member_api.services import Services

logger = logging.getLogger(__name__)
FORMAT_VERSION = 1


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


async def document_of(services: Services, member: Member) -> dict[str, Any]:
    phone = (
        services.protector.decrypt(member.phone_encrypted, context=PHONE_CONTEXT)
        if member.phone_encrypted
        else None
    )
    profile = {
        "id": str(member.id),
        "displayName": member.display_name,
        "avatarUrl": member.avatar_url,
        "phone": phone,
        "miniProgramOpenid": member.miniprogram_openid,
        "miniProgramUnionid": member.miniprogram_unionid,
        "referralCode": member.referral_code,
        "referredBy": str(member.referred_by_id) if member.referred_by_id else None,
        "joinedAt": member.joined_at,
        "tier": member.tier,
        "tierSince": member.tier_since,
        "birthday": (
            {"month": member.birthday_month, "day": member.birthday_day}
            if member.birthday_month
            else None
        ),
        "erasureDueAt": member.erasure_due_at,
    }
    return {
        "format": FORMAT_VERSION,
        "generatedAt": services.clock.now(),
        "privacyPolicyVersion": services.settings.privacy_policy_version,
        "profile": profile,
        # Every table's rows that name the member: tier history, ledger, orders,
        # redemptions, rights usage, badges, check-ins, posts, comments, items,
        # notifications, consents, sessions (times), ...
        "records": await registry.rows_of(member.id),
    }


async def build_export(services: Services, export_id: uuid.UUID) -> bool:
    """Fill a pending export; idempotent (a redelivered task finds it done)."""
    export = await DataExport.get_or_none(id=export_id, status=ExportStatus.PENDING)
    if export is None:
        return False
    try:
        member = await Member.get(id=export.member_id)
        document = await document_of(services, member)
        content = orjson.dumps(document, default=_plain, option=orjson.OPT_INDENT_2).decode()
    except Exception as exc:
        logger.exception("data export %s failed", export_id)
        await DataExport.filter(id=export_id, status=ExportStatus.PENDING).update(
            status=ExportStatus.FAILED, error=f"{type(exc).__name__}"[:500]
        )
        raise
    now = services.clock.now()
    ttl = timedelta(seconds=services.settings.data_export_link_ttl_seconds)
    done = await DataExport.filter(id=export_id, status=ExportStatus.PENDING).update(
        status=ExportStatus.READY, ready_at=now, expires_at=now + ttl, content=content
    )
    return bool(done)
