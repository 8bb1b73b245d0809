"""The outbox's retry schedule and settings, without a database."""

from __future__ import annotations

from datetime import timedelta

import pytest

from member_api.outbox.domain import LAST_ERROR_CHARS, RetryPolicy, short_error
from member_api.settings import Settings, SettingsError

S = timedelta(seconds=1)


def test_the_ceiling_doubles_from_the_base_up_to_the_cap() -> None:
    policy = RetryPolicy(max_attempts=8, base=30 * S, cap=600 * S)
    assert [policy.ceiling(n) for n in range(1, 8)] == [
        30 * S, 60 * S, 120 * S, 240 * S, 480 * S, 600 * S, 600 * S,
    ]  # fmt: skip
    assert policy.ceiling(10_000) == 600 * S


def test_jitter_keeps_each_wait_between_half_the_ceiling_and_the_ceiling() -> None:
    policy = RetryPolicy(base=30 * S, cap=3600 * S)
    assert policy.delay(1, rand=lambda: 0.0) == 15 * S
    assert policy.delay(1, rand=lambda: 1.0) == 30 * S
    assert policy.delay(3, rand=lambda: 0.5) == 90 * S
    # Below the cap, the worst draw of one attempt waits no less than the best of the
    # one before (3600 s: the 8th ceiling is capped).
    for n in range(1, 7):
        assert policy.delay(n + 1, rand=lambda: 0.0) >= policy.delay(n, rand=lambda: 1.0)
    for _ in range(200):
        assert 15 * S <= policy.delay(1) <= 30 * S


def test_the_last_attempt_is_the_max_attempts_th() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert [policy.is_last(n) for n in (1, 2, 3, 4)] == [False, False, True, True]


@pytest.mark.parametrize(
    "kwargs", [{"max_attempts": 0}, {"base": 0 * S}, {"base": 60 * S, "cap": 30 * S}]
)
def test_a_policy_that_cannot_work_is_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="must be"):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_errors_are_kept_short_and_on_one_line() -> None:
    assert short_error("HTTP 503:\n  busy ") == "HTTP 503: busy"
    long = short_error("x" * 5000)
    assert len(long) == LAST_ERROR_CHARS
    assert long.endswith("…")


def test_outbox_settings_are_read_and_checked() -> None:
    settings = Settings.from_env(
        {
            "OUTBOX_MAX_ATTEMPTS": "5",
            "OUTBOX_BACKOFF_BASE_SECONDS": "10",
            "OUTBOX_BACKOFF_CAP_SECONDS": "600",
            "OUTBOX_PUSH_URL": "https://push.example.com/v1/send",
            "OUTBOX_WEBHOOK_URL": "https://erp.example.com/hooks",
            "OUTBOX_WEBHOOK_SECRET": "s" * 32,
        }
    )
    assert settings.outbox_max_attempts == 5
    assert (settings.outbox_backoff_base_seconds, settings.outbox_backoff_cap_seconds) == (10, 600)
    assert settings.outbox_push_url == "https://push.example.com/v1/send"
    defaults = Settings.from_env({})
    assert defaults.outbox_max_attempts == 8
    assert defaults.outbox_push_url == defaults.outbox_sms_url == ""
    for env in (
        {"OUTBOX_MAX_ATTEMPTS": "0"},
        {"OUTBOX_BACKOFF_BASE_SECONDS": "60", "OUTBOX_BACKOFF_CAP_SECONDS": "30"},
        {"OUTBOX_TIMEOUT_SECONDS": "60", "OUTBOX_LEASE_SECONDS": "30"},
        {"OUTBOX_WEBHOOK_URL": "https://erp.example.com/hooks"},
    ):
        with pytest.raises(SettingsError, match="OUTBOX_"):
            Settings.from_env(env)
