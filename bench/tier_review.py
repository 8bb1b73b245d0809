"""The quarterly tier review over many members on PostgreSQL: members reviewed per second.

    .venv/bin/python bench/tier_review.py [--members 100000] [--url postgres://...]

Creates (and afterwards drops) its own database, bulk-loads members with orders,
activity days and event attendance spread over the year before the review, then
times `run_review` on it. Prints the seeding time, the review time, members per
second, and how many tiers changed.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import asyncpg

from member_api import db
from member_api.clock import FrozenClock
from member_api.services import build_services
from member_api.settings import Settings
from member_api.tiers.review import run_review

REVIEW_DATE = date(2027, 1, 1)
TIERS = ["NEW", "SILVER", "GOLD", "DIAMOND", "BLACK_DIAMOND"]


def _rows(count: int, rng: random.Random) -> dict[str, list[tuple[object, ...]]]:
    joined = datetime(2025, 6, 1, tzinfo=UTC)
    members, orders, days, attendance = [], [], [], []
    for n in range(count):
        member_id = uuid.uuid4()
        tier = rng.choices(TIERS, weights=[50, 25, 15, 8, 2])[0]
        members.append((member_id, f"会员{n}", f"B{n:07d}", joined, joined, tier, joined, 0))
        for k in range(rng.randint(0, 4)):
            paid_on = REVIEW_DATE - timedelta(days=rng.randint(2, 360))
            amount = rng.choice([50_000, 300_000, 900_000, 2_000_000])
            at = datetime.combine(paid_on, datetime.min.time(), tzinfo=UTC)
            orders.append((f"b-{n}-{k}", member_id, amount, 0, at, paid_on))
        for day in sorted({REVIEW_DATE - timedelta(days=rng.randint(1, 100)) for _ in range(8)}):
            days.append((member_id, day))
        if tier in ("DIAMOND", "BLACK_DIAMOND"):
            for k in range(2):
                attended = REVIEW_DATE - timedelta(days=30 * (k + 1))
                attendance.append((member_id, f"salon-{k}", attended, joined))
    return {
        "member": members,
        "member_order": orders,
        "member_activity_day": days,
        "event_attendance": attendance,
    }


COLUMNS = {
    "member": [
        "id",
        "display_name",
        "referral_code",
        "joined_at",
        "updated_at",
        "tier",
        "tier_since",
        "facts_version",
    ],
    "member_order": ["order_id", "member_id", "paid_fen", "refunded_fen", "paid_at", "paid_on"],
    "member_activity_day": ["member_id", "day"],
    "event_attendance": ["member_id", "event_ref", "attended_on", "recorded_at"],
}


async def main(members: int, admin_url: str) -> None:
    name = f"member_api_bench_{uuid.uuid4().hex[:8]}"
    url = urlsplit(admin_url)._replace(path=f"/{name}").geturl()
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        await db.migrate(url)
        started = time.perf_counter()
        rows = _rows(members, random.Random(7))
        conn = await asyncpg.connect(url)
        try:
            for table, records in rows.items():
                await conn.copy_records_to_table(table, records=records, columns=COLUMNS[table])
            await conn.execute("ANALYZE")
        finally:
            await conn.close()
        seeded = time.perf_counter() - started
        print(f"seeded {members} members, {len(rows['member_order'])} orders in {seeded:.1f} s")

        settings = Settings(database_url=url, cache_url="memory://")
        clock = FrozenClock(datetime.combine(REVIEW_DATE, datetime.min.time(), tzinfo=UTC))
        await db.init_orm(url)
        services = build_services(settings, clock=clock)
        try:
            started = time.perf_counter()
            report = await run_review(services, REVIEW_DATE)
            elapsed = time.perf_counter() - started
        finally:
            await services.aclose()
            await db.close_orm()
        print(
            f"review {REVIEW_DATE}: {report.reviewed} members in {elapsed:.1f} s = "
            f"{report.reviewed / elapsed:,.0f} members/s; {report.changed} tiers changed"
        )
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--url", default="postgres://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    asyncio.run(main(args.members, args.url))
