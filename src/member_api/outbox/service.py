"""Queueing messages with the change that causes them, and delivering them.

`enqueue` is called INSIDE the caller's `in_transaction()`: the message row commits or
rolls back with the business change, so a message exists if and only if the change
happened, and a retried transaction finds its dedupe key taken and queues nothing.
Deliverers only ever see committed rows, so an uncommitted change is never announced.

Delivery claims a message before sending it: a conditional UPDATE sets `claimed_by` to
the deliverer's token and `claimed_until` to now + OUTBOX_LEASE_SECONDS, only where the
message is still pending, due and unclaimed (or its claim ran out). One deliverer wins;
the others skip it. The claim outlives the request's timeout, so a message is sent at
most once by our side unless the process dies between the gateway's answer and the
write that records it; then the claim runs out and the message is sent again (gateways
get the message id as an idempotency key for that case).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from member_api.db import create_once
from member_api.error_codes import OutboxErrorCode
from member_api.errors import Conflict, NotFound
from member_api.members.models import Member
from member_api.members.service import PHONE_CONTEXT
from member_api.outbox.channels import DeliveryFailed, Envelope
from member_api.outbox.domain import (
    Channel,
    DeliveryOutcome,
    OutboxStatus,
    RetryPolicy,
    short_error,
)
from member_api.outbox.models import OutboxMessage
from member_api.services import Services

logger = logging.getLogger(__name__)

SENDS_AT_ONCE = 8


async def enqueue(
    *,
    channel: Channel,
    recipient: str,
    payload: dict[str, Any],
    dedupe_key: str,
    at: datetime,
) -> bool:
    """Queue a message; call it inside the caller's `in_transaction()`.

    `recipient` is the member id for APP_PUSH and SMS (the SMS goes to the member's
    stored phone, read when it is sent), the openid for WECHAT_SUBSCRIBE, the event
    type for WEBHOOK. Returns False when `dedupe_key` was queued already (the caller's
    transaction stays usable). The message is due at once.
    """
    return await create_once(
        OutboxMessage,
        channel=channel.value,
        recipient=recipient,
        payload=payload,
        dedupe_key=dedupe_key,
        status=OutboxStatus.PENDING.value,
        attempts=0,
        next_attempt_at=at,
        created_at=at,
    )


def retry_policy(services: Services) -> RetryPolicy:
    s = services.settings
    return RetryPolicy(
        max_attempts=s.outbox_max_attempts,
        base=timedelta(seconds=s.outbox_backoff_base_seconds),
        cap=timedelta(seconds=s.outbox_backoff_cap_seconds),
    )


def _claimable(services: Services, now: datetime) -> Q:
    channels = [channel.value for channel in services.outbox.enabled]
    unclaimed = Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
    return (
        Q(status=OutboxStatus.PENDING.value, next_attempt_at__lte=now, channel__in=channels)
        & unclaimed
    )


def _lease(services: Services, now: datetime) -> datetime:
    return now + timedelta(seconds=services.settings.outbox_lease_seconds)


async def _claim_due(
    services: Services, now: datetime, limit: int
) -> tuple[uuid.UUID, list[OutboxMessage]]:
    """Claim up to `limit` due messages, oldest due first. On PostgreSQL the rows are
    picked with FOR UPDATE SKIP LOCKED, so concurrent deliverers take different ones;
    the conditional UPDATE is what decides (SQLite has one writer at a time)."""
    token = uuid.uuid4()
    if not services.outbox.enabled:
        return token, []
    due = _claimable(services, now)
    async with in_transaction():
        picked = (
            await OutboxMessage.filter(due)
            .order_by("next_attempt_at", "id")
            .limit(limit)
            .select_for_update(skip_locked=True)
        )
        if picked:
            await OutboxMessage.filter(due, id__in=[row.id for row in picked]).update(
                claimed_by=token, claimed_until=_lease(services, now)
            )
    claimed = await OutboxMessage.filter(claimed_by=token).order_by("next_attempt_at", "id")
    return token, list(claimed)


async def deliver_one(services: Services, message_id: uuid.UUID) -> DeliveryOutcome:
    """Send one message now if it is pending, due and nobody is sending it (the fast
    path after a commit); otherwise leave it to the next pass (SKIPPED)."""
    now = services.clock.now()
    token = uuid.uuid4()
    if not services.outbox.enabled:
        return DeliveryOutcome.SKIPPED
    claimed = await OutboxMessage.filter(_claimable(services, now), id=message_id).update(
        claimed_by=token, claimed_until=_lease(services, now)
    )
    if not claimed:
        return DeliveryOutcome.SKIPPED
    message = await OutboxMessage.get(id=message_id)
    return await _attempt(services, message, token, now)


async def deliver_due(services: Services, *, now: datetime, limit: int = 100) -> int:
    """One delivery pass: claim up to `limit` due messages and send them. Returns how
    many it attempted (sent or failed); 0 means nothing was due."""
    outcomes = await delivery_pass(services, now=now, limit=limit)
    return sum(outcomes.values())


async def delivery_pass(
    services: Services, *, now: datetime, limit: int = 100
) -> Counter[DeliveryOutcome]:
    """`deliver_due` with each message's outcome counted (for the command's report)."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    token, messages = await _claim_due(services, now, limit)
    lanes = asyncio.Semaphore(SENDS_AT_ONCE)

    async def one(message: OutboxMessage) -> DeliveryOutcome:
        async with lanes:
            return await _attempt(services, message, token, now)

    outcomes = Counter(await asyncio.gather(*(one(m) for m in messages)))
    await refresh_backlog(services)
    return outcomes


async def _attempt(
    services: Services, message: OutboxMessage, token: uuid.UUID, now: datetime
) -> DeliveryOutcome:
    channel = Channel(message.channel)
    try:
        await services.outbox.send(channel, await _envelope(services, message, now))
    except DeliveryFailed as exc:
        return await _failed(services, message, token, now, str(exc))
    except Exception as exc:  # a bug must not stop the pass: count it as a failed attempt
        logger.exception("outbox message %s: unexpected error while sending", message.id)
        return await _failed(services, message, token, now, f"internal: {type(exc).__name__}")
    recorded = await OutboxMessage.filter(id=message.id, claimed_by=token).update(
        status=OutboxStatus.SENT.value,
        sent_at=services.clock.now(),
        claimed_by=None,
        claimed_until=None,
    )
    if not recorded:
        logger.warning("outbox message %s: sent after its claim ran out", message.id)
    services.metrics.outbox_sent.labels(channel.value).inc()
    return DeliveryOutcome.SENT


async def _envelope(services: Services, message: OutboxMessage, now: datetime) -> Envelope:
    recipient = message.recipient
    if message.channel == Channel.SMS.value:
        recipient = await _phone_of(services, recipient)
    payload: dict[str, Any] = message.payload
    return Envelope(id=str(message.id), recipient=recipient, payload=payload, now=now)


async def _phone_of(services: Services, member_id: str) -> str:
    """SMS recipients are members: their phone is read, protected, at the last moment,
    so the outbox never holds a copy and an erased member is not texted."""
    try:
        member = await Member.get_or_none(id=uuid.UUID(member_id))
    except ValueError:
        member = None
    if member is None or not member.phone_encrypted:
        raise DeliveryFailed("the recipient is not a member with a phone number")
    return services.protector.decrypt(member.phone_encrypted, context=PHONE_CONTEXT)


async def _failed(
    services: Services, message: OutboxMessage, token: uuid.UUID, now: datetime, error: str
) -> DeliveryOutcome:
    policy = retry_policy(services)
    attempts = message.attempts + 1
    dead = policy.is_last(attempts)
    changes: dict[str, Any] = {
        "attempts": attempts,
        "last_error": short_error(error),
        "claimed_by": None,
        "claimed_until": None,
    }
    if dead:
        changes["status"] = OutboxStatus.DEAD.value
    else:
        changes["next_attempt_at"] = now + policy.delay(attempts)
    await OutboxMessage.filter(id=message.id, claimed_by=token).update(**changes)
    channel = message.channel
    services.metrics.outbox_failed_attempts.labels(channel).inc()
    if dead:
        services.metrics.outbox_dead.labels(channel).inc()
        logger.warning(
            "outbox message %s is dead after %d attempts: %s", message.id, attempts, error
        )
        return DeliveryOutcome.DEAD
    logger.info("outbox message %s: attempt %d failed: %s", message.id, attempts, error)
    return DeliveryOutcome.RETRY


async def refresh_backlog(services: Services) -> dict[Channel, int]:
    """Pending messages by channel, into the backlog gauge; warns about channels that
    are off while messages wait for them."""
    rows = (
        await OutboxMessage.filter(status=OutboxStatus.PENDING.value)
        .annotate(n=Count("id"))
        .group_by("channel")
        .values_list("channel", "n")
    )
    counts = {channel: 0 for channel in Channel}
    for channel, n in rows:
        counts[Channel(channel)] = int(n)
    enabled = services.outbox.enabled
    for channel, n in counts.items():
        services.metrics.outbox_pending.labels(channel.value).set(n)
        if n and channel not in enabled:
            logger.warning("%d %s messages wait: the channel is off (no gateway set)", n, channel)
    return counts


async def replay_message(services: Services, message_id: uuid.UUID) -> OutboxMessage:
    """Put a dead message back in the queue: pending, due now, its attempts reset."""
    replayed = await OutboxMessage.filter(id=message_id, status=OutboxStatus.DEAD.value).update(
        status=OutboxStatus.PENDING.value,
        attempts=0,
        next_attempt_at=services.clock.now(),
        claimed_by=None,
        claimed_until=None,
    )
    message = await OutboxMessage.get_or_none(id=message_id)
    if message is None:
        raise NotFound(OutboxErrorCode.UNKNOWN_MESSAGE, "No outbox message has that id.")
    if not replayed:
        raise Conflict(
            OutboxErrorCode.NOT_DEAD,
            f"Only a dead message can be replayed; this one is {message.status}.",
        )
    logger.info("outbox message %s replayed", message_id)
    return message
