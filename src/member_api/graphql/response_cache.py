"""Stored answers to the clients' registered read operations, served without parsing,
validating or executing anything, and never stale.

A stored answer is keyed on the operation's hash, its variables (canonical JSON), the
viewer (or nobody), the business day, and the versions of the data the operation reads
(`freshness`): the scopes below say which. Every write moves the versions of the scopes
it touches before its transaction commits, so after a commit no reader finds an answer
built before it. The versions are read in the round trip that counts the request
against its rate limits, and answers live in a bounded map in this process.

Before a stored answer is sent, the request is held to everything a computed answer is:
the access token is verified (an expired or refused token takes the ordinary path,
which refuses it), ended sessions are refused, and the request counts against its
budgets. Only answers without errors are stored; they carry `extensions.cost` as
computed. GET requests get an ETag and `If-None-Match` gets a 304.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import GraphQLError, OperationDefinitionNode, parse, print_ast
from starlette.requests import Request
from starlette.responses import Response

from member_api import freshness, ratelimit
from member_api.auth.revocation import raw_marker_key
from member_api.auth.tokens import CANCEL_DELETION_ROLE
from member_api.bounded import Bounded
from member_api.business_calendar import business_today
from member_api.errors import NotAuthenticated, RateLimited
from member_api.graphql.persisted import sha256_hex
from member_api.graphql.throttle import request_budgets
from member_api.provenance.domain import public_id_of
from member_api.text import loads

logger = logging.getLogger("member_api.access")

Scopes = Callable[[dict[str, Any], uuid.UUID | None], list[str]]


def _own(*shared: str) -> Scopes:
    def scopes(variables: dict[str, Any], viewer: uuid.UUID | None) -> list[str]:
        own = [freshness.member(viewer)] if viewer is not None else []
        return [freshness.EVERYTHING, *shared, *own]

    return scopes


def _feed(variables: dict[str, Any], viewer: uuid.UUID | None) -> list[str]:
    return [*_own(freshness.PROFILES)(variables, viewer), freshness.group(variables["groupId"])]


def _thread(variables: dict[str, Any], viewer: uuid.UUID | None) -> list[str]:
    return [*_own(freshness.PROFILES)(variables, viewer), freshness.post(variables["postId"])]


def _scan(variables: dict[str, Any], viewer: uuid.UUID | None) -> list[str]:
    public_id = public_id_of(str(variables["code"])) or ""
    return [freshness.EVERYTHING, freshness.PROVENANCE, freshness.item(public_id)]


@dataclass(frozen=True)
class Cacheable:
    scopes: Scopes
    # The answer also depends on the time of day (what is upcoming, what is on offer):
    # keyed on the minute as well.
    by_minute: bool = False
    # The answer records a scan of the item: see `_record_scan`.
    scan: bool = False
    needs: tuple[str, ...] = ()  # variables that must be present strings


CACHEABLE: dict[str, Cacheable] = {
    "MemberCentre": Cacheable(_own()),
    "PointsHistory": Cacheable(_own()),
    "TierHistory": Cacheable(_own()),
    "MyRedemptions": Cacheable(_own(freshness.REWARDS)),
    "Notifications": Cacheable(_own()),
    "Tasks": Cacheable(_own()),
    "MyItems": Cacheable(_own(freshness.PROVENANCE)),
    "RewardCatalogue": Cacheable(_own(freshness.REWARDS), by_minute=True),
    "UpcomingEvents": Cacheable(_own(freshness.EVENTS), by_minute=True),
    "CommunityGroups": Cacheable(_own(freshness.GROUPS)),
    "GroupFeed": Cacheable(_feed, needs=("groupId",)),
    "PostThread": Cacheable(_thread, needs=("postId",)),
    "ScanItem": Cacheable(_scan, scan=True, needs=("code",)),
    # What is usable changes with the time too: events start, rewards go off sale.
    "ForYou": Cacheable(
        _own(
            freshness.REWARDS,
            freshness.EVENTS,
            freshness.GROUPS,
            freshness.POSTS,
        ),
        by_minute=True,
    ),
}


PLANS = 4096  # requests' read and budget plans remembered, by operation, viewer, address


@dataclass(frozen=True, slots=True)
class Stored:
    body: bytes
    etag: str
    expires: float  # time.monotonic()


@dataclass(slots=True)
class Pending:
    """A request the cache could answer, but has not stored yet: what it is to store
    under, if the computed answer qualifies."""

    key: tuple[Any, ...]
    name: str
    storable: bool
    get: bool


@dataclass(frozen=True, slots=True)
class _Asked:
    digest: str
    name: str
    variables: dict[str, Any]
    get: bool


class ResponseCache:
    def __init__(self, services: Any) -> None:
        self.services = services
        settings = services.settings
        self.size = settings.response_cache_size
        self.ttl = settings.response_cache_ttl_seconds
        self.enabled = self.size > 0
        self._stored: Bounded[tuple[Any, ...], Stored] = Bounded(max(self.size, 1))
        self._digests: Bounded[str, str] = Bounded(256)
        # Clients send the same few bodies (the token is a header): each parsed once.
        self._bodies: Bounded[bytes, Any] = Bounded(1024)
        self._counters: dict[str, tuple[str, Any, Any, Any]] = {}
        self._plans: Bounded[tuple[Any, ...], tuple[str | None, list[str], list[Any]]] = Bounded(
            PLANS
        )

    def __len__(self) -> int:
        return len(self._stored)

    def clear(self) -> None:
        self._stored = Bounded(max(self.size, 1))

    # -- reading the request ---------------------------------------------------------

    async def _asked(self, request: Request) -> _Asked | None:
        """The registered, cacheable operation this request asks for, or None (then the
        ordinary path deals with it, refusals included)."""
        if request.method == "GET":
            params = request.query_params
            accept = request.headers.get("accept", "")
            if (
                self.services.settings.graphiql
                and params.get("query") is None
                and ("text/html" in accept or "*/*" in accept)
            ):
                return None  # a browser opening the endpoint: the GraphiQL page
            data: dict[str, Any] = {"query": params.get("query")}
            try:
                for name in ("variables", "extensions"):
                    if name in params:
                        data[name] = loads(params[name])
            except ValueError:
                return None
            data["operationName"] = params.get("operationName")
        elif request.method == "POST":
            kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if kind != "application/json":
                return None
            body = await request.body()
            decoded = self._bodies.get(body)
            if decoded is None:
                try:
                    decoded = loads(body)
                except ValueError:
                    return None
                if len(body) <= MAX_REMEMBERED_TEXT and isinstance(decoded, dict):
                    self._bodies.put(body, decoded)
            if not isinstance(decoded, dict):
                return None
            data = decoded
        else:
            return None
        digest = self._digest(data)
        if digest is None:
            return None
        store = self.services.persisted
        name = store.names.get(digest)
        if name is None or name not in CACHEABLE or digest not in store.registered:
            return None
        if data.get("operationName") not in (None, name):
            return None
        variables = data.get("variables")
        if variables is None:
            variables = {}
        if not isinstance(variables, dict):
            return None
        if not all(isinstance(variables.get(v), str) for v in CACHEABLE[name].needs):
            return None
        return _Asked(digest, name, variables, request.method == "GET")

    def _digest(self, data: dict[str, Any]) -> str | None:
        query = data.get("query")
        if query is not None and not isinstance(query, str):
            return None
        extensions = data.get("extensions")
        asked = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        if asked is None:
            if query is None:
                return None
            known = self._digests.get(query)
            if known is None:
                known = _normal_digest(query)
                if len(query) <= MAX_REMEMBERED_TEXT:
                    self._digests.put(query, known)
            return known or None
        if not isinstance(asked, dict) or asked.get("version") != 1:
            return None
        digest = asked.get("sha256Hash")
        if not isinstance(digest, str):
            return None
        digest = digest.lower()
        if query is not None and sha256_hex(query) != digest:
            return None
        return digest

    def _viewer(self, request: Request) -> tuple[bool, Any]:
        """(usable, claims): claims None without a token; not usable when the token is
        bad in any way (the ordinary path refuses it with its reason)."""
        header = request.headers.get("authorization")
        if not header:
            return True, None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False, None
        try:
            claims = self.services.tokens.verify(token.strip(), "member")
        except NotAuthenticated:
            return False, None
        if CANCEL_DELETION_ROLE in claims.roles:
            return False, None
        return True, claims

    # -- the two halves --------------------------------------------------------------

    async def answer(self, request: Request, accept_json_kind: str) -> Response | Pending | None:
        """A stored answer (or the refusal of an over-budget request) as a response; or
        what to store the computed answer under; or None to take the ordinary path."""
        if not self.enabled:
            return None
        started = time.perf_counter()
        asked = await self._asked(request)
        if asked is None:
            return None
        usable, claims = self._viewer(request)
        if not usable:
            return None
        services = self.services
        cacheable = CACHEABLE[asked.name]
        viewer = claims.subject_id if claims is not None else None
        address = request.client.host if request.client else None
        variables = orjson.dumps(asked.variables, option=orjson.OPT_SORT_KEYS)
        plan = self._plans.get((asked.digest, variables, viewer, address))
        if plan is None:
            plan = self._plan(cacheable, asked, viewer, address)
            self._plans.put((asked.digest, variables, viewer, address), plan)
        marker, reads, budgets = plan
        try:
            values = await ratelimit.spend(services.cache, services.clock, budgets, reads)
        except RateLimited as refused:
            request.state.budget_spent = True
            return _over_budget(refused, accept_json_kind)
        request.state.budget_spent = True
        if values is None:
            return None  # the cache failed: compute, store nothing
        if marker is not None:
            ended, values = values[0], values[1:]
            if ended is not None and claims.issued_at <= int(ended):
                return None  # the ordinary path refuses the ended session
            request.state.sessions_checked = True
        seen = freshness.versions_of(values)
        if seen.epoch is None:
            await freshness.new_epoch(services.cache)
        now = services.clock.now()
        key: tuple[Any, ...] = (
            asked.digest,
            variables,
            viewer,
            business_today(services.clock),
            int(now.timestamp() // 60) if cacheable.by_minute else None,
            _network(address) if cacheable.scan else None,
            seen.epoch,
            seen.values,
        )
        stored = self._stored.get(key)
        if stored is not None and stored.expires > time.monotonic():
            if cacheable.scan and await self._scan_moved(asked, address):
                return Pending(key, asked.name, False, asked.get)
            self._served(asked.name, viewer, time.perf_counter() - started)
            if asked.get and _matches(request.headers.get("if-none-match"), stored.etag):
                return Response(status_code=304, headers={"etag": stored.etag})
            headers = {"etag": stored.etag} if asked.get else None
            return Response(stored.body, media_type=accept_json_kind, headers=headers)
        return Pending(key, asked.name, seen.storable, asked.get)

    def _plan(
        self, cacheable: Cacheable, asked: _Asked, viewer: uuid.UUID | None, address: str | None
    ) -> tuple[str | None, list[str], list[Any]]:
        """What a request reads and counts against: the same for every request of one
        operation, variables, viewer and address, so worked out once."""
        cache = self.services.cache
        reads = freshness.read_keys(cache, cacheable.scopes(asked.variables, viewer))
        marker = raw_marker_key(cache, viewer) if viewer is not None else None
        if marker is not None:
            reads = [marker, *reads]
        budgets = request_budgets(self.services.settings, address, "member", viewer)
        return marker, reads, budgets

    def _served(self, name: str, viewer: uuid.UUID | None, seconds: float) -> None:
        """The metrics and the access log line a computed answer gets (`observe.py`)."""
        counted = self._counters.get(name)
        if counted is None:
            registry = self.services.metrics
            label = registry.operation_label(name)
            counted = (
                label,
                registry.responses.labels(name, "hit"),
                registry.requests.labels("member", label, "ok"),
                registry.latency.labels("member", label),
            )
            self._counters[name] = counted
        label, hits, requests, latency = counted
        hits.inc()
        requests.inc()
        latency.observe(seconds)
        if logger.isEnabledFor(logging.INFO):
            logger.info(
                "member %s ok in %.1f ms (stored)",
                label,
                seconds * 1000,
                extra={
                    "endpoint": "member",
                    "operation": label,
                    "subject_id": str(viewer) if viewer else None,
                    "duration_ms": round(seconds * 1000, 2),
                    "outcome": "ok",
                    "error_codes": [],
                    "stored": True,
                },
            )

    async def _scan_moved(self, asked: _Asked, address: str | None) -> bool:
        """A scan is recorded on every look-up of an item: record it, and say whether it
        was new (a place not seen in the last minutes), which moves the item's version."""
        from member_api.provenance.service import record_scan_of

        public_id = public_id_of(str(asked.variables["code"]))
        if public_id is None:
            return False
        city = asked.variables.get("city")
        return await record_scan_of(
            self.services, public_id, city=city if isinstance(city, str) else None, address=address
        )

    def keep(self, pending: Pending, response: Response, clean: bool) -> None:
        """Store a computed answer that qualifies: a 200 without errors, computed while
        no write to its data was in progress."""
        result = "miss" if pending.storable and clean and response.status_code == 200 else "bypass"
        self.services.metrics.responses.labels(pending.name, result).inc()
        if result != "miss":
            return
        body = bytes(response.body)
        etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        self._stored.put(pending.key, Stored(body, etag, time.monotonic() + self.ttl))
        if pending.get:
            response.headers["etag"] = etag


MAX_REMEMBERED_TEXT = 8_192


def _normal_digest(query: str) -> str:
    """The registered hash of a document that is one operation, however it is spaced:
    the registered text is graphql-core's printing of the operation. "" when the text
    is not one operation (or does not parse: the ordinary path says why)."""
    digest = sha256_hex(query)
    if len(query) > MAX_REMEMBERED_TEXT:
        return digest
    try:
        document = parse(query, no_location=True)
    except GraphQLError:
        return ""
    nodes = document.definitions
    if len(nodes) != 1 or not isinstance(nodes[0], OperationDefinitionNode):
        return digest
    return sha256_hex(print_ast(nodes[0]))


def _network(address: str | None) -> str | None:
    from member_api.provenance.service import network_of

    return network_of(address)


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    return any(tag.strip() in (etag, "*", f"W/{etag}") for tag in header.split(","))


def _over_budget(refused: RateLimited, kind: str) -> Response:
    body = orjson.dumps(
        {
            "data": None,
            "errors": [
                {
                    "message": refused.message,
                    "extensions": {
                        "code": refused.code,
                        "retryAfterSeconds": refused.retry_after_seconds,
                    },
                }
            ],
        }
    )
    return Response(
        body,
        status_code=429,
        media_type=kind,
        headers={"Retry-After": str(refused.retry_after_seconds)},
    )
