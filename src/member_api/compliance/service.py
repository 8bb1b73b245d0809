"""AML: large single orders and large monthly totals are flagged for due diligence."""

from __future__ import annotations

from datetime import date

from tortoise.functions import Sum

from member_api.commerce.models import MemberOrder
from member_api.compliance.models import AmlFlag
from member_api.db import create_once
from member_api.services import Services


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
