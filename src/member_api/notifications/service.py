"""Writing to and reading the in-app inbox."""

from __future__ import annotations

import uuid
from datetime import datetime

from member_api import freshness
from member_api.db import create_once
from member_api.error_codes import NotificationErrorCode
from member_api.errors import NotFound
from member_api.notifications.models import Notification


async def notify(
    *,
    member_id: uuid.UUID,
    kind: str,
    title: str,
    body: str,
    at: datetime,
    dedupe_key: str | None = None,
) -> bool:
    """Add a notification; with a `dedupe_key`, at most one per member and key.

    Returns False when that key was delivered already.
    """
    await freshness.touch(freshness.member(member_id))
    if (
        dedupe_key
        and await Notification.filter(member_id=member_id, dedupe_key=dedupe_key).exists()
    ):
        return False
    return await create_once(
        Notification,
        member_id=member_id,
        kind=kind,
        title=title,
        body=body,
        created_at=at,
        dedupe_key=dedupe_key,
    )


async def mark_read(member_id: uuid.UUID, notification_id: uuid.UUID, at: datetime) -> Notification:
    """Mark one of the member's notifications read, once: a second call keeps the time of
    the first. Another member's notification is not found."""
    await Notification.filter(id=notification_id, member_id=member_id, read_at__isnull=True).update(
        read_at=at
    )
    row = await Notification.get_or_none(id=notification_id, member_id=member_id)
    if row is None:
        raise NotFound(
            NotificationErrorCode.UNKNOWN_NOTIFICATION, "No notification of yours has that id."
        )
    return row
