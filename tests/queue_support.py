"""Helpers of the task-queue tests: members to review, worker processes, reads of
another process's database."""

from __future__ import annotations

import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

from tortoise import Tortoise

from member_api import db
from member_api.members.models import Member


async def gold_members(count: int) -> set[uuid.UUID]:
    """Members made Gold long ago with nothing behind it: the review drops each one."""
    since = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        Member(
            id=uuid.uuid4(),
            display_name=f"m{n}",
            referral_code=f"Q{n:07d}",
            joined_at=since,
            updated_at=since,
            tier="GOLD",
            tier_since=since,
        )
        for n in range(count)
    ]
    await Member.bulk_create(rows, batch_size=500)
    return {row.id for row in rows}


def start(env: dict[str, str], *command: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "member_api.cli", *command],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def in_db(url: str, work: object) -> object:
    await db.init_orm(url)
    try:
        return await work()  # type: ignore[operator]
    finally:
        await Tortoise.close_connections()
