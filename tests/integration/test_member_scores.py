"""The nightly member scores: exact R, F and M per member from their orders, one row
per member and day (a rerun changes nothing, an earlier day stays as it was), computed
by the chunked job on PostgreSQL (one statement per chunk) and on SQLite; shown on the
member 360 to care roles only."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
import pytest

from member_api.background import runs
from member_api.background.models import JobRun
from member_api.clock import BUSINESS_ZONE, FrozenClock
from member_api.commerce.models import MemberOrder
from member_api.intelligence.models import MemberScore
from member_api.intelligence.scores import HIGHEST_ID, LOWEST_ID, score_range
from member_api.jobs import JOBS
from member_api.members.models import Member
from member_api.services import Services
from tests.commerce_support import new_member
from tests.support import gql, sql_statements, staff_token

AS_OF = date(2026, 6, 30)
NEXT_DAY = AS_OF + timedelta(days=1)
REF = 400_000  # the default reference order value, in fen
ADMIN = "/admin/graphql"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 7, 2, 4, 0, tzinfo=UTC))


async def order(member_id: str, days_before: int, paid: int, refunded: int = 0) -> None:
    day = AS_OF - timedelta(days=days_before)
    await MemberOrder.create(
        order_id=f"o-{uuid.uuid4().hex[:12]}",
        member_id=member_id,
        paid_fen=paid,
        refunded_fen=refunded,
        paid_at=datetime.combine(day, time(12), tzinfo=BUSINESS_ZONE),
        paid_on=day,
    )


async def members_with_orders(client: httpx.AsyncClient) -> dict[str, str]:
    ids = {}
    for n, name in enumerate(("key", "steady", "none", "big_once", "lapsed", "tomorrow")):
        ids[name], _ = await new_member(client, f"1390000{n:04d}")
    # R5 (15 days), F3 (3 in 90 days), M2 (2x on average): key retention.
    for days in (15, 20, 40):
        await order(ids["key"], days, 2 * REF)
    # R4 (16 days), F4 (89 days is in the quarter, 90 is not), M3 (3x exactly).
    for days in (16, 30, 60, 89, 90):
        await order(ids["steady"], days, 3 * REF)
    # R3 (31 days), F1, M5 (5x); the order refunded in full yesterday does not count.
    await order(ids["big_once"], 31, 5 * REF)
    await order(ids["big_once"], 1, 50 * REF, refunded=50 * REF)
    # R2 (100 days); M over 12 months net of refunds: (1.0 + 2.0) x REF / 2 = 1.5x: M1;
    # the large order 400 days ago is outside the 12 months.
    await order(ids["lapsed"], 100, 3 * REF, refunded=REF)
    await order(ids["lapsed"], 181, REF)
    await order(ids["lapsed"], 400, 100 * REF)
    # Bought on the day after AS_OF: nothing as of AS_OF.
    await order(ids["tomorrow"], -1, REF)
    return ids


async def scores_on(day: date) -> dict[str, tuple[int, int, int, str]]:
    rows = await MemberScore.filter(day=day)
    return {str(row.member_id): (row.r, row.f, row.m, row.tags) for row in rows}


async def run_job(services: Services, as_of: date) -> JobRun:
    run = await runs.start_run(services, "member-scores", as_of)
    for chunk_id in await runs.pending_chunks(run.id):
        await runs.run_chunk(services, chunk_id)
    return await JobRun.get(id=run.id)


KEY = '["KEY_RETENTION"]'


async def test_the_job_scores_every_member_exactly_and_keeps_each_day(
    client: httpx.AsyncClient, services: Services, clock: FrozenClock
) -> None:
    ids = await members_with_orders(client)
    run = await run_job(services, AS_OF)
    assert (run.status, run.processed, run.changed) == ("DONE", 6, 2)
    expected = {
        ids["key"]: (5, 3, 2, KEY),
        ids["steady"]: (4, 4, 3, KEY),
        ids["none"]: (1, 1, 1, "[]"),
        ids["big_once"]: (3, 1, 5, "[]"),
        ids["lapsed"]: (2, 1, 1, "[]"),
        ids["tomorrow"]: (1, 1, 1, "[]"),
    }
    assert await scores_on(AS_OF) == expected

    # A rerun (the job again, then the work itself later) changes nothing.
    before = {
        row.id: (row.r, row.f, row.m, row.tags, row.computed_at) for row in await MemberScore.all()
    }
    assert (await run_job(services, AS_OF)).processed == 6
    clock.advance(timedelta(hours=1))
    await score_range(services, AS_OF, LOWEST_ID, HIGHEST_ID)
    after = {
        row.id: (row.r, row.f, row.m, row.tags, row.computed_at) for row in await MemberScore.all()
    }
    assert after == before

    # The next day: "key" is 16 days from its last order (R4, still tagged), "tomorrow"
    # bought on it; the first day's scores stay as they were.
    await run_job(services, NEXT_DAY)
    second = await scores_on(NEXT_DAY)
    assert second[ids["key"]] == (4, 3, 2, KEY)
    assert second[ids["tomorrow"]] == (5, 1, 1, "[]")
    assert second[ids["steady"]] == (4, 3, 3, KEY)  # the order of 89 days ago left the quarter
    assert await scores_on(AS_OF) == expected
    assert await MemberScore.all().count() == 12


async def test_a_dry_run_counts_and_writes_nothing(
    client: httpx.AsyncClient, services: Services
) -> None:
    await members_with_orders(client)
    summary, _ = await JOBS["member-scores"](services, AS_OF, True)
    assert "6 member(s) would be scored, 2 tagged key retention" in summary
    assert await MemberScore.all().count() == 0
    summary, _ = await JOBS["member-scores"](services, AS_OF, False)
    assert "6 scored, 2 tagged key retention" in summary


SCORES = """
query($id: ID!, $day: Date!) {
  member360(memberId: $id) {
    displayName
    scores { day r f m tags }
    scoreOn(day: $day) { day r f m tags }
  }
}
"""


async def view(client: httpx.AsyncClient, token: str, member_id: str, day: date) -> Any:
    variables = {"id": member_id, "day": day.isoformat()}
    return await gql(client, SCORES, variables, token=token, path=ADMIN)


async def test_the_member_360_shows_the_latest_scores_and_a_past_day_to_care_roles(
    client: httpx.AsyncClient, services: Services
) -> None:
    ids = await members_with_orders(client)
    await run_job(services, AS_OF)
    await run_job(services, NEXT_DAY)
    for role in ("operator", "advisor"):
        token = await staff_token(client, services, f"scores-{role}", [role])
        body = await view(client, token, ids["key"], AS_OF)
        assert "errors" not in body, body
        seen = body["data"]["member360"]
        assert seen["scores"] == {
            "day": NEXT_DAY.isoformat(),
            "r": 4,
            "f": 3,
            "m": 2,
            "tags": ["KEY_RETENTION"],
        }
        assert seen["scoreOn"] == {
            "day": AS_OF.isoformat(),
            "r": 5,
            "f": 3,
            "m": 2,
            "tags": ["KEY_RETENTION"],
        }
        unscored = await view(client, token, ids["key"], AS_OF - timedelta(days=1))
        assert unscored["data"]["member360"]["scoreOn"] is None

    authenticator = await staff_token(client, services, "scores-auth", ["authenticator"])
    refused = await view(client, authenticator, ids["key"], AS_OF)
    seen = refused["data"]["member360"]
    assert seen["displayName"]
    assert (seen["scores"], seen["scoreOn"]) == (None, None)
    codes = {(e["path"][-1], e["extensions"]["code"]) for e in refused["errors"]}
    assert codes == {("scores", "FORBIDDEN"), ("scoreOn", "FORBIDDEN")}


async def test_on_postgresql_a_chunk_is_scored_by_one_statement(
    client: httpx.AsyncClient, services: Services, backend: str
) -> None:
    ids = await members_with_orders(client)
    with sql_statements() as seen:
        await score_range(services, AS_OF, LOWEST_ID, HIGHEST_ID)
    writes = [s for s in seen if "member_score" in s and ("INSERT" in s or "UPDATE" in s)]
    if backend == "postgres":
        assert len(writes) == 1, writes
        assert "ON CONFLICT (member_id, day)" in writes[0]
        # The bands are bind parameters, not part of the text.
        text, params = writes[0].rsplit(": [", 1)
        assert "180" not in text
        assert "400000, 15, 30, 90, 180, 6, 4, 3, 2, 5, 4, 3, 2," in params
    else:
        assert len(writes) == len(ids)
    assert (await scores_on(AS_OF))[ids["steady"]] == (4, 4, 3, KEY)


async def test_an_erased_member_is_not_scored(
    client: httpx.AsyncClient, services: Services, clock: FrozenClock
) -> None:
    ids = await members_with_orders(client)
    # Set-up only: the erasure job's mark, without running it.
    await Member.filter(id=ids["key"]).update(erased_at=clock.now())
    run = await run_job(services, AS_OF)
    assert run.processed == 5
    assert ids["key"] not in await scores_on(AS_OF)
