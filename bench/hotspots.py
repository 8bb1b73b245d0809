"""Where one operation's time goes: the API in process on PostgreSQL and Redis, one
member, the operation run N times under cProfile; prints the heaviest functions.

    .venv/bin/python bench/hotspots.py MemberCentre [--requests 300] [--sort tottime]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import json
import pstats
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).parent))
from all import _client_operation

from member_api.app import create_app
from member_api.settings import Settings


def _package(filename: str) -> str:
    if "site-packages/" in filename:
        return filename.split("site-packages/")[1].split("/")[0]
    if "/member_api/" in filename:
        return "member_api." + filename.split("/member_api/")[1].split("/")[0]
    if "/lib/python3" in filename:
        return "stdlib." + filename.rsplit("/", 1)[-1]
    return filename if filename.startswith("<") else "other"


async def main(name: str, requests: int, sort: str, admin_url: str) -> None:
    db_name = f"member_api_profile_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{db_name}"')
    db_url = admin_url.rsplit("/", 1)[0] + f"/{db_name}"
    try:
        settings = dataclasses.replace(
            Settings.from_env({}),
            database_url=db_url,
            cache_url="redis://127.0.0.1:6379/13",
            password_hash_memory_kib=1024,
            password_hash_time_cost=1,
            requests_per_member=10**9,
            requests_per_address=10**9,
        )
        from member_api import db

        await db.migrate(db_url)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                mutation = (
                    "mutation($input: RegisterInput!) { register(input: $input) "
                    "{ ... on AuthTokens { accessToken } } }"
                )
                variables = {"input": {"phone": "13700000001", "password": "profile-pass-1"}}
                reply = await client.post(
                    "/graphql", json={"query": mutation, "variables": variables}
                )
                token = reply.json()["data"]["register"]["accessToken"]
                body = {"query": _client_operation(name)}
                headers = {"authorization": f"Bearer {token}"}
                for _ in range(20):
                    warm = await client.post("/graphql", json=body, headers=headers)
                print(json.dumps(warm.json())[:300])
                started = time.perf_counter()
                for _ in range(requests):
                    await client.post("/graphql", json=body, headers=headers)
                plain = (time.perf_counter() - started) / requests * 1000
                print(f"{name}: {plain:.2f} ms per request, one at a time, in process")
                profiler = cProfile.Profile()
                started = time.perf_counter()
                profiler.enable()
                for _ in range(requests):
                    await client.post("/graphql", json=body, headers=headers)
                profiler.disable()
                elapsed = time.perf_counter() - started
                print(f"{name}: {elapsed / requests * 1000:.2f} ms per request (profiled)")
                stats = pstats.Stats(profiler)
                by_package: dict[str, float] = {}
                for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
                    by_package[_package(filename)] = by_package.get(_package(filename), 0) + tottime
                total = sum(by_package.values())
                for package, seconds in sorted(by_package.items(), key=lambda kv: -kv[1])[:14]:
                    print(f"{package:>22}: {seconds / total:6.1%}")
                stats.sort_stats(sort).print_stats(40)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("operation")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--url", default="postgres://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    asyncio.run(main(args.operation, args.requests, args.sort, args.url))
