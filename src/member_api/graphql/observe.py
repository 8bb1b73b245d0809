"""One log line and the metrics for every GraphQL operation: endpoint, operation name,
member id (never a phone), duration, outcome and error codes."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

from strawberry.extensions import SchemaExtension

from member_api import metrics

logger = logging.getLogger("member_api.access")


class Observe(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        token = metrics.start_collecting_errors()
        try:
            yield
        finally:
            codes = metrics.stop_collecting_errors(token)
            self._report(time.perf_counter() - started, codes)

    def _report(self, seconds: float, codes: list[str]) -> None:
        context = self.execution_context
        request_context: Any = context.context
        if request_context is None or not hasattr(request_context, "services"):
            return
        result = context.result
        for error in getattr(result, "errors", None) or ():
            code = (getattr(error, "extensions", None) or {}).get("code")
            codes.append(str(code) if code else "GRAPHQL_ERROR")
        registry: metrics.Metrics = request_context.services.metrics
        endpoint = "staff" if request_context.audience == "staff" else "member"
        name = context.operation_name or _operation_name(context)
        label = registry.operation_label(name)
        outcome = "error" if codes else "ok"
        registry.requests.labels(endpoint, label, outcome).inc()
        registry.latency.labels(endpoint, label).observe(seconds)
        for code in codes:
            registry.errors.labels(code).inc()
        try:
            subject = request_context.claims()
        except Exception:  # a bad token: no subject to log
            subject = None
        logger.info(
            "%s %s %s in %.1f ms",
            endpoint,
            label,
            outcome,
            seconds * 1000,
            extra={
                "endpoint": endpoint,
                "operation": label,
                "subject_id": str(subject.subject_id) if subject else None,
                "duration_ms": round(seconds * 1000, 2),
                "outcome": outcome,
                "error_codes": codes,
            },
        )


def _operation_name(context: Any) -> str | None:
    document = context.graphql_document
    for definition in getattr(document, "definitions", ()) or ():
        name = getattr(definition, "name", None)
        if getattr(definition, "operation", None) is not None and name is not None:
            return str(name.value)
    return None
