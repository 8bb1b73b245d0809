"""RedeemReward under load on PostgreSQL, against a bare starlette endpoint in the same run.

    .venv/bin/python bench/redeem.py [--seconds 15] [--concurrency 32] [--members 200]

Starts the API (uvicorn, one worker pinned to core 0, PostgreSQL, Redis) and a bare
starlette JSON app the same way, loads each with `wrk` (Debian package `wrk`) pinned to
core 1 at the given concurrency after a warm-up, and prints requests/s, p50 and p99 for
both, and the ratio. Each redemption uses one of the members' tokens and a fresh
idempotency key. Afterwards it checks the ledger invariants and that stock + redeemed
units = the initial stock.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).parent))
from harness import BARE_SCRIPT, measure, register_members, require, servers

REDEEM = """mutation RedeemReward($input: RedeemRewardInput!) {
  redeemReward(input: $input) { __typename ... on Redemption { id } ... on Error { code } }
}"""
INITIAL_STOCK = 1_000_000


WRK_SCRIPT = """
tokens = {%(tokens)s}
counter = 0
local threads = 0
setup = function(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
request = function()
  counter = counter + 1
  local token = tokens[((counter * 2 + tid) %% #tokens) + 1]
  local key = "t" .. tid .. "-" .. counter
  local body = '{"query": %(query)s, "variables": {"input": {"rewardId": "%(reward)s",' ..
    ' "quantity": 1, "idempotencyKey": "' .. key .. '"}}}'
  return wrk.format("POST", "/graphql",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, body)
end
"""


async def _grant(url: str, reward_id: uuid.UUID) -> None:
    conn = await asyncpg.connect(url)
    try:
        now = datetime.now(UTC)
        await conn.execute(
            "INSERT INTO reward (id, name, description, kind, currency, price, stock, active,"
            " created_at) VALUES ($1, 'bench', '', 'COUPON', 'POINTS', 1, $2, true, $3)",
            reward_id,
            INITIAL_STOCK,
            now,
        )
        members = await conn.fetch("SELECT id FROM member")
        for row in members:
            account = await conn.fetchval(
                "INSERT INTO ledger_account (member_id, currency, debt) VALUES ($1, 'POINTS', 0)"
                " ON CONFLICT DO NOTHING RETURNING id",
                row["id"],
            ) or await conn.fetchval(
                "SELECT id FROM ledger_account WHERE member_id = $1", row["id"]
            )
            await conn.execute(
                "INSERT INTO ledger_entry (account_id, delta, reason, reference, occurred_at,"
                " note) VALUES ($1, 1000000, 'ADJUSTMENT', 'bench', $2, 'bench')",
                account,
                now,
            )
            await conn.execute(
                "INSERT INTO ledger_lot (account_id, amount, remaining, earned_at)"
                " VALUES ($1, 1000000, 1000000, $2)",
                account,
                now,
            )
    finally:
        await conn.close()


async def _check(url: str, reward_id: uuid.UUID) -> None:
    conn = await asyncpg.connect(url)
    try:
        broken = await conn.fetchval(
            """SELECT count(*) FROM ledger_account a
               WHERE (SELECT coalesce(sum(delta), 0) FROM ledger_entry e WHERE e.account_id = a.id)
                  <> (SELECT coalesce(sum(remaining), 0) FROM ledger_lot l
                      WHERE l.account_id = a.id) - a.debt"""
        )
        stock = await conn.fetchval("SELECT stock FROM reward WHERE id = $1", reward_id)
        redeemed = await conn.fetchval(
            "SELECT coalesce(sum(quantity), 0) FROM redemption WHERE reward_id = $1", reward_id
        )
        negative = await conn.fetchval("SELECT count(*) FROM ledger_lot WHERE remaining < 0")
    finally:
        await conn.close()
    print(
        f"invariants: {broken} account(s) off, {negative} negative lot(s), "
        f"stock {stock} + redeemed {redeemed} = {stock + redeemed} (initial {INITIAL_STOCK})"
    )
    if broken or negative or stock + redeemed != INITIAL_STOCK:
        raise SystemExit("INVARIANTS BROKEN")


async def main(seconds: float, concurrency: int, members: int, admin_url: str) -> None:
    require("wrk", "wrk")
    async with servers(admin_url) as running:
        tokens = await register_members(running.api, members)
        reward_id = uuid.uuid4()
        await _grant(running.database_url, reward_id)
        script = WRK_SCRIPT % {
            "tokens": ", ".join(f'"{t}"' for t in tokens),
            "query": json.dumps(" ".join(REDEEM.split())),
            "reward": reward_id,
        }
        print(f"concurrency {concurrency}, {seconds:.0f} s each after a 3 s warm-up")
        baseline = measure(
            "starlette", f"{running.bare}/graphql", BARE_SCRIPT, concurrency, seconds
        )
        result = measure("redeem", f"{running.api}/graphql", script, concurrency, seconds)
        print(f"     ratio: redeem / starlette = {result.rps / baseline.rps:.3f}")
        await _check(running.database_url, reward_id)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--url", default="postgres://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.concurrency, args.members, args.url))
