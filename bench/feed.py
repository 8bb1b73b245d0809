"""GroupFeed (20 posts) under load on PostgreSQL, against a bare starlette endpoint in the
same run.

    .venv/bin/python bench/feed.py [--seconds 15] [--concurrency 32] [--members 50]

Starts the API (uvicorn, one worker pinned to core 0, PostgreSQL, Redis) and a bare
starlette JSON app, fills one group with members, 200 posts by many authors and likes,
then loads `GroupFeed(first: 20)` with `wrk` pinned to core 1, signed in as the members in
turn (so `likedByMe` is computed), and prints requests/s, p50, p99 and the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from harness import BARE_SCRIPT, measure, register_members, require, servers

WRK_SCRIPT = """
tokens = {%(tokens)s}
counter = 0
request = function()
  counter = counter + 1
  local token = tokens[(counter %% #tokens) + 1]
  return wrk.format("POST", "/graphql",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, %(body)s)
end
"""


def _operation(name: str) -> str:
    source = (Path(__file__).parents[2] / "shared" / "clients" / "community.graphql").read_text()
    start = source.index(f"query {name}")
    end = source.find("\nquery ", start + 1)
    end = source.find("\nmutation ", start + 1) if end < 0 else end
    return " ".join(source[start : end if end > 0 else None].split())


async def _fill(api: str, database_url: str, tokens: list[str], posts: int) -> str:
    """One group owned by the first member, everyone in it, `posts` posts, likes."""
    async with httpx.AsyncClient(base_url=api, timeout=60) as client:

        async def call(query: str, variables: dict[str, object], token: str, path: str) -> dict:
            headers = {"authorization": f"Bearer {token}"}
            body = {"query": query, "variables": variables}
            response = await client.post(path, json=body, headers=headers)
            return dict(response.json()["data"])

        staff = await _staff_token(client, database_url)
        me = await call("{ me { id } }", {}, tokens[0], "/graphql")
        created = await call(
            "mutation($i: CreateGroupInput!) { createGroup(input: $i) {"
            " ... on CommunityGroup { id } } }",
            {"i": {"slug": "bench", "name": "Bench", "ownerId": me["me"]["id"]}},
            staff,
            "/admin/graphql",
        )
        group_id = created["createGroup"]["id"]
        join = "mutation($g: ID!) { joinGroup(input: {groupId: $g}) { __typename } }"
        for token in tokens[1:]:
            await call(join, {"g": group_id}, token, "/graphql")
        create = (
            "mutation($g: ID!, $b: String!) { createPost(input: {groupId: $g, body: $b,"
            ' imageUrls: ["https://img.example.com/x.jpg"]}) { ... on Post { id } } }'
        )
        like = "mutation($p: ID!) { likePost(input: {postId: $p}) { __typename } }"
        for n in range(posts):
            token = tokens[n % len(tokens)]
            post = await call(create, {"g": group_id, "b": f"Bench post {n}"}, token, "/graphql")
            for liker in tokens[n % 3 :: 7]:
                await call(like, {"p": post["createPost"]["id"]}, liker, "/graphql")
    return str(group_id)


async def _staff_token(client: httpx.AsyncClient, database_url: str) -> str:
    env = {**os.environ, "DATABASE_URL": database_url, "STAFF_PASSWORD": "bench-staff-pass-1"}
    command = [sys.executable, "-m", "member_api.cli", "create-staff", "bench-op"]
    subprocess.run([*command, "--role", "operator"], env=env, check=True, capture_output=True)
    login = (
        'mutation { staffLogin(input: {username: "bench-op", password: "bench-staff-pass-1"})'
        " { ... on AuthTokens { accessToken } } }"
    )
    response = await client.post("/admin/graphql", json={"query": login})
    return str(response.json()["data"]["staffLogin"]["accessToken"])


async def main(seconds: float, concurrency: int, members: int, admin_url: str) -> None:
    require("wrk", "wrk")
    async with servers(admin_url) as running:
        tokens = await register_members(running.api, members, prefix="1360")
        group_id = await _fill(running.api, running.database_url, tokens, 200)
        body = json.dumps(
            {"query": _operation("GroupFeed"), "variables": {"groupId": group_id, "first": 20}}
        )
        script = WRK_SCRIPT % {
            "tokens": ", ".join(f'"{t}"' for t in tokens),
            "body": json.dumps(body),
        }
        print(f"concurrency {concurrency}, {seconds:.0f} s each after a 3 s warm-up")
        baseline = measure(
            "starlette", f"{running.bare}/graphql", BARE_SCRIPT, concurrency, seconds
        )
        result = measure("GroupFeed", f"{running.api}/graphql", script, concurrency, seconds)
        print(f"     ratio: GroupFeed / starlette = {result.rps / baseline.rps:.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--url", default="postgres://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.concurrency, args.members, args.url))
