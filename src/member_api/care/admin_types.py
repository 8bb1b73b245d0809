"""Staff GraphQL types of the care area: a member found by a search, care notes, and the
parts of the member 360 that have no member-side type (ledger entries with their staff,
commerce events, orders, right uses, items with their custody history)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import strawberry
from tortoise.queryset import QuerySet

from member_api.care.models import CareNote as CareNoteRow
from member_api.commerce.models import CommerceEvent as CommerceEventRow
from member_api.commerce.models import MemberOrder as OrderRow
from member_api.graphql.context import GqlInfo
from member_api.graphql.pagination import PageInfo, newest_first_page
from member_api.graphql.scalars import Fen, PointCount
from member_api.members.models import Member
from member_api.points.domain import Reason
from member_api.points.models import LedgerEntry
from member_api.provenance import service as provenance
from member_api.provenance.admin_gql import StaffItem, staff_item_of
from member_api.provenance.gql import EventKind
from member_api.provenance.models import CustodyEvent
from member_api.provenance.models import Item as ItemRow
from member_api.rights.models import RightUsage
from member_api.staff.admin_gql import Staff, staff_by_id
from member_api.tiers.gql import Tier
from member_api.tiers.rules import TierCode, TierRules


@strawberry.type(description="A member a search found, masked as members see themselves.")
class MemberSummary:
    id: strawberry.ID
    display_name: str
    avatar_url: str | None
    phone_masked: str | None = strawberry.field(description="e.g. 138****0001; never in full.")
    joined_at: datetime
    referral_code: str
    tier: Tier

    @classmethod
    def of(cls, row: Member, rules: TierRules) -> MemberSummary:
        return cls(
            id=strawberry.ID(str(row.id)),
            display_name=row.display_name,
            avatar_url=row.avatar_url,
            phone_masked=row.phone_masked,
            joined_at=row.joined_at,
            referral_code=row.referral_code,
            tier=Tier.of(TierCode(row.tier), rules),
        )


@strawberry.type
class MemberSummaryEdge:
    cursor: str
    node: MemberSummary


@strawberry.type
class MemberSummaryConnection:
    edges: list[MemberSummaryEdge]
    page_info: PageInfo


@strawberry.type(description="A note about a member by an advisor or operator.")
class CareNote:
    row: strawberry.Private[CareNoteRow]
    id: strawberry.ID
    member_id: strawberry.ID
    text: str
    created_at: datetime

    @classmethod
    def of(cls, row: CareNoteRow) -> CareNote:
        return cls(
            row=row,
            id=strawberry.ID(str(row.id)),
            member_id=strawberry.ID(str(row.member_id)),
            text=row.text,
            created_at=row.created_at,
        )

    @strawberry.field(description="The staff member who wrote it.")
    async def author(self, info: GqlInfo) -> Staff | None:
        return await staff_by_id(info, self.row.staff_id)


@strawberry.type
class CareNoteEdge:
    cursor: str
    node: CareNote


@strawberry.type
class CareNoteConnection:
    edges: list[CareNoteEdge]
    page_info: PageInfo


async def care_notes_page(
    query: QuerySet[CareNoteRow], first: int, after: str | None
) -> CareNoteConnection:
    rows, page = await newest_first_page(query, first=first, after=after, time_field="created_at")
    return CareNoteConnection(
        edges=[CareNoteEdge(cursor=c, node=CareNote.of(r)) for c, r in rows], page_info=page
    )


@strawberry.type(description="A ledger entry with its cause, as staff see it.")
class LedgerEntryRecord:
    row: strawberry.Private[LedgerEntry]
    id: strawberry.ID
    delta: PointCount
    reason: str = strawberry.field(description="The entry's cause: " + ", ".join(Reason) + ".")
    reference: str | None = strawberry.field(
        description="What caused it: an event, order, redemption or adjustment id."
    )
    note: str = strawberry.field(description="Why, in words: kept with manual adjustments.")
    occurred_at: datetime
    expires_on: date | None

    @strawberry.field(description="The staff member behind a manual entry; null otherwise.")
    async def staff(self, info: GqlInfo) -> Staff | None:
        return await staff_by_id(info, self.row.staff_id)


@strawberry.type
class LedgerEntryRecordEdge:
    cursor: str
    node: LedgerEntryRecord


@strawberry.type
class LedgerEntryRecordConnection:
    edges: list[LedgerEntryRecordEdge]
    page_info: PageInfo


async def ledger_page(
    query: QuerySet[LedgerEntry], first: int, after: str | None
) -> LedgerEntryRecordConnection:
    rows, page = await newest_first_page(query, first=first, after=after, time_field="occurred_at")
    edges = [
        LedgerEntryRecordEdge(
            cursor=c,
            node=LedgerEntryRecord(
                row=r,
                id=strawberry.ID(str(r.id)),
                delta=PointCount(r.delta),
                reason=r.reason,
                reference=r.reference,
                note=r.note,
                occurred_at=r.occurred_at,
                expires_on=r.expires_on,
            ),
        )
        for c, r in rows
    ]
    return LedgerEntryRecordConnection(edges=edges, page_info=page)


@strawberry.type(description="An order, consignment or membership event from commerce.")
class CommerceEventRecord:
    id: strawberry.ID
    event_id: str
    type: str = strawberry.field(description="e.g. order.paid, order.refunded.")
    order_id: str | None
    consignment_id: str | None
    item_public_id: str | None
    amount_fen: Fen | None
    occurred_at: datetime
    received_at: datetime


@strawberry.type
class CommerceEventRecordEdge:
    cursor: str
    node: CommerceEventRecord


@strawberry.type
class CommerceEventRecordConnection:
    edges: list[CommerceEventRecordEdge]
    page_info: PageInfo


async def commerce_events_page(
    query: QuerySet[CommerceEventRow], first: int, after: str | None
) -> CommerceEventRecordConnection:
    rows, page = await newest_first_page(query, first=first, after=after, time_field="occurred_at")
    edges = [
        CommerceEventRecordEdge(
            cursor=c,
            node=CommerceEventRecord(
                id=strawberry.ID(str(r.id)),
                event_id=r.event_id,
                type=r.type,
                order_id=r.order_id,
                consignment_id=r.consignment_id,
                item_public_id=r.item_public_id,
                amount_fen=Fen(r.amount_fen) if r.amount_fen is not None else None,
                occurred_at=r.occurred_at,
                received_at=r.received_at,
            ),
        )
        for c, r in rows
    ]
    return CommerceEventRecordConnection(edges=edges, page_info=page)


@strawberry.type(description="A paid order and how much of it was refunded.")
class MemberOrder:
    order_id: str
    paid_fen: Fen
    refunded_fen: Fen
    paid_at: datetime


@strawberry.type
class MemberOrderEdge:
    cursor: str
    node: MemberOrder


@strawberry.type
class MemberOrderConnection:
    edges: list[MemberOrderEdge]
    page_info: PageInfo


async def orders_page(
    query: QuerySet[OrderRow], first: int, after: str | None
) -> MemberOrderConnection:
    rows, page = await newest_first_page(query, first=first, after=after, time_field="paid_at")
    edges = [
        MemberOrderEdge(
            cursor=c,
            node=MemberOrder(
                order_id=r.order_id,
                paid_fen=Fen(r.paid_fen),
                refunded_fen=Fen(r.refunded_fen),
                paid_at=r.paid_at,
            ),
        )
        for c, r in rows
    ]
    return MemberOrderConnection(edges=edges, page_info=page)


@strawberry.type(description="One use of a countable right.")
class RightUse:
    row: strawberry.Private[RightUsage]
    right_code: str
    period_start: date
    used_at: datetime
    note: str

    @strawberry.field(description="Who recorded it; null when an event used it.")
    async def staff(self, info: GqlInfo) -> Staff | None:
        return await staff_by_id(info, self.row.staff_id)


async def right_uses_of(member_id: uuid.UUID) -> list[RightUse]:
    rows = await RightUsage.filter(member_id=member_id).order_by("-used_at", "-id")
    return [
        RightUse(
            row=r,
            right_code=r.right_code,
            period_start=r.period_start,
            used_at=r.used_at,
            note=r.note,
        )
        for r in rows
    ]


@strawberry.type(description="One entry of an item's custody history.")
class ItemEvent:
    kind: EventKind
    occurred_at: datetime
    place: str | None
    summary: str


@strawberry.type(description="An item the member owns, with its custody history.")
class MemberItem:
    item: StaffItem
    events: list[ItemEvent] = strawberry.field(description="Oldest first.")


async def items_with_history(info: GqlInfo, member_id: uuid.UUID) -> list[MemberItem]:
    """The member's items and all their custody events: two queries for any number."""
    items = await ItemRow.filter(owner_id=member_id).order_by("created_at", "id")
    events: dict[uuid.UUID, list[ItemEvent]] = {item.id: [] for item in items}
    if items:
        rows = await CustodyEvent.filter(item_id__in=list(events)).order_by("item_id", "item_seq")
        for r in rows:
            kind = EventKind(r.kind)
            events[r.item_id].append(
                ItemEvent(
                    kind=kind,
                    occurred_at=r.occurred_at,
                    place=r.place,
                    summary=provenance.summary_of(kind, r.place, r.details),
                )
            )
    return [MemberItem(item=staff_item_of(info, i), events=events[i.id]) for i in items]
