"""Helpers for tests that drive tiers through commerce events."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx

from member_api.clock import FrozenClock
from member_api.commerce.domain import sign
from member_api.settings import Settings
from tests.support import ME, gql, register

SECRET = Settings().commerce_webhook_secret


def paid(
    member_id: str, amount_yuan: int, *, at: datetime, order_id: str | None = None, **extra: Any
) -> dict[str, Any]:
    order = order_id or f"o-{uuid.uuid4().hex[:12]}"
    return {
        "eventId": extra.pop("eventId", f"evt-{uuid.uuid4().hex}"),
        "type": "order.paid",
        "occurredAt": at.isoformat(),
        "memberId": member_id,
        "orderId": order,
        "amountFen": amount_yuan * 100,
        **extra,
    }


def refunded(
    member_id: str, order_id: str, amount_fen: int, *, at: datetime, **extra: Any
) -> dict[str, Any]:
    return {
        "eventId": extra.pop("eventId", f"evt-{uuid.uuid4().hex}"),
        "type": "order.refunded",
        "occurredAt": at.isoformat(),
        "memberId": member_id,
        "orderId": order_id,
        "amountFen": amount_fen,
        **extra,
    }


async def send_event(
    client: httpx.AsyncClient,
    clock: FrozenClock,
    event: dict[str, Any] | bytes,
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
) -> httpx.Response:
    body = event if isinstance(event, bytes) else json.dumps(event).encode()
    stamp = str(timestamp if timestamp is not None else int(clock.now().timestamp()))
    headers = {
        "content-type": "application/json",
        "x-member-api-timestamp": stamp,
        "x-member-api-signature": sign(secret, stamp, body),
    }
    return await client.post("/hooks/commerce", content=body, headers=headers)


async def new_member(client: httpx.AsyncClient, phone: str, **extra: Any) -> tuple[str, str]:
    """Register a member; returns (member id, access token)."""
    tokens = await register(client, phone=phone, **extra)
    me = (await gql(client, ME, token=tokens["accessToken"]))["data"]["me"]
    return me["id"], tokens["accessToken"]


def days_ago(clock: FrozenClock, days: int) -> datetime:
    return clock.now() - timedelta(days=days)


TIER_QUERY = """
query {
  me {
    tier { code name discountRate }
    tierProgress {
      nextTier { code }
      nextReviewAt
      downgradeRisk
      missingSummary
      conditions { key met current target group }
      retentionConditions { key met current target }
    }
    tierHistory { from { code } to { code } changedAt reason }
  }
}
"""
