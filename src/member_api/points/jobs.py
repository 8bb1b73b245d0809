"""The points jobs: expiry of the lots whose date has come."""

from __future__ import annotations

from datetime import date

from member_api.points import ledger
from member_api.points.service import expire_points
from member_api.services import Services


async def points_expiry(services: Services, as_of: date, dry_run: bool) -> tuple[str, list[str]]:
    due = await ledger.expiring_lots(as_of)
    details = [f"{member_id} {currency}: {amount} expire" for member_id, currency, amount in due]
    if dry_run:
        return f"points expiry as of {as_of}: {len(due)} account(s) would lose points", details
    expired = await expire_points(services, as_of)
    return f"points expiry as of {as_of}: {expired} lot(s) expired", details
