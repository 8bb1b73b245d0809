"""Care rules as plain functions: what a member search may ask, what a care note may say."""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass
from enum import StrEnum

from member_api.error_codes import CareErrorCode
from member_api.errors import InvalidInput
from member_api.members import domain as members

NOTE_MAX = 2000
OPENID_MAX = 128
NAME_PREFIX_MAX = members.DISPLAY_NAME_MAX


class SearchKey(StrEnum):
    PHONE = "PHONE"
    MEMBER_ID = "MEMBER_ID"
    REFERRAL_CODE = "REFERRAL_CODE"
    MINI_PROGRAM_OPENID = "MINI_PROGRAM_OPENID"
    DISPLAY_NAME_PREFIX = "DISPLAY_NAME_PREFIX"


@dataclass(frozen=True)
class Search:
    """One search, its value normalised: the phone as 11 digits, the id as a UUID string,
    the referral code in capitals, the name prefix in NFC."""

    key: SearchKey
    value: str


def _invalid(code: CareErrorCode, message: str) -> InvalidInput:
    return InvalidInput(code, message, field="value")


def _no_controls(text: str) -> bool:
    """No control character, NUL included, and no lone surrogate."""
    return not any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text)


def parse_search(key: SearchKey, raw: str) -> Search:
    value = unicodedata.normalize("NFC", raw).strip()
    if not value:
        raise _invalid(CareErrorCode.EMPTY_SEARCH, "Enter what to search for.")
    limit = NAME_PREFIX_MAX if key is SearchKey.DISPLAY_NAME_PREFIX else OPENID_MAX
    if len(value) > limit:
        raise _invalid(
            CareErrorCode.SEARCH_TOO_LONG, f"Search for at most {limit} characters by {key}."
        )
    if not _no_controls(value):
        raise _invalid(CareErrorCode.INVALID_CHARACTERS, "The search has control characters.")
    return Search(key, _normalise(key, value))


def _normalise(key: SearchKey, value: str) -> str:
    if key is SearchKey.PHONE:
        try:
            return members.normalise_phone(value)
        except InvalidInput as exc:
            raise InvalidInput(exc.code, exc.message, field="value") from exc
    if key is SearchKey.MEMBER_ID:
        try:
            return str(uuid.UUID(value))
        except ValueError as exc:
            raise _invalid(CareErrorCode.INVALID_SEARCH_VALUE, "That is not a member id.") from exc
    if key is SearchKey.REFERRAL_CODE:
        code = value.upper()
        alphabet = members.REFERRAL_ALPHABET
        if len(code) != members.REFERRAL_CODE_LENGTH or any(ch not in alphabet for ch in code):
            raise _invalid(
                CareErrorCode.INVALID_SEARCH_VALUE,
                f"A referral code is {members.REFERRAL_CODE_LENGTH} letters and digits.",
            )
        return code
    return value


def clean_note(raw: str) -> str:
    """A care note: not empty, at most NOTE_MAX characters, line breaks and tabs kept."""
    text = unicodedata.normalize("NFC", raw).strip()
    if not text:
        raise InvalidInput(CareErrorCode.NOTE_EMPTY, "The note is empty.", field="text")
    if len(text) > NOTE_MAX:
        raise InvalidInput(
            CareErrorCode.NOTE_TOO_LONG,
            f"A note is at most {NOTE_MAX} characters.",
            field="text",
        )
    if not _no_controls(text.replace("\n", "").replace("\t", "")):
        raise InvalidInput(
            CareErrorCode.INVALID_CHARACTERS, "The note has control characters.", field="text"
        )
    return text
