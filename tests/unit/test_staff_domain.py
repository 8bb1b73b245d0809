"""Staff usernames and roles."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from member_api.errors import InvalidInput
from member_api.staff.domain import StaffRole, clean_username, parse_roles


def wide(text: str) -> str:
    """The full-width form of ASCII letters and digits."""
    return "".join(chr(ord(ch) + 0xFEE0) for ch in text)


# --- Usernames --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "username"),
    [
        ("abc", "abc"),  # shortest
        ("a" * 64, "a" * 64),  # longest
        ("  Li.Ming_2-x ", "li.ming_2-x"),
        ("OPERATOR1", "operator1"),
    ],
)
def test_a_username_is_trimmed_and_lower_cased(raw: str, username: str) -> None:
    assert clean_username(raw) == username


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "ab",  # two characters
        "a" * 65,
        "1abc",  # must start with a letter
        "_abc",
        ".abc",
        "li ming",
        "li@ming",
        "lì.ming",
        "李明明",
        wide("liming"),
        "liming\x00",
        "li\nming",
    ],
)
def test_a_username_outside_3_to_64_plain_characters_is_refused(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        clean_username(raw)
    assert (caught.value.code, caught.value.field) == ("INVALID_USERNAME", "username")


@given(st.text(max_size=70))
def test_an_accepted_username_is_plain_ascii_and_stable(raw: str) -> None:
    try:
        username = clean_username(raw)
    except InvalidInput:
        return
    assert username.isascii()
    assert username == username.lower()
    assert 3 <= len(username) <= 64
    assert username[0].isalpha()
    assert clean_username(username) == username


# --- Roles ------------------------------------------------------------------------------


def test_roles_are_read_whatever_their_case_and_spacing() -> None:
    assert parse_roles([" Operator ", "MODERATOR"]) == (StaffRole.OPERATOR, StaffRole.MODERATOR)


def test_a_repeated_role_counts_once_in_first_seen_order() -> None:
    roles = parse_roles(["authenticator", "operator", "Authenticator"])
    assert roles == (StaffRole.AUTHENTICATOR, StaffRole.OPERATOR)


def test_every_role_can_be_given() -> None:
    assert parse_roles([r.value for r in StaffRole]) == tuple(StaffRole)
    assert {r.value for r in StaffRole} == {
        "operator",
        "authenticator",
        "moderator",
        "admin",
        "advisor",
        "marketer",
        "auditor",
    }


@pytest.mark.parametrize("raw", [["superuser"], ["operator", "root"], [""], ["operator\x00"]])
def test_an_unknown_role_is_refused(raw: list[str]) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_roles(raw)
    assert (caught.value.code, caught.value.field) == ("INVALID_ROLE", "roles")


def test_a_staff_account_needs_at_least_one_role() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_roles([])
    assert caught.value.code == "INVALID_ROLE"
