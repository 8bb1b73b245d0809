"""Provenance in GraphQL: the public scan, the owner's items and transfers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import segno
import strawberry

from member_api.graphql.context import GqlInfo
from member_api.graphql.errors import AnyError
from member_api.graphql.results import outcome
from member_api.members.models import Member as MemberRow
from member_api.provenance import service
from member_api.provenance.domain import EventKind as EventKindValue
from member_api.provenance.models import Item as ItemRow

EventKind = EventKindValue
strawberry.enum(EventKind, name="CustodyEventKind")


@strawberry.type
class AuthenticationRecord:
    verdict: str = strawberry.field(description="GENUINE or COUNTERFEIT.")
    authenticated_at: datetime
    report_digest: str = strawberry.field(description="sha256 of the authentication report.")


@strawberry.type
class ProvenanceEvent:
    kind: EventKind
    occurred_at: datetime
    summary: str
    leaf_index: int = strawberry.field(description="Its position in the transparency log.")
    inclusion_proof: list[str] = strawberry.field(
        description="Base64 hashes proving the event is in the tree of the checkpoint."
    )


@strawberry.type(description="What anyone who scans an item's code may see.")
class ProvenanceRecord:
    public_id: str
    url: str
    brand: str
    model: str
    category: str
    photos: list[str]
    status: str
    authentic: bool | None = strawberry.field(description="Null before any authentication.")
    clone_warning: bool = strawberry.field(
        description="The code was scanned in ways one tag cannot be: it may be copied."
    )
    authentication: AuthenticationRecord | None
    events: list[ProvenanceEvent]
    ownership_changes: int
    tree_size: int
    checkpoint: str | None = strawberry.field(
        description="The log's latest checkpoint, a C2SP signed note."
    )
    verifier_key: str = strawberry.field(
        description="The log's public key, as a note verifier key."
    )


def record_of(record: service.PublicRecord) -> ProvenanceRecord:
    return ProvenanceRecord(
        public_id=record.public_id,
        url=record.url,
        brand=record.brand,
        model=record.model,
        category=record.category,
        photos=record.photos,
        status=record.status,
        authentic=record.authentic,
        clone_warning=record.clone_warning,
        authentication=(
            AuthenticationRecord(
                verdict=record.verdict or "",
                authenticated_at=record.authenticated_at,
                report_digest=record.report_digest or "",
            )
            if record.authenticated_at
            else None
        ),
        events=[
            ProvenanceEvent(
                kind=EventKind(e.kind),
                occurred_at=e.occurred_at,
                summary=e.summary,
                leaf_index=e.leaf_index,
                inclusion_proof=e.proof,
            )
            for e in record.events
        ],
        ownership_changes=len(record.ownership_changes),
        tree_size=record.tree_size,
        checkpoint=record.checkpoint,
        verifier_key=record.verifier_key,
    )


@strawberry.type(description="An item the signed-in member owns.")
class OwnedItem:
    row: strawberry.Private[ItemRow]
    public_id: str
    brand: str
    model: str
    category: str
    status: str
    url: str

    @strawberry.field(description="The QR code of the item's public page, as SVG.")
    def qr_code_svg(self, info: GqlInfo) -> str:
        return qr_svg(self.url)

    @strawberry.field(description="GS1 Digital Link URI, where GTIN and serial are known.")
    def digital_link(self, info: GqlInfo) -> str | None:
        services = info.context.services
        return service.digital_link(self.row, service.serial_of(services, self.row))


def qr_svg(url: str) -> str:
    return str(segno.make(url, error="m").svg_inline(scale=4, omitsize=True))


def owned_of(info: GqlInfo, row: ItemRow) -> OwnedItem:
    return OwnedItem(
        row=row,
        public_id=row.public_id,
        brand=row.brand,
        model=row.model,
        category=row.category,
        status=row.status,
        url=service.public_url(info.context.services, row.public_id),
    )


async def items_of(info: GqlInfo, member: MemberRow) -> list[OwnedItem]:
    rows = await ItemRow.filter(owner_id=member.id).order_by("created_at", "id")
    return [owned_of(info, r) for r in rows]


@strawberry.type
class ProvenanceQuery:
    @strawberry.field(
        description="Look up a scanned code (the public id or the URL in the QR code). "
        "Null when no item has that code. `city`, if the client knows it, helps spot "
        "copied tags; nothing about the person scanning is kept."
    )
    async def provenance(
        self, info: GqlInfo, code: str, city: str | None = None
    ) -> ProvenanceRecord | None:
        record = await service.scan(
            info.context.services, code=code, city=city, address=info.context.client_address
        )
        return record_of(record) if record else None


@strawberry.input
class CreateTransferCodeInput:
    item_public_id: str


@strawberry.input
class ClaimTransferInput:
    code: str


@strawberry.type
class TransferCode:
    code: str = strawberry.field(description="Give it to the buyer; it works once.")
    expires_at: datetime


TransferCodeResult = Annotated[TransferCode | AnyError, strawberry.union("TransferCodeResult")]
ClaimResult = Annotated[OwnedItem | AnyError, strawberry.union("ClaimTransferResult")]


@strawberry.type
class ProvenanceMutation:
    @strawberry.mutation(description="Start handing an item on: a code valid for 24 hours.")
    async def create_transfer_code(
        self, info: GqlInfo, input: CreateTransferCodeInput
    ) -> TransferCodeResult:
        async def work() -> tuple[str, datetime]:
            member_id = await info.context.record_member_action()
            return await service.create_transfer_code(
                info.context.services, member_id=member_id, item_public_id=input.item_public_id
            )

        return await outcome(work(), lambda done: TransferCode(code=done[0], expires_at=done[1]))

    @strawberry.mutation(description="Take ownership of an item with the seller's code.")
    async def claim_transfer(self, info: GqlInfo, input: ClaimTransferInput) -> ClaimResult:
        async def work() -> ItemRow:
            member_id = await info.context.record_member_action()
            return await service.claim_transfer(
                info.context.services, member_id=member_id, code=input.code
            )

        return await outcome(work(), lambda row: owned_of(info, row))
