"""`member-api jobs`: refuses a future date and a review on a non-review date, previews
with --dry-run without changing anything, and reports whom it changed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from tortoise import Tortoise

from member_api import db
from member_api.business_calendar import business_today
from member_api.cli import main
from member_api.clock import FrozenClock, SystemClock
from member_api.members.models import Member
from member_api.notifications.models import Notification
from tests.conftest import run_in_own_loop
from tests.recommendations_support import generated


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite://{tmp_path / 'jobs.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("CACHE_URL", "memory://")
    assert main(["migrate"]) == 0
    assert main(["seed-demo"]) == 0
    return url


def tiers(url: str) -> dict[str, str]:
    async def read() -> dict[str, str]:
        await db.init_orm(url)
        try:
            return {str(m.id): m.tier for m in await Member.all()}
        finally:
            await Tortoise.close_connections()

    return run_in_own_loop(read())


def warnings_sent(url: str) -> int:
    async def read() -> int:
        await db.init_orm(url)
        try:
            return await Notification.filter(kind="DOWNGRADE_WARNING").count()
        finally:
            await Tortoise.close_connections()

    return run_in_own_loop(read())


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["jobs", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def last_review_date() -> date:
    today = business_today(SystemClock())
    day = date(today.year, today.month, 1)
    while day.month not in (1, 4, 7, 10):
        day = date(day.year - (day.month == 1), (day.month - 2) % 12 + 1, 1)
    return day


def test_a_job_refuses_a_date_in_the_future(demo: str, capsys: pytest.CaptureFixture[str]) -> None:
    before = tiers(demo)
    tomorrow = business_today(SystemClock()) + timedelta(days=1)
    for job in ("tier-review", "downgrade-warnings", "expire-points", "weekly-quiz"):
        code, _, err = run(capsys, job, "--as-of", tomorrow.isoformat())
        assert code == 1
        assert "DATE_IN_FUTURE" in err
    # The next review date, asked for early, is refused too: nobody is demoted early.
    code, _, err = run(capsys, "tier-review", "--as-of", "2099-01-01")
    assert (code, "DATE_IN_FUTURE" in err) == (1, True)
    assert tiers(demo) == before


def test_a_review_refuses_a_date_that_is_not_a_review_date(
    demo: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = tiers(demo)
    not_review = last_review_date() + timedelta(days=14)
    code, _, err = run(capsys, "tier-review", "--as-of", not_review.isoformat())
    assert code == 1
    assert "NOT_A_REVIEW_DATE" in err
    assert "the next is" in err
    assert tiers(demo) == before


def make_gold_without_the_facts(url: str) -> str:
    """Lin (NEW, one order short of Silver) set to Gold long before the last review:
    the review must take Gold away."""

    async def update() -> str:
        await db.init_orm(url)
        try:
            lin = await Member.get(display_name="新客 Lin")
            lin.tier = "GOLD"
            lin.tier_since = datetime(2026, 1, 1, tzinfo=UTC)
            await lin.save(update_fields=["tier", "tier_since"])
            return str(lin.id)
        finally:
            await Tortoise.close_connections()

    return run_in_own_loop(update())


def test_a_dry_run_shows_whom_the_review_would_change_and_changes_nothing(
    demo: str, capsys: pytest.CaptureFixture[str]
) -> None:
    lin = make_gold_without_the_facts(demo)
    before = tiers(demo)
    review = last_review_date().isoformat()
    code, out, _ = run(capsys, "tier-review", "--as-of", review, "--dry-run")
    assert code == 0
    assert out.startswith("dry run, nothing changed: ")
    previewed = sorted(line.strip() for line in out.splitlines()[1:])
    assert any(line.startswith(f"{lin} ") and line.endswith("GOLD -> SILVER") for line in previewed)
    assert tiers(demo) == before
    code, out, _ = run(capsys, "tier-review", "--as-of", review)
    assert code == 0
    changed = sorted(line.strip() for line in out.splitlines()[1:])
    assert changed == previewed
    after = tiers(demo)
    moved = {member for member in before if before[member] != after[member]}
    assert moved == {line.split()[0] for line in changed}
    for line in changed:
        member, *_, old, arrow, new = line.split()
        assert (arrow, before[member], after[member]) == ("->", old, new)
    # A rerun changes nobody new and still reports the review's changes.
    code, out, _ = run(capsys, "tier-review", "--as-of", review, "--dry-run")
    assert "would change 0 member(s)" in out


def test_downgrade_warnings_preview_then_send_the_same_members(
    demo: str, capsys: pytest.CaptureFixture[str]
) -> None:
    today = business_today(SystemClock()).isoformat()
    code, out, _ = run(capsys, "downgrade-warnings", "--as-of", today, "--dry-run")
    assert code == 0
    previewed = sorted(out.splitlines()[1:])
    assert any("DIAMOND -> GOLD" in line for line in previewed)  # Zhao, per docs/demo.md
    assert warnings_sent(demo) == 0
    code, out, _ = run(capsys, "downgrade-warnings", "--as-of", today)
    warned = sorted(line.split()[0] for line in out.splitlines()[1:])
    assert warned == sorted(line.split()[0] for line in previewed)
    assert warnings_sent(demo) == len(previewed)
    code, out, _ = run(capsys, "downgrade-warnings", "--as-of", today, "--dry-run")
    assert ": 0 would be sent" in out


def test_point_expiry_previews_by_account(demo: str, capsys: pytest.CaptureFixture[str]) -> None:
    far = business_today(SystemClock()).isoformat()
    code, out, _ = run(capsys, "expire-points", "--as-of", far, "--dry-run")
    assert code == 0
    assert out.startswith("dry run, nothing changed: points expiry")


def test_without_a_date_a_job_runs_as_of_today(
    demo: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "downgrade-warnings", "--dry-run")
    assert code == 0
    assert f"as of {business_today(SystemClock())}" in out


def test_member_scores_preview_then_score_every_member(
    demo: str, capsys: pytest.CaptureFixture[str]
) -> None:
    today = business_today(SystemClock()).isoformat()
    code, out, _ = run(capsys, "member-scores", "--as-of", today, "--dry-run")
    assert code == 0
    assert out.startswith(f"dry run, nothing changed: member scores as of {today}: ")
    would = int(out.split(": ")[2].split()[0])
    assert would == len(tiers(demo)) > 0
    code, out, _ = run(capsys, "member-scores", "--as-of", today)
    assert code == 0
    assert f"member-scores as of {today}: run " in out
    assert f"{would} processed" in out
    tomorrow = (business_today(SystemClock()) + timedelta(days=1)).isoformat()
    code, _, err = run(capsys, "member-scores", "--as-of", tomorrow)
    assert (code, "DATE_IN_FUTURE" in err) == (1, True)


def test_recommendations_preview_rank_and_evaluate(
    demo: str, capsys: pytest.CaptureFixture[str]
) -> None:
    today = business_today(SystemClock()).isoformat()
    code, out, _ = run(capsys, "recommendations", "--as-of", today, "--dry-run")
    assert code == 0
    assert out.startswith(f"dry run, nothing changed: recommendations as of {today}: ")
    code, out, _ = run(capsys, "recommendations", "--as-of", today)
    assert code == 0
    assert f"recommendations as of {today}: run " in out

    async def plant() -> None:
        await db.init_orm(demo)
        try:
            await generated(FrozenClock(datetime.now(UTC)), 60, seed=5)
        finally:
            await Tortoise.close_connections()

    run_in_own_loop(plant())
    code, out, _ = run(capsys, "recommendations-eval", "--k", "10")
    assert code == 0
    print(out)
    # e.g. "hit rate at 10 over 60 member(s) with a held-out interaction:
    # recommendations 1.000 (60), popular baseline 0.300 (18)"
    assert "hit rate at 10 over " in out
    ours = float(out.split("recommendations ")[1].split()[0])
    baseline = float(out.split("popular baseline ")[1].split()[0])
    assert ours > baseline + 0.3
    code, _, err = run(capsys, "recommendations-eval", "--k", "0")
    assert code == 2
    assert "--k must be at least 1" in err
