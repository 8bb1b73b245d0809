"""Segments on the staff API: define, version, preview (marketers and admins)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import strawberry

from member_api.error_codes import IntelligenceErrorCode
from member_api.errors import DomainError
from member_api.graphql.context import GqlInfo
from member_api.graphql.errors import AnyError, ClientError
from member_api.graphql.ids import parse_id
from member_api.graphql.pagination import check_first
from member_api.graphql.results import outcome
from member_api.graphql.roles import Roles
from member_api.intelligence import segment_service as service
from member_api.intelligence.models import Segment as SegmentRow
from member_api.intelligence.models import SegmentVersion as SegmentVersionRow
from member_api.staff.domain import StaffRole

SEGMENTERS = (StaffRole.MARKETER, StaffRole.ADMIN)
READERS = (*SEGMENTERS, StaffRole.AUDITOR)
FILTER_HELP = (
    "A JSON filter tree: {all|any: [...]}, {not: ...}, {fact, op, value}, {score: r|f|m, "
    "op, value}, {tag}, {tier: [...]}, {consent, granted}, {group}, {birthdayMonth: [...]} "
    "(see docs/features.md)."
)


@strawberry.type(name="SegmentMember", description="A member a segment reaches.")
class SegmentMemberType:
    id: strawberry.ID
    display_name: str
    tier: str


@strawberry.type(name="SegmentPreview", description="Whom a filter reaches now.")
class SegmentPreviewType:
    count: int = strawberry.field(description="Members reached (not erased).")
    sample: list[SegmentMemberType] = strawberry.field(description="The first 20, by id.")

    @classmethod
    def of(cls, found: service.Preview) -> SegmentPreviewType:
        return cls(
            count=found.count,
            sample=[
                SegmentMemberType(
                    id=strawberry.ID(str(m.id)), display_name=m.display_name, tier=m.tier
                )
                for m in found.sample
            ],
        )


@strawberry.type(name="SegmentVersion", description="A segment's filter as one version saved it.")
class SegmentVersionType:
    version: int
    filter: str = strawberry.field(description="The filter tree, as JSON.")
    created_by: strawberry.ID
    created_at: datetime

    @classmethod
    def of(cls, row: SegmentVersionRow) -> SegmentVersionType:
        return cls(
            version=row.version,
            filter=row.tree,
            created_by=strawberry.ID(str(row.created_by)),
            created_at=row.created_at,
        )


@strawberry.type(name="Segment", description="A saved segment; its latest version is in force.")
class SegmentType:
    id: strawberry.ID
    name: str
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: SegmentRow) -> SegmentType:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @strawberry.field(description="Every version, newest first.")
    async def versions(self) -> list[SegmentVersionType]:
        rows = await SegmentVersionRow.filter(segment_id=uuid.UUID(str(self.id))).order_by(
            "-version"
        )
        return [SegmentVersionType.of(row) for row in rows]

    @strawberry.field(description="Whom the version in force reaches now.")
    async def preview(self, info: GqlInfo) -> SegmentPreviewType:
        row = await service.filter_of(uuid.UUID(str(self.id)))
        return await _preview(info, row.tree)


async def _preview(info: GqlInfo, text: str) -> SegmentPreviewType:
    try:
        return SegmentPreviewType.of(await service.preview(info.context.services, text))
    except DomainError as exc:
        raise ClientError(exc.code, exc.message, field=exc.field) from exc


@strawberry.input
class CreateSegmentInput:
    name: str = strawberry.field(description="1 to 60 characters, unique.")
    filter: str = strawberry.field(description=FILTER_HELP)


@strawberry.input
class ReviseSegmentInput:
    segment_id: strawberry.ID
    filter: str = strawberry.field(description=FILTER_HELP)


SegmentResult = Annotated[SegmentType | AnyError, strawberry.union("SegmentResult")]


@strawberry.type
class SegmentAdminQuery:
    @strawberry.field(
        description="Whom a filter would reach now, before it is saved: the count and the "
        "first 20. A bad filter is refused (INVALID_FILTER) naming the node.",
        extensions=[Roles(*READERS)],
    )
    async def preview_segment(self, info: GqlInfo, filter: str) -> SegmentPreviewType:
        return await _preview(info, filter)

    @strawberry.field(description="Saved segments, by name.", extensions=[Roles(*READERS)])
    async def segments(self, first: int = 50) -> list[SegmentType]:
        rows = await SegmentRow.all().order_by("name").limit(check_first(first))
        return [SegmentType.of(row) for row in rows]

    @strawberry.field(
        description="A saved segment; null when none has that id.", extensions=[Roles(*READERS)]
    )
    async def segment(self, id: strawberry.ID) -> SegmentType | None:
        try:
            row = await SegmentRow.get_or_none(id=uuid.UUID(str(id)))
        except ValueError:
            return None
        return SegmentType.of(row) if row is not None else None


@strawberry.type
class SegmentAdminMutation:
    @strawberry.mutation(description="Save a new segment.", extensions=[Roles(*SEGMENTERS)])
    async def create_segment(self, info: GqlInfo, input: CreateSegmentInput) -> SegmentResult:
        work = service.create_segment(
            info.context.services,
            name=input.name,
            filter_text=input.filter,
            staff_id=info.context.require_subject(),
        )
        return await outcome(work, SegmentType.of)

    @strawberry.mutation(
        description="Change a segment's filter: a new version, the earlier kept.",
        extensions=[Roles(*SEGMENTERS)],
    )
    async def revise_segment(self, info: GqlInfo, input: ReviseSegmentInput) -> SegmentResult:
        async def work() -> SegmentRow:
            return await service.revise_segment(
                info.context.services,
                segment_id=parse_id(
                    input.segment_id, code=IntelligenceErrorCode.UNKNOWN_SEGMENT, what="segment"
                ),
                filter_text=input.filter,
                staff_id=info.context.require_subject(),
            )

        return await outcome(work(), SegmentType.of)
