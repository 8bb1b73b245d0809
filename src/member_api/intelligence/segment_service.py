"""Segments: saving and versioning their filters, previewing whom they reach."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from member_api.error_codes import IntelligenceErrorCode
from member_api.errors import Conflict, InvalidInput, NotFound
from member_api.intelligence import segments
from member_api.intelligence.facts import on_postgres
from member_api.intelligence.models import Segment, SegmentVersion
from member_api.services import Services

NAME_MAX = 60


@dataclass(frozen=True)
class Sampled:
    id: uuid.UUID
    display_name: str
    tier: str


@dataclass(frozen=True)
class Preview:
    count: int
    sample: list[Sampled]


def checked_filter(services: Services, text: str) -> Any:
    """The filter tree of `text`, refused with the offending node named."""
    try:
        tree = segments.parse(text)
        segments.check(tree, policy_version=services.settings.privacy_policy_version)
    except segments.FilterError as exc:
        raise InvalidInput(IntelligenceErrorCode.INVALID_FILTER, str(exc), field="filter") from None
    return tree


async def preview(services: Services, text: str) -> Preview:
    """How many members the filter reaches now, and the first 20 of them by id."""
    return await members_page(services, text)


async def members_page(
    services: Services,
    text: str,
    *,
    after: uuid.UUID | None = None,
    limit: int = segments.SAMPLE_SIZE,
) -> Preview:
    """The members the filter reaches now, by id: `limit` of them after `after` (pages
    for whatever acts on a segment), and how many there are after it."""
    tree = checked_filter(services, text)
    query = segments.compile_filter(
        tree,
        postgres=on_postgres(),
        policy_version=services.settings.privacy_policy_version,
        after=after,
        limit=limit,
    )
    rows = await connections.get("default").execute_query_dict(query.sql, query.values)
    sample = [
        Sampled(uuid.UUID(str(row["id"])), str(row["display_name"]), str(row["tier"]))
        for row in rows
    ]
    return Preview(int(rows[0]["total"]) if rows else 0, sample)


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > NAME_MAX:
        raise InvalidInput(
            IntelligenceErrorCode.INVALID_SEGMENT_NAME,
            f"A segment's name is 1 to {NAME_MAX} characters.",
            field="name",
        )
    return cleaned


def _canonical(tree: Any) -> str:
    return json.dumps(tree, ensure_ascii=False, sort_keys=True)


async def create_segment(
    services: Services, *, name: str, filter_text: str, staff_id: uuid.UUID
) -> Segment:
    cleaned = _clean_name(name)
    tree = checked_filter(services, filter_text)
    now = services.clock.now()
    try:
        async with in_transaction():
            segment = await Segment.create(
                name=cleaned, version=1, created_by=staff_id, created_at=now, updated_at=now
            )
            await SegmentVersion.create(
                segment_id=segment.id,
                version=1,
                tree=_canonical(tree),
                created_by=staff_id,
                created_at=now,
            )
    except IntegrityError:
        raise Conflict(
            IntelligenceErrorCode.SEGMENT_NAME_TAKEN, f"A segment is named {cleaned} already."
        ) from None
    return segment


async def revise_segment(
    services: Services, *, segment_id: uuid.UUID, filter_text: str, staff_id: uuid.UUID
) -> Segment:
    """A new version of the segment's filter; the earlier ones stay as they were."""
    tree = checked_filter(services, filter_text)
    now = services.clock.now()
    async with in_transaction():
        segment = await Segment.select_for_update().get_or_none(id=segment_id)
        if segment is None:
            raise NotFound(IntelligenceErrorCode.UNKNOWN_SEGMENT, "No segment has that id.")
        segment.version += 1
        segment.updated_at = now
        await segment.save(update_fields=["version", "updated_at"])
        await SegmentVersion.create(
            segment_id=segment.id,
            version=segment.version,
            tree=_canonical(tree),
            created_by=staff_id,
            created_at=now,
        )
    return segment


async def filter_of(segment_id: uuid.UUID, version: int | None = None) -> SegmentVersion:
    """The segment's filter in force, or as of a version."""
    query = SegmentVersion.filter(segment_id=segment_id)
    if version is not None:
        query = query.filter(version=version)
    row = await query.order_by("-version").first()
    if row is None:
        raise NotFound(IntelligenceErrorCode.UNKNOWN_SEGMENT, "No segment has that id.")
    return row
