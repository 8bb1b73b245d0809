"""The tier jobs: the quarterly review and the downgrade warnings before it."""

from __future__ import annotations

from datetime import date

from member_api.services import Services
from member_api.tiers.review import (
    preview_review,
    review_changes,
    run_review,
    send_downgrade_warnings,
)


async def tier_review(services: Services, as_of: date, dry_run: bool) -> tuple[str, list[str]]:
    """The review due on `as_of` (a review date); resumable, safe to rerun."""
    if dry_run:
        would = await preview_review(services, as_of)
        return f"review {as_of} would change {len(would)} member(s)", [c.line() for c in would]
    report = await run_review(services, as_of)
    changes = await review_changes(as_of)
    summary = f"review {report.review_date}: {report.reviewed} reviewed, {report.changed} changed"
    return summary, [c.line() for c in changes]


async def downgrade_warnings(
    services: Services, as_of: date, dry_run: bool
) -> tuple[str, list[str]]:
    warned = await send_downgrade_warnings(services, as_of, dry_run=dry_run)
    verb = "would be sent" if dry_run else "sent"
    return f"downgrade warnings as of {as_of}: {len(warned)} {verb}", [w.line() for w in warned]
