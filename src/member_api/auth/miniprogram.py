"""Client of the mini-program platform's code2session API."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx

from member_api.error_codes import AuthErrorCode
from member_api.errors import InvalidInput, UpstreamFailure

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MiniProgramSession:
    openid: str
    unionid: str | None


class MiniProgramClient:
    def __init__(
        self,
        *,
        base_url: str,
        app_id: str,
        app_secret: str,
        timeout_seconds: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._app_id = app_id
        self._app_secret = app_secret
        self._http = httpx.AsyncClient(
            base_url=base_url, timeout=timeout_seconds, transport=transport
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def code2session(self, code: str) -> MiniProgramSession:
        params = {
            "appid": self._app_id,
            "secret": self._app_secret,
            "js_code": code,
            "grant_type": "authorization_code",
        }
        try:
            response = await self._http.get("/sns/jscode2session", params=params)
        except httpx.TimeoutException as exc:
            logger.warning("mini-program login timed out")
            raise UpstreamFailure(
                AuthErrorCode.MINIPROGRAM_UNAVAILABLE,
                "The mini-program platform did not answer in time.",
            ) from exc
        except httpx.HTTPError as exc:
            logger.warning("mini-program login failed: %s", type(exc).__name__)
            raise UpstreamFailure(
                AuthErrorCode.MINIPROGRAM_UNAVAILABLE,
                "The mini-program platform could not be reached.",
            ) from exc
        if response.status_code >= 500:
            raise UpstreamFailure(
                AuthErrorCode.MINIPROGRAM_UNAVAILABLE, "The mini-program platform is unavailable."
            )
        try:
            body = response.json()
        except ValueError as exc:
            raise UpstreamFailure(
                AuthErrorCode.MINIPROGRAM_UNAVAILABLE,
                "The mini-program platform sent an unreadable answer.",
            ) from exc
        if not isinstance(body, dict):
            raise UpstreamFailure(
                AuthErrorCode.MINIPROGRAM_UNAVAILABLE,
                "The mini-program platform sent an unreadable answer.",
            )
        errcode = body.get("errcode", 0)
        if errcode not in (0, None):
            logger.info("mini-program login refused: errcode=%s", errcode)
            raise InvalidInput(
                AuthErrorCode.MINIPROGRAM_CODE_REJECTED,
                "The mini-program login code was refused; ask the client for a new one.",
                field="code",
            )
        openid = body.get("openid")
        if not isinstance(openid, str) or not openid:
            raise UpstreamFailure(
                AuthErrorCode.MINIPROGRAM_UNAVAILABLE, "The mini-program platform sent no openid."
            )
        unionid = body.get("unionid")
        return MiniProgramSession(
            openid=openid, unionid=unionid if isinstance(unionid, str) and unionid else None
        )
