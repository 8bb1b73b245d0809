"""On RabbitMQ, a worker process classifies a comment sent to it and raises its care
alert once, however often the message comes."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from member_api.background.broker import make_broker
from member_api.background.tasks import send_classify
from member_api.community.models import Comment, Group, Post
from member_api.intelligence.models import CareAlert, ContentSentiment
from member_api.members.models import Member
from member_api.settings import Settings
from tests.conftest import run_in_own_loop
from tests.queue_support import in_db, start, stop


async def a_negative_comment() -> uuid.UUID:
    now = datetime.now(UTC)
    member = await Member.create(
        display_name="m", referral_code="SENT0001", joined_at=now, updated_at=now
    )
    group = await Group.create(slug="sentiment", name="Sentiment", owner_id=member.id,
                               created_at=now)  # fmt: skip
    post = await Post.create(group_id=group.id, author_id=member.id, body="我的新包",
                             created_on=now.date(), created_at=now)  # fmt: skip
    comment = await Comment.create(post_id=post.id, author_id=member.id,
                                   body="售后太敷衍了，问了三天没人理", created_at=now)  # fmt: skip
    return comment.id


def test_a_worker_classifies_a_sent_comment_once(queue_env: dict[str, str], tmp_path: Path) -> None:
    url = queue_env["DATABASE_URL"]
    comment_id = run_in_own_loop(in_db(url, a_negative_comment))
    settings = Settings.from_env(queue_env)
    worker = start(queue_env, "worker", log=tmp_path / "worker.log")

    async def send_twice() -> None:
        broker = make_broker(settings)
        await broker.startup()
        try:
            for _ in range(2):
                await send_classify("COMMENT", comment_id)
        finally:
            await broker.shutdown()

    async def written() -> tuple[int, int]:
        return (
            await ContentSentiment.filter(source_id=comment_id).count(),
            await CareAlert.filter(source_id=comment_id).count(),
        )

    try:
        run_in_own_loop(send_twice())
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if run_in_own_loop(in_db(url, written)) == (1, 1):
                break
            time.sleep(0.25)
        else:
            raise AssertionError((tmp_path / "worker.log").read_text()[-3000:])
        time.sleep(1)  # the second message, handled by now, changed nothing
        assert run_in_own_loop(in_db(url, written)) == (1, 1)
    finally:
        stop(worker)
