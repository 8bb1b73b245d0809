"""Prometheus metrics: requests and latency by operation, errors by code, the cache's hit
ratio, the database pool. Each app has its own registry, served on `/metrics`."""

from __future__ import annotations

import contextvars
import re
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,59}$")
MAX_OPERATION_NAMES = 300

# The error codes of the operation running in this task, for its log line and counters.
_error_codes: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "error_codes", default=None
)


def start_collecting_errors() -> contextvars.Token[list[str] | None]:
    return _error_codes.set([])


def stop_collecting_errors(token: contextvars.Token[list[str] | None]) -> list[str]:
    codes = _error_codes.get() or []
    _error_codes.reset(token)
    return codes


def note_error(code: str) -> None:
    """A typed error was returned to the client (as a result type or a GraphQL error)."""
    codes = _error_codes.get()
    if codes is not None:
        codes.append(code)


class _PoolCollector(Collector):
    """Connections of the database pool, read when scraped (PostgreSQL only)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "member_api_db_pool_connections", "Database pool connections", labels=["state"]
        )
        pool = _pool()
        if pool is not None:
            size, idle = pool.get_size(), pool.get_idle_size()
            family.add_metric(["open"], size)
            family.add_metric(["idle"], idle)
            family.add_metric(["in_use"], size - idle)
            family.add_metric(["max"], pool.get_max_size())
        yield family


def _pool() -> Any:
    try:
        from tortoise import connections

        client = connections.get("default")
    except Exception:  # not initialised, or not a pooled backend
        return None
    pool = getattr(client, "_pool", None)
    return pool if pool is not None and hasattr(pool, "get_idle_size") else None


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "member_api_graphql_requests",
            "GraphQL operations by endpoint, operation name and outcome",
            ["endpoint", "operation", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "member_api_graphql_request_seconds",
            "GraphQL operation latency",
            ["endpoint", "operation"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=self.registry,
        )
        self.errors = Counter(
            "member_api_errors",
            "Typed errors returned to clients, by code",
            ["code"],
            registry=self.registry,
        )
        self.cache = Counter(
            "member_api_cache_reads",
            "Reads of the shared cache: hit, miss or error",
            ["result"],
            registry=self.registry,
        )
        self.responses = Counter(
            "member_api_response_cache",
            "Registered read operations: answered from the response cache (hit), computed "
            "and stored (miss), or computed without storing (bypass)",
            ["operation", "result"],
            registry=self.registry,
        )
        self.http = Counter(
            "member_api_http_responses",
            "HTTP responses by route and status class",
            ["route", "status"],
            registry=self.registry,
        )
        self.outbox_sent = Counter(
            "member_api_outbox_sent",
            "Outbox messages a gateway accepted, by channel",
            ["channel"],
            registry=self.registry,
        )
        self.outbox_failed_attempts = Counter(
            "member_api_outbox_failed_attempts",
            "Outbox delivery attempts that failed (each retry counts), by channel",
            ["channel"],
            registry=self.registry,
        )
        self.outbox_dead = Counter(
            "member_api_outbox_dead",
            "Outbox messages given up on after their last attempt, by channel",
            ["channel"],
            registry=self.registry,
        )
        self.outbox_pending = Gauge(
            "member_api_outbox_pending",
            "Outbox messages waiting to be sent, by channel (as of the last delivery pass)",
            ["channel"],
            registry=self.registry,
        )
        self.job_chunks = Gauge(
            "member_api_job_chunks",
            "Chunks of each job's latest run, by state (as of the last scrape)",
            ["job", "state"],
            registry=self.registry,
        )
        self.job_processed = Gauge(
            "member_api_job_processed",
            "Members (or lots, quizzes) handled by each job's latest run",
            ["job"],
            registry=self.registry,
        )
        self.job_errors = Gauge(
            "member_api_job_errors",
            "Failed chunk attempts of each job's latest run",
            ["job"],
            registry=self.registry,
        )
        self.registry.register(_PoolCollector())
        self._operations: set[str] = set()

    def operation_label(self, name: str | None) -> str:
        """Client-chosen names, bounded: odd or too many names fold into 'other'."""
        if not name:
            return "anonymous"
        if not _NAME.match(name):
            return "other"
        if name not in self._operations:
            if len(self._operations) >= MAX_OPERATION_NAMES:
                return "other"
            self._operations.add(name)
        return name
