"""Community rules: what a post or comment may hold, banned words, images, slugs, reasons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from member_api.community.domain import (
    MAX_COMMENT_CHARS,
    MAX_IMAGES,
    MAX_POST_CHARS,
    MAX_URL_CHARS,
    CommunityRules,
    ContentState,
    QuizVerdict,
    check_not_muted,
    check_words,
    clean_description,
    clean_image_urls,
    clean_reason,
    clean_slug,
    clean_text,
    mute_ends,
)
from member_api.errors import Forbidden, InvalidInput


def wide(text: str) -> str:
    """The full-width form of ASCII letters and digits."""
    return "".join(chr(ord(ch) + 0xFEE0) for ch in text)


RULES = CommunityRules()


def post(text: str) -> str:
    return clean_text(text, limit=MAX_POST_CHARS, field="body", what="post")


def comment(text: str) -> str:
    return clean_text(text, limit=MAX_COMMENT_CHARS, field="body", what="comment")


def test_the_defaults_are_the_documented_numbers() -> None:
    assert (MAX_POST_CHARS, MAX_COMMENT_CHARS, MAX_IMAGES) == (2000, 500, 9)
    assert RULES.post_points == 10
    assert RULES.rewarded_posts_per_day == 3
    assert RULES.quiz_points == 20


# --- Text -------------------------------------------------------------------------------


def test_a_post_of_exactly_2000_characters_is_kept() -> None:
    assert post("字" * 2000) == "字" * 2000


def test_a_post_longer_than_2000_characters_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        post("字" * 2001)
    assert caught.value.code == "TEXT_TOO_LONG"
    assert caught.value.field == "body"
    assert "2,000" in caught.value.message


def test_a_comment_of_exactly_500_characters_is_kept_and_501_is_refused() -> None:
    assert comment("a" * 500) == "a" * 500
    with pytest.raises(InvalidInput) as caught:
        comment("a" * 501)
    assert caught.value.code == "TEXT_TOO_LONG"


def test_surrounding_whitespace_is_trimmed_and_does_not_count_towards_the_limit() -> None:
    assert comment(f"\n  {'a' * 500}\u3000 ") == "a" * 500


def test_inner_line_breaks_are_kept() -> None:
    assert post("first line\n\nsecond line") == "first line\n\nsecond line"


def test_the_limit_counts_code_points_as_sent() -> None:
    decomposed = "e\u0301" * 250  # 500 code points
    assert comment(decomposed) == decomposed
    with pytest.raises(InvalidInput, match="500"):
        comment(decomposed + "e")


@pytest.mark.parametrize("text", ["", " ", "\n\t", "\u3000\u2003"])
def test_an_empty_post_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        post(text)
    assert caught.value.code == "EMPTY_TEXT"


@pytest.mark.parametrize("text", ["a\x00b", "\x00", "note\ufffe", "\uffff", "  \x00  "])
def test_a_post_holding_nul_or_a_noncharacter_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        post(text)
    assert caught.value.code == "INVALID_CHARACTERS"


@given(st.text(max_size=40), st.integers(min_value=1, max_value=30))
def test_accepted_text_is_trimmed_non_empty_and_within_the_limit(text: str, limit: int) -> None:
    try:
        kept = clean_text(text, limit=limit, field="body", what="post")
    except InvalidInput as error:
        refusal = error.code
    else:
        refusal = None
    if refusal is not None:
        assert refusal in {"EMPTY_TEXT", "TEXT_TOO_LONG", "INVALID_CHARACTERS"}
        return
    assert kept == text.strip()
    assert 1 <= len(kept) <= limit
    assert "\x00" not in kept


# --- Banned words -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "这个包是高仿的",
        "A货出售",
        "a货出售",  # case
        wide("A") + "货出售",
        "best REPLICA in town",
        wide("Replica"),
        "a Super Fake bag",
        "super\u00a0fake",  # no-break space folds to a space
    ],
)
def test_banned_words_are_refused_whatever_their_case_or_width(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_words(text, RULES, field="body")
    assert caught.value.code == "BANNED_WORDS"
    assert caught.value.field == "body"


@pytest.mark.parametrize("text", ["genuine bag", "A goods", "super  fake", "仿佛"])
def test_text_without_a_banned_word_passes(text: str) -> None:
    check_words(text, RULES, field="body")


def test_banned_words_are_configurable() -> None:
    rules = CommunityRules(banned_words=("dupe",))
    check_words("a replica", rules, field="body")
    with pytest.raises(InvalidInput):
        check_words("a DUPE", rules, field="body")


def test_an_empty_banned_word_does_not_ban_everything() -> None:
    check_words("anything at all", CommunityRules(banned_words=("",)), field="body")


# --- Images -----------------------------------------------------------------------------


def _image(n: int) -> str:
    return f"https://img.example.com/{n}.jpg"


def test_a_post_may_have_no_images() -> None:
    assert clean_image_urls([]) == []


def test_a_post_of_exactly_nine_images_is_kept() -> None:
    urls = [_image(n) for n in range(9)]
    assert clean_image_urls(urls) == urls


def test_a_post_with_more_than_nine_images_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        clean_image_urls([_image(n) for n in range(MAX_IMAGES + 1)])
    assert caught.value.code == "TOO_MANY_IMAGES"
    assert caught.value.field == "imageUrls"


def test_image_urls_are_trimmed() -> None:
    assert clean_image_urls(["  https://img.example.com/a.jpg\n"]) == [
        "https://img.example.com/a.jpg"
    ]


def test_an_image_url_of_exactly_500_characters_is_kept_and_501_is_refused() -> None:
    base = "https://img.example.com/"
    exact = base + "a" * (MAX_URL_CHARS - len(base))
    assert clean_image_urls([exact]) == [exact]
    with pytest.raises(InvalidInput) as caught:
        clean_image_urls([exact + "a"])
    assert caught.value.code == "INVALID_IMAGE_URL"


@pytest.mark.parametrize(
    "url",
    [
        "",
        "http://img.example.com/a.jpg",
        "javascript:alert(1)",
        "//img.example.com/a.jpg",
        "https://",
        "https:///a.jpg",
        "https://[::1/a.jpg",  # urlsplit itself refuses this one
        "https://img.example.com/a\x00.jpg",
        "https://img.example.com/a\n.jpg",
        "https://img.example.com/a\u200b.jpg",
    ],
)
def test_an_image_url_that_is_not_a_printable_https_url_is_refused(url: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        clean_image_urls([_image(1), url])
    assert caught.value.code == "INVALID_IMAGE_URL"


# --- Slugs and reasons ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "slug"),
    [
        ("bag-study", "bag-study"),
        ("  Watch-Collectors ", "watch-collectors"),
        ("ab", "ab"),
        ("a" * 60, "a" * 60),
        ("club-2026", "club-2026"),
    ],
)
def test_a_slug_is_trimmed_and_lower_cased(raw: str, slug: str) -> None:
    assert clean_slug(raw) == slug


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "a",  # one character
        "a" * 61,
        "-bag",
        "bag-",
        "bag--study",
        "bag_study",
        "bag study",
        "箱包研习社",
        "bäg",
        "bag\x00",
    ],
)
def test_a_slug_outside_2_to_60_lowercase_letters_digits_and_dashes_is_refused(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        clean_slug(raw)
    assert caught.value.code == "INVALID_SLUG"
    assert caught.value.field == "slug"


@given(st.text(max_size=70))
def test_an_accepted_slug_is_ascii_and_stable(raw: str) -> None:
    try:
        slug = clean_slug(raw)
    except InvalidInput:
        return
    assert slug.isascii()
    assert 2 <= len(slug) <= 60
    assert clean_slug(slug) == slug


def test_a_reason_is_trimmed() -> None:
    assert clean_reason("  spam \n") == "spam"


def test_a_reason_of_exactly_500_characters_is_kept() -> None:
    assert clean_reason("r" * 500) == "r" * 500


@pytest.mark.parametrize("raw", ["", "   ", "r" * 501])
def test_a_reason_empty_or_longer_than_500_characters_is_refused(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        clean_reason(raw)
    assert caught.value.code == "REASON_REQUIRED"
    assert caught.value.field == "reason"


# --- States -----------------------------------------------------------------------------


def test_content_states_and_quiz_verdicts_are_closed_sets() -> None:
    assert {s.value for s in ContentState} == {"VISIBLE", "HIDDEN", "PENDING_REVIEW"}
    assert {v.value for v in QuizVerdict} == {"GENUINE", "COUNTERFEIT"}
    with pytest.raises(ValueError, match="UNSURE"):
        QuizVerdict("UNSURE")


def test_a_mute_lasts_an_hour_to_thirty_days() -> None:
    now = datetime(2026, 11, 18, 4, 0, tzinfo=UTC)
    assert mute_ends(now, 1) == now + timedelta(hours=1)
    assert mute_ends(now, 720) == now + timedelta(days=30)
    for hours in (0, -1, 721, 10**9):
        with pytest.raises(InvalidInput) as refused:
            mute_ends(now, hours)
        assert (refused.value.code, refused.value.field) == ("INVALID_MUTE_DURATION", "hours")


def test_a_mute_refuses_until_its_end_and_not_after() -> None:
    now = datetime(2026, 11, 18, 4, 0, tzinfo=UTC)
    check_not_muted(None, now)
    check_not_muted(now, now)
    check_not_muted(now - timedelta(seconds=1), now)
    with pytest.raises(Forbidden) as refused:
        check_not_muted(now + timedelta(seconds=1), now)
    assert refused.value.code == "MUTED_IN_GROUP"


def test_a_group_description_holds_at_most_a_thousand_characters() -> None:
    assert clean_description("  Hermes first  ") == "Hermes first"
    with pytest.raises(InvalidInput):
        clean_description("x" * 1001)
