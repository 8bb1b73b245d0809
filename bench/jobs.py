"""Jobs on the task queue over many members on PostgreSQL and RabbitMQ: the quarterly
review and point expiry, with one and with two `member-api worker` processes.

    .venv/bin/python bench/jobs.py [--members 100000] [--url postgres://...]
        [--broker amqp://guest:guest@127.0.0.1:5672/]

For each job and worker count it makes (and afterwards drops) a database of its own,
bulk-loads the members (as bench/tier_review.py does, plus one expiring lot of points
each), starts the workers, sends the run's chunks and times until the run is done.
Prints members per second for each, and the ratio of two workers to one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tier_review import COLUMNS, _rows

from member_api import db
from member_api.background.models import JobRun
from member_api.jobs import run_job
from member_api.settings import Settings

# A review date already past (a job refuses a future date); the members' facts are
# spread over the year before 2027-01-01.
REVIEW_DATE = date(2026, 10, 1)
EXPIRY_DATE = date(2026, 11, 30)


async def seed(url: str, members: int) -> None:
    rows = _rows(members, random.Random(7))
    conn = await asyncpg.connect(url)
    try:
        for table, records in rows.items():
            await conn.copy_records_to_table(table, records=records, columns=COLUMNS[table])
        await conn.execute(
            "INSERT INTO ledger_account (member_id, currency, debt) "
            "SELECT id, 'POINTS', 0 FROM member"
        )
        await conn.execute(
            "INSERT INTO ledger_lot (account_id, amount, remaining, earned_at, expires_on) "
            "SELECT id, 100, 100, now() - interval '3 years', $1 FROM ledger_account",
            EXPIRY_DATE,
        )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def one(
    job: str, as_of: date, workers: int, members: int, admin_url: str, broker: str
) -> float:
    name = f"member_api_bench_{uuid.uuid4().hex[:8]}"
    url = urlsplit(admin_url)._replace(path=f"/{name}").geturl()
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CACHE_URL": "memory://",
        "BROKER_URL": broker,
        "BROKER_QUEUE": f"member-api-bench-{uuid.uuid4().hex[:8]}",
        "ENVIRONMENT": "development",
        "LOG_LEVEL": "WARNING",
    }
    processes: list[subprocess.Popen[bytes]] = []
    try:
        await db.migrate(url)
        await seed(url, members)
        processes = [
            subprocess.Popen([sys.executable, "-m", "member_api.cli", "worker"], env=env)
            for _ in range(workers)
        ]
        await asyncio.sleep(3)  # the workers connect
        settings = Settings.from_env(env)
        started = time.perf_counter()
        await run_job(settings, job, as_of)
        elapsed = time.perf_counter() - started
        await db.init_orm(url)
        try:
            run = await JobRun.get(job=job, as_of=as_of)
            print(
                f"{job:12} {workers} worker(s): {run.processed:,} processed in {elapsed:.1f} s "
                f"= {members / elapsed:,.0f} members/s ({run.chunks_total} chunks)"
            )
        finally:
            await db.close_orm()
        return members / elapsed
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def main(members: int, admin_url: str, broker: str) -> None:
    print(f"{members:,} members, PostgreSQL + RabbitMQ, {os.cpu_count()} cores")
    for job, as_of in (("tier-review", REVIEW_DATE), ("expire-points", EXPIRY_DATE)):
        single = await one(job, as_of, 1, members, admin_url, broker)
        double = await one(job, as_of, 2, members, admin_url, broker)
        print(f"{job:12} two workers / one: {double / single:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--broker", default="amqp://guest:guest@127.0.0.1:5672/")
    args = parser.parse_args()
    asyncio.run(main(args.members, args.url, args.broker))
