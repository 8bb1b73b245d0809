"""POST /hooks/commerce: one signed JSON event per request from the commerce systems."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse

from member_api.commerce.domain import parse_event, verify_signature
from member_api.commerce.service import apply_event
from member_api.error_codes import CommerceErrorCode, ErrorCode, RequestErrorCode
from member_api.errors import DomainError
from member_api.services import Services
from member_api.text import all_storable, is_digits, loads

logger = logging.getLogger(__name__)
MAX_BODY_BYTES = 64 * 1024

_STATUS = {
    "authentication": 401,
    "validation": 422,
    "not_found": 404,
    "conflict": 409,
    "forbidden": 403,
}


def _error(status: int, code: ErrorCode, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


async def _read_body(request: Request) -> bytes | None:
    """The body, or None as soon as it is known to be too large (never buffered whole)."""
    declared = request.headers.get("content-length", "")
    if is_digits(declared) and int(declared) > MAX_BODY_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def commerce_webhook(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    body = await _read_body(request)
    if body is None:
        return _error(
            413, CommerceErrorCode.BODY_TOO_LARGE, f"At most {MAX_BODY_BYTES} bytes per event."
        )
    try:
        verify_signature(
            secret=services.settings.commerce_webhook_secret,
            timestamp=request.headers.get("x-member-api-timestamp"),
            signature=request.headers.get("x-member-api-signature"),
            body=body,
            now=services.clock.now(),
        )
        try:
            payload = loads(body)
        except ValueError:
            return _error(
                400,
                CommerceErrorCode.MALFORMED_JSON,
                "The body is not JSON (UTF-8, at most 1,024 deep).",
            )
        if not all_storable(payload):
            return _error(
                400,
                RequestErrorCode.INVALID_CHARACTERS,
                "Text may not contain NUL or unpaired surrogates.",
            )
        event = parse_event(payload, now=services.clock.now())
        outcome = await apply_event(services, event, source="webhook")
    except DomainError as exc:
        status = (
            400 if exc.code == CommerceErrorCode.MALFORMED_EVENT else _STATUS.get(exc.kind, 422)
        )
        if status == 401:
            logger.warning("commerce webhook refused: %s", exc.code)
        return _error(status, exc.code, exc.message)
    return JSONResponse({"status": outcome})
