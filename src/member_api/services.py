"""The long-lived collaborators a request or a job needs, built once from settings."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from member_api import db, freshness
from member_api.auth.miniprogram import MiniProgramClient
from member_api.auth.passwords import PasswordHasher
from member_api.auth.sessions import SessionService
from member_api.auth.throttle import LoginThrottle
from member_api.auth.tokens import TokenService
from member_api.bounded import Bounded
from member_api.cache import CacheAside, create_cache
from member_api.clock import Clock, SystemClock
from member_api.graphql import persisted
from member_api.graphql.persisted import PersistedQueries
from member_api.graphql.response_cache import ResponseCache
from member_api.metrics import Metrics
from member_api.outbox.channels import OutboxClients
from member_api.protect import DataProtector
from member_api.settings import Settings, SettingsError

logger = logging.getLogger(__name__)
ACTIVE_DAYS_REMEMBERED = 10_000


@dataclass
class Services:
    settings: Settings
    clock: Clock
    cache: Any
    protector: DataProtector
    passwords: PasswordHasher
    tokens: TokenService
    sessions: SessionService
    login_throttle: LoginThrottle
    miniprogram: MiniProgramClient
    cache_aside: CacheAside
    metrics: Metrics
    persisted: PersistedQueries
    outbox: OutboxClients
    # (member, business date) pairs this process has seen recorded as active days.
    responses: ResponseCache = field(init=False, repr=False)
    active_days: Bounded[tuple[uuid.UUID, date], bool] = field(
        default_factory=lambda: Bounded(ACTIVE_DAYS_REMEMBERED)
    )

    async def cached(
        self, cache_key: str, compute: Callable[[], Awaitable[Any]], *, ttl: int
    ) -> Any:
        return await self.cache_aside.get_or_compute(cache_key, compute, ttl=ttl)

    async def aclose(self) -> None:
        await self.miniprogram.aclose()
        await self.outbox.aclose()
        freshness.forget(self.cache)
        await self.cache.close()


def load_persisted_queries(
    settings: Settings, *, manifest: Path = persisted.MANIFEST
) -> PersistedQueries:
    """The shipped manifest's operations, and those of PERSISTED_QUERIES_DIR if set.

    Refuses to run registered operations only with none registered: every request
    would be refused.
    """
    store = PersistedQueries(only_registered=settings.persisted_queries_only)
    if manifest.is_file():
        try:
            store.register_manifest(manifest)
        except (ValueError, KeyError, TypeError) as exc:
            raise SettingsError(
                f"the persisted-query manifest {manifest} is broken: {exc}"
            ) from exc
    if settings.persisted_queries_dir:
        directory = Path(settings.persisted_queries_dir)
        if not directory.is_dir():
            raise SettingsError(f"PERSISTED_QUERIES_DIR: {directory} is not a directory")
        store.register_directory(directory)
    if settings.persisted_queries_only and not store.registered:
        raise SettingsError(
            "PERSISTED_QUERIES_ONLY is on but no operation is registered "
            f"(no {manifest.name} in the package, no PERSISTED_QUERIES_DIR): "
            "every request would be refused"
        )
    logger.info("%d client operations registered as persisted queries", len(store.registered))
    return store


def build_services(
    settings: Settings,
    *,
    clock: Clock | None = None,
    miniprogram_transport: httpx.AsyncBaseTransport | None = None,
    persisted_queries: PersistedQueries | None = None,
) -> Services:
    clock = clock or SystemClock()
    cache = create_cache(settings.cache_url)
    metrics = Metrics()
    tokens = TokenService(
        signing_key=settings.signing_key,
        key_id=settings.signing_key_id,
        issuer=settings.jwt_issuer,
        audiences={"member": settings.member_audience, "staff": settings.staff_audience},
        ttl_seconds=settings.access_token_ttl_seconds,
        clock=clock,
    )
    protector = DataProtector(settings.data_key)
    services = Services(
        settings=settings,
        clock=clock,
        cache=cache,
        protector=protector,
        passwords=PasswordHasher(
            memory_kib=settings.password_hash_memory_kib,
            time_cost=settings.password_hash_time_cost,
        ),
        tokens=tokens,
        sessions=SessionService(
            tokens=tokens, clock=clock, refresh_ttl_seconds=settings.refresh_token_ttl_seconds
        ),
        login_throttle=LoginThrottle(
            cache,
            max_per_subject=settings.login_max_failures_per_phone,
            max_per_address=settings.login_max_failures_per_address,
            window_seconds=settings.login_failure_window_seconds,
            digest=lambda text: protector.blind_index(text, context="login-failures"),
        ),
        miniprogram=MiniProgramClient(
            base_url=settings.miniprogram_base_url,
            app_id=settings.miniprogram_app_id,
            app_secret=settings.miniprogram_app_secret,
            timeout_seconds=settings.miniprogram_timeout_seconds,
            transport=miniprogram_transport,
        ),
        cache_aside=CacheAside(cache, on_read=metrics.cache.labels),
        metrics=metrics,
        persisted=persisted_queries or load_persisted_queries(settings),
        outbox=OutboxClients(settings),
    )
    services.responses = ResponseCache(services)
    freshness.configure(cache)
    return services


@asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    """The ORM and the services for a command or a job run outside the server."""
    await db.init_orm(settings.database_url)
    services = build_services(settings)
    try:
        yield services
    finally:
        await services.aclose()
        await db.close_orm()
