"""Member rules as plain functions: phone numbers, names, avatars, referral codes."""

from __future__ import annotations

import re
import secrets
import unicodedata
from urllib.parse import urlsplit

from member_api.error_codes import MemberErrorCode
from member_api.errors import InvalidInput

_MAINLAND_MOBILE = re.compile(r"1[3-9][0-9]{9}")  # ASCII digits only: \d takes full-width ones
_SEPARATORS = re.compile(r"[\s\-()]")
REFERRAL_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
REFERRAL_CODE_LENGTH = 8
DISPLAY_NAME_MAX = 40
AVATAR_URL_MAX = 500


def normalise_phone(raw: str) -> str:
    """Return the 11-digit mainland mobile number, accepting +86 / 0086 and separators."""
    phone = _SEPARATORS.sub("", raw or "")
    for prefix in ("+86", "0086"):
        if phone.startswith(prefix):
            phone = phone[len(prefix) :]
            break
    if not _MAINLAND_MOBILE.fullmatch(phone):
        raise InvalidInput(
            MemberErrorCode.INVALID_PHONE,
            "Enter an 11-digit mainland mobile number.",
            field="phone",
        )
    return phone


def mask_phone(phone: str) -> str:
    """`13800000001` -> `138****0001`."""
    return f"{phone[:3]}****{phone[-4:]}"


def clean_display_name(raw: str) -> str:
    name = unicodedata.normalize("NFC", raw).strip()
    if not name:
        raise InvalidInput(
            MemberErrorCode.INVALID_DISPLAY_NAME, "Display name is empty.", field="displayName"
        )
    if len(name) > DISPLAY_NAME_MAX:
        raise InvalidInput(
            MemberErrorCode.INVALID_DISPLAY_NAME,
            f"Display name must be at most {DISPLAY_NAME_MAX} characters.",
            field="displayName",
        )
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise InvalidInput(
            MemberErrorCode.INVALID_DISPLAY_NAME,
            "Display name has control characters.",
            field="displayName",
        )
    return name


def clean_avatar_url(raw: str) -> str | None:
    url = raw.strip()
    if not url:
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # a malformed host, such as an unclosed IPv6 bracket
        host = None
    if len(url) > AVATAR_URL_MAX or not host or parts.scheme != "https":
        raise InvalidInput(
            MemberErrorCode.INVALID_AVATAR_URL,
            f"Avatar must be an https URL of at most {AVATAR_URL_MAX} characters.",
            field="avatarUrl",
        )
    return url


def new_referral_code() -> str:
    return "".join(secrets.choice(REFERRAL_ALPHABET) for _ in range(REFERRAL_CODE_LENGTH))


def normalise_referral_code(raw: str) -> str | None:
    code = raw.strip().upper()
    if not code:
        return None
    if len(code) != REFERRAL_CODE_LENGTH or any(ch not in REFERRAL_ALPHABET for ch in code):
        raise InvalidInput(
            MemberErrorCode.REFERRAL_CODE_UNKNOWN,
            "That referral code does not exist.",
            field="referralCode",
        )
    return code


def default_display_name(referral_code: str) -> str:
    return f"会员{referral_code[:4]}"


# Days in each month of a leap year: 29 February is a birthday too.
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def check_birthday(month: int, day: int) -> tuple[int, int]:
    """A real calendar day (29 February included), as (month, day)."""
    if not 1 <= month <= 12:
        raise InvalidInput(
            MemberErrorCode.INVALID_BIRTHDAY, "The month must be 1 to 12.", field="month"
        )
    if not 1 <= day <= _MONTH_DAYS[month - 1]:
        raise InvalidInput(
            MemberErrorCode.INVALID_BIRTHDAY,
            f"Month {month} has days 1 to {_MONTH_DAYS[month - 1]}.",
            field="day",
        )
    return month, day
