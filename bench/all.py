"""`make bench`: the clients' main operations under load, against a bare starlette JSON
endpoint measured in the same run.

    .venv/bin/python bench/all.py [--seconds 15] [--concurrency 32] [--members 200]

Starts the API (uvicorn, one worker pinned to core 0, PostgreSQL, Redis) and a bare
starlette app, fills the database (members, a rewards catalogue with points, a group of
200 posts, an item with its history), then loads each operation with `wrk` pinned to
core 1 at the given concurrency after a 3 s warm-up, signed in as the members in turn.
Prints requests/s, p50, p99, the ratio to the baseline and the API's resident memory,
then checks the ledger invariants.

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
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from feed import _fill, _operation
from harness import BARE_SCRIPT, measure, register_members, servers
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


def _rss_mib(api_port_pid: int) -> float:
    for line in Path(f"/proc/{api_port_pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def main(seconds: float, concurrency: int, members: int, admin_url: str) -> None:
    async with servers(admin_url) as running:
        tokens = await register_members(running.api, members, prefix="1350")
        reward_id = uuid.uuid4()
        await _grant(running.database_url, reward_id)
        group_id = await _fill(running.api, running.database_url, tokens[:50], 200)
        public_id = await _item(running.api, running.database_url)
        redeem = REDEEM_SCRIPT % {
            "tokens": ", ".join(f'"{t}"' for t in tokens),
            "query": json.dumps(" ".join(REDEEM.split())),
            "reward": reward_id,
        }
        loads = [
            ("MemberCentre", _signed_in(tokens, _client_operation("MemberCentre"), {})),
            (
                "GroupFeed",
                _signed_in(
                    tokens[:50], _operation("GroupFeed"), {"groupId": group_id, "first": 20}
                ),
            ),
            ("CheckIn", _signed_in(tokens, _client_operation("CheckIn"), {})),
            ("RedeemReward", redeem),
            ("ScanItem", _signed_in(tokens, _client_operation("ScanItem"), {"code": public_id})),
        ]
        print(f"concurrency {concurrency}, {seconds:.0f} s each after a 3 s warm-up")
        baseline = measure(
            "starlette", f"{running.bare}/graphql", BARE_SCRIPT, concurrency, seconds
        )
        results = []
        for name, script in loads:
            rps = measure(name, f"{running.api}/graphql", script, concurrency, seconds)
            results.append((name, rps))
        print()
        for name, rps in results:
            print(f"{name:>14}: {rps / baseline:.3f} of the baseline")
        print(f"{'API RSS':>14}: {_rss_mib(running.api_pid):.0f} MiB")
        await _check(running.database_url, reward_id)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--url", default="postgres://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.concurrency, args.members, args.url))
