"""Data-protection rules without a database: consents, reasons, export links, birthdays."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from member_api.background.runs import CHUNK_WORK
from member_api.errors import DomainError
from member_api.jobs import JOBS
from member_api.members.domain import check_birthday
from member_api.privacy import domain
from member_api.privacy.domain import ExportStatus, Purpose
from member_api.protect import DataProtector
from member_api.rights.domain import check_birthday_month
from member_api.settings import DEFAULT_SCHEDULES, Settings, SettingsError

AT = datetime(2026, 11, 18, 4, 0, tzinfo=UTC)


def test_every_purpose_is_listed_and_the_latest_decision_counts() -> None:
    states = domain.consent_states([("MARKETING", True, "v2", AT)], "v2")
    assert [(s.purpose, s.granted, s.policy_version) for s in states] == [
        (Purpose.MARKETING, True, "v2"),
        (Purpose.PERSONALISATION, False, None),
        (Purpose.PUBLIC_PROFILE, False, None),
    ]


def test_a_grant_counts_under_its_own_policy_version_only() -> None:
    states = domain.consent_states([("PERSONALISATION", True, "v1", AT)], "v2")
    assert states[1].granted is False
    assert states[1].policy_version == "v1"


def test_the_policy_version_given_must_be_the_one_in_force() -> None:
    assert domain.check_policy_version(None, "v2") == "v2"
    assert domain.check_policy_version(" v2 ", "v2") == "v2"
    with pytest.raises(DomainError) as refused:
        domain.check_policy_version("v1", "v2")
    assert refused.value.code == "POLICY_VERSION_OUTDATED"


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_a_deletion_needs_a_reason_of_sensible_length(reason: str) -> None:
    with pytest.raises(DomainError) as refused:
        domain.clean_reason(reason)
    assert refused.value.code == "INVALID_REASON"


def test_a_reason_is_kept_on_one_line() -> None:
    assert domain.clean_reason("  moving\n abroad ") == "moving abroad"


def test_export_links_are_signed_and_a_changed_link_fails() -> None:
    protector = DataProtector(b"k" * 32)

    def sign(message: str) -> str:
        return protector.blind_index(message, context=domain.LINK_CONTEXT)

    url = domain.download_url("https://m.example.com", "abc", AT, sign)
    assert url.startswith("https://m.example.com/privacy/exports/abc?expires=")
    expires = str(int(AT.timestamp()))
    signature = url.rsplit("signature=", 1)[1]
    assert domain.link_is_authentic("abc", expires, signature, sign)
    assert not domain.link_is_authentic("abd", expires, signature, sign)
    assert not domain.link_is_authentic("abc", str(int(expires) + 1), signature, sign)
    assert not domain.link_is_authentic("abc", "-1", signature, sign)
    other = DataProtector(b"o" * 32)
    assert not domain.link_is_authentic(
        "abc", expires, signature, lambda m: other.blind_index(m, context=domain.LINK_CONTEXT)
    )


def test_a_ready_export_past_its_link_shows_as_expired() -> None:
    assert domain.export_status("READY", AT, AT) is ExportStatus.EXPIRED
    assert domain.export_status("READY", AT, AT.replace(hour=3)) is ExportStatus.READY
    assert domain.export_status("DOWNLOADED", AT, AT) is ExportStatus.DOWNLOADED


@pytest.mark.parametrize(("month", "day"), [(2, 30), (13, 1), (0, 1), (4, 31), (1, 0), (1, 32)])
def test_impossible_birthdays_are_refused(month: int, day: int) -> None:
    with pytest.raises(DomainError) as refused:
        check_birthday(month, day)
    assert refused.value.code == "INVALID_BIRTHDAY"


def test_29_february_is_a_birthday() -> None:
    assert check_birthday(2, 29) == (2, 29)


def test_the_birthday_discount_is_for_the_birthday_month() -> None:
    check_birthday_month("BIRTHDAY_DISCOUNT", 11, date(2026, 11, 30))
    check_birthday_month("FREE_MAINTENANCE", None, date(2026, 11, 30))
    for birthday, code in ((None, "BIRTHDAY_NOT_SET"), (12, "NOT_BIRTHDAY_MONTH")):
        with pytest.raises(DomainError) as refused:
            check_birthday_month("BIRTHDAY_DISCOUNT", birthday, date(2026, 11, 30))
        assert refused.value.code == code


def test_the_erasure_runs_daily_on_the_scheduler() -> None:
    assert DEFAULT_SCHEDULES["erase-accounts"] == "20 0 * * *"
    assert dict(Settings.from_env({}).job_schedules)["erase-accounts"] == "20 0 * * *"
    assert CHUNK_WORK["erase-accounts"][1] is True  # split by member id
    assert "erase-accounts" in JOBS


def test_privacy_settings_are_read() -> None:
    settings = Settings.from_env(
        {
            "PRIVACY_POLICY_VERSION": "2027-03",
            "ACCOUNT_ERASURE_DAYS": "30",
            "DATA_EXPORT_LINK_TTL_SECONDS": "3600",
        }
    )
    assert settings.privacy_policy_version == "2027-03"
    assert settings.account_erasure_days == 30
    assert settings.data_export_link_ttl_seconds == 3600
    with pytest.raises(SettingsError):
        Settings.from_env({"PRIVACY_POLICY_VERSION": "x" * 21})
