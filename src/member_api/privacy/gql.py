"""Data-subject rights in the member GraphQL: consents, data exports, account deletion."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from member_api.graphql.context import GqlInfo
from member_api.graphql.errors import AnyError
from member_api.graphql.results import outcome
from member_api.privacy import domain, service
from member_api.privacy.models import AccountDeletion as AccountDeletionRow
from member_api.privacy.models import DataExport as DataExportRow
from member_api.services import Services

strawberry.enum(
    domain.Purpose,
    name="ConsentPurpose",
    description="What a consent is for: marketing messages, personalised recommendations, "
    "the member's name and avatar shown with their community posts.",
)
strawberry.enum(domain.ExportStatus, name="DataExportStatus")
strawberry.enum(domain.DeletionStatus, name="AccountDeletionStatus")


@strawberry.type(description="The member's decision on one purpose.")
class Consent:
    purpose: domain.Purpose
    granted: bool = strawberry.field(
        description="Granted under the privacy policy in force (a grant under an older "
        "version no longer counts: ask again)."
    )
    policy_version: str | None = strawberry.field(
        description="The policy version of the latest decision; null if never decided."
    )
    changed_at: datetime | None

    @classmethod
    def of(cls, state: domain.ConsentState) -> Consent:
        return cls(
            purpose=state.purpose,
            granted=state.granted,
            policy_version=state.policy_version,
            changed_at=state.changed_at,
        )


@strawberry.type(description="A file of everything the service holds about the member.")
class DataExport:
    id: strawberry.ID
    status: domain.ExportStatus
    requested_at: datetime
    ready_at: datetime | None
    download_url: str | None = strawberry.field(
        description="Works once, until `expiresAt`; null unless the export is READY."
    )
    expires_at: datetime | None

    @classmethod
    def of(cls, services: Services, row: DataExportRow) -> DataExport:
        return cls(
            id=strawberry.ID(str(row.id)),
            status=domain.export_status(row.status, row.expires_at, services.clock.now()),
            requested_at=row.requested_at,
            ready_at=row.ready_at,
            download_url=service.download_url(services, row),
            expires_at=row.expires_at,
        )


@strawberry.type(description="A request to delete the account.")
class AccountDeletion:
    status: domain.DeletionStatus
    requested_at: datetime
    erases_at: datetime | None = strawberry.field(
        description="When personal data is erased, while the request is PENDING."
    )

    @classmethod
    def of(cls, row: AccountDeletionRow) -> AccountDeletion:
        return cls(
            status=domain.DeletionStatus(row.status),
            requested_at=row.requested_at,
            erases_at=service.erases_at_of(row),
        )


@strawberry.input
class SetConsentInput:
    purpose: domain.Purpose
    granted: bool
    policy_version: str | None = strawberry.field(
        default=None,
        description="The policy version the member was shown; refused if not the one in force.",
    )


@strawberry.input
class RequestAccountDeletionInput:
    reason: str = strawberry.field(description="Why the member leaves (1-500 characters).")


SetConsentResult = Annotated[Consent | AnyError, strawberry.union("SetConsentResult")]
DataExportResult = Annotated[DataExport | AnyError, strawberry.union("DataExportResult")]
AccountDeletionResult = Annotated[
    AccountDeletion | AnyError, strawberry.union("AccountDeletionResult")
]


async def consents_of(info: GqlInfo, member_id: object) -> list[Consent]:
    states = await service.consents_of(info.context.services, member_id)  # type: ignore[arg-type]
    return [Consent.of(state) for state in states]


async def data_exports_of(info: GqlInfo, member_id: object) -> list[DataExport]:
    services = info.context.services
    rows = await service.exports_of(member_id)  # type: ignore[arg-type]
    return [DataExport.of(services, row) for row in rows]


@strawberry.type
class PrivacyMutation:
    @strawberry.mutation(description="Grant or withdraw consent to one purpose.")
    async def set_consent(self, info: GqlInfo, input: SetConsentInput) -> SetConsentResult:
        async def work() -> domain.ConsentState:
            member_id = await info.context.record_member_action()
            return await service.set_consent(
                info.context.services,
                member_id=member_id,
                purpose=domain.Purpose(input.purpose),
                granted=input.granted,
                policy_version=input.policy_version,
            )

        return await outcome(work(), Consent.of)

    @strawberry.mutation(
        description="Ask for a file of everything held about you; it shows in `me."
        "dataExports` with a download link when ready."
    )
    async def request_data_export(self, info: GqlInfo) -> DataExportResult:
        services = info.context.services

        async def work() -> DataExportRow:
            member_id = await info.context.record_member_action()
            return await service.request_data_export(services, member_id=member_id)

        return await outcome(work(), lambda row: DataExport.of(services, row))

    @strawberry.mutation(
        description="Close the account: sessions end now, sign-in is refused, and personal "
        "data is erased after the cooling-off period unless cancelled."
    )
    async def request_account_deletion(
        self, info: GqlInfo, input: RequestAccountDeletionInput
    ) -> AccountDeletionResult:
        async def work() -> AccountDeletionRow:
            member_id = info.context.require_subject()
            return await service.request_account_deletion(
                info.context.services, member_id=member_id, reason=input.reason
            )

        return await outcome(work(), AccountDeletion.of)

    @strawberry.mutation(
        description="Keep the account during the cooling-off period (with a session, or "
        "with the cancelToken sign-in gave)."
    )
    async def cancel_account_deletion(self, info: GqlInfo) -> AccountDeletionResult:
        async def work() -> AccountDeletionRow:
            member_id = info.context.deletion_cancel_subject()
            return await service.cancel_account_deletion(info.context.services, member_id=member_id)

        return await outcome(work(), AccountDeletion.of)
