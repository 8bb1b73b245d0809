"""Member rules: phone numbers, display names, avatars and referral codes."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from member_api.errors import InvalidInput
from member_api.members.domain import (
    AVATAR_URL_MAX,
    DISPLAY_NAME_MAX,
    REFERRAL_ALPHABET,
    REFERRAL_CODE_LENGTH,
    clean_avatar_url,
    clean_display_name,
    default_display_name,
    mask_phone,
    new_referral_code,
    normalise_phone,
    normalise_referral_code,
)


def wide(text: str) -> str:
    """The full-width form of ASCII letters and digits."""
    return "".join(chr(ord(ch) + 0xFEE0) for ch in text)


def _refused(code: str, call: Callable[[str], object], raw: str) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        call(raw)
    assert caught.value.code == code
    return caught.value


# --- Phone numbers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "13800000001",
        "+8613800000001",
        "008613800000001",
        "+86 138 0000 0001",
        "138-0000-0001",
        "(138) 0000 0001",
        "  13800000001\n",
        "+86\u3000138\u30000000\u30000001",  # ideographic spaces
    ],
)
def test_a_mainland_mobile_number_is_normalised_to_eleven_digits(raw: str) -> None:
    assert normalise_phone(raw) == "13800000001"


@pytest.mark.parametrize("second", "3456789")
def test_every_mobile_prefix_from_13_to_19_is_accepted(second: str) -> None:
    phone = f"1{second}800000001"
    assert normalise_phone(phone) == phone


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "1380000000",  # ten digits
        "138000000012",  # twelve digits
        "12800000001",  # 12x is not a mobile prefix
        "10800000001",
        "23800000001",
        "+85213800000001",  # Hong Kong prefix
        "8613800000001",  # country code without + or 00
        "+86+8613800000001",  # the prefix is removed once only
        "1380000000a",
        "13800000001\x00",
        wide("13800000001"),
    ],
)
def test_anything_but_a_mainland_mobile_number_is_refused(raw: str) -> None:
    error = _refused("INVALID_PHONE", normalise_phone, raw)
    assert error.field == "phone"


def test_a_phone_number_with_full_width_digits_is_never_kept_with_them() -> None:
    try:
        phone = normalise_phone("138" + wide("0000000") + "1")
    except InvalidInput:
        return
    assert phone == "13800000001"


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_a_normalised_phone_is_a_fixed_point(phone: str) -> None:
    assert normalise_phone(phone) == phone
    assert normalise_phone(f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}") == phone


def test_a_masked_phone_shows_the_first_three_and_last_four_digits() -> None:
    assert mask_phone("13800000001") == "138****0001"
    assert mask_phone("19912345678") == "199****5678"


# --- Display names ----------------------------------------------------------------------


def test_a_display_name_is_trimmed() -> None:
    assert clean_display_name("  小明 Ming \u3000") == "小明 Ming"


def test_a_display_name_of_exactly_40_characters_is_kept() -> None:
    assert clean_display_name("名" * DISPLAY_NAME_MAX) == "名" * 40


def test_a_display_name_longer_than_40_characters_is_refused() -> None:
    error = _refused("INVALID_DISPLAY_NAME", clean_display_name, "名" * (DISPLAY_NAME_MAX + 1))
    assert error.field == "displayName"


def test_surrounding_spaces_do_not_count_towards_the_40_characters() -> None:
    assert clean_display_name(f"  {'a' * 40}  ") == "a" * 40


def test_a_display_name_is_stored_in_nfc_and_measured_after_normalising() -> None:
    decomposed = "e\u0301" * DISPLAY_NAME_MAX  # 80 code points, 40 characters in NFC
    name = clean_display_name(decomposed)
    assert name == "\u00e9" * DISPLAY_NAME_MAX
    assert unicodedata.is_normalized("NFC", name)


@pytest.mark.parametrize("raw", ["", "   ", "\u3000", "\n\t"])
def test_an_empty_display_name_is_refused(raw: str) -> None:
    _refused("INVALID_DISPLAY_NAME", clean_display_name, raw)


@pytest.mark.parametrize(
    "raw",
    [
        "Ming\x00",
        "Ming\x07Li",
        "Ming\nLi",
        "Ming\u200bLi",  # zero-width space (format)
        "Ming\u202eiL",  # right-to-left override
        "Ming\ue000",  # private use
        "Ming\u0378",  # unassigned
    ],
)
def test_a_display_name_with_control_or_invisible_characters_is_refused(raw: str) -> None:
    _refused("INVALID_DISPLAY_NAME", clean_display_name, raw)


@given(st.text(min_size=1, max_size=60))
def test_an_accepted_display_name_is_clean_and_stable(raw: str) -> None:
    try:
        name = clean_display_name(raw)
    except InvalidInput as error:
        refusal = error.code
    else:
        refusal = None
    if refusal is not None:
        assert refusal == "INVALID_DISPLAY_NAME"
        return
    assert 1 <= len(name) <= DISPLAY_NAME_MAX
    assert name == name.strip()
    assert not any(unicodedata.category(ch).startswith("C") for ch in name)
    assert clean_display_name(name) == name


# --- Avatars ----------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["", "   ", "\n"])
def test_an_empty_avatar_url_clears_the_avatar(raw: str) -> None:
    assert clean_avatar_url(raw) is None


def test_an_https_avatar_url_is_kept_trimmed() -> None:
    assert clean_avatar_url(" https://cdn.example.com/a.png ") == "https://cdn.example.com/a.png"


def test_an_avatar_url_of_exactly_500_characters_is_kept() -> None:
    base = "https://cdn.example.com/"
    url = base + "a" * (AVATAR_URL_MAX - len(base))
    assert len(url) == 500
    assert clean_avatar_url(url) == url


def test_an_avatar_url_longer_than_500_characters_is_refused() -> None:
    base = "https://cdn.example.com/"
    url = base + "a" * (AVATAR_URL_MAX + 1 - len(base))
    error = _refused("INVALID_AVATAR_URL", clean_avatar_url, url)
    assert error.field == "avatarUrl"


@pytest.mark.parametrize(
    "raw",
    [
        "http://cdn.example.com/a.png",
        "HTTPS//cdn.example.com/a.png",
        "ftp://cdn.example.com/a.png",
        "javascript:alert(1)",
        "data:image/png;base64,AAAA",
        "//cdn.example.com/a.png",
        "https://",
        "https:///a.png",
        "cdn.example.com/a.png",
    ],
)
def test_an_avatar_url_that_is_not_https_with_a_host_is_refused(raw: str) -> None:
    _refused("INVALID_AVATAR_URL", clean_avatar_url, raw)


def test_an_avatar_url_with_a_broken_ipv6_host_is_refused() -> None:
    _refused("INVALID_AVATAR_URL", clean_avatar_url, "https://[::1/a.png")


# --- Referral codes ---------------------------------------------------------------------


def test_the_referral_alphabet_leaves_out_look_alike_characters() -> None:
    assert not set("IO01") & set(REFERRAL_ALPHABET)
    assert len(set(REFERRAL_ALPHABET)) == len(REFERRAL_ALPHABET) == 32


def test_a_new_referral_code_has_eight_characters_from_the_alphabet() -> None:
    codes = {new_referral_code() for _ in range(200)}
    assert len(codes) > 190  # random, not a sequence
    for code in codes:
        assert len(code) == REFERRAL_CODE_LENGTH == 8
        assert set(code) <= set(REFERRAL_ALPHABET)
        assert normalise_referral_code(code) == code


def test_a_referral_code_is_trimmed_and_upper_cased() -> None:
    assert normalise_referral_code("  abcd2345 ") == "ABCD2345"


@pytest.mark.parametrize("raw", ["", "   "])
def test_no_referral_code_means_none(raw: str) -> None:
    assert normalise_referral_code(raw) is None


@pytest.mark.parametrize(
    "raw",
    [
        "ABCD234",  # seven characters
        "ABCD23456",  # nine characters
        "ABCD234O",  # O is not in the alphabet
        "ABCD2341",  # nor is 1
        "ABCD 234",
        wide("ABCD2345"),
        "ABCD234\x00",
    ],
)
def test_a_referral_code_outside_the_alphabet_or_length_is_unknown(raw: str) -> None:
    error = _refused("REFERRAL_CODE_UNKNOWN", normalise_referral_code, raw)
    assert error.field == "referralCode"


def test_the_default_display_name_uses_the_first_four_code_characters() -> None:
    name = default_display_name("ABCD2345")
    assert name == "会员ABCD"
    assert clean_display_name(name) == name
