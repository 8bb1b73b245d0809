"""Models and committed migrations agree; the migrations build the schema on both engines."""

from __future__ import annotations

import asyncio
import functools
import importlib
import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from tortoise import Tortoise, connections

from member_api import db
from tests.conftest import migrated_postgres_database, run_in_own_loop

MIGRATIONS_DIR = Path(str(importlib.import_module(db.MIGRATIONS_MODULE).__file__)).parent
MIGRATIONS = sorted(path.stem for path in MIGRATIONS_DIR.glob("[0-9]*.py"))


async def test_models_and_migrations_do_not_drift() -> None:
    await db.init_orm("sqlite://:memory:")
    try:
        changes = await db.pending_model_changes()
    finally:
        await Tortoise.close_connections()
    assert changes == [], "models changed without a migration: run `make migrations`"


def _expected_tables() -> dict[str, dict[str, bool]]:
    """Every table the initialised ORM knows: {table: {column: nullable}}."""
    tables: dict[str, dict[str, bool]] = {}
    for model in Tortoise.apps.get_models_iterable():
        meta = model._meta
        tables[meta.db_table] = {
            column: bool(meta.fields_map[name].null)
            for name, column in meta.fields_db_projection.items()
        }
        for name in meta.m2m_fields:
            field = meta.fields_map[name]
            tables[field.through] = {field.backward_key: False, field.forward_key: False}
    return tables


async def _actual_tables(backend: str) -> dict[str, dict[str, bool]]:
    conn = connections.get("default")
    tables: dict[str, dict[str, bool]] = {}
    if backend == "sqlite":
        rows = await conn.execute_query_dict("SELECT name FROM sqlite_master WHERE type='table'")
        for row in rows:
            columns = await conn.execute_query_dict(f'PRAGMA table_info("{row["name"]}")')
            tables[row["name"]] = {c["name"]: not c["notnull"] and not c["pk"] for c in columns}
        return tables
    rows = await conn.execute_query_dict(
        "SELECT table_name, column_name, is_nullable FROM information_schema.columns"
        " WHERE table_schema = 'public'"
    )
    for row in rows:
        tables.setdefault(row["table_name"], {})[row["column_name"]] = row["is_nullable"] == "YES"
    return tables


async def test_migrations_create_every_table(database_url: str, backend: str) -> None:
    """Each model's table, with each of its columns and their nullability, and no other."""
    await db.init_orm(database_url)
    try:
        expected = _expected_tables()
        actual = await _actual_tables(backend)
    finally:
        await Tortoise.close_connections()
    assert len(expected) >= 42
    bookkeeping = {t for t in actual if t == "tortoise_migrations" or t.startswith("sqlite_")}
    assert set(actual) - bookkeeping == set(expected)
    assert {table: actual[table] for table in expected} == expected


async def _schema(url: str, backend: str) -> dict[str, list[Any]]:
    """Everything a migration could change: the DDL and the applied-migrations list."""
    await db.init_orm(url)
    try:
        conn = connections.get("default")
        applied = await conn.execute_query_dict(
            "SELECT app, name, applied_at FROM tortoise_migrations ORDER BY id"
        )
        if backend == "sqlite":
            ddl = await conn.execute_query_dict(
                "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
            )
        else:
            ddl = await conn.execute_query_dict(
                "SELECT 'column' AS kind, table_name || '.' || column_name AS name,"
                " data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '') AS def"
                " FROM information_schema.columns WHERE table_schema = 'public'"
                " UNION ALL SELECT 'constraint', conrelid::regclass::text || '.' || conname,"
                " pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE connamespace = 'public'::regnamespace"
                " UNION ALL SELECT 'index', indexname, indexdef FROM pg_indexes"
                " WHERE schemaname = 'public' ORDER BY 1, 2"
            )
    finally:
        await Tortoise.close_connections()
    return {"applied": applied, "ddl": ddl}


async def test_migrate_twice_is_a_no_op(
    database_url: str, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a database migrated once (every committed migration, in order), a second run
    plans and applies none and leaves the schema and the applied list as they were."""
    plans: list[list[str]] = []
    events: list[tuple[str, str]] = []
    monkeypatch.setattr(
        db,
        "run_migrations",
        functools.partial(
            db.run_migrations,
            reporter=lambda _conn, plan, _fake, _dry: plans.append(
                [step.migration.name for step in plan]
            ),
            progress=lambda event, _app, name: events.append((event, name)),
        ),
    )
    before = await _schema(database_url, backend)
    assert [row["name"] for row in before["applied"]] == MIGRATIONS
    assert len(before["ddl"]) > len(MIGRATIONS)
    await db.migrate(database_url)
    assert plans == [[]]  # asked for its plan once: it was empty
    assert events == []
    assert await _schema(database_url, backend) == before


async def test_check_constraints_exist_in_the_database(database_url: str, backend: str) -> None:
    """Tortoise's CreateModel drops Meta constraints; the migrations add them explicitly."""
    from tortoise.migrations.constraints import CheckConstraint

    await db.init_orm(database_url)
    try:
        wanted = {
            c.name
            for model in Tortoise.apps.get_models_iterable()
            for c in getattr(model._meta, "constraints", ())
            if isinstance(c, CheckConstraint)
        }
        conn = connections.get("default")
        if backend == "sqlite":
            rows = await conn.execute_query_dict("SELECT sql FROM sqlite_master WHERE type='table'")
            found = {name for name in wanted if any(name in (r["sql"] or "") for r in rows)}
        else:
            rows = await conn.execute_query_dict(
                "SELECT conname FROM pg_constraint WHERE contype = 'c'"
            )
            found = {r["conname"] for r in rows} & wanted
    finally:
        await Tortoise.close_connections()
    assert len(wanted) >= 6
    assert found == wanted


@pytest.fixture
def database_before_0013(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database migrated up to 0012 only."""
    if backend == "sqlite":
        url = f"sqlite://{tmp_path / 'old.sqlite3'}"
        run_in_own_loop(db.migrate(url, target="0012_weekly_quiz"))
        yield url
        return
    with migrated_postgres_database("member_api_0012", target="0012_weekly_quiz") as url:
        yield url


async def insert_old_member(referral_code: str, at: datetime) -> uuid.UUID:
    """A member row as an older schema holds it: the model has columns added since, so
    its `create` would write columns the table does not have yet."""
    member_id = uuid.uuid4()
    stamp = at.isoformat(sep=" ")
    await connections.get("default").execute_script(
        "INSERT INTO member (id, display_name, referral_code, joined_at, updated_at, tier, "
        f"facts_version) VALUES ('{member_id}', 'm', '{referral_code}', '{stamp}', "
        f"'{stamp}', 'NEW', 0)"
    )
    return member_id


async def test_0013_gives_old_carbon_credits_their_cause(database_before_0013: str) -> None:
    """Carbon credits written as SPEND become CARBON_CREDIT; purchase points stay SPEND,
    and a cause credited again under the new reason is not doubled by the rename."""
    from datetime import UTC, datetime

    from member_api.points.models import LedgerAccount, LedgerEntry

    url = database_before_0013
    await db.init_orm(url)
    try:
        applied = await connections.get("default").execute_query_dict(
            "SELECT name FROM tortoise_migrations ORDER BY name"
        )
        assert [row["name"] for row in applied][-1] == "0012_weekly_quiz"
        now = datetime(2026, 1, 5, tzinfo=UTC)
        member_id = await insert_old_member("OLDCARBN", now)
        points = await LedgerAccount.create(member_id=member_id, currency="POINTS")
        carbon = await LedgerAccount.create(member_id=member_id, currency="CARBON")
        for account, delta, reason, reference in [
            (points, 120, "SPEND", "order-1"),
            (carbon, 10, "SPEND", "consignment-1"),
            (carbon, 10, "SPEND", "consignment-2"),
            (carbon, 10, "CARBON_CREDIT", "consignment-2"),
            (carbon, -10, "REDEMPTION", "redemption-1"),
        ]:
            await LedgerEntry.create(
                account=account, delta=delta, reason=reason, reference=reference, occurred_at=now
            )
    finally:
        await Tortoise.close_connections()

    await db.migrate(url)

    await db.init_orm(url)
    try:
        rows = await LedgerEntry.all().order_by("id").values_list("account__currency", "reason")
    finally:
        await Tortoise.close_connections()
    assert rows == [
        ("POINTS", "SPEND"),
        ("CARBON", "CARBON_CREDIT"),
        ("CARBON", "SPEND"),  # its cause already has a CARBON_CREDIT entry: left alone
        ("CARBON", "CARBON_CREDIT"),
        ("CARBON", "REDEMPTION"),
    ]


@pytest.fixture
def empty_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all."""
    if backend == "sqlite":
        yield f"sqlite://{tmp_path / 'fresh.sqlite3'}"
        return
    import asyncpg  # type: ignore[import-untyped]

    from tests.conftest import POSTGRES_ADMIN_URL

    name = f"member_api_fresh_{uuid.uuid4().hex[:10]}"

    async def admin(statement: str) -> None:
        conn = await asyncpg.connect(POSTGRES_ADMIN_URL)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    run_in_own_loop(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield urlsplit(POSTGRES_ADMIN_URL)._replace(path=f"/{name}").geturl()
    finally:
        run_in_own_loop(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def test_containers_starting_together_migrate_one_at_a_time(empty_database: str) -> None:
    """Four processes run `member-api migrate` on one new database at once: every one
    succeeds and each migration is applied exactly once."""
    env = {**os.environ, "DATABASE_URL": empty_database, "ENVIRONMENT": "development"}
    command = [sys.executable, "-m", "member_api.cli", "migrate"]
    processes = [
        await asyncio.create_subprocess_exec(
            *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        for _ in range(4)
    ]
    try:
        # Without a lock they can wait on each other for ever: that is a failure too.
        outputs = await asyncio.wait_for(
            asyncio.gather(*(p.communicate() for p in processes)), timeout=120
        )
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()
    failures = [
        out.decode()[-2000:] for p, (out, _) in zip(processes, outputs, strict=True) if p.returncode
    ]
    assert failures == []
    await db.init_orm(empty_database)
    try:
        rows = await connections.get("default").execute_query_dict(
            "SELECT name FROM tortoise_migrations ORDER BY name"
        )
    finally:
        await Tortoise.close_connections()
    assert [row["name"] for row in rows] == MIGRATIONS


def _expected_unique_keys() -> set[tuple[str, tuple[str, ...]]]:
    """Every unique key the models declare: (table, columns), unique_together and unique
    fields alike."""
    keys: set[tuple[str, tuple[str, ...]]] = set()
    for model in Tortoise.apps.get_models_iterable():
        meta = model._meta
        projection = meta.fields_db_projection  # a foreign key "member" is "member_id"
        for names in meta.unique_together or ():
            columns = tuple(projection.get(name) or projection[f"{name}_id"] for name in names)
            keys.add((meta.db_table, columns))
        for name, column in meta.fields_db_projection.items():
            field = meta.fields_map[name]
            if field.unique and not field.pk:
                keys.add((meta.db_table, (column,)))
    return keys


async def _actual_unique_keys(backend: str) -> set[tuple[str, tuple[str, ...]]]:
    conn = connections.get("default")
    keys: set[tuple[str, tuple[str, ...]]] = set()
    if backend == "sqlite":
        tables = await conn.execute_query_dict("SELECT name FROM sqlite_master WHERE type='table'")
        for table in tables:
            indexes = await conn.execute_query_dict(f'PRAGMA index_list("{table["name"]}")')
            for index in indexes:
                if not index["unique"] or index["origin"] == "pk":
                    continue
                columns = await conn.execute_query_dict(f'PRAGMA index_info("{index["name"]}")')
                ordered = sorted(columns, key=lambda c: c["seqno"])
                keys.add((table["name"], tuple(c["name"] for c in ordered)))
        return keys
    rows = await conn.execute_query_dict(
        "SELECT t.relname AS table_name, array_agg(a.attname::text ORDER BY k.n) AS columns"
        " FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid"
        " JOIN pg_namespace s ON s.oid = t.relnamespace AND s.nspname = 'public'"
        " CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)"
        " JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum"
        " WHERE i.indisunique AND NOT i.indisprimary"
        " GROUP BY i.indexrelid, t.relname"
    )
    return {(row["table_name"], tuple(row["columns"])) for row in rows}


async def test_unique_keys_exist_in_the_database(database_url: str, backend: str) -> None:
    """Every unique key the models declare is in the database after the migrations: on
    SQLite, a migration that rebuilds a table must put its keys back."""
    await db.init_orm(database_url)
    try:
        wanted = _expected_unique_keys()
        actual = await _actual_unique_keys(backend)
    finally:
        await Tortoise.close_connections()
    assert ("right_usage", ("member_id", "right_code", "period_start", "sequence")) in wanted
    assert len(wanted) >= 20
    assert wanted - actual == set()


@pytest.fixture
def own_database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A migrated database of this test's own, to migrate back and forth."""
    if backend == "sqlite":
        path = tmp_path / "member-api.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite://{path}"
        return
    with migrated_postgres_database("member_api_backfill") as url:
        yield url


async def test_members_authenticated_before_have_used_their_free_first_authentication(
    own_database_url: str,
) -> None:
    """Migration 0015 records the once-ever use from each member's earliest authentication
    event: members authenticated before the right existed have had their first one."""
    from member_api.commerce.models import CommerceEvent
    from member_api.rights.domain import FIRST_AUTHENTICATION_FREE
    from member_api.rights.models import RightUsage

    day = datetime(2026, 3, 2, tzinfo=UTC)
    # Back to the schema before the backfill (the database is empty), then its data.
    config = db.tortoise_config(own_database_url)
    await db.run_migrations(config=config, target="models.0014_sqlite_unique_keys")
    await db.init_orm(own_database_url)
    try:
        members = [await insert_old_member(f"BACKFIL{n}", day) for n in range(3)]
        events = [  # (member, event id, days after `day`, type)
            (0, "late", 5, "authentication.completed"),
            (0, "early", 1, "authentication.completed"),
            (1, "only", 2, "authentication.completed"),
            (2, "order", 1, "order.paid"),
        ]
        for member, event_id, days, kind in events:
            await CommerceEvent.create(
                event_id=event_id,
                type=kind,
                member_id=members[member],
                occurred_at=day + timedelta(days=days),
                received_at=day,
                source="test",
                amount_fen=100 if kind == "order.paid" else None,
            )
    finally:
        await Tortoise.close_connections()
    await db.migrate(own_database_url)
    await db.init_orm(own_database_url)
    try:
        rows = await RightUsage.filter(period_start=date.min).values_list(
            "member_id", "right_code", "sequence", "used_at", "staff_id", "note"
        )
    finally:
        await Tortoise.close_connections()
    assert sorted(rows, key=lambda row: row[5]) == [
        (members[0], FIRST_AUTHENTICATION_FREE, 1, day + timedelta(days=1), None, "event early"),
        (members[1], FIRST_AUTHENTICATION_FREE, 1, day + timedelta(days=2), None, "event only"),
    ]
