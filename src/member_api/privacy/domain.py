"""Data-protection rules as plain functions: purposes, consent state, deletion reasons,
and the signed, expiring links to data exports."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlencode

from member_api.error_codes import PrivacyErrorCode
from member_api.errors import InvalidInput
from member_api.text import is_digits

REASON_MAX = 500
LINK_CONTEXT = "privacy.data-export-link"
# What an erased member is shown as (posts, comments): nobody in particular.
ERASED_NAME = "已注销会员"


class Purpose(StrEnum):
    MARKETING = "MARKETING"
    PERSONALISATION = "PERSONALISATION"
    # The member's name and avatar shown with their posts to the community.
    PUBLIC_PROFILE = "PUBLIC_PROFILE"


class ExportStatus(StrEnum):
    PENDING = "PENDING"
    READY = "READY"
    DOWNLOADED = "DOWNLOADED"
    EXPIRED = "EXPIRED"
    FAILED = "FAILED"


class DeletionStatus(StrEnum):
    PENDING = "PENDING"
    CANCELLED = "CANCELLED"
    ERASED = "ERASED"


@dataclass(frozen=True)
class ConsentState:
    purpose: Purpose
    granted: bool
    policy_version: str | None
    changed_at: datetime | None


def consent_states(
    latest: Iterable[tuple[str, bool, str, datetime]], current_version: str
) -> list[ConsentState]:
    """Every purpose, from the latest record of each (purpose, granted, version, when).
    A purpose never decided is not granted; a grant counts only for the policy version in
    force (a new policy text asks again)."""
    found = {purpose: (granted, version, at) for purpose, granted, version, at in latest}
    states = []
    for purpose in Purpose:
        if purpose.value not in found:
            states.append(ConsentState(purpose, False, None, None))
            continue
        granted, version, at = found[purpose.value]
        states.append(ConsentState(purpose, granted and version == current_version, version, at))
    return states


def check_policy_version(given: str | None, current: str) -> str:
    """The member decides on the policy text they were shown; an older one is refused."""
    if given is not None and given.strip() != current:
        raise InvalidInput(
            PrivacyErrorCode.POLICY_VERSION_OUTDATED,
            f"The privacy policy in force is version {current}; show it and ask again.",
            field="policyVersion",
        )
    return current


def clean_reason(reason: str) -> str:
    text = " ".join(reason.split())
    if not text or len(text) > REASON_MAX:
        raise InvalidInput(
            PrivacyErrorCode.INVALID_REASON,
            f"Give a reason of 1 to {REASON_MAX} characters.",
            field="reason",
        )
    return text


def export_status(status: str, expires_at: datetime | None, now: datetime) -> ExportStatus:
    """A ready export whose link ran out shows as expired, whether or not a job emptied
    it yet."""
    if status == ExportStatus.READY and expires_at is not None and expires_at <= now:
        return ExportStatus.EXPIRED
    return ExportStatus(status)


Signer = Callable[[str], str]


def link_message(export_id: str, expires: int) -> str:
    return f"{export_id}.{expires}"


def download_url(base_url: str, export_id: str, expires_at: datetime, sign: Signer) -> str:
    expires = int(expires_at.timestamp())
    query = urlencode({"expires": expires, "signature": sign(link_message(export_id, expires))})
    return f"{base_url}/privacy/exports/{export_id}?{query}"


def link_is_authentic(export_id: str, expires: str, signature: str, sign: Signer) -> bool:
    if not is_digits(expires) or len(expires) > 12:
        return False
    expected = sign(link_message(export_id, int(expires)))
    return hmac.compare_digest(expected, signature)
