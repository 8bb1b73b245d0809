"""The queue when things break, on RabbitMQ with real worker processes: a task that kills
every worker that takes it ends in the dead letters while the work queued behind it is
done; a broker restarted under load loses no chunk and duplicates none."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import aio_pika
import pytest
from taskiq.kicker import AsyncKicker

from member_api.background import runs
from member_api.background.broker import DELIVERY_LIMIT, make_broker
from member_api.background.models import JobChunk, JobRun
from member_api.jobs import run_job
from member_api.members.models import Member
from member_api.settings import Settings
from member_api.tiers.models import TierReviewResult
from tests.conftest import need_tools, run_in_own_loop
from tests.queue_support import gold_members, in_db, start, stop

REVIEW = date(2026, 10, 1)

POISON = "member_api_test.poison"
# Loaded by every Python started with this folder on its path: a task that kills the
# process running it, as a task that corrupts memory or runs out of it would.
SITECUSTOMIZE = f'''
import os, signal
from taskiq.brokers.shared_broker import async_shared_broker

@async_shared_broker.task(task_name="{POISON}")
async def poison() -> None:
    os.kill(os.getpid(), signal.SIGKILL)
'''


def _wait_for(check: object, *, seconds: float, log: Path, step: float = 0.5) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()  # type: ignore[operator]
        if value:
            return value
        time.sleep(step)
    raise AssertionError(log.read_text()[-4000:] if log.exists() else "timed out")


def _troubles(log: Path, exits: list[int | None]) -> str:
    """The workers' exit codes and what they logged beyond routine task starts."""
    lines = [line for line in log.read_text().splitlines() if "Executing task" not in line]
    return f"exit codes {exits}\n" + "\n".join(lines[-60:])


async def _dead_letters(broker_url: str, queue: str) -> list[str]:
    """The task names of the messages in the queue's dead letters (left in place)."""
    connection = await aio_pika.connect(broker_url)
    try:
        channel = await connection.channel()
        dead = await channel.declare_queue(f"{queue}.dead-letters", passive=True)
        names = []
        # Taken unacknowledged: they go back to the queue when the connection closes.
        while (message := await dead.get(fail=False)) is not None:
            names.append(str(message.headers.get("task_name") or message.body[:200]))
        return names
    finally:
        await connection.close()


def test_a_task_that_kills_its_worker_goes_to_the_dead_letters_and_the_queue_moves_on(
    queue_env: dict[str, str], tmp_path: Path
) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "sitecustomize.py").write_text(SITECUSTOMIZE)
    env = {**queue_env, "PYTHONPATH": f"{plugins}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    url = env["DATABASE_URL"]
    members = run_in_own_loop(in_db(url, lambda: gold_members(300)))
    settings = Settings.from_env(env)

    async def send_poison() -> None:
        broker = make_broker(settings)
        await broker.startup()
        try:
            await AsyncKicker(task_name=POISON, broker=broker, labels={}).kiq()
        finally:
            await broker.shutdown()

    run_in_own_loop(send_poison())
    run_in_own_loop(run_job(settings, "tier-review", REVIEW, wait=False))
    log = tmp_path / "workers.log"
    deaths = 0
    worker = start(env, "worker", "--tasks", "1", log=log)

    async def status() -> str:
        return (await JobRun.get(job="tier-review", as_of=REVIEW)).status

    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if worker.poll() is not None:  # a supervisor restarts a worker that died
                assert worker.returncode == -signal.SIGKILL, log.read_text()[-3000:]
                deaths += 1
                worker = start(env, "worker", "--tasks", "1", log=log)
            if run_in_own_loop(in_db(url, status)) == "DONE":
                break
            time.sleep(0.3)
        else:
            raise AssertionError(log.read_text()[-4000:])
    finally:
        stop(worker)
    # Delivered, and killing its worker, until RabbitMQ's delivery limit; then set aside.
    assert DELIVERY_LIMIT <= deaths <= DELIVERY_LIMIT + 1
    dead = run_in_own_loop(_dead_letters(env["BROKER_URL"], env["BROKER_QUEUE"]))
    assert dead == [POISON]

    async def outcome() -> tuple[int, int]:
        return (
            await TierReviewResult.filter(review__review_date=REVIEW).count(),
            await Member.filter(tier="SILVER").count(),
        )

    assert run_in_own_loop(in_db(url, outcome)) == (len(members), len(members))


# --- a RabbitMQ node of the test's own, stopped and started under load ---


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rabbitmq_server() -> str:
    """The server script itself: Debian's wrapper on the PATH would switch to the
    rabbitmq user, who cannot write in this test's folder."""
    direct = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
    return str(direct) if direct.exists() else str(shutil.which("rabbitmq-server"))


class OwnRabbit:
    """A RabbitMQ node in a temporary folder, on ports of its own."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = _free_port()
        self.dist_port = _free_port()
        self.name = f"test{uuid.uuid4().hex[:8]}@localhost"
        home.mkdir(parents=True, exist_ok=True)
        (home / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.port}\nloopback_users = none\n"
        )
        (home / "enabled_plugins").write_text("[].\n")
        (home / "mnesia").mkdir(exist_ok=True)
        (home / "log").mkdir(exist_ok=True)
        self.env = {
            **os.environ,
            "HOME": str(home),
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(home / "mnesia"),
            "RABBITMQ_LOG_BASE": str(home / "log"),
            "RABBITMQ_CONFIG_FILE": str(home / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(home / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(home / "node.pid"),
            "RABBITMQ_FEATURE_FLAGS_FILE": str(home / "feature_flags"),
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def start(self) -> None:
        with (self.home / "server.out").open("ab") as out:
            self.process = subprocess.Popen(
                [rabbitmq_server()],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError((self.home / "server.out").read_text()[-3000:])
            try:
                run_in_own_loop(self._ping())
                return
            except (OSError, aio_pika.exceptions.AMQPError):  # still booting
                time.sleep(0.5)
        raise AssertionError((self.home / "server.out").read_text()[-3000:])

    async def _ping(self) -> None:
        connection = await aio_pika.connect(self.url, timeout=2)
        await connection.close()

    def kill(self) -> None:
        """Stop the node at once, as a crashed host would (its whole process group)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        # epmd keeps the name registered for a moment: wait until the port is free.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) != 0:
                    return
            time.sleep(0.2)


@pytest.fixture
def own_rabbit(tmp_path: Path) -> Iterator[OwnRabbit]:
    need_tools("rabbitmq-server")
    node = OwnRabbit(tmp_path / "rabbit")
    node.start()
    try:
        yield node
    finally:
        node.kill()


def test_a_broker_restarted_under_load_loses_no_chunk_and_duplicates_none(
    queue_env: dict[str, str],
    own_rabbit: OwnRabbit,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 32 chunks of about 250 members (the run is split here, where the test sends it).
    monkeypatch.setattr(runs, "CHUNK_MEMBERS", 250)
    env = {**queue_env, "BROKER_URL": own_rabbit.url, "JOB_CHUNK_LEASE_SECONDS": "5"}
    url = env["DATABASE_URL"]
    members = run_in_own_loop(in_db(url, lambda: gold_members(8_000)))
    settings = Settings.from_env(env)
    log = tmp_path / "workers.log"
    workers = [start(env, "worker", "--tasks", "2", log=log) for _ in range(2)]

    async def progress() -> tuple[int, int, str]:
        run = await JobRun.get(job="tier-review", as_of=REVIEW)
        return run.chunks_done, run.chunks_total, run.status

    try:
        run_in_own_loop(run_job(settings, "tier-review", REVIEW, wait=False))
        # Under way: some chunks done, most still queued in the broker.
        _wait_for(
            lambda: run_in_own_loop(in_db(url, progress))[0] >= 1,  # type: ignore[index]
            seconds=120,
            log=log,
            step=0.1,
        )
        done, total, _ = run_in_own_loop(in_db(url, progress))  # type: ignore[misc]
        own_rabbit.kill()
        # Killed with most chunks still queued, beyond what the workers held.
        assert done + 4 < total
        time.sleep(2)
        own_rabbit.start()
        # The workers reconnect and the queued chunks survive (quorum queues keep them
        # on disk); a chunk whose message was lost in flight is sent again by the sweep.
        _wait_for(
            lambda: run_in_own_loop(in_db(url, progress))[2] == "DONE",  # type: ignore[index]
            seconds=240,
            log=log,
        )
        exits = [worker.poll() for worker in workers]
        assert exits == [None, None], _troubles(log, exits)
    finally:
        for worker in workers:
            stop(worker)

    async def outcome() -> tuple[int, int, int, list[str]]:
        run = await JobRun.get(job="tier-review", as_of=REVIEW)
        results = await TierReviewResult.filter(review__review_date=REVIEW).count()
        done = await JobChunk.filter(run_id=run.id, status="DONE").count()
        tiers = sorted(set(await Member.all().values_list("tier", flat=True)))
        return run.processed, results, done - run.chunks_total, tiers

    assert run_in_own_loop(in_db(url, outcome)) == (len(members), len(members), 0, ["SILVER"])
