"""The nightly member scores: every member of an id range scored as of a business date.

On PostgreSQL one INSERT ... SELECT per range computes R, F and M from the orders and
writes them (the bands are bind parameters); elsewhere (SQLite) the same range is
scored in Python with the same rules. A rerun writes the same rows and changes none.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from tortoise import connections

from member_api.business_calendar import trailing_window_start
from member_api.commerce.models import MemberOrder
from member_api.intelligence import domain, facts, service
from member_api.intelligence.domain import BAND_SCORES, LOWEST_SCORE, ScoreRules
from member_api.intelligence.facts import Params, on_postgres
from member_api.intelligence.models import MemberFact, MemberScore
from member_api.members.models import Member
from member_api.services import Services

LOWEST_ID = uuid.UUID(int=0)
HIGHEST_ID = uuid.UUID(int=(1 << 128) - 1)


def windows(as_of: date, rules: ScoreRules) -> tuple[date, date]:
    """First days of the frequency window and of the monetary window (both end on as_of)."""
    frequency_start = as_of - timedelta(days=rules.frequency_window_days - 1)
    return frequency_start, trailing_window_start(as_of, rules.monetary_window_months)


def _case(params: Params, test: str, bands: tuple[int, ...]) -> str:
    """CASE giving 5, 4, 3, 2 for the first band `test` (with {} for the bound) meets."""
    whens = " ".join(
        f"WHEN {test.format(params.add(bound, 'bigint'))} THEN {score}"
        for score, bound in zip(BAND_SCORES, bands, strict=True)
    )
    return f"CASE {whens} ELSE {LOWEST_SCORE} END"


def _condition_sql(params: Params, condition: domain.FactCondition) -> str:
    """The condition over the facts' columns (names from the fixed list, the bound
    compared with as a parameter)."""
    parts = domain.DERIVED_FACTS.get(condition.fact, (condition.fact,))
    assert all(part in domain.FACT_COLUMNS for part in parts)
    value = " + ".join(f"s.{part}" for part in parts)
    return f"({value}) {condition.op} {params.add(condition.value, 'bigint')}"


def upsert_statement(
    as_of: date,
    low: uuid.UUID,
    high: uuid.UUID,
    computed_at: Any,
    rules: ScoreRules,
    version: int = 0,
) -> tuple[str, list[Any]]:
    """The one statement that scores the members of [low, high) as of `as_of`."""
    params = Params()
    day = params.add(as_of, "date")
    low_p, high_p = params.add(low, "uuid"), params.add(high, "uuid")
    frequency_start, monetary_start = windows(as_of, rules)
    f_start = params.add(frequency_start, "date")
    m_start = params.add(monetary_start, "date")
    reference = params.add(rules.reference_order_fen, "bigint")
    recency = _case(
        params, "o.last_paid IS NOT NULL AND " + day + " - o.last_paid <= {}", rules.recency_days
    )
    frequency = _case(params, "coalesce(o.quarter_orders, 0) >= {}", rules.frequency_orders)
    monetary = _case(
        params,
        "coalesce(o.window_orders, 0) > 0 AND o.window_net >= {} * "
        + reference
        + " * o.window_orders",
        rules.monetary_multiples,
    )
    key_tag = params.add(domain.ScoreTag.KEY_RETENTION.value, "text")
    min_r = params.add(rules.key_retention_min_r, "int")
    min_f = params.add(rules.key_retention_min_f, "int")
    min_m = params.add(rules.key_retention_min_m, "int")
    computed = params.add(computed_at, "timestamptz")
    rules_version = params.add(version, "int")
    tags = [f"CASE WHEN s.r >= {min_r} AND s.f >= {min_f} AND s.m >= {min_m} THEN {key_tag} END"]
    for persona in rules.personas:
        tests = " AND ".join(_condition_sql(params, condition) for condition in persona.conditions)
        code = params.add(persona.code, "text")
        tags.append(f"CASE WHEN s.has_facts AND {tests} THEN {code} END")
    fact_columns = ", ".join(f"fa.{name}" for name in domain.FACT_COLUMNS)
    # Only $n placeholders and fixed names are put into the text; every value is a bind
    # parameter. The tags are a JSON array in the order the rules list them.
    sql = f"""
INSERT INTO member_score (member_id, day, r, f, m, tags, rules_version, computed_at)
SELECT s.id, {day}, s.r, s.f, s.m,
       to_jsonb(array_remove(ARRAY[{", ".join(tags)}]::text[], NULL))::text,
       {rules_version}, {computed}
FROM (
  SELECT m.id, {recency} AS r, {frequency} AS f, {monetary} AS m,
         fa.member_id IS NOT NULL AS has_facts, {fact_columns}
  FROM member m
  LEFT JOIN (
    SELECT member_id,
           max(paid_on) AS last_paid,
           count(*) FILTER (WHERE paid_on >= {f_start}) AS quarter_orders,
           count(*) FILTER (WHERE paid_on >= {m_start}) AS window_orders,
           sum(paid_fen - refunded_fen) FILTER (WHERE paid_on >= {m_start}) AS window_net
    FROM member_order
    WHERE member_id >= {low_p} AND member_id < {high_p}
      AND refunded_fen < paid_fen AND paid_on <= {day}
    GROUP BY member_id
  ) o ON o.member_id = m.id
  LEFT JOIN member_fact fa ON fa.member_id = m.id AND fa.as_of = {day}
  WHERE m.id >= {low_p} AND m.id < {high_p} AND m.erased_at IS NULL
) s
ON CONFLICT (member_id, day) DO UPDATE
SET r = EXCLUDED.r, f = EXCLUDED.f, m = EXCLUDED.m, tags = EXCLUDED.tags,
    rules_version = EXCLUDED.rules_version, computed_at = EXCLUDED.computed_at
WHERE (member_score.r, member_score.f, member_score.m, member_score.tags,
       member_score.rules_version)
      IS DISTINCT FROM (EXCLUDED.r, EXCLUDED.f, EXCLUDED.m, EXCLUDED.tags, EXCLUDED.rules_version)
"""  # noqa: S608
    return sql, params.values


async def stored_facts(
    as_of: date, low: uuid.UUID, high: uuid.UUID
) -> dict[uuid.UUID, domain.Facts]:
    """The facts kept for the members of [low, high), those as of `as_of` only."""
    rows = await MemberFact.filter(member_id__gte=low, member_id__lt=high, as_of=as_of)
    return {
        row.member_id: domain.Facts(**{name: getattr(row, name) for name in domain.FACT_COLUMNS})
        for row in rows
    }


async def compute_in_python(
    as_of: date,
    low: uuid.UUID,
    high: uuid.UUID,
    rules: ScoreRules,
    known: dict[uuid.UUID, domain.Facts] | None = None,
) -> dict[uuid.UUID, domain.Scores]:
    """The scores of the members of [low, high) as of `as_of`, computed row by row; the
    persona tags from `known` facts, or from those kept for that date."""
    facts = known if known is not None else await stored_facts(as_of, low, high)
    frequency_start, monetary_start = windows(as_of, rules)
    members: list[uuid.UUID] = list(
        await Member.filter(id__gte=low, id__lt=high, erased_at__isnull=True).values_list(
            "id", flat=True
        )  # type: ignore[arg-type]
    )
    orders = await MemberOrder.filter(
        member_id__gte=low, member_id__lt=high, paid_on__lte=as_of
    ).values_list("member_id", "paid_on", "paid_fen", "refunded_fen")
    last: dict[uuid.UUID, date] = {}
    quarter: Counter[uuid.UUID] = Counter()
    window: Counter[uuid.UUID] = Counter()
    net: Counter[uuid.UUID] = Counter()
    for member_id, paid_on, paid, refunded in orders:
        if refunded >= paid:
            continue
        last[member_id] = max(last.get(member_id, paid_on), paid_on)
        if paid_on >= frequency_start:
            quarter[member_id] += 1
        if paid_on >= monetary_start:
            window[member_id] += 1
            net[member_id] += paid - refunded
    result = {}
    for member_id in members:
        days = (as_of - last[member_id]).days if member_id in last else None
        result[member_id] = domain.scores_of(
            days, quarter[member_id], net[member_id], window[member_id], rules, facts.get(member_id)
        )
    return result


async def score_range(
    services: Services,
    as_of: date,
    low: uuid.UUID,
    high: uuid.UUID,
    rules: ScoreRules | None = None,
    version: int = 0,
) -> None:
    """Write the scores of the members of [low, high) as of `as_of` (idempotent), under
    `rules` (version `version`; by default the rules file's)."""
    rules = rules or services.settings.score_rules
    now = services.clock.now()
    if on_postgres():
        sql, params = upsert_statement(as_of, low, high, now, rules, version)
        await connections.get("default").execute_query(sql, params)
        return
    computed = await compute_in_python(as_of, low, high, rules)
    existing = {
        row.member_id: row
        for row in await MemberScore.filter(day=as_of, member_id__gte=low, member_id__lt=high)
    }
    for member_id, scores in computed.items():
        values: dict[str, Any] = {
            "r": scores.r,
            "f": scores.f,
            "m": scores.m,
            "tags": json.dumps(list(scores.tags)),
            "rules_version": version,
        }
        row = existing.get(member_id)
        if row is None:
            await MemberScore.create(member_id=member_id, day=as_of, computed_at=now, **values)
        elif any(getattr(row, name) != value for name, value in values.items()):
            await MemberScore.filter(id=row.id).update(computed_at=now, **values)


async def scored_count(as_of: date, low: uuid.UUID, high: uuid.UUID) -> tuple[int, int]:
    """Members of [low, high) scored as of `as_of`, and how many of them are tagged."""
    rows = MemberScore.filter(day=as_of, member_id__gte=low, member_id__lt=high)
    tagged = await rows.filter(tags__not="[]").count()
    return await rows.count(), tagged


async def member_scores(services: Services, as_of: date, dry_run: bool) -> tuple[str, list[str]]:
    """The nightly facts and scores as of `as_of`; a dry run counts what it would score
    and tag, writing nothing."""
    version, rules = await service.rules_in_force(services)
    if dry_run:
        known, _ = await facts.compute_in_python(as_of, LOWEST_ID, HIGHEST_ID, rules)
        computed = await compute_in_python(as_of, LOWEST_ID, HIGHEST_ID, rules, known)
        key = sum(1 for scores in computed.values() if domain.ScoreTag.KEY_RETENTION in scores.tags)
        return (
            f"member scores as of {as_of}: {len(computed)} member(s) would be scored, "
            f"{key} tagged key retention, {_persona_counts(computed.values())}",
            [],
        )
    await facts.refresh_range(as_of, LOWEST_ID, HIGHEST_ID, services.clock.now(), rules)
    await score_range(services, as_of, LOWEST_ID, HIGHEST_ID, rules, version)
    rows = await MemberScore.filter(day=as_of).values_list("tags", flat=True)
    kept = [domain.Scores(0, 0, 0, tuple(json.loads(str(tags)))) for tags in rows]
    key = sum(1 for scores in kept if domain.ScoreTag.KEY_RETENTION in scores.tags)
    return (
        f"member scores as of {as_of}: {len(kept)} scored, {key} tagged key retention, "
        f"{_persona_counts(kept)}",
        [],
    )


def _persona_counts(computed: Iterable[domain.Scores]) -> str:
    counts = Counter(tag for scores in computed for tag in scores.tags)
    counts.pop(domain.ScoreTag.KEY_RETENTION.value, None)
    if not counts:
        return "no persona tags"
    return "personas: " + ", ".join(f"{tag} {n}" for tag, n in sorted(counts.items()))
