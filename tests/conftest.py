"""Shared fixtures: real databases (SQLite, PostgreSQL), real caches (memory, Redis).

PostgreSQL and Redis tests skip when the servers are not reachable, unless
MEMBER_API_REQUIRE_SERVICES=1 (set by .ci/run), which turns the skip into a failure.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from redis import asyncio as aioredis
from tortoise import Tortoise

from member_api import db
from member_api.app import create_app
from member_api.cache import NAMESPACE
from member_api.clock import FrozenClock
from member_api.services import Services
from member_api.settings import Settings
from tests.stubs import PlatformStub, platform_stub

# Shared machines vary threefold in speed: property tests are judged on what they
# find, never on how long an example took to draw or run.
hypothesis_settings.register_profile(
    "suite", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("suite")

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MEMBER_API_SHARED", ROOT.parent / "shared"))
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)


def _redis_url_of_this_worker(url: str) -> str:
    """Each pytest-xdist worker flushes its own Redis database (gw0 the given one, gw1
    the one below it, ...), so parallel tests never empty each other's keys."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    parts = urlsplit(url)
    if not worker.startswith("gw") or not parts.path.strip("/").isdigit():
        return url
    database = int(parts.path.strip("/")) - int(worker[2:])
    if database < 0:
        raise RuntimeError(f"too many test workers for the Redis databases below {url}")
    return parts._replace(path=f"/{database}").geturl()


REDIS_URL = _redis_url_of_this_worker(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))
REQUIRE_SERVICES = os.environ.get("MEMBER_API_REQUIRE_SERVICES") == "1"
T = TypeVar("T")


def run_in_own_loop(coro: Coroutine[Any, Any, T]) -> T:
    """Run set-up code in a fresh event loop on its own thread (safe inside a running loop)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), 1):
            return True
    except OSError:
        return False


def need_service(name: str, url: str) -> None:
    if _reachable(url):
        return
    message = f"{name} is not reachable at {url}"
    if REQUIRE_SERVICES:
        pytest.fail(message + " (MEMBER_API_REQUIRE_SERVICES=1)")
    pytest.skip(message)


def need_tools(*commands: str) -> None:
    """Programs a test drives (a browser, node, a Redis of its own): skipped without them
    in `make test`, a failure in CI."""
    missing = [command for command in commands if shutil.which(command) is None]
    if not missing:
        return
    message = f"needs {', '.join(missing)} on the PATH"
    if REQUIRE_SERVICES:
        pytest.fail(message + " (MEMBER_API_REQUIRE_SERVICES=1)")
    pytest.skip(message)


# --- PostgreSQL: one migrated database per test session, emptied between tests ---


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    with migrated_postgres_database("member_api_test") as url:
        yield url


@contextmanager
def migrated_postgres_database(prefix: str, *, target: str | None = None) -> Iterator[str]:
    """A new PostgreSQL database, migrated (up to `target` if given); dropped afterwards."""
    need_service("PostgreSQL", POSTGRES_ADMIN_URL)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = urlsplit(POSTGRES_ADMIN_URL)
    url = admin._replace(path=f"/{name}").geturl()

    async def create() -> None:
        conn = await asyncpg.connect(POSTGRES_ADMIN_URL)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        await db.migrate(url, target=target)

    async def drop() -> None:
        conn = await asyncpg.connect(POSTGRES_ADMIN_URL)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    run_in_own_loop(create())
    try:
        yield url
    finally:
        run_in_own_loop(drop())


async def _truncate_postgres(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'tortoise_migrations'"
        )
        if tables:
            names = ", ".join(f'"{row["tablename"]}"' for row in tables)
            await conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


async def _flush_redis() -> None:
    client = aioredis.from_url(REDIS_URL)
    try:
        keys = [k async for k in client.scan_iter(match=f"{NAMESPACE}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture(autouse=True)
def keep_logging_handlers() -> Iterator[None]:
    """`member-api` commands configure logging for the process; undo that after a test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """Storage under test: SQLite with the memory cache, or PostgreSQL with Redis."""
    return str(request.param)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once per test process; each test gets a copy of it."""
    path = tmp_path_factory.mktemp("template") / "member-api.sqlite3"
    run_in_own_loop(db.migrate(f"sqlite://{path}"))
    return path


@pytest.fixture
async def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        path = tmp_path / "member-api.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite://{path}"
    url = str(request.getfixturevalue("postgres_database"))
    await _truncate_postgres(url)
    return url


@pytest.fixture
async def cache_url(backend: str) -> str:
    if backend == "sqlite":
        return "memory://"
    need_service("Redis", REDIS_URL)
    await _flush_redis()
    return REDIS_URL


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def settings(database_url: str, cache_url: str) -> Settings:
    # A cheaper Argon2id keeps the suite fast; the algorithm and code path are the same.
    return Settings(
        database_url=database_url,
        cache_url=cache_url,
        password_hash_memory_kib=1024,
        password_hash_time_cost=1,
    )


@pytest.fixture
def platform() -> Iterator[PlatformStub]:
    """A local HTTP stub of the mini-program platform, for tests that ask for it."""
    with platform_stub() as stub:
        yield stub


@pytest.fixture
def miniprogram_transport() -> httpx.AsyncBaseTransport | None:
    """Overridden by tests that talk to a stub of the mini-program platform."""
    return None


@pytest.fixture
async def app(
    settings: Settings,
    clock: FrozenClock,
    miniprogram_transport: httpx.AsyncBaseTransport | None,
) -> AsyncIterator[object]:
    application = create_app(settings, clock=clock, miniprogram_transport=miniprogram_transport)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def services(app: Any) -> Services:
    """The running app's services, for tests that call the service layer directly."""
    found: Services = app.state.services
    return found


@pytest.fixture
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://member-api.test") as c:
        yield c


@pytest.fixture
async def orm(database_url: str) -> AsyncIterator[None]:
    """The ORM alone, for service-level tests without HTTP."""
    await db.init_orm(database_url)
    try:
        yield
    finally:
        await Tortoise.close_connections()


# --- RabbitMQ: a queue of each test's own on the shared broker ---

RABBITMQ_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")


@pytest.fixture
def queue_env() -> Iterator[dict[str, str]]:
    """The environment of worker and scheduler processes: a migrated PostgreSQL database
    and a RabbitMQ queue of the test's own."""
    need_service("RabbitMQ", RABBITMQ_URL)
    with migrated_postgres_database("member_api_queue") as url:
        yield {
            **os.environ,
            "DATABASE_URL": url,
            "CACHE_URL": "memory://",
            "BROKER_URL": RABBITMQ_URL,
            "BROKER_QUEUE": f"member-api-test-{uuid.uuid4().hex[:8]}",
            "ENVIRONMENT": "development",
            # A dead worker's chunk is taken over after this long.
            "JOB_CHUNK_LEASE_SECONDS": "5",
        }
