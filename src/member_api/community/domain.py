"""Community rules: what a post or comment may hold, banned words, limits."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from member_api.error_codes import CommunityErrorCode, RequestErrorCode
from member_api.errors import Forbidden, InvalidInput
from member_api.rules_data import build, count, words

MAX_POST_CHARS = 2000
MAX_COMMENT_CHARS = 500
MAX_IMAGES = 9
MAX_URL_CHARS = 500
MAX_NAME_CHARS = 60
MAX_DESCRIPTION_CHARS = 1000
# A mute lasts from an hour to 30 days.
MIN_MUTE_HOURS = 1
MAX_MUTE_HOURS = 30 * 24
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class ContentState(StrEnum):
    VISIBLE = "VISIBLE"
    HIDDEN = "HIDDEN"  # by a moderator
    PENDING_REVIEW = "PENDING_REVIEW"  # hidden by the report threshold until a moderator looks


class QuizVerdict(StrEnum):
    GENUINE = "GENUINE"
    COUNTERFEIT = "COUNTERFEIT"


@dataclass(frozen=True)
class CommunityRules:
    report_threshold: int = 5
    post_points: int = 10
    rewarded_posts_per_day: int = 3
    quiz_points: int = 20
    posts_per_window: int = 5
    comments_per_window: int = 20
    rate_window_seconds: int = 600
    banned_words: tuple[str, ...] = ("高仿", "A货", "replica", "super fake")

    @classmethod
    def from_mapping(cls, values: Any) -> CommunityRules:
        def at_least_one(value: Any, name: str) -> int:
            return count(value, name, minimum=1)

        parsers = {
            "report_threshold": at_least_one,
            "rate_window_seconds": at_least_one,
            "banned_words": words,
        }
        return build(cls, values, "community", parsers)


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def check_words(text: str, rules: CommunityRules, *, field: str) -> None:
    normal = _normal(text)
    if any(_normal(word) in normal for word in rules.banned_words if word):
        raise InvalidInput(
            CommunityErrorCode.BANNED_WORDS,
            "The text contains words the community does not allow.",
            field=field,
        )


def clean_text(text: str, *, limit: int, field: str, what: str) -> str:
    text = text.strip()
    if any(c in text for c in "\x00\ufffe\uffff"):
        raise InvalidInput(
            RequestErrorCode.INVALID_CHARACTERS,
            f"The {what} holds characters we cannot keep.",
            field=field,
        )
    if not text:
        raise InvalidInput(
            CommunityErrorCode.EMPTY_TEXT, f"Write something in the {what}.", field=field
        )
    if len(text) > limit:
        raise InvalidInput(
            CommunityErrorCode.TEXT_TOO_LONG,
            f"A {what} holds at most {limit:,} characters.",
            field=field,
        )
    return text


def clean_image_urls(urls: list[str]) -> list[str]:
    if len(urls) > MAX_IMAGES:
        raise InvalidInput(
            CommunityErrorCode.TOO_MANY_IMAGES,
            f"A post holds at most {MAX_IMAGES} images.",
            field="imageUrls",
        )
    cleaned = []
    for url in urls:
        url = url.strip()
        try:
            parts = urlsplit(url) if len(url) <= MAX_URL_CHARS and url.isprintable() else None
        except ValueError:
            parts = None
        if parts is None or parts.scheme != "https" or not parts.hostname:
            raise InvalidInput(
                CommunityErrorCode.INVALID_IMAGE_URL,
                f"Image links must be https:// URLs of at most {MAX_URL_CHARS} characters.",
                field="imageUrls",
            )
        cleaned.append(url)
    return cleaned


def clean_slug(slug: str) -> str:
    slug = slug.strip().lower()
    if not 2 <= len(slug) <= 60 or not _SLUG.match(slug):
        raise InvalidInput(
            CommunityErrorCode.INVALID_SLUG,
            "A slug is 2 to 60 lowercase letters, digits and dashes.",
            field="slug",
        )
    return slug


def clean_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason or len(reason) > 500:
        raise InvalidInput(
            CommunityErrorCode.REASON_REQUIRED,
            "Give a reason of 1 to 500 characters.",
            field="reason",
        )
    return reason


def clean_description(description: str) -> str:
    description = description.strip()
    if len(description) > MAX_DESCRIPTION_CHARS:
        raise InvalidInput(
            CommunityErrorCode.TEXT_TOO_LONG,
            f"A description holds at most {MAX_DESCRIPTION_CHARS:,} characters.",
            field="description",
        )
    return description


def mute_ends(now: datetime, hours: int) -> datetime:
    """When a mute of `hours` from `now` ends: 1 hour to 30 days."""
    if not MIN_MUTE_HOURS <= hours <= MAX_MUTE_HOURS:
        raise InvalidInput(
            CommunityErrorCode.INVALID_MUTE_DURATION,
            f"Mute for {MIN_MUTE_HOURS} to {MAX_MUTE_HOURS} hours (30 days).",
            field="hours",
        )
    return now + timedelta(hours=hours)


def is_muted(muted_until: datetime | None, now: datetime) -> bool:
    return muted_until is not None and now < muted_until


def check_not_muted(muted_until: datetime | None, now: datetime) -> None:
    """A muted member neither posts nor comments in the group until the mute ends."""
    if muted_until is not None and is_muted(muted_until, now):
        raise Forbidden(
            CommunityErrorCode.MUTED_IN_GROUP,
            f"You are muted in this group until {muted_until.isoformat()}.",
        )
