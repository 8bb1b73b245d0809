"""Moving points: every change locks the account row and writes entries, lots, allocations.

Invariant, per account: sum of entries = sum of lot remainders - debt.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from tortoise import connections
from tortoise.expressions import F, Q
from tortoise.functions import Sum
from tortoise.transactions import in_transaction

from member_api import freshness
from member_api.business_calendar import business_date
from member_api.error_codes import PointsErrorCode
from member_api.errors import Conflict
from member_api.points import domain
from member_api.points.domain import Reason
from member_api.points.models import LedgerAccount, LedgerAllocation, LedgerEntry, LedgerLot

POINTS = "POINTS"
CARBON = "CARBON"


async def lock_account(member_id: uuid.UUID, currency: str = POINTS) -> LedgerAccount:
    """The member's account, created on first use, locked for the transaction."""
    await freshness.touch(freshness.member(member_id))
    account = await LedgerAccount.select_for_update(no_key=True).get_or_none(
        member_id=member_id, currency=currency
    )
    if account is not None:
        return account
    await LedgerAccount.bulk_create(
        [LedgerAccount(member_id=member_id, currency=currency)], ignore_conflicts=True
    )
    return await LedgerAccount.select_for_update(no_key=True).get(
        member_id=member_id, currency=currency
    )


async def _already(account: LedgerAccount, reason: Reason, reference: str | None) -> bool:
    if reference is None:
        return False
    return await LedgerEntry.filter(
        account_id=account.id, reason=reason, reference=reference
    ).exists()


@dataclass(frozen=True)
class Movement:
    entry: LedgerEntry | None  # None: this reference had moved the balance already
    debt: int = 0


async def credit(
    member_id: uuid.UUID,
    amount: int,
    reason: Reason,
    *,
    reference: str | None,
    at: datetime,
    expires_on: date | None,
    currency: str = POINTS,
    source: str | None = None,
    note: str = "",
    staff_id: uuid.UUID | None = None,
) -> Movement:
    """Add `amount` as a new lot, after paying any debt. Once per (reason, reference)."""
    if amount <= 0:
        return Movement(None)
    async with in_transaction():
        account = await lock_account(member_id, currency)
        if await _already(account, reason, reference):
            return Movement(None)
        entry = await LedgerEntry.create(
            account_id=account.id,
            delta=amount,
            reason=reason,
            reference=reference,
            occurred_at=at,
            expires_on=expires_on,
            note=note,
            staff_id=staff_id,
        )
        repaid, left = domain.split_credit(amount, account.debt)
        if repaid:
            await LedgerAccount.filter(id=account.id).update(debt=F("debt") - repaid)
        await LedgerLot.create(
            account_id=account.id,
            amount=amount,
            remaining=left,
            earned_at=at,
            expires_on=expires_on,
            source=source,
        )
    return Movement(entry)


async def _lots(account: LedgerAccount, today: date) -> list[domain.Lot]:
    """Lots that still hold points and have not reached their expiry date."""
    rows = await LedgerLot.filter(
        Q(expires_on__isnull=True) | Q(expires_on__gt=today),
        account_id=account.id,
        remaining__gt=0,
    )
    return [domain.Lot(r.id, r.remaining, r.expires_on, r.earned_at, r.source) for r in rows]


async def _take(entry: LedgerEntry, takes: list[tuple[int, int]]) -> None:
    for lot_id, points in takes:
        # The CHECK constraint stops a lot below zero even if this filter were wrong.
        taken = await LedgerLot.filter(id=lot_id, remaining__gte=points).update(
            remaining=F("remaining") - points
        )
        if not taken:
            raise Conflict(PointsErrorCode.LEDGER_CONFLICT, "The balance changed; try again.")
        await LedgerAllocation.create(entry_id=entry.id, lot_id=lot_id, points=points)


async def debit(
    member_id: uuid.UUID,
    amount: int,
    reason: Reason,
    *,
    reference: str | None,
    at: datetime,
    currency: str = POINTS,
    note: str = "",
    staff_id: uuid.UUID | None = None,
) -> Movement:
    """Spend `amount` from the soonest-expiring lots; refused when the balance is short."""
    async with in_transaction():
        account = await lock_account(member_id, currency)
        if await _already(account, reason, reference):
            return Movement(None)
        lots = await _lots(account, business_date(at))
        if sum(lot.remaining for lot in lots) - account.debt < amount:
            # Points restored while a refund's debt is open are not spendable past it.
            raise Conflict(
                PointsErrorCode.INSUFFICIENT_POINTS,
                f"This needs {amount} points; the balance is "
                f"{sum(lot.remaining for lot in lots) - account.debt}.",
            )
        takes = domain.plan_spend(lots, amount)
        entry = await LedgerEntry.create(
            account_id=account.id,
            delta=-amount,
            reason=reason,
            reference=reference,
            occurred_at=at,
            note=note,
            staff_id=staff_id,
        )
        await _take(entry, takes)
    return Movement(entry)


async def reverse(
    member_id: uuid.UUID,
    amount: int,
    *,
    reference: str,
    own_source: str,
    at: datetime,
    reason: Reason = Reason.REFUND_REVERSAL,
) -> Movement:
    """Take back points a refund undoes: the lots of `own_source` first; the rest becomes
    debt. Once per (reason, reference)."""
    if amount <= 0:
        return Movement(None)
    async with in_transaction():
        account = await lock_account(member_id)
        if await _already(account, reason, reference):
            return Movement(None)
        lots = await _lots(account, business_date(at))
        takes, debt = domain.plan_reversal(lots, amount, own_source)
        entry = await LedgerEntry.create(
            account_id=account.id,
            delta=-amount,
            reason=reason,
            reference=reference,
            occurred_at=at,
        )
        await _take(entry, takes)
        if debt:
            await LedgerAccount.filter(id=account.id).update(debt=F("debt") + debt)
    return Movement(entry, debt)


async def restore(
    member_id: uuid.UUID,
    debit_entry: LedgerEntry,
    *,
    reason: Reason,
    reference: str,
    at: datetime,
    currency: str = POINTS,
) -> Movement:
    """Give a debit back to the very lots it took from, which keep their expiry dates."""
    async with in_transaction():
        account = await lock_account(member_id, currency)
        if await _already(account, reason, reference):
            return Movement(None)
        allocations = await LedgerAllocation.filter(entry_id=debit_entry.id)
        total = sum(a.points for a in allocations)
        entry = await LedgerEntry.create(
            account_id=account.id, delta=total, reason=reason, reference=reference, occurred_at=at
        )
        for allocation in allocations:
            await LedgerLot.filter(id=allocation.lot_id).update(
                remaining=F("remaining") + allocation.points
            )
    return Movement(entry)


async def expiring_lots(as_of: date) -> list[tuple[uuid.UUID, str, int]]:
    """(member, currency, amount) that `expire_lots(as_of)` would take, by account."""
    rows = await LedgerLot.filter(expires_on__lte=as_of, remaining__gt=0).values_list(
        "account__member_id", "account__currency", "remaining"
    )
    totals: dict[tuple[uuid.UUID, str], int] = {}
    for member_id, currency, remaining in rows:
        key = (uuid.UUID(str(member_id)), str(currency))
        totals[key] = totals.get(key, 0) + int(remaining)
    return [(m, c, amount) for (m, c), amount in sorted(totals.items(), key=lambda kv: str(kv[0]))]


async def expire_lots(
    as_of: date,
    *,
    at: datetime,
    low: uuid.UUID | None = None,
    high: uuid.UUID | None = None,
    counted: Callable[[int], Awaitable[object]] | None = None,
) -> int:
    """Expire every lot whose expiry date has come (`expires_on` on or before `as_of`): one
    entry per lot, so running it again finds nothing left to expire. `low` and `high`
    limit it to the members with ids in [low, high); `counted(n)` is awaited in the
    transaction that expired n lots (to keep a count that commits with them)."""
    expired = 0
    due = LedgerLot.filter(expires_on__lte=as_of, remaining__gt=0)
    if low is not None:
        due = due.filter(account__member_id__gte=low)
    if high is not None:
        due = due.filter(account__member_id__lt=high)
    lots = await due.order_by("account_id", "id").values_list(
        "id", "account_id", "account__member_id", "account__currency"
    )
    if connections.get("default").capabilities.dialect == "postgres":
        for start in range(0, len(lots), EXPIRY_BATCH):
            batch = lots[start : start + EXPIRY_BATCH]
            pairs = [(lot, account) for lot, account, _, _ in batch]
            expired += await _expire_batch(pairs, as_of, at, counted)
        return expired
    for lot_id, _, member_id, currency in lots:
        async with in_transaction():
            account = await lock_account(member_id, currency)
            lot = await LedgerLot.get(id=lot_id)
            if lot.remaining <= 0:
                continue
            entry = await LedgerEntry.create(
                account_id=account.id,
                delta=-lot.remaining,
                reason=Reason.EXPIRY,
                reference=_expiry_reference(lot.id),
                occurred_at=at,
            )
            await _take(entry, [(lot.id, lot.remaining)])
            if counted is not None:
                await counted(1)
            expired += 1
    return expired


# Lots expired per transaction on PostgreSQL.
EXPIRY_BATCH = 500


def _expiry_reference(lot_id: int) -> str:
    # A cancellation may refill an expired lot: each expiry is its own entry.
    return f"lot:{lot_id}:{uuid.uuid4().hex}"


async def _expire_batch(
    lots: list[tuple[int, int]],
    as_of: date,
    at: datetime,
    counted: Callable[[int], Awaitable[object]] | None,
) -> int:
    """Expire these (lot, account) pairs in one transaction: the accounts locked first (in
    id order), then the lots, as every points movement takes them; each lot's remainder
    is read again under the locks."""
    accounts = sorted({account for _, account in lots})
    async with in_transaction() as connection:
        await connection.execute_query(
            "SELECT id FROM ledger_account WHERE id = ANY($1::bigint[]) "
            "ORDER BY id FOR NO KEY UPDATE",
            [accounts],
        )
        rows = await connection.execute_query_dict(
            "SELECT id, account_id, remaining FROM ledger_lot "
            "WHERE id = ANY($1::bigint[]) AND remaining > 0 AND expires_on <= $2 "
            "ORDER BY id FOR UPDATE",
            [[lot for lot, _ in lots], as_of],
        )
        if not rows:
            return 0
        references = [_expiry_reference(row["id"]) for row in rows]
        entries = await connection.execute_query_dict(
            "INSERT INTO ledger_entry (account_id, delta, reason, reference, occurred_at, note) "
            "SELECT a, -r, $4, ref, $5, '' "
            "FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS v(a, r, ref) "
            "RETURNING id, reference",
            [
                [row["account_id"] for row in rows],
                [row["remaining"] for row in rows],
                references,
                Reason.EXPIRY.value,
                at,
            ],
        )
        entry_of = {entry["reference"]: entry["id"] for entry in entries}
        await connection.execute_query(
            "INSERT INTO ledger_allocation (entry_id, lot_id, points) "
            "SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[])",
            [
                [entry_of[reference] for reference in references],
                [row["id"] for row in rows],
                [row["remaining"] for row in rows],
            ],
        )
        await connection.execute_query(
            "UPDATE ledger_lot SET remaining = 0 WHERE id = ANY($1::bigint[])",
            [[row["id"] for row in rows]],
        )
        if counted is not None:
            await counted(len(rows))
    return len(rows)


async def entries_total(member_id: uuid.UUID, reason: Reason, references: Sequence[str]) -> int:
    """The sum of the member's points entries of `reason` with one of `references`."""
    if not references:
        return 0
    row = (
        await LedgerEntry.filter(
            account__member_id=member_id,
            account__currency=POINTS,
            reason=reason,
            reference__in=list(references),
        )
        .annotate(total=Sum("delta"))
        .first()
        .values("total")
    )
    return int((row or {}).get("total") or 0)


async def balance(
    member_id: uuid.UUID, currency: str = POINTS, *, as_of: date | None = None
) -> tuple[int, int]:
    """(balance, debt): the lots' remainders less the debt; with `as_of`, only lots not
    yet expired on that date count (what the member can spend)."""
    account = await LedgerAccount.get_or_none(member_id=member_id, currency=currency)
    if account is None:
        return 0, 0
    lots = LedgerLot.filter(account_id=account.id)
    if as_of is not None:
        lots = lots.filter(Q(expires_on__isnull=True) | Q(expires_on__gt=as_of))
    row = await lots.annotate(total=Sum("remaining")).first().values("total")
    return int((row or {}).get("total") or 0) - int(account.debt), int(account.debt)


async def balances(member_id: uuid.UUID, *, as_of: date) -> dict[str, int]:
    """Every balance of the member by currency, each as `balance(..., as_of=as_of)` gives
    it, in two queries; a currency without an account is left out (its balance is 0)."""
    accounts = await LedgerAccount.filter(member_id=member_id)
    if not accounts:
        return {}
    rows = (
        await LedgerLot.filter(account_id__in=[a.id for a in accounts])
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gt=as_of))
        .annotate(total=Sum("remaining"))
        .group_by("account_id")
        .values_list("account_id", "total")
    )
    totals = {int(account_id): int(total or 0) for account_id, total in rows}
    return {a.currency: totals.get(a.id, 0) - int(a.debt) for a in accounts}


async def expiring(member_id: uuid.UUID, start: date, end: date) -> list[tuple[date, int]]:
    """Points that expire between `start` and `end` (inclusive), by date."""
    rows = await LedgerLot.filter(
        account__member_id=member_id,
        account__currency=POINTS,
        remaining__gt=0,
        expires_on__gte=start,
        expires_on__lte=end,
    ).values_list("expires_on", "remaining")
    by_date: dict[date, int] = {}
    for expires_on, remaining in rows:
        by_date[expires_on] = by_date.get(expires_on, 0) + remaining
    return sorted(by_date.items())
