"""Data-subject rights: consents, data exports, account deletion and its cancellation."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from member_api.auth.revocation import end_member_sessions
from member_api.error_codes import PrivacyErrorCode, RequestErrorCode
from member_api.errors import Conflict, NotAuthenticated, NotFound
from member_api.members.models import Member
from member_api.privacy import domain
from member_api.privacy.domain import ConsentState, DeletionStatus, ExportStatus, Purpose
from member_api.privacy.models import AccountDeletion, ConsentRecord, DataExport
from member_api.services import Services

# An export still pending after this long was lost on the way; another may be asked for.
STALE_EXPORT_SECONDS = 3600


async def _member(member_id: uuid.UUID) -> Member:
    member = await Member.get_or_none(id=member_id, erased_at__isnull=True)
    if member is None:
        raise NotAuthenticated(RequestErrorCode.UNAUTHENTICATED, "This account no longer exists.")
    return member


# --- consents ---


async def consents_of(services: Services, member_id: uuid.UUID) -> list[ConsentState]:
    rows = (
        await ConsentRecord.filter(member_id=member_id)
        .order_by("id")
        .values_list("purpose", "granted", "policy_version", "changed_at")
    )
    latest = {purpose: (purpose, granted, version, at) for purpose, granted, version, at in rows}
    return domain.consent_states(latest.values(), services.settings.privacy_policy_version)


async def has_consent(services: Services, member_id: uuid.UUID, purpose: Purpose) -> bool:
    """For marketing and personalisation steps: granted under the policy in force."""
    states = await consents_of(services, member_id)
    return any(s.purpose is purpose and s.granted for s in states)


async def set_consent(
    services: Services,
    *,
    member_id: uuid.UUID,
    purpose: Purpose,
    granted: bool,
    policy_version: str | None,
) -> ConsentState:
    """Grant or withdraw a purpose: a new row each time, the history kept."""
    version = domain.check_policy_version(policy_version, services.settings.privacy_policy_version)
    await _member(member_id)
    row = await ConsentRecord.create(
        member_id=member_id,
        purpose=purpose.value,
        granted=granted,
        policy_version=version,
        changed_at=services.clock.now(),
    )
    return ConsentState(purpose, granted, version, row.changed_at)


# --- data exports ---


async def request_data_export(services: Services, *, member_id: uuid.UUID) -> DataExport:
    """Queue the building of an export; one at a time per member."""
    await _member(member_id)
    now = services.clock.now()
    # A request whose task never ran (the broker lost it) does not block the next one.
    recent = now - timedelta(seconds=STALE_EXPORT_SECONDS)
    pending = DataExport.filter(
        member_id=member_id, status=ExportStatus.PENDING, requested_at__gt=recent
    )
    if await pending.exists():
        raise Conflict(
            PrivacyErrorCode.EXPORT_IN_PROGRESS,
            "An export is being prepared already; it shows in dataExports when ready.",
        )
    export = await DataExport.create(
        member_id=member_id, status=ExportStatus.PENDING, requested_at=now
    )
    from member_api.background.tasks import build_data_export

    await build_data_export.kiq(str(export.id))
    return export


async def exports_of(member_id: uuid.UUID) -> list[DataExport]:
    return await DataExport.filter(member_id=member_id).order_by("-requested_at", "-id")


def sign(services: Services, message: str) -> str:
    return services.protector.blind_index(message, context=domain.LINK_CONTEXT)


def download_url(services: Services, export: DataExport) -> str | None:
    """The signed link while the export can be fetched, else None."""
    now = services.clock.now()
    status = domain.export_status(export.status, export.expires_at, now)
    if status is not ExportStatus.READY or export.expires_at is None:
        return None
    return domain.download_url(
        services.settings.public_base_url,
        str(export.id),
        export.expires_at,
        lambda message: sign(services, message),
    )


async def take_export(services: Services, *, export_id: str, expires: str, signature: str) -> bytes:
    """The export's file, once: a forged, expired or used link is refused."""
    if not domain.link_is_authentic(export_id, expires, signature, lambda m: sign(services, m)):
        raise NotAuthenticated(
            PrivacyErrorCode.EXPORT_LINK_INVALID, "This download link is not valid."
        )
    try:
        key = uuid.UUID(export_id)
    except ValueError as exc:
        raise NotFound(PrivacyErrorCode.UNKNOWN_EXPORT, "No such export.") from exc
    export = await DataExport.get_or_none(id=key)
    if export is None:
        raise NotFound(PrivacyErrorCode.UNKNOWN_EXPORT, "No such export.")
    now = services.clock.now()
    if (
        int(expires) <= int(now.timestamp())
        or domain.export_status(export.status, export.expires_at, now) is ExportStatus.EXPIRED
    ):
        await _expire(export.id)
        raise Conflict(PrivacyErrorCode.EXPORT_LINK_EXPIRED, "This download link has expired.")
    if export.status != ExportStatus.READY:
        if export.status == ExportStatus.DOWNLOADED:
            raise Conflict(
                PrivacyErrorCode.EXPORT_ALREADY_DOWNLOADED,
                "This export was downloaded already; request a new one.",
            )
        raise Conflict(PrivacyErrorCode.EXPORT_NOT_READY, "This export is not ready.")
    content = export.content or ""
    # Conditional: of two downloads at once, one gets the file.
    taken = await DataExport.filter(id=export.id, status=ExportStatus.READY).update(
        status=ExportStatus.DOWNLOADED, downloaded_at=now, content=None
    )
    if not taken:
        raise Conflict(
            PrivacyErrorCode.EXPORT_ALREADY_DOWNLOADED,
            "This export was downloaded already; request a new one.",
        )
    return content.encode()


async def _expire(export_id: uuid.UUID) -> None:
    await DataExport.filter(id=export_id, status=ExportStatus.READY).update(
        status=ExportStatus.EXPIRED, content=None
    )


# --- account deletion ---


async def request_account_deletion(
    services: Services, *, member_id: uuid.UUID, reason: str
) -> AccountDeletion:
    """Close the account: sessions end now, sign-in is refused, and the personal data is
    erased after the cooling-off period unless the member cancels."""
    reason = domain.clean_reason(reason)
    now = services.clock.now()
    erases_at = now + timedelta(days=services.settings.account_erasure_days)
    async with in_transaction():
        member = await Member.select_for_update().get_or_none(id=member_id, erased_at__isnull=True)
        if member is None:
            raise NotAuthenticated(
                RequestErrorCode.UNAUTHENTICATED, "This account no longer exists."
            )
        if member.erasure_due_at is not None:
            raise Conflict(
                PrivacyErrorCode.DELETION_ALREADY_REQUESTED,
                f"The account is closed already; it is erased at {member.erasure_due_at}.",
            )
        await Member.filter(id=member_id).update(erasure_due_at=erases_at, updated_at=now)
        deletion = await AccountDeletion.create(
            member_id=member_id,
            status=DeletionStatus.PENDING,
            reason=reason,
            requested_at=now,
            erases_at=erases_at,
        )
    await end_member_sessions(
        services.cache,
        services.clock,
        member_id,
        access_ttl_seconds=services.settings.access_token_ttl_seconds,
    )
    return deletion


async def cancel_account_deletion(services: Services, *, member_id: uuid.UUID) -> AccountDeletion:
    """Keep the account: before the erasure, the member may take the request back."""
    now = services.clock.now()
    async with in_transaction():
        member = await Member.select_for_update().get_or_none(id=member_id, erased_at__isnull=True)
        if member is None:
            raise NotAuthenticated(
                RequestErrorCode.UNAUTHENTICATED, "This account no longer exists."
            )
        deletion = (
            await AccountDeletion.filter(member_id=member_id, status=DeletionStatus.PENDING)
            .order_by("-id")
            .first()
        )
        if member.erasure_due_at is None or deletion is None:
            raise Conflict(
                PrivacyErrorCode.NO_DELETION_REQUESTED, "This account is not being deleted."
            )
        await Member.filter(id=member_id).update(erasure_due_at=None, updated_at=now)
        deletion.status = DeletionStatus.CANCELLED
        deletion.cancelled_at = now
        await deletion.save(update_fields=["status", "cancelled_at"])
    return deletion


async def current_deletion(member_id: uuid.UUID) -> AccountDeletion | None:
    return await AccountDeletion.filter(member_id=member_id).order_by("-id").first()


def erases_at_of(deletion: AccountDeletion) -> datetime | None:
    return deletion.erases_at if deletion.status == DeletionStatus.PENDING else None
