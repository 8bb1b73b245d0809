"""The long-lived collaborators a request or a job needs, built once from settings."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from member_api.auth.miniprogram import MiniProgramClient
from member_api.auth.passwords import PasswordHasher
from member_api.auth.sessions import SessionService
from member_api.auth.throttle import LoginThrottle
from member_api.auth.tokens import TokenService
from member_api.bounded import Bounded
from member_api.cache import CacheAside, create_cache
from member_api.clock import Clock, SystemClock
from member_api.graphql.persisted import PersistedQueries
from member_api.metrics import Metrics
from member_api.protect import DataProtector
from member_api.settings import Settings

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
    # (member, business date) pairs this process has seen recorded as active days.
    active_days: Bounded[tuple[uuid.UUID, date], bool] = field(
        default_factory=lambda: Bounded(ACTIVE_DAYS_REMEMBERED)
    )

    async def cached(
        self, cache_key: str, compute: Callable[[], Awaitable[Any]], *, ttl: int
    ) -> Any:
        return await self.cache_aside.get_or_compute(cache_key, compute, ttl=ttl)

    async def aclose(self) -> None:
        await self.miniprogram.aclose()
        await self.cache.close()


def _persisted(settings: Settings) -> PersistedQueries:
    store = PersistedQueries(only_registered=settings.persisted_queries_only)
    if settings.persisted_queries_dir:
        count = store.register_directory(Path(settings.persisted_queries_dir))
        logger.info("%d client operations registered as persisted queries", count)
    return store


def build_services(
    settings: Settings,
    *,
    clock: Clock | None = None,
    miniprogram_transport: httpx.AsyncBaseTransport | None = None,
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
    return Services(
        settings=settings,
        clock=clock,
        cache=cache,
        protector=DataProtector(settings.data_key),
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
        persisted=_persisted(settings),
    )
