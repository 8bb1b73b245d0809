"""`make bench`, first part: the clients' main operations under load, against a bare
starlette JSON endpoint measured in the same run, with the targets beside the results.

    .venv/bin/python bench/all.py [--seconds 15] [--concurrency 32] [--members 200]

Starts the API (uvicorn, one worker pinned to core 0, PostgreSQL, Redis), a second API
worker on the same data with the response cache off (RESPONSE_CACHE_SIZE=0) and a bare
starlette app, fills the database (members, a catalogue of 20 rewards plus one with
points to redeem, a group of 200 posts everyone belongs to, an item with its history),
then loads each operation with `wrk` pinned to core 1 at the given concurrency after a
3 s warm-up, signed in as the members in turn. The reads (MemberCentre, GroupFeed,
RewardCatalogue) run once on each worker: "(hit)" with the cache on, "(cache off)"
without. Prints requests/s, p50, p99, the ratio to the baseline, each worker's resident
memory after the whole run and whether each target is met, then checks the ledger
invariants. `bench/cpu.py` (run next by `make bench`) counts instructions instead.

CheckIn succeeds once per member and day: after the first round the rest measure the
refusal (`ALREADY_CHECKED_IN`), which still runs the whole path to the unique key.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).parent))
from feed import _fill
from harness import BARE_SCRIPT, Result, Servers, measure, register_members, require, servers
from redeem import REDEEM, _check, _grant
from redeem import WRK_SCRIPT as REDEEM_SCRIPT

CLIENTS = Path(__file__).parents[2] / "shared" / "clients"
SIGNED_IN = """
tokens = {%(tokens)s}
counter = 0
request = function()
  counter = counter + 1
  local token = tokens[(counter %% #tokens) + 1]
  return wrk.format("POST", "/graphql",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, %(body)s)
end
"""


def _client_operation(name: str) -> str:
    from graphql import OperationDefinitionNode, parse, print_ast

    for path in sorted(CLIENTS.glob("*.graphql")):
        for node in parse(path.read_text(encoding="utf-8")).definitions:
            if isinstance(node, OperationDefinitionNode) and node.name and node.name.value == name:
                return print_ast(node)
    raise SystemExit(f"no client operation {name}")


def _signed_in(tokens: list[str], query: str, variables: dict[str, object]) -> str:
    body = json.dumps({"query": query, "variables": variables})
    return SIGNED_IN % {"tokens": ", ".join(f'"{t}"' for t in tokens), "body": json.dumps(body)}


async def _item(api: str, database_url: str) -> str:
    """An item with a sourcing and an authentication, recorded by staff over the API."""
    env = {**os.environ, "DATABASE_URL": database_url, "STAFF_PASSWORD": "bench-staff-pass-1"}
    command = [sys.executable, "-m", "member_api.cli", "create-staff", "bench-auth"]
    command += ["--role", "operator", "--role", "authenticator"]
    subprocess.run(command, env=env, check=True, capture_output=True)
    async with httpx.AsyncClient(base_url=api, timeout=60) as client:
        login = (
            'mutation { staffLogin(input: {username: "bench-auth", '
            'password: "bench-staff-pass-1"}) { ... on AuthTokens { accessToken } } }'
        )
        token = (await client.post("/admin/graphql", json={"query": login})).json()
        headers = {"authorization": f"Bearer {token['data']['staffLogin']['accessToken']}"}
        register = (
            'mutation { registerItem(input: {brand: "Hermès", model: "Kelly 28", '
            'category: "BAG"}) { ... on StaffItem { publicId } } }'
        )
        item = await client.post("/admin/graphql", json={"query": register}, headers=headers)
        public_id = str(item.json()["data"]["registerItem"]["publicId"])
        record = (
            "mutation($i: RecordCustodyEventInput!) { recordCustodyEvent(input: $i) "
            "{ __typename } }"
        )
        for kind, details in (
            ("SOURCING", {}),
            ("AUTHENTICATION", {"verdict": "GENUINE", "reportDigest": "sha256:" + "ab" * 32}),
            ("MAINTENANCE", {"note": "Leather care"}),
        ):
            variables = {
                "i": {
                    "itemPublicId": public_id,
                    "kind": kind,
                    "occurredAt": "2026-01-02T03:04:05+00:00",
                    "place": "Shanghai",
                    "details": details,
                }
            }
            await client.post(
                "/admin/graphql", json={"query": record, "variables": variables}, headers=headers
            )
    return public_id


async def _catalogue(database_url: str, count: int) -> None:
    """`count` active rewards, some with a tier floor or a per-member limit."""
    tiers = [None, None, "SILVER", "GOLD", None]
    conn = await asyncpg.connect(database_url)
    try:
        now = datetime.now(UTC)
        for n in range(count):
            await conn.execute(
                "INSERT INTO reward (id, name, description, kind, currency, price, stock,"
                " limit_per_member, min_tier, active, created_at)"
                " VALUES ($1, $2, $3, 'COUPON', 'POINTS', $4, 1000, $5, $6, true, $7)",
                uuid.uuid4(),
                f"Catalogue reward {n}",
                f"A reward for the catalogue, number {n}",
                100 + 50 * n,
                2 if n % 3 == 0 else None,
                tiers[n % len(tiers)],
                now,
            )
    finally:
        await conn.close()


async def _join(api: str, group_id: str, tokens: list[str]) -> None:
    join = "mutation($g: ID!) { joinGroup(input: {groupId: $g}) { __typename } }"
    async with httpx.AsyncClient(base_url=api, timeout=60) as client:
        for token in tokens:
            await client.post(
                "/graphql",
                json={"query": join, "variables": {"g": group_id}},
                headers={"authorization": f"Bearer {token}"},
            )


@dataclass(frozen=True)
class Data:
    tokens: list[str]
    reward_id: uuid.UUID
    group_id: str
    public_id: str


async def fill(running: Servers, members: int, posts: int = 200) -> Data:
    """Members, their points, 20 rewards and one to redeem, a group with `posts` posts
    (written and liked by the first 50 members, joined by all), an item with its history."""
    tokens = await register_members(running.api, members, prefix="1350")
    reward_id = uuid.uuid4()
    await _grant(running.database_url, reward_id)
    await _catalogue(running.database_url, 20)
    group_id = await _fill(running.api, running.database_url, tokens[:50], posts)
    await _join(running.api, group_id, tokens[50:])
    public_id = await _item(running.api, running.database_url)
    return Data(tokens, reward_id, group_id, public_id)


def reads(data: Data) -> dict[str, tuple[str, dict[str, object]]]:
    """The read operations and their variables."""
    return {
        "MemberCentre": (_client_operation("MemberCentre"), {}),
        "GroupFeed": (_client_operation("GroupFeed"), {"groupId": data.group_id, "first": 20}),
        "RewardCatalogue": (_client_operation("RewardCatalogue"), {"first": 20}),
    }


@dataclass(frozen=True)
class Target:
    ratio: float | None = None
    p99_factor: float | None = None

    def describe(self) -> str:
        parts = []
        if self.ratio is not None:
            parts.append(f">= {self.ratio:.3f} of bare")
        if self.p99_factor is not None:
            parts.append(f"p99 <= {self.p99_factor:.0f}x bare")
        return ", ".join(parts) or "-"

    def met(self, result: Result, baseline: Result) -> bool | None:
        if self.ratio is None and self.p99_factor is None:
            return None
        ok = self.ratio is None or result.rps / baseline.rps >= self.ratio
        if self.p99_factor is not None:
            ok = ok and result.p99_ms <= self.p99_factor * baseline.p99_ms
        return ok


TARGETS = {
    "MemberCentre (hit)": Target(0.20, 4),
    "GroupFeed (hit)": Target(0.20, 4),
    "RewardCatalogue (hit)": Target(),
    "MemberCentre (cache off)": Target(0.035),
    "GroupFeed (cache off)": Target(0.035),
    "RewardCatalogue (cache off)": Target(0.035),
    "CheckIn": Target(0.03),
    "RedeemReward": Target(0.03),
    "ScanItem": Target(0.03),
}
RSS_TARGET_MIB = 150.0


def _verdict(met: bool | None) -> str:
    return "-" if met is None else ("met" if met else "NOT MET")


async def _answers(url: str, token: str, query: str, variables: dict[str, object]) -> None:
    """A read answers without errors before it is measured: a load of errors measures nothing."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        response = await client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"authorization": f"Bearer {token}"},
        )
    reply = response.json()
    if response.status_code != 200 or reply.get("errors") or not reply.get("data"):
        raise SystemExit(f"{url}: {query.split('(')[0][:40]} answered {response.text[:400]}")


def _rss_mib(api_port_pid: int) -> float:
    for line in Path(f"/proc/{api_port_pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def main(seconds: float, concurrency: int, members: int, admin_url: str) -> None:
    require("wrk", "wrk")
    require("taskset", "util-linux")
    # Redis database 3: 5 to 15 are the tests'.
    async with servers(admin_url, uncached=True, redis_db=3) as running:
        data = await fill(running, members)
        tokens = data.tokens
        redeem = REDEEM_SCRIPT % {
            "tokens": ", ".join(f'"{t}"' for t in tokens),
            "query": json.dumps(" ".join(REDEEM.split())),
            "reward": data.reward_id,
        }
        loads: list[tuple[str, str, str]] = []
        for url, label in ((running.api, "hit"), (running.api_uncached, "cache off")):
            for name, (query, variables) in reads(data).items():
                await _answers(url, tokens[-1], query, variables)
                loads.append((f"{name} ({label})", url, _signed_in(tokens, query, variables)))
        scan_variables: dict[str, object] = {"code": data.public_id}
        await _answers(running.api, tokens[-1], _client_operation("ScanItem"), scan_variables)
        scan = _signed_in(tokens, _client_operation("ScanItem"), scan_variables)
        loads += [
            ("CheckIn", running.api, _signed_in(tokens, _client_operation("CheckIn"), {})),
            ("RedeemReward", running.api, redeem),
            ("ScanItem", running.api, scan),
        ]
        print(
            f"wrk: concurrency {concurrency}, {seconds:.0f} s each after a 3 s warm-up, "
            f"{len(tokens)} members in turn; one API worker per cache setting on core 0, "
            "wrk on core 1; PostgreSQL + Redis",
            flush=True,
        )
        baseline = measure(
            "starlette", f"{running.bare}/graphql", BARE_SCRIPT, concurrency, seconds
        )
        results = []
        for name, url, script in loads:
            results.append((name, measure(name, f"{url}/graphql", script, concurrency, seconds)))
        rss = _rss_mib(running.api_pid)
        rss_off = _rss_mib(running.api_uncached_pid)
        print()
        header = f"{'operation':>28} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>7}"
        print(f"{header}  {'target':<33} result")
        print(
            f"{'starlette (bare)':>28} {baseline.rps:8.0f} {baseline.p50_ms:8.2f} "
            f"{baseline.p99_ms:8.2f} {1:7.3f}"
        )
        missed = 0
        for name, result in results:
            target = TARGETS[name]
            met = target.met(result, baseline)
            missed += met is False
            print(
                f"{name:>28} {result.rps:8.0f} {result.p50_ms:8.2f} {result.p99_ms:8.2f} "
                f"{result.rps / baseline.rps:7.3f}  {target.describe():<33} {_verdict(met)}"
            )
        rss_met = rss <= RSS_TARGET_MIB
        missed += not rss_met
        print(
            f"{'API RSS (cache on)':>28} {rss:8.0f} MiB{'':>22}  "
            f"{f'<= {RSS_TARGET_MIB:.0f} MiB':<33} {_verdict(rss_met)}"
        )
        print(f"{'API RSS (cache off)':>28} {rss_off:8.0f} MiB")
        print(f"targets missed: {missed}", flush=True)
        await _check(running.database_url, data.reward_id)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--url", default="postgres://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.concurrency, args.members, args.url))
