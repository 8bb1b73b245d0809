"""ORM configuration (read by the migration commands too) and schema migrations."""

from __future__ import annotations

import asyncio
import fcntl
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import IO, Any

import asyncpg  # type: ignore[import-untyped]
from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.exceptions import IntegrityError
from tortoise.migrations.api.migrate import migrate as run_migrations
from tortoise.migrations.autodetector import MigrationAutodetector
from tortoise.models import Model
from tortoise.transactions import in_transaction

APP_LABEL = "models"
MODEL_MODULES = [
    "member_api.members.models",
    "member_api.auth.models",
    "member_api.staff.models",
    "member_api.commerce.models",
    "member_api.tiers.models",
    "member_api.compliance.models",
    "member_api.notifications.models",
    "member_api.rights.models",
    "member_api.events.models",
    "member_api.points.models",
    "member_api.rewards.models",
    "member_api.checkin.models",
    "member_api.badges.models",
    "member_api.tasks.models",
    "member_api.community.models",
    "member_api.provenance.models",
    "member_api.background.models",
    "member_api.outbox.models",
    "member_api.care.models",
    "member_api.audit.models",
    "member_api.privacy.models",
    "member_api.intelligence.models",
]
MIGRATIONS_MODULE = "migrations"
POOL_SIZE = 20


def normalise_database_url(url: str) -> str:
    """Accept the spellings operators use; tortoise wants `postgres://`."""
    if url.startswith("postgresql://"):
        return "postgres://" + url.removeprefix("postgresql://")
    if url.startswith("postgresql+asyncpg://"):
        return "postgres://" + url.removeprefix("postgresql+asyncpg://")
    return url


def ensure_sqlite_directory(url: str) -> None:
    if url.startswith("sqlite://") and ":memory:" not in url:
        path = Path(url.removeprefix("sqlite://").split("?", 1)[0])
        path.parent.mkdir(parents=True, exist_ok=True)


class LeanConnection(asyncpg.Connection):  # type: ignore[misc]
    """A pooled PostgreSQL connection that is handed back without a reset round trip.

    asyncpg resets every released connection (advisory locks, cursors, LISTEN, session
    settings) with one more statement; this service uses none of them, so only an open
    transaction needs ending, and asyncpg still rolls that back on release.
    """

    def get_reset_query(self) -> str:
        return ""


def _connection(url: str) -> str | dict[str, Any]:
    if not url.startswith("postgres://"):
        return url
    config = expand_db_url(url)
    config["credentials"].setdefault("connection_class", LeanConnection)
    # Every statement outside a transaction borrows a connection: with tortoise's 5, a
    # busy worker's requests queue for them (`?maxsize=N` in DATABASE_URL overrides).
    config["credentials"].setdefault("maxsize", POOL_SIZE)
    return config


def tortoise_config(database_url: str) -> dict[str, Any]:
    url = normalise_database_url(database_url)
    return {
        "connections": {"default": _connection(url)},
        "apps": {
            APP_LABEL: {
                "models": list(MODEL_MODULES),
                "default_connection": "default",
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _forget_compiled_queries() -> None:
    """Tortoise caches compiled INSERT/DELETE SQL per connection *name*, process-wide.

    A process that opens a different database under the same name (the test suite
    runs SQLite then PostgreSQL) would reuse the other dialect's SQL; start clean.
    """
    EXECUTOR_CACHE.clear()


async def create_once(model: type[Model], **values: Any) -> bool:
    """Insert a row that a unique key may already hold; False if it does.

    The insert runs in a savepoint, so inside a transaction a duplicate leaves the
    transaction usable (on PostgreSQL a failed statement would abort all of it).
    """
    try:
        async with in_transaction():
            await model.create(**values)
    except IntegrityError:
        return False
    return True


logger = logging.getLogger(__name__)
AfterCommit = Callable[[], Awaitable[object]]
_after_commit: ContextVar[list[AfterCommit] | None] = ContextVar("after_commit", default=None)


async def after_commit(action: AfterCommit) -> None:
    """Run `action` once the transaction `deferring_until_commit` brackets has committed,
    or at once outside one.

    For work that must neither run before the rows it refers to are visible to others
    nor at all if they roll back: sending a task (an in-process task would even run on
    the open transaction's connection), dropping a cache entry."""
    queue = _after_commit.get()
    if queue is None:
        await action()
    else:
        queue.append(action)


@contextmanager
def deferring_until_commit() -> Iterator[list[AfterCommit]]:
    """Within the block, `after_commit` queues its actions in the list yielded; the
    caller runs them (`run_after_commit`) once its transaction committed."""
    queue: list[AfterCommit] = []
    token = _after_commit.set(queue)
    try:
        yield queue
    finally:
        _after_commit.reset(token)


async def run_after_commit(actions: list[AfterCommit]) -> None:
    """The change is committed already: a failing action is logged, not raised (what it
    would have done is left to the sweeps that catch up on it)."""
    for action in actions:
        try:
            await action()
        except Exception:
            logger.exception("work after a commit failed")


async def init_orm(database_url: str, *, global_fallback: bool = False) -> None:
    ensure_sqlite_directory(database_url)
    _forget_compiled_queries()
    await Tortoise.init(
        config=tortoise_config(database_url), _enable_global_fallback=global_fallback
    )


async def close_orm() -> None:
    await Tortoise.close_connections()


async def migrate(database_url: str, *, target: str | None = None) -> None:
    """Apply every committed migration that the database has not seen yet.

    `target` (a migration's name, such as "0012_weekly_quiz") stops there instead.
    """
    ensure_sqlite_directory(database_url)
    _forget_compiled_queries()
    async with _migration_lock(database_url):
        await run_migrations(
            config=tortoise_config(database_url), target=f"models.{target}" if target else None
        )
        await Tortoise.close_connections()


# Any fixed number: the PostgreSQL advisory lock that migrating processes queue on.
MIGRATION_LOCK_KEY = 0x6D656D62


@asynccontextmanager
async def _migration_lock(database_url: str) -> AsyncIterator[None]:
    """One migrating process at a time, so containers starting together take turns.

    On PostgreSQL an advisory lock held by a connection of its own (freed if the
    process dies); on SQLite an exclusive lock on a file beside the database.
    """
    url = normalise_database_url(database_url)
    if url.startswith("postgres://"):
        credentials = expand_db_url(url)["credentials"]
        conn = await asyncpg.connect(
            host=credentials["host"],
            port=credentials["port"],
            user=credentials["user"],
            password=credentials.get("password"),
            database=credentials["database"],
            ssl=credentials.get("ssl"),
        )
        try:
            await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
            try:
                yield
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
        finally:
            await conn.close()
        return
    path = url.removeprefix("sqlite://").split("?", 1)[0]
    if not url.startswith("sqlite://") or ":memory:" in path:
        yield
        return
    handle = await asyncio.to_thread(_locked_file, f"{path}.migrate-lock")
    try:
        yield
    finally:
        handle.close()  # closing the file releases the lock


def _locked_file(path: str) -> IO[str]:
    handle = open(path, "a")  # noqa: SIM115 - held open for as long as the lock is
    fcntl.flock(handle, fcntl.LOCK_EX)
    return handle


async def pending_model_changes() -> list[Any]:
    """Migrations that `makemigrations` would write: empty when models and migrations agree.

    Needs an initialised ORM (any database will do; nothing is read from it).
    """
    apps = Tortoise.apps
    config = tortoise_config("sqlite://:memory:")["apps"]
    detector = MigrationAutodetector(apps, config)
    return list(await detector.changes())


async def make_migrations(name: str | None = None) -> list[Path]:
    await Tortoise.init(config=tortoise_config("sqlite://:memory:"))
    try:
        writers = await pending_model_changes()
        paths = []
        for writer in writers:
            if name:
                number = writer.name.split("_", 1)[0]
                writer.name = f"{number}_{name}"
            paths.append(writer.write())
        return paths
    finally:
        await Tortoise.close_connections()
