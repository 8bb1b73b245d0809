"""Provenance in the staff GraphQL: register items, record custody events, clone alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from member_api.error_codes import ProvenanceErrorCode
from member_api.graphql.context import GqlInfo
from member_api.graphql.errors import AnyError
from member_api.graphql.ids import parse_id
from member_api.graphql.results import outcome
from member_api.graphql.roles import Roles
from member_api.provenance import service
from member_api.provenance.domain import RECORDED_BY, REGISTERED_BY
from member_api.provenance.gql import EventKind, qr_svg
from member_api.provenance.models import Item as ItemRow
from member_api.staff.domain import StaffRole


@strawberry.type(description="An item as staff see it.")
class StaffItem:
    id: strawberry.ID
    public_id: str
    brand: str
    model: str
    category: str
    status: str
    url: str
    qr_code_svg: str
    digital_link: str | None


def staff_item_of(info: GqlInfo, row: ItemRow) -> StaffItem:
    services = info.context.services
    url = service.public_url(services, row.public_id)
    return StaffItem(
        id=strawberry.ID(str(row.id)),
        public_id=row.public_id,
        brand=row.brand,
        model=row.model,
        category=row.category,
        status=row.status,
        url=url,
        qr_code_svg=qr_svg(url),
        digital_link=service.digital_link(row, service.serial_of(services, row)),
    )


@strawberry.input
class RegisterItemInput:
    brand: str
    model: str
    category: str = strawberry.field(description=", ".join(service.CATEGORIES))
    photos: list[str] = strawberry.field(default_factory=list)
    gtin: str | None = None
    serial: str | None = strawberry.field(default=None, description="Kept private.")
    owner_id: strawberry.ID | None = None


@strawberry.input
class RecordCustodyEventInput:
    item_public_id: str
    kind: EventKind
    occurred_at: datetime
    place: str | None = None
    details: JSON = strawberry.field(
        default_factory=dict,
        description='AUTHENTICATION: {"verdict": "GENUINE"|"COUNTERFEIT", "reportDigest": '
        '"sha256:<hex>"}; others: {"note": "..."} (optional).',
    )
    new_owner_id: strawberry.ID | None = strawberry.field(
        default=None, description="SALE: the member who bought it, if a member."
    )


@strawberry.type
class CustodyEventRecorded:
    leaf_index: int
    tree_size: int


@strawberry.type
class CloneAlertType:
    item: StaffItem
    reasons: list[str]
    scans_in_7_days: int


StaffItemResult = Annotated[StaffItem | AnyError, strawberry.union("RegisterItemResult")]
EventResult = Annotated[
    CustodyEventRecorded | AnyError, strawberry.union("RecordCustodyEventResult")
]


@strawberry.type
class ProvenanceAdminQuery:
    @strawberry.field(
        description="Items whose scans look like a copied tag.",
        extensions=[Roles(StaffRole.OPERATOR)],
    )
    async def clone_alerts(self, info: GqlInfo) -> list[CloneAlertType]:
        alerts = await service.clone_alerts(info.context.services)
        return [
            CloneAlertType(
                item=staff_item_of(info, a.item), reasons=a.reasons, scans_in_7_days=a.scans
            )
            for a in alerts
        ]


@strawberry.type
class ProvenanceAdminMutation:
    @strawberry.mutation(
        description="Register an item and its tag.", extensions=[Roles(*REGISTERED_BY)]
    )
    async def register_item(self, info: GqlInfo, input: RegisterItemInput) -> StaffItemResult:
        async def work() -> ItemRow:
            return await service.register_item(
                info.context.services,
                brand=input.brand,
                model=input.model,
                category=input.category,
                photos=input.photos,
                gtin=input.gtin,
                serial=input.serial,
                owner_id=(
                    parse_id(input.owner_id, code=ProvenanceErrorCode.UNKNOWN_MEMBER, what="member")
                    if input.owner_id
                    else None
                ),
            )

        return await outcome(work(), lambda row: staff_item_of(info, row))

    @strawberry.mutation(
        description="Append a custody event to the log: authentication and maintenance by "
        "authenticators, the rest by operators. It can never be changed afterwards.",
        extensions=[Roles(*dict.fromkeys(RECORDED_BY.values()))],
    )
    async def record_custody_event(
        self, info: GqlInfo, input: RecordCustodyEventInput
    ) -> EventResult:
        async def work() -> Any:
            kind = EventKind(input.kind)
            staff_id = info.context.require_role(RECORDED_BY[kind])
            details = input.details if isinstance(input.details, dict) else {}
            return await service.record_event(
                info.context.services,
                staff_id=staff_id,
                item_public_id=input.item_public_id,
                kind=kind,
                occurred_at=input.occurred_at,
                place=input.place,
                details=details,
                new_owner_id=(
                    parse_id(
                        input.new_owner_id, code=ProvenanceErrorCode.UNKNOWN_MEMBER, what="member"
                    )
                    if input.new_owner_id
                    else None
                ),
            )

        return await outcome(
            work(),
            lambda e: CustodyEventRecorded(
                leaf_index=int(e.leaf_index), tree_size=int(e.leaf_index) + 1
            ),
        )
