"""The scheduler: fires each scheduled job once per due time, however many scheduler
replicas run. Each replica computes the same due times from the same cron lines (in the
business time zone); before sending, it inserts a claim unique per schedule and due
minute, and only the replica whose insert succeeds sends the job."""

from __future__ import annotations

import logging
import os
import socket
from datetime import UTC, datetime

from taskiq import AsyncBroker, ScheduledTask, ScheduleSource, TaskiqScheduler
from taskiq.exceptions import ScheduledTaskCancelledError
from tortoise.exceptions import IntegrityError

from member_api.background.models import ScheduleClaim
from member_api.background.tasks import (
    deliver_outbox,
    resume_chunks,
    start_job,
    sweep_sentiment,
)
from member_api.clock import BUSINESS_ZONE
from member_api.settings import Settings

logger = logging.getLogger(__name__)


def replica_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class ClaimingScheduleSource(ScheduleSource):
    """The jobs' cron lines from the settings; a due time is sent by one replica only."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def get_schedules(self) -> list[ScheduledTask]:
        outbox = ScheduledTask(
            task_name=deliver_outbox.task_name,
            labels={},
            args=[],
            kwargs={},
            schedule_id="outbox:deliver",
            cron="* * * * *",
        )
        resume = ScheduledTask(
            task_name=resume_chunks.task_name,
            labels={},
            args=[],
            kwargs={},
            schedule_id="jobs:resume",
            cron="* * * * *",
        )
        # Posts and comments whose classification was never sent: a care alert within
        # a minute of posting, whatever happened to the process that took the post.
        sentiment = ScheduledTask(
            task_name=sweep_sentiment.task_name,
            labels={},
            args=[],
            kwargs={},
            schedule_id="sentiment:sweep",
            cron="* * * * *",
        )
        return [outbox, resume, sentiment] + [
            ScheduledTask(
                task_name=start_job.task_name,
                labels={},
                args=[job],
                kwargs={},
                schedule_id=f"job:{job}",
                cron=line,
                cron_offset=str(BUSINESS_ZONE),
            )
            for job, line in self.settings.job_schedules
        ]

    async def pre_send(self, task: ScheduledTask) -> None:
        now = datetime.now(UTC)
        due = now.replace(second=0, microsecond=0)
        try:
            await ScheduleClaim.create(
                schedule_id=task.schedule_id, due_at=due, claimed_by=replica_name(), claimed_at=now
            )
        except IntegrityError:
            logger.info("%s due %s: claimed by another replica", task.schedule_id, due)
            raise ScheduledTaskCancelledError from None
        task.task_id = f"{task.schedule_id}@{due:%Y%m%dT%H%MZ}"
        logger.info("%s due %s: sent by %s", task.schedule_id, due, replica_name())


def make_scheduler(broker: AsyncBroker, settings: Settings) -> TaskiqScheduler:
    return TaskiqScheduler(broker=broker, sources=[ClaimingScheduleSource(settings)])
