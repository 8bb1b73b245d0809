"""AML: large single orders and large monthly totals are flagged for due diligence, and
staff take each flag through its disposition."""

from __future__ import annotations

import uuid
from datetime import date

from tortoise.functions import Sum
from tortoise.transactions import in_transaction

from member_api.commerce.models import MemberOrder
from member_api.compliance import domain
from member_api.compliance.domain import AmlState
from member_api.compliance.models import AmlFlag, AmlFlagNote
from member_api.db import create_once
from member_api.error_codes import ComplianceErrorCode
from member_api.errors import Conflict, NotFound
from member_api.services import Services
from member_api.staff.models import StaffUser


async def _flag(
    services: Services, member_id: object, kind: str, reference: str, amount: int
) -> None:
    if await AmlFlag.filter(member_id=member_id, kind=kind, reference=reference).exists():
        return
    await create_once(
        AmlFlag,
        member_id=member_id,
        kind=kind,
        reference=reference,
        amount_fen=amount,
        raised_at=services.clock.now(),
    )


async def check_paid_order(services: Services, order: MemberOrder) -> None:
    """Call inside the transaction that recorded the order."""
    settings = services.settings
    if order.paid_fen > settings.aml_single_order_above_fen:
        await _flag(services, order.member_id, "SINGLE_ORDER", order.order_id, order.paid_fen)
    month_start = date(order.paid_on.year, order.paid_on.month, 1)
    next_month = date(month_start.year + month_start.month // 12, month_start.month % 12 + 1, 1)
    rows = (
        await MemberOrder.filter(
            member_id=order.member_id, paid_on__gte=month_start, paid_on__lt=next_month
        )
        .annotate(total=Sum("paid_fen"))
        .first()
        .values("total")
    )
    total = int((rows or {}).get("total") or 0)
    if total > settings.aml_monthly_total_above_fen:
        await _flag(
            services, order.member_id, "MONTHLY_TOTAL", month_start.strftime("%Y-%m"), total
        )


async def change_flag_state(
    services: Services, *, flag_id: int, state: AmlState, note: str, staff_id: uuid.UUID
) -> AmlFlag:
    """Move a flag along OPEN -> REVIEWING -> CLEARED or REPORTED, with a note naming the
    staff member. The flag row is locked and the state changed only from the one read, so
    two staff members racing move it once."""
    note = domain.clean_note(note)
    staff = await StaffUser.get_or_none(id=staff_id)
    async with in_transaction():
        flag = await AmlFlag.select_for_update().get_or_none(id=flag_id)
        if flag is None:
            raise NotFound(ComplianceErrorCode.UNKNOWN_FLAG, "No AML flag has that id.")
        current = AmlState(flag.state)
        domain.check_transition(current, state)
        moved = await AmlFlag.filter(id=flag.id, state=current.value).update(state=state.value)
        if not moved:
            raise Conflict(
                ComplianceErrorCode.ILLEGAL_TRANSITION, "The flag changed meanwhile; look again."
            )
        await AmlFlagNote.create(
            flag_id=flag.id,
            staff_id=staff_id,
            staff_username=staff.username if staff else "",
            from_state=current.value,
            to_state=state.value,
            note=note,
            at=services.clock.now(),
        )
    flag.state = state.value
    return flag
