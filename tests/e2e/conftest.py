"""A real server set up as `make run` does (migrate, seed, serve), one per test module.

Besides the demo data, its database holds FUZZ_STAFF, a staff account with every role,
so that a client can reach each staff field past the permission checks.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from member_api.staff.domain import StaffRole

FUZZ_STAFF = ("fuzz-staff", "fuzz-staff-pass-1")
ALL_STAFF_ROLES = tuple(role.value for role in StaffRole)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir: Path = tmp_path_factory.mktemp("server")
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite://{workdir / 'member-api.sqlite3'}",
        "CACHE_URL": "memory://",
        "PORT": str(port),
        "ENVIRONMENT": "development",
        # Every request of these tests comes from one address: the fuzzing alone sends
        # more than the per-address limit allows in a minute, and limits are tested
        # elsewhere, against the real Redis.
        "REQUESTS_PER_ADDRESS": "1000000",
    }
    command = [sys.executable, "-m", "member_api.cli"]
    username, password = FUZZ_STAFF
    create_staff = ["create-staff", username, *(f"--role={role}" for role in ALL_STAFF_ROLES)]
    for step in (["migrate"], ["seed-demo", "--if-empty"], create_staff):
        subprocess.run(
            [*command, *step],
            env={**env, "STAFF_PASSWORD": password},
            cwd=workdir,
            check=True,
            timeout=120,
        )
    log = (workdir / "server.log").open("w")
    process = subprocess.Popen(
        [*command, "serve"], env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        else:
            raise AssertionError((workdir / "server.log").read_text())
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
