"""The channel clients: one real HTTP client per gateway a message can leave through.

Each `send` returns when the gateway accepted the message and raises `DeliveryFailed`
otherwise (a timeout, a refused connection, a non-2xx answer, a platform error code).
A channel whose URL is not set is off: `enabled` leaves it out and its messages wait.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from member_api.outbox.domain import Channel
from member_api.settings import Settings
from member_api.signatures import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

logger = logging.getLogger(__name__)

DELIVERY_HEADER = "x-member-api-delivery"
EVENT_HEADER = "x-member-api-event"
# WeChat answers these when the access token is invalid or expired: fetch a new one.
_STALE_TOKEN_CODES = {40001, 40014, 42001}
_TOKEN_MARGIN_SECONDS = 300


class DeliveryFailed(Exception):
    """The gateway did not take the message; `str(exc)` says why, briefly."""


@dataclass(frozen=True)
class Envelope:
    """What a channel client needs of a message."""

    id: str
    recipient: str
    payload: dict[str, Any]
    now: datetime


class OutboxClients:
    def __init__(
        self, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._settings = settings
        self._http = httpx.AsyncClient(timeout=settings.outbox_timeout_seconds, transport=transport)
        self._wechat_token: tuple[str, float] | None = None  # (token, monotonic expiry)
        self._wechat_lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def enabled(self) -> frozenset[Channel]:
        s = self._settings
        urls = {
            Channel.APP_PUSH: s.outbox_push_url,
            Channel.WECHAT_SUBSCRIBE: s.outbox_wechat_base_url,
            Channel.SMS: s.outbox_sms_url,
            Channel.WEBHOOK: s.outbox_webhook_url,
        }
        return frozenset(channel for channel, url in urls.items() if url)

    async def send(self, channel: Channel, envelope: Envelope) -> None:
        if channel not in self.enabled:
            raise DeliveryFailed(f"the {channel} channel is off (no gateway configured)")
        if channel is Channel.APP_PUSH:
            await self._json_post(
                self._settings.outbox_push_url, envelope, self._settings.outbox_push_token
            )
        elif channel is Channel.SMS:
            await self._json_post(
                self._settings.outbox_sms_url, envelope, self._settings.outbox_sms_token
            )
        elif channel is Channel.WEBHOOK:
            await self._webhook(envelope)
        else:
            await self._wechat_subscribe(envelope)

    async def _post(self, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.post(url, **kwargs)
        except httpx.TimeoutException as exc:
            raise DeliveryFailed(
                f"no answer within {self._settings.outbox_timeout_seconds:g} s"
            ) from exc
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"could not reach the gateway: {type(exc).__name__}") from exc
        if not response.is_success:
            raise DeliveryFailed(f"HTTP {response.status_code}: {response.text[:200]}")
        return response

    async def _json_post(self, url: str, envelope: Envelope, token: str) -> None:
        """Push and SMS gateways: `{id, to, message}`, the id also as Idempotency-Key so
        a gateway can drop a resend after a crash between sending and recording it."""
        headers = {"idempotency-key": envelope.id}
        if token:
            headers["authorization"] = f"Bearer {token}"
        body = {"id": envelope.id, "to": envelope.recipient, "message": envelope.payload}
        await self._post(url, json=body, headers=headers)

    async def _webhook(self, envelope: Envelope) -> None:
        """`{id, type, data}`, signed like the commerce webhook: HMAC-SHA256 of
        `timestamp.body` under OUTBOX_WEBHOOK_SECRET."""
        body = json.dumps(
            {"id": envelope.id, "type": envelope.recipient, "data": envelope.payload},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        timestamp = str(int(envelope.now.timestamp()))
        headers = {
            "content-type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self._settings.outbox_webhook_secret, timestamp, body),
            DELIVERY_HEADER: envelope.id,
            EVENT_HEADER: envelope.recipient,
        }
        await self._post(self._settings.outbox_webhook_url, content=body, headers=headers)

    async def _wechat_subscribe(self, envelope: Envelope) -> None:
        """`POST /cgi-bin/message/subscribe/send?access_token=...` with the payload
        (`template_id`, `data`, optionally `page`) and `touser`, the member's openid."""
        body = {**envelope.payload, "touser": envelope.recipient}
        for fresh in (False, True):
            token = await self._access_token(refresh=fresh)
            answer = await self._wechat_call(
                "/cgi-bin/message/subscribe/send", body, access_token=token
            )
            errcode = answer.get("errcode", 0)
            if errcode in (0, None):
                return
            if errcode in _STALE_TOKEN_CODES and not fresh:
                continue
            raise DeliveryFailed(f"WeChat errcode {errcode}: {answer.get('errmsg', '')}")

    async def _wechat_call(
        self, path: str, body: dict[str, Any], *, access_token: str
    ) -> dict[str, Any]:
        base = self._settings.outbox_wechat_base_url.rstrip("/")
        response = await self._post(
            f"{base}{path}", params={"access_token": access_token}, json=body
        )
        return _json_object(response)

    async def _access_token(self, *, refresh: bool) -> str:
        """The mini-program's access token (MINIPROGRAM_APP_ID and _SECRET), kept until
        five minutes before it expires."""
        async with self._wechat_lock:
            cached = self._wechat_token
            if cached and not refresh and cached[1] > time.monotonic():
                return cached[0]
            base = self._settings.outbox_wechat_base_url.rstrip("/")
            params = {
                "grant_type": "client_credential",
                "appid": self._settings.miniprogram_app_id,
                "secret": self._settings.miniprogram_app_secret,
            }
            try:
                response = await self._http.get(f"{base}/cgi-bin/token", params=params)
            except httpx.HTTPError as exc:
                raise DeliveryFailed(
                    f"could not get a WeChat access token: {type(exc).__name__}"
                ) from exc
            if not response.is_success:
                raise DeliveryFailed(f"WeChat access token: HTTP {response.status_code}")
            answer = _json_object(response)
            token = answer.get("access_token")
            if not isinstance(token, str) or not token:
                raise DeliveryFailed(
                    f"WeChat access token refused: errcode {answer.get('errcode')}"
                )
            expires_in = answer.get("expires_in")
            lifetime = float(expires_in) if isinstance(expires_in, int | float) else 7200.0
            expiry = time.monotonic() + max(lifetime - _TOKEN_MARGIN_SECONDS, 0.0)
            self._wechat_token = (token, expiry)
            return token


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError as exc:
        raise DeliveryFailed("the gateway sent an unreadable answer") from exc
    if not isinstance(answer, dict):
        raise DeliveryFailed("the gateway sent an unreadable answer")
    return answer
