"""Outbox rules as plain Python: channels, statuses, the retry schedule."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

LAST_ERROR_CHARS = 500


class Channel(StrEnum):
    APP_PUSH = "APP_PUSH"
    WECHAT_SUBSCRIBE = "WECHAT_SUBSCRIBE"
    SMS = "SMS"
    WEBHOOK = "WEBHOOK"


class OutboxStatus(StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    DEAD = "DEAD"


class DeliveryOutcome(StrEnum):
    SENT = "SENT"
    RETRY = "RETRY"  # failed; another attempt is scheduled
    DEAD = "DEAD"  # failed for the last time
    SKIPPED = "SKIPPED"  # not ours to send now: sent, dead, not due, claimed, channel off


@dataclass(frozen=True)
class RetryPolicy:
    """Attempt n (1-based) that fails waits about base * 2**(n-1), at most `cap`; the
    `max_attempts`-th failure makes the message dead."""

    max_attempts: int = 8
    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=1)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base <= timedelta(0) or self.cap < self.base:
            raise ValueError("the back-off base must be positive and the cap at least the base")

    def is_last(self, attempts: int) -> bool:
        """After `attempts` failed attempts, is the message dead?"""
        return attempts >= self.max_attempts

    def ceiling(self, attempts: int) -> timedelta:
        """The longest wait after the `attempts`-th failed attempt (jitter takes up to
        half of it off)."""
        if attempts < 1:
            raise ValueError("attempts counts failed attempts, from 1")
        # Doubling past the cap is pointless and, for large counts, overflows.
        exponent = min(attempts - 1, 62)
        seconds = self.base.total_seconds() * (2**exponent)
        return min(self.cap, timedelta(seconds=min(seconds, self.cap.total_seconds())))

    def delay(self, attempts: int, rand: Callable[[], float] = random.random) -> timedelta:
        """The wait after the `attempts`-th failure: "equal jitter", between half the
        ceiling and the ceiling, so deliverers that failed together spread out while
        each wait is still at least as long as the one before."""
        ceiling = self.ceiling(attempts)
        fraction = min(max(rand(), 0.0), 1.0)
        return ceiling / 2 + (ceiling / 2) * fraction


def short_error(text: str) -> str:
    """What is kept of a failure: one line, bounded."""
    line = " ".join(text.split())
    if len(line) <= LAST_ERROR_CHARS:
        return line
    return line[: LAST_ERROR_CHARS - 1] + "…"
