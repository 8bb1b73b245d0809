"""Property-based tests of the real ledger (SQLite): random sequences of earn, spend,
expire, refund and cancel keep every invariant."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tortoise import Tortoise

from member_api import db
from member_api.business_calendar import business_date
from member_api.errors import Conflict
from member_api.members.models import Member
from member_api.points import ledger
from member_api.points.domain import Reason
from member_api.points.models import LedgerAccount, LedgerAllocation, LedgerEntry, LedgerLot

START = datetime(2026, 1, 5, 4, 0, tzinfo=UTC)
SOURCES = ["order:a", "order:b", "order:c"]


@pytest.fixture(scope="module")
def ledger_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite://{Path(tmp_path_factory.mktemp('ledger')) / 'ledger.sqlite3'}"
    asyncio.run(db.migrate(url))
    return url


@dataclass(frozen=True)
class Earn:
    amount: int
    expires_in_days: int | None
    source: str


@dataclass(frozen=True)
class Spend:
    amount: int


@dataclass(frozen=True)
class Expire:
    days_later: int


@dataclass(frozen=True)
class Refund:
    amount: int
    source: str


@dataclass(frozen=True)
class Cancel:
    pass


operations = st.one_of(
    st.builds(
        Earn,
        st.integers(1, 500),
        st.one_of(st.none(), st.integers(1, 900)),
        st.sampled_from(SOURCES),
    ),
    st.builds(Spend, st.integers(1, 700)),
    st.builds(Expire, st.integers(0, 400)),
    st.builds(Refund, st.integers(1, 400), st.sampled_from(SOURCES)),
    st.builds(Cancel),
)


async def _state(member_id: uuid.UUID) -> tuple[int, int, int, list[LedgerLot]]:
    account = await LedgerAccount.get(member_id=member_id, currency=ledger.POINTS)
    rows = await LedgerEntry.filter(account_id=account.id).values_list("delta", flat=True)
    total = sum(int(d) for d in rows)
    lots = await LedgerLot.filter(account_id=account.id)
    return total, sum(lot.remaining for lot in lots), account.debt, lots


def _check_soonest_first(before: list[LedgerLot], taken: dict[int, int], today: date) -> None:
    usable = [
        lot
        for lot in before
        if lot.remaining > 0 and (lot.expires_on is None or lot.expires_on > today)
    ]
    # Written out here rather than taken from the code under test: soonest expiry first,
    # lots that never expire last, then the oldest.
    ordered = sorted(
        usable,
        key=lambda lot: (
            lot.expires_on is None,
            lot.expires_on or date.max,
            lot.earned_at,
            lot.id,
        ),
    )
    seen_partial = False
    for lot in ordered:
        took = taken.get(lot.id, 0)
        assert not (seen_partial and took), "a later lot was used before an earlier one ran out"
        if took < lot.remaining:
            seen_partial = True
    assert set(taken) <= {lot.id for lot in usable}, "an expired lot was spent"


async def _scenario(url: str, ops: list[object]) -> None:
    await db.init_orm(url)
    try:
        now = START
        member = await Member.create(
            display_name="p", referral_code=uuid.uuid4().hex[:12], joined_at=now, updated_at=now
        )
        await ledger.lock_account(member.id)
        debits: list[LedgerEntry] = []
        for n, op in enumerate(ops):
            ref = f"op-{n}"
            debt_before = (await _state(member.id))[2]
            if isinstance(op, Earn):
                expires = (
                    business_date(now) + timedelta(days=op.expires_in_days)
                    if op.expires_in_days
                    else None
                )
                await ledger.credit(
                    member.id,
                    op.amount,
                    Reason.SPEND,
                    reference=ref,
                    at=now,
                    expires_on=expires,
                    source=op.source,
                )
            elif isinstance(op, Spend):
                _, _, _, before = await _state(member.id)
                try:
                    moved = await ledger.debit(
                        member.id, op.amount, Reason.REDEMPTION, reference=ref, at=now
                    )
                except Conflict as exc:
                    assert exc.code == "INSUFFICIENT_POINTS"  # noqa: PT017
                else:
                    assert moved.entry is not None
                    debits.append(moved.entry)
                    allocations = await LedgerAllocation.filter(entry_id=moved.entry.id)
                    taken = {a.lot_id: a.points for a in allocations}
                    assert sum(taken.values()) == op.amount
                    _check_soonest_first(before, taken, business_date(now))
            elif isinstance(op, Expire):
                now += timedelta(days=op.days_later)
                await ledger.expire_lots(business_date(now), at=now)
                assert await ledger.expire_lots(business_date(now), at=now) == 0  # idempotent
            elif isinstance(op, Refund):
                await ledger.reverse(
                    member.id, op.amount, reference=ref, own_source=op.source, at=now
                )
            elif isinstance(op, Cancel) and debits:
                await ledger.restore(
                    member.id, debits.pop(), reason=Reason.CANCELLATION, reference=ref, at=now
                )
            total, remainders, debt, lots = await _state(member.id)
            assert total == remainders - debt, "sum of entries != lot remainders - debt"
            assert all(0 <= lot.remaining <= lot.amount for lot in lots)
            assert debt >= 0
            if not isinstance(op, Refund):
                assert debt <= debt_before, "only a refund creates debt"
            today = business_date(now)
            lapsed = sum(
                lot.remaining for lot in lots if lot.expires_on and lot.expires_on <= today
            )
            balance, shown_debt = await ledger.balance(member.id, as_of=today)
            assert (balance, shown_debt) == (total - lapsed, debt)
    finally:
        await Tortoise.close_connections()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(operations, min_size=1, max_size=25))
def test_ledger_invariants_hold_for_any_sequence(ledger_db: str, ops: list[object]) -> None:
    asyncio.run(_scenario(ledger_db, ops))


def test_replayed_credit_moves_nothing(ledger_db: str) -> None:
    asyncio.run(_scenario(ledger_db, [Earn(100, None, "order:a"), Spend(30)]))

    async def replay() -> None:
        await db.init_orm(ledger_db)
        try:
            now = START
            member = await Member.create(
                display_name="r",
                referral_code=uuid.uuid4().hex[:12],
                joined_at=now,
                updated_at=now,
            )
            for _ in range(3):
                await ledger.credit(
                    member.id, 100, Reason.SPEND, reference="evt-1", at=now, expires_on=None
                )
            assert await ledger.balance(member.id) == (100, 0)
        finally:
            await Tortoise.close_connections()

    asyncio.run(replay())
