"""What the member centre reads about a signed-in member, in few statements.

The member row is one statement; the points and carbon balances, the points expiring
soon, the uses of countable rights, the last check-in and the badges are one more (a
UNION ALL of the parts the request asks for). Their SQL text is written once per
dialect and shape (which parts, how many right codes and period starts) and kept.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.fields import DateField, DatetimeField

from member_api.members.models import Member

_DATE = DateField()
_DATETIME = DatetimeField()


def _date(value: object) -> date:
    """A DATE column's value: a date from PostgreSQL, ISO text from SQLite."""
    found = _DATE.to_python_value(value)
    assert found is not None
    return found


def _datetime(value: object) -> datetime:
    found = _DATETIME.to_python_value(value)
    assert found is not None
    return found


class Part(Enum):
    """A part of the centre the second statement can read."""

    LEDGER = "ledger"  # both balances and the points expiring soon
    RIGHTS = "rights"  # uses of countable rights in their current periods
    CHECK_IN = "check_in"  # the last check-in up to today
    BADGES = "badges"


@dataclass(slots=True)
class Balance:
    total: int = 0  # spendable today, less the debt
    debt: int = 0


@dataclass(slots=True)
class Extras:
    """What the second statement found; only the parts asked for are filled in."""

    balances: dict[str, Balance] = field(default_factory=dict)
    expiring: dict[str, list[tuple[date, int]]] = field(default_factory=dict)
    right_uses: dict[tuple[str, date], int] = field(default_factory=dict)
    last_check_in: tuple[date, int] | None = None
    badges: list[tuple[str, datetime]] = field(default_factory=list)


def _connection() -> BaseDBAsyncClient:
    connection: BaseDBAsyncClient = connections.get("default")
    return connection


def _dialect(connection: BaseDBAsyncClient) -> str:
    return str(connection.capabilities.dialect)


class _Statement:
    """SQL written with `{name}` markers, turned into the dialect's placeholders once.
    Values always travel as parameters; only markers and column names are spliced in."""

    def __init__(self, template: str, dialect: str) -> None:
        self.names: list[str] = []
        if dialect == "postgres":
            numbers: dict[str, int] = {}

            def mark(name: str) -> str:
                if name not in numbers:
                    numbers[name] = len(numbers) + 1
                    self.names.append(name)
                return f"${numbers[name]}"
        else:

            def mark(name: str) -> str:
                self.names.append(name)
                return "?"

        self.sql = _fill(template, mark)
        self.postgres = dialect == "postgres"

    def values(self, params: dict[str, Any]) -> list[Any]:
        if self.postgres:
            return [params[name] for name in self.names]
        return [_sqlite_value(params[name]) for name in self.names]


def _fill(template: str, mark: Any) -> str:
    out: list[str] = []
    rest = template
    while (start := rest.find("{")) >= 0:
        end = rest.index("}", start)
        out.append(rest[:start])
        out.append(mark(rest[start + 1 : end]))
        rest = rest[end + 1 :]
    out.append(rest)
    return "".join(out)


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


_statements: dict[tuple[object, ...], _Statement] = {}


def _statement(shape: tuple[object, ...], dialect: str, build: Callable[[], str]) -> _Statement:
    found = _statements.get((dialect, *shape))
    if found is None:
        found = _statements[(dialect, *shape)] = _Statement(build(), dialect)
    return found


def _member_sql() -> str:
    # Every column, named as the ORM names them (known once the ORM is initialised).
    columns = ", ".join(f'"{column}"' for column in sorted(Member._meta.db_fields))
    return f'SELECT {columns} FROM "member" WHERE "id" = {{member}}'  # noqa: S608


async def read_member(member_id: uuid.UUID) -> Member | None:
    """The member row, read by one prepared statement."""
    connection = _connection()
    statement = _statement(("member",), _dialect(connection), _member_sql)
    _, rows = await connection.execute_query(statement.sql, statement.values({"member": member_id}))
    if not rows:
        return None
    return Member._init_from_db(**dict(rows[0]))


# Every branch of the UNION ALL gives the same columns: kind, label (text), day (date),
# amount (bigint), at (timestamp), ord (bigint). Typed NULLs, as PostgreSQL wants.
_TEXT = "CAST(NULL AS TEXT)"
_DAY = "CAST(NULL AS DATE)"
_AMOUNT = "CAST(NULL AS BIGINT)"
_AT = "CAST(NULL AS TIMESTAMPTZ)"


def _ledger_sql() -> str:
    # Per currency: the debt, and the lots' remainders from today on, apart by date for
    # those expiring up to the horizon and together for the others.
    soon = 'l."expires_on" IS NOT NULL AND l."expires_on" <= {horizon}'
    return (
        f'SELECT \'L\', a."currency", CASE WHEN {soon} THEN l."expires_on" END, '  # noqa: S608
        f'CAST(SUM(l."remaining") AS BIGINT), {_AT}, a."debt" '
        'FROM "ledger_account" a LEFT JOIN "ledger_lot" l '
        'ON l."account_id" = a."id" AND l."remaining" > 0 '
        'AND (l."expires_on" IS NULL OR l."expires_on" >= {today}) '
        'WHERE a."member_id" = {member} GROUP BY 2, 3, 6'
    )


def _rights_sql(codes: int, starts: int) -> str:
    code_marks = ", ".join(f"{{code{n}}}" for n in range(codes))
    start_marks = ", ".join(f"{{start{n}}}" for n in range(starts))
    return (
        f'SELECT \'R\', "right_code", "period_start", {_AMOUNT}, {_AT}, {_AMOUNT} '  # noqa: S608
        f'FROM "right_usage" WHERE "member_id" = {{member}} '
        f'AND "right_code" IN ({code_marks}) AND "period_start" IN ({start_marks})'
    )


_CHECK_IN_SQL = (
    f'SELECT \'C\', {_TEXT}, c."day", CAST(c."streak" AS BIGINT), {_AT}, {_AMOUNT} '  # noqa: S608
    'FROM (SELECT "day", "streak" FROM "check_in" '
    'WHERE "member_id" = {member} AND "day" <= {today} ORDER BY "day" DESC LIMIT 1) AS c'
)
_BADGES_SQL = (
    f'SELECT \'B\', "code", {_DAY}, {_AMOUNT}, "earned_at", "id" '  # noqa: S608
    'FROM "badge" WHERE "member_id" = {member}'
)


async def read_extras(
    member_id: uuid.UUID,
    parts: Iterable[Part],
    *,
    today: date,
    horizon: date,
    right_codes: Sequence[str] = (),
    period_starts: Sequence[date] = (),
) -> Extras:
    """The `parts` of the member's centre as of `today` (points expiring up to `horizon`;
    uses of `right_codes` in the periods starting on `period_starts`), one statement."""
    wanted = frozenset(parts)
    if not right_codes or not period_starts:
        wanted = wanted - {Part.RIGHTS}
    extras = Extras()
    if not wanted:
        return extras
    params: dict[str, Any] = {"member": member_id, "today": today, "horizon": horizon}
    for n, code in enumerate(right_codes):
        params[f"code{n}"] = code
    for n, start in enumerate(period_starts):
        params[f"start{n}"] = start
    order = tuple(p for p in Part if p in wanted)
    counts = (len(right_codes), len(period_starts)) if Part.RIGHTS in wanted else (0, 0)

    def branch(part: Part) -> str:
        if part is Part.LEDGER:
            return _ledger_sql()
        if part is Part.RIGHTS:
            return _rights_sql(*counts)
        return _CHECK_IN_SQL if part is Part.CHECK_IN else _BADGES_SQL

    def build() -> str:
        return " UNION ALL ".join(branch(p) for p in order)

    connection = _connection()
    statement = _statement(("centre", order, counts), _dialect(connection), build)
    _, rows = await connection.execute_query(statement.sql, statement.values(params))
    _collect(extras, rows, today)
    return extras


def _collect(extras: Extras, rows: Sequence[Any], today: date) -> None:
    badges: list[tuple[int, str, datetime]] = []
    for row in rows:
        kind, label, day, amount, at, order = tuple(row)
        if kind == "L":
            balance = extras.balances.get(label)
            if balance is None:
                balance = extras.balances[label] = Balance(debt=int(order or 0))
                balance.total -= balance.debt
            expires_on = _date(day) if day is not None else None
            points = int(amount or 0)
            if expires_on is None or expires_on > today:
                balance.total += points
            if expires_on is not None and points > 0:
                extras.expiring.setdefault(label, []).append((expires_on, points))
        elif kind == "R":
            key = (str(label), _date(day))
            extras.right_uses[key] = extras.right_uses.get(key, 0) + 1
        elif kind == "C":
            extras.last_check_in = (_date(day), int(amount))
        elif kind == "B":
            badges.append((int(order), str(label), _datetime(at)))
    for items in extras.expiring.values():
        items.sort()
    badges.sort(key=lambda b: (b[2], b[0]))
    extras.badges = [(code, earned_at) for _, code, earned_at in badges]
