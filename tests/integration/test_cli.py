"""The `member-api` command: migrate, seed-demo (once), create-staff."""

from __future__ import annotations

from pathlib import Path

import pytest
from tortoise import Tortoise

from member_api import db
from member_api.cli import main
from member_api.members.models import Member
from member_api.staff.models import StaffUser


@pytest.fixture
def sqlite_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite://{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("CACHE_URL", "memory://")
    return url


async def _counts(url: str) -> tuple[int, list[str]]:
    await db.init_orm(url)
    try:
        members = await Member.all().count()
        staff = sorted(await StaffUser.all().values_list("username", flat=True))
    finally:
        await Tortoise.close_connections()
    return members, staff


def test_migrate_seed_and_create_staff(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.conftest import run_in_own_loop

    assert main(["migrate"]) == 0
    capsys.readouterr()
    assert main(["seed-demo", "--if-empty"]) == 0
    seeded = capsys.readouterr().out.splitlines()
    assert seeded[0] == "demo data seeded"
    items = seeded[1:]
    # Each demo member's item and its public page, as README.md's demo data says.
    owners = [line.split(":", 1)[0] for line in items]
    assert owners == [f"demo item of 1380000000{n}" for n in range(1, 6)]
    assert "Louis Vuitton Pochette Accessoires Monogram, http://127.0.0.1:8000/p/" in items[0]
    assert main(["seed-demo", "--if-empty"]) == 0
    again = capsys.readouterr().out.splitlines()
    assert again == ["database has members already; demo data not seeded", *items]
    monkeypatch.setenv("STAFF_PASSWORD", "staff-pass-1")
    assert main(["create-staff", "ops-lead", "--role", "operator", "--role", "admin"]) == 0
    assert main(["create-staff", "ops-lead", "--role", "operator"]) == 1
    assert "USERNAME_TAKEN" in capsys.readouterr().err
    members, staff = run_in_own_loop(_counts(sqlite_url))
    assert members == 5
    # The demo has one staff member per role.
    assert staff == [
        "admin",
        "advisor",
        "auditor",
        "authenticator",
        "marketer",
        "moderator",
        "operator",
        "ops-lead",
    ]


def test_export_schema_writes_both_files(tmp_path: Path) -> None:
    assert main(["export-schema", "--directory", str(tmp_path)]) == 0
    assert "type Member" in (tmp_path / "schema.graphql").read_text()
    assert "staffLogin" in (tmp_path / "admin.graphql").read_text()


def test_sentiment_eval_with_the_operators_phrases(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import UTC, datetime

    from member_api.intelligence.models import SentimentPhrase
    from tests.conftest import run_in_own_loop

    assert main(["migrate"]) == 0

    async def add() -> None:
        await db.init_orm(sqlite_url)
        try:
            at = datetime.now(UTC)
            await SentimentPhrase.create(kind="NEGATIVE", phrase="压价", active=True, changed_at=at)
        finally:
            await Tortoise.close_connections()

    run_in_own_loop(add())
    sentences = tmp_path / "mine.tsv"
    sentences.write_text("label\ttext\n1\t寄卖总被压价\n0\t寄卖很顺利\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["sentiment-eval", "--file", str(sentences)]) == 0
    assert "recall 0.000" in capsys.readouterr().out
    assert main(["sentiment-eval", "--file", str(sentences), "--database"]) == 0
    assert "precision 1.000, recall 1.000" in capsys.readouterr().out
