"""GET /privacy/exports/{id}?expires=...&signature=...: a data export, downloaded once."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from member_api.errors import DomainError
from member_api.privacy import service
from member_api.services import Services

_STATUS = {"authentication": 403, "not_found": 404, "conflict": 410}


async def download_export(request: Request) -> Response:
    services: Services = request.app.state.services
    try:
        content = await service.take_export(
            services,
            export_id=str(request.path_params["export_id"]),
            expires=request.query_params.get("expires", ""),
            signature=request.query_params.get("signature", ""),
        )
    except DomainError as exc:
        status = _STATUS.get(exc.kind, 400)
        if exc.code == "EXPORT_NOT_READY":
            status = 409
        return JSONResponse(
            {"error": {"code": exc.code, "message": exc.message}},
            status_code=status,
            headers={"cache-control": "no-store"},
        )
    return Response(
        content,
        media_type="application/json",
        headers={
            "content-disposition": 'attachment; filename="member-data.json"',
            "cache-control": "no-store",
        },
    )
