"""Models and committed migrations agree; the migrations build the schema on both engines."""

from __future__ import annotations

from tortoise import Tortoise, connections

from member_api import db
from member_api.auth.models import RefreshToken
from member_api.members.models import Member
from member_api.staff.models import StaffUser

MODELS = [Member, RefreshToken, StaffUser]


async def test_models_and_migrations_do_not_drift() -> None:
    await db.init_orm("sqlite://:memory:")
    try:
        changes = await db.pending_model_changes()
    finally:
        await Tortoise.close_connections()
    assert changes == [], "models changed without a migration: run `make migrations`"


async def test_migrations_create_every_table(database_url: str, backend: str) -> None:
    await db.init_orm(database_url)
    try:
        conn = connections.get("default")
        if backend == "sqlite":
            rows = await conn.execute_query_dict(
                "SELECT name FROM sqlite_master WHERE type='table'"
            )
            tables = {row["name"] for row in rows}
        else:
            rows = await conn.execute_query_dict(
                "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'"
            )
            tables = {row["name"] for row in rows}
    finally:
        await Tortoise.close_connections()
    expected = {model._meta.db_table for model in MODELS} | {"tortoise_migrations"}
    assert expected <= tables


async def test_migrate_twice_is_a_no_op(database_url: str) -> None:
    await db.migrate(database_url)
    await db.migrate(database_url)


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
