"""Care rules: what a member search accepts and how it normalises, what a note may say."""

from __future__ import annotations

import uuid

import pytest

from member_api.care.domain import NOTE_MAX, Search, SearchKey, clean_note, parse_search
from member_api.errors import InvalidInput


@pytest.mark.parametrize(
    ("key", "raw", "value"),
    [
        (SearchKey.PHONE, " +86 138-0000-0001 ", "13800000001"),
        (SearchKey.PHONE, "0086 13800000001", "13800000001"),
        (SearchKey.REFERRAL_CODE, " abcd2345 ", "ABCD2345"),
        (SearchKey.MINI_PROGRAM_OPENID, " oAbC-123 ", "oAbC-123"),
        (SearchKey.DISPLAY_NAME_PREFIX, "会员", "会员"),
        (SearchKey.DISPLAY_NAME_PREFIX, "Cafe\u0301", "Café"),
    ],
)
def test_a_search_is_normalised(key: SearchKey, raw: str, value: str) -> None:
    assert parse_search(key, raw) == Search(key, value)


def test_a_member_id_is_normalised_to_its_canonical_form() -> None:
    member_id = uuid.uuid4()
    assert parse_search(SearchKey.MEMBER_ID, str(member_id).upper()).value == str(member_id)


@pytest.mark.parametrize(
    ("key", "raw", "code"),
    [
        (SearchKey.PHONE, "", "EMPTY_SEARCH"),
        (SearchKey.PHONE, "12345678901", "INVALID_PHONE"),
        (SearchKey.PHONE, "\uff11\uff13\uff18" + "\uff10" * 7 + "\uff11", "INVALID_PHONE"),
        (SearchKey.MEMBER_ID, "123", "INVALID_SEARCH_VALUE"),
        (SearchKey.REFERRAL_CODE, "ABCD234O", "INVALID_SEARCH_VALUE"),
        (SearchKey.REFERRAL_CODE, "ABC", "INVALID_SEARCH_VALUE"),
        (SearchKey.MINI_PROGRAM_OPENID, "o" * 129, "SEARCH_TOO_LONG"),
        (SearchKey.DISPLAY_NAME_PREFIX, "名" * 41, "SEARCH_TOO_LONG"),
        (SearchKey.DISPLAY_NAME_PREFIX, "\t\n ", "EMPTY_SEARCH"),
        (SearchKey.DISPLAY_NAME_PREFIX, "a\x1bb", "INVALID_CHARACTERS"),
        (SearchKey.DISPLAY_NAME_PREFIX, "a\ud800", "INVALID_CHARACTERS"),
    ],
)
def test_bad_searches_are_refused_with_their_code(key: SearchKey, raw: str, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_search(key, raw)
    assert refused.value.code == code
    assert refused.value.field == "value"


def test_a_note_keeps_its_lines_and_loses_surrounding_space() -> None:
    assert clean_note("  Called.\n\tWill visit Friday.  ") == "Called.\n\tWill visit Friday."
    assert clean_note("x" * NOTE_MAX) == "x" * NOTE_MAX


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "NOTE_EMPTY"),
        (" \n ", "NOTE_EMPTY"),
        ("x" * (NOTE_MAX + 1), "NOTE_TOO_LONG"),
        ("a\x00b", "INVALID_CHARACTERS"),
    ],
)
def test_bad_notes_are_refused(raw: str, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        clean_note(raw)
    assert (refused.value.code, refused.value.field) == (code, "text")
