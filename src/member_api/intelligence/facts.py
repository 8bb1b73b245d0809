"""Member facts and brand/category affinity, as of a business date, for an id range.

On PostgreSQL one statement per table computes the facts of every member of the range
from orders, visits, posts, comments, likes, groups and the shop's favourites and views
(set-based; no per-member loop); elsewhere (SQLite) the same range is computed in
Python with the same windows, and a test holds the two to the same answers.

The nightly job writes every member's facts; a member's own events (an order, a refund,
a favourite, a day of views, the first visit of a day) rewrite theirs in the event's
transaction, through the same code over a range of one member. Facts as of an earlier
date never replace later ones.
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from tortoise import connections
from tortoise.transactions import in_transaction

from member_api.business_calendar import start_of_business_day
from member_api.commerce.models import ItemInteraction, MemberOrder, OrderLine
from member_api.community.models import Comment, GroupMembership, Post, PostLike
from member_api.intelligence.domain import FACT_COLUMNS, Facts, ScoreRules
from member_api.intelligence.models import MemberAffinity, MemberFact
from member_api.members.models import ActivityDay, Member

# Trailing windows, in business days ending on the date the facts are as of.
SHORT_DAYS = 30
QUARTER_DAYS = 90
YEAR_DAYS = 365
BRAND, CATEGORY = "BRAND", "CATEGORY"


@dataclass(frozen=True)
class Windows:
    """First days of the trailing windows ending on `as_of` (each inclusive)."""

    as_of: date
    short: date = field(init=False)
    quarter: date = field(init=False)
    previous_quarter: date = field(init=False)
    year: date = field(init=False)

    def __post_init__(self) -> None:
        day = self.as_of
        object.__setattr__(self, "short", day - timedelta(days=SHORT_DAYS - 1))
        object.__setattr__(self, "quarter", day - timedelta(days=QUARTER_DAYS - 1))
        object.__setattr__(self, "previous_quarter", day - timedelta(days=2 * QUARTER_DAYS - 1))
        object.__setattr__(self, "year", day - timedelta(days=YEAR_DAYS - 1))

    @property
    def quarter_from(self) -> datetime:
        return start_of_business_day(self.quarter)

    @property
    def until(self) -> datetime:
        """The end (exclusive) of the as-of day."""
        return start_of_business_day(self.as_of + timedelta(days=1))


def decay(age_days: int, half_life_days: int) -> float:
    return math.pow(0.5, age_days / half_life_days)


def one_member(member_id: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
    """The id range [member_id, next id) holding exactly that member."""
    return member_id, uuid.UUID(int=member_id.int + 1)


def on_postgres() -> bool:
    return bool(connections.get("default").capabilities.dialect == "postgres")


class Params:
    """Bind parameters of one statement, numbered $1, $2, ... in order of use."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def add(self, value: Any, cast: str) -> str:
        self.values.append(value)
        return f"${len(self.values)}::{cast}"


def facts_statement(
    as_of: date, low: uuid.UUID, high: uuid.UUID, computed_at: datetime
) -> tuple[str, list[Any]]:
    """The statement that writes the facts of the members of [low, high) as of `as_of`."""
    w = Windows(as_of)
    p = Params()
    day, lo, hi = p.add(as_of, "date"), p.add(low, "uuid"), p.add(high, "uuid")
    d30, d90, p90, d365 = (
        p.add(w.short, "date"),
        p.add(w.quarter, "date"),
        p.add(w.previous_quarter, "date"),
        p.add(w.year, "date"),
    )
    t90, until = p.add(w.quarter_from, "timestamptz"), p.add(w.until, "timestamptz")
    computed = p.add(computed_at, "timestamptz")
    columns = ", ".join(FACT_COLUMNS)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in (*FACT_COLUMNS, "as_of", "computed_at"))
    changed = ", ".join(f"member_fact.{c}" for c in FACT_COLUMNS)
    new = ", ".join(f"EXCLUDED.{c}" for c in FACT_COLUMNS)
    # Only $n placeholders and fixed names are put into the text.
    sql = f"""
INSERT INTO member_fact (member_id, as_of, {columns}, computed_at)
SELECT m.id, {day}, o.last_paid, a.last_active,
       coalesce(o.o30, 0), coalesce(o.o90, 0), coalesce(o.p90, 0), coalesce(o.o365, 0),
       coalesce(o.s30, 0), coalesce(o.s90, 0), coalesce(o.s365, 0),
       CASE WHEN coalesce(o.o365, 0) > 0 THEN div(o.s365, o.o365) ELSE 0 END,
       coalesce(a.a30, 0), coalesce(a.a90, 0), coalesce(a.p90, 0),
       coalesce(po.n, 0), coalesce(co.n, 0), coalesce(li.n, 0), coalesce(gr.n, 0),
       coalesce(it.fav90, 0), coalesce(it.view30, 0), coalesce(it.view90, 0),
       {computed}
FROM member m
LEFT JOIN (
  SELECT member_id, max(paid_on) AS last_paid,
         count(*) FILTER (WHERE paid_on >= {d30}) AS o30,
         count(*) FILTER (WHERE paid_on >= {d90}) AS o90,
         count(*) FILTER (WHERE paid_on >= {p90} AND paid_on < {d90}) AS p90,
         count(*) FILTER (WHERE paid_on >= {d365}) AS o365,
         sum(paid_fen - refunded_fen) FILTER (WHERE paid_on >= {d30}) AS s30,
         sum(paid_fen - refunded_fen) FILTER (WHERE paid_on >= {d90}) AS s90,
         sum(paid_fen - refunded_fen) FILTER (WHERE paid_on >= {d365}) AS s365
  FROM member_order
  WHERE member_id >= {lo} AND member_id < {hi} AND refunded_fen < paid_fen
    AND paid_on <= {day}
  GROUP BY member_id
) o ON o.member_id = m.id
LEFT JOIN (
  SELECT member_id, max(day) AS last_active,
         count(*) FILTER (WHERE day >= {d30}) AS a30,
         count(*) FILTER (WHERE day >= {d90}) AS a90,
         count(*) FILTER (WHERE day >= {p90} AND day < {d90}) AS p90
  FROM member_activity_day
  WHERE member_id >= {lo} AND member_id < {hi} AND day <= {day}
  GROUP BY member_id
) a ON a.member_id = m.id
LEFT JOIN (
  SELECT author_id, count(*) AS n FROM post
  WHERE author_id >= {lo} AND author_id < {hi} AND state = 'VISIBLE'
    AND created_on >= {d90} AND created_on <= {day}
  GROUP BY author_id
) po ON po.author_id = m.id
LEFT JOIN (
  SELECT author_id, count(*) AS n FROM comment
  WHERE author_id >= {lo} AND author_id < {hi} AND state = 'VISIBLE'
    AND created_at >= {t90} AND created_at < {until}
  GROUP BY author_id
) co ON co.author_id = m.id
LEFT JOIN (
  SELECT member_id, count(*) AS n FROM post_like
  WHERE member_id >= {lo} AND member_id < {hi}
    AND created_at >= {t90} AND created_at < {until}
  GROUP BY member_id
) li ON li.member_id = m.id
LEFT JOIN (
  SELECT member_id, count(*) AS n FROM group_membership
  WHERE member_id >= {lo} AND member_id < {hi} AND joined_at < {until}
  GROUP BY member_id
) gr ON gr.member_id = m.id
LEFT JOIN (
  SELECT member_id,
         sum(count) FILTER (WHERE kind = 'FAVOURITE' AND day >= {d90}) AS fav90,
         sum(count) FILTER (WHERE kind = 'VIEW' AND day >= {d30}) AS view30,
         sum(count) FILTER (WHERE kind = 'VIEW' AND day >= {d90}) AS view90
  FROM item_interaction
  WHERE member_id >= {lo} AND member_id < {hi} AND day >= {d90} AND day <= {day}
  GROUP BY member_id
) it ON it.member_id = m.id
WHERE m.id >= {lo} AND m.id < {hi} AND m.erased_at IS NULL
ON CONFLICT (member_id) DO UPDATE SET {updates}
WHERE member_fact.as_of <= EXCLUDED.as_of
  AND (member_fact.as_of <> EXCLUDED.as_of OR ({changed}) IS DISTINCT FROM ({new}))
"""  # noqa: S608
    return sql, p.values


def affinity_statements(
    as_of: date, low: uuid.UUID, high: uuid.UUID, half_life_days: int
) -> list[tuple[str, list[Any]]]:
    """The statements that rewrite the affinities of the members of [low, high)."""
    p = Params()
    day, lo, hi = p.add(as_of, "date"), p.add(low, "uuid"), p.add(high, "uuid")
    half = p.add(half_life_days, "float8")
    insert = f"""
WITH lines AS (
  SELECT o.member_id, l.brand, l.category,
         l.amount_fen * power(0.5, ({day} - o.paid_on) / {half}) AS w
  FROM order_line l JOIN member_order o ON o.id = l.order_id
  WHERE o.member_id >= {lo} AND o.member_id < {hi} AND o.refunded_fen < o.paid_fen
    AND o.paid_on <= {day}
), favourites AS (
  SELECT member_id, brand, category, count * power(0.5, ({day} - day) / {half}) AS w
  FROM item_interaction
  WHERE member_id >= {lo} AND member_id < {hi} AND kind = 'FAVOURITE' AND day <= {day}
), weights AS (
  SELECT member_id, '{BRAND}' AS dimension, brand AS value, w AS spend, 0 AS fav FROM lines
  UNION ALL SELECT member_id, '{CATEGORY}', category, w, 0 FROM lines
  UNION ALL SELECT member_id, '{BRAND}', brand, 0, w FROM favourites
  UNION ALL SELECT member_id, '{CATEGORY}', category, 0, w FROM favourites
), sums AS (
  SELECT member_id, dimension, value, sum(spend) AS spend, sum(fav) AS fav
  FROM weights GROUP BY member_id, dimension, value
)
INSERT INTO member_affinity (member_id, dimension, value, spend_share, favourite_share)
SELECT s.member_id, s.dimension, s.value,
       coalesce(s.spend / nullif(sum(s.spend) OVER per, 0), 0),
       coalesce(s.fav / nullif(sum(s.fav) OVER per, 0), 0)
FROM sums s JOIN member m ON m.id = s.member_id AND m.erased_at IS NULL
WHERE NOT EXISTS (
  SELECT 1 FROM member_fact f WHERE f.member_id = s.member_id AND f.as_of > {day}
)
WINDOW per AS (PARTITION BY s.member_id, s.dimension)
"""  # noqa: S608
    # Members whose facts are of a later date keep the affinities of that date.
    delete = """
DELETE FROM member_affinity a
WHERE a.member_id >= $1::uuid AND a.member_id < $2::uuid AND NOT EXISTS (
  SELECT 1 FROM member_fact f WHERE f.member_id = a.member_id AND f.as_of > $3::date
)"""
    return [(delete, [low, high, as_of]), (insert, p.values)]


# --- the same, row by row (SQLite) ---


async def compute_in_python(
    as_of: date, low: uuid.UUID, high: uuid.UUID, rules: ScoreRules
) -> tuple[dict[uuid.UUID, Facts], dict[tuple[uuid.UUID, str, str], tuple[float, float]]]:
    """The facts and affinities (spend share, favourite share) of the members of the
    range, computed from rows."""
    w = Windows(as_of)
    in_range: dict[str, Any] = {"member_id__gte": low, "member_id__lt": high}
    members = await Member.filter(id__gte=low, id__lt=high, erased_at__isnull=True).values_list(
        "id", flat=True
    )
    facts: dict[uuid.UUID, Facts] = {m: Facts() for m in members}  # type: ignore[misc]

    def of(member_id: uuid.UUID) -> Facts | None:
        return facts.get(member_id)

    orders = await MemberOrder.filter(**in_range, paid_on__lte=as_of).values_list(
        "id", "member_id", "paid_on", "paid_fen", "refunded_fen"
    )
    kept: dict[int, tuple[uuid.UUID, date]] = {}
    for order_id, member_id, paid_on, paid, refunded in orders:
        row = of(member_id)
        if row is None or refunded >= paid:
            continue
        kept[order_id] = (member_id, paid_on)
        net = paid - refunded
        row.last_purchase_on = max(row.last_purchase_on or paid_on, paid_on)
        if paid_on >= w.short:
            row.orders_30d += 1
            row.spend_30d_fen += net
        if paid_on >= w.quarter:
            row.orders_90d += 1
            row.spend_90d_fen += net
        elif paid_on >= w.previous_quarter:
            row.orders_prev_90d += 1
        if paid_on >= w.year:
            row.orders_365d += 1
            row.spend_365d_fen += net
    for row in facts.values():
        if row.orders_365d:
            row.average_order_365d_fen = row.spend_365d_fen // row.orders_365d
    for member_id, day in await ActivityDay.filter(**in_range, day__lte=as_of).values_list(
        "member_id", "day"
    ):
        if (row := of(member_id)) is not None:
            row.last_active_on = max(row.last_active_on or day, day)
            row.active_days_30d += day >= w.short
            row.active_days_90d += day >= w.quarter
            row.active_days_prev_90d += w.previous_quarter <= day < w.quarter
    for (author_id,) in await Post.filter(
        author_id__gte=low,
        author_id__lt=high,
        state="VISIBLE",
        created_on__gte=w.quarter,
        created_on__lte=as_of,
    ).values_list("author_id"):
        if (row := of(author_id)) is not None:
            row.posts_90d += 1
    for (author_id,) in await Comment.filter(
        author_id__gte=low,
        author_id__lt=high,
        state="VISIBLE",
        created_at__gte=w.quarter_from,
        created_at__lt=w.until,
    ).values_list("author_id"):
        if (row := of(author_id)) is not None:
            row.comments_90d += 1
    for (member_id,) in await PostLike.filter(
        **in_range, created_at__gte=w.quarter_from, created_at__lt=w.until
    ).values_list("member_id"):
        if (row := of(member_id)) is not None:
            row.likes_90d += 1
    for (member_id,) in await GroupMembership.filter(**in_range, joined_at__lt=w.until).values_list(
        "member_id"
    ):
        if (row := of(member_id)) is not None:
            row.groups += 1
    interactions = await ItemInteraction.filter(**in_range, day__lte=as_of).values_list(
        "member_id", "kind", "brand", "category", "count", "day"
    )
    spend: dict[tuple[uuid.UUID, str, str], float] = defaultdict(float)
    favoured: dict[tuple[uuid.UUID, str, str], float] = defaultdict(float)
    half = rules.affinity_half_life_days
    for member_id, kind, brand, category, count, day in interactions:
        if (row := of(member_id)) is None:
            continue
        if kind == "FAVOURITE":
            weight = count * decay((as_of - day).days, half)
            favoured[(member_id, BRAND, brand)] += weight
            favoured[(member_id, CATEGORY, category)] += weight
            row.favourites_90d += count if day >= w.quarter else 0
        elif kind == "VIEW":
            row.views_30d += count if day >= w.short else 0
            row.views_90d += count if day >= w.quarter else 0
    lines = await OrderLine.filter(order_id__in=list(kept)).values_list(
        "order_id", "brand", "category", "amount_fen"
    )
    for order_id, brand, category, amount in lines:
        member_id, paid_on = kept[order_id]
        weight = amount * decay((as_of - paid_on).days, half)
        spend[(member_id, BRAND, brand)] += weight
        spend[(member_id, CATEGORY, category)] += weight
    return facts, _shares(spend, favoured)


def _shares(
    spend: dict[tuple[uuid.UUID, str, str], float],
    favoured: dict[tuple[uuid.UUID, str, str], float],
) -> dict[tuple[uuid.UUID, str, str], tuple[float, float]]:
    totals_spend: dict[tuple[uuid.UUID, str], float] = defaultdict(float)
    totals_favoured: dict[tuple[uuid.UUID, str], float] = defaultdict(float)
    for (member_id, dimension, _), weight in spend.items():
        totals_spend[(member_id, dimension)] += weight
    for (member_id, dimension, _), weight in favoured.items():
        totals_favoured[(member_id, dimension)] += weight
    shares = {}
    for key in spend.keys() | favoured.keys():
        member_id, dimension, _ = key
        whole_spend = totals_spend.get((member_id, dimension), 0.0)
        whole_favoured = totals_favoured.get((member_id, dimension), 0.0)
        shares[key] = (
            spend.get(key, 0.0) / whole_spend if whole_spend else 0.0,
            favoured.get(key, 0.0) / whole_favoured if whole_favoured else 0.0,
        )
    return shares


async def _write_in_python(
    as_of: date, low: uuid.UUID, high: uuid.UUID, computed_at: datetime, rules: ScoreRules
) -> None:
    facts, shares = await compute_in_python(as_of, low, high, rules)
    rows = await MemberFact.filter(member_id__gte=low, member_id__lt=high)
    existing = {row.member_id: row for row in rows}
    for member_id, computed in facts.items():
        values = {name: getattr(computed, name) for name in FACT_COLUMNS}
        row = existing.get(member_id)
        if row is None:
            await MemberFact.create(
                member_id=member_id, as_of=as_of, computed_at=computed_at, **values
            )
        elif row.as_of <= as_of and (
            row.as_of != as_of or any(getattr(row, k) != v for k, v in values.items())
        ):
            await MemberFact.filter(id=row.id).update(
                as_of=as_of, computed_at=computed_at, **values
            )
    later = {m for m, row in existing.items() if row.as_of > as_of}
    await MemberAffinity.filter(
        member_id__gte=low, member_id__lt=high, member_id__not_in=list(later)
    ).delete()
    await MemberAffinity.bulk_create(
        [
            MemberAffinity(
                member_id=member_id,
                dimension=dimension,
                value=value,
                spend_share=spend_share,
                favourite_share=favourite_share,
            )
            for (member_id, dimension, value), (spend_share, favourite_share) in shares.items()
            if member_id not in later
        ]
    )


async def refresh_range(
    as_of: date, low: uuid.UUID, high: uuid.UUID, computed_at: datetime, rules: ScoreRules
) -> None:
    """Write the facts and affinities of the members of [low, high) as of `as_of`, in
    one transaction (joining the caller's, if any)."""
    async with in_transaction() as connection:
        if not on_postgres():
            await _write_in_python(as_of, low, high, computed_at, rules)
            return
        sql, values = facts_statement(as_of, low, high, computed_at)
        await connection.execute_query(sql, values)
        for statement, arguments in affinity_statements(
            as_of, low, high, rules.affinity_half_life_days
        ):
            await connection.execute_query(statement, arguments)


async def refresh_member(
    member_id: uuid.UUID, as_of: date, computed_at: datetime, rules: ScoreRules
) -> None:
    """Rewrite one member's facts after an event of theirs (in the event's transaction)."""
    low, high = one_member(member_id)
    await refresh_range(as_of, low, high, computed_at, rules)
