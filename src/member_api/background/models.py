"""Runs of the scheduled jobs, their chunks, and the claims that let one scheduler
replica fire each due time."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class JobRun(Model):
    """One job as of one business date: the progress of its chunks, whoever started it."""

    id = fields.BigIntField(primary_key=True)
    job = fields.CharField(max_length=40)
    as_of = fields.DateField()
    status = fields.CharField(max_length=10, default="RUNNING")  # RUNNING, DONE, FAILED
    chunks_total = fields.IntField(default=0)
    chunks_done = fields.IntField(default=0)
    # Chunks given up after their last try (staff may put them back).
    chunks_failed = fields.IntField(default=0)
    processed = fields.BigIntField(default=0)
    changed = fields.BigIntField(default=0)
    errors = fields.IntField(default=0)
    last_error = fields.CharField(max_length=500, default="")
    # How often a trigger (the scheduler, a staff member, the CLI) asked for it.
    triggers = fields.IntField(default=0)
    started_at = fields.DatetimeField()
    # When a chunk was last taken or finished: a run pending for long without is stalled.
    progressed_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "job_run"
        unique_together = (("job", "as_of"),)


class JobChunk(Model):
    """A slice of a run over an id range, done once however often it is delivered."""

    id = fields.BigIntField(primary_key=True)
    run: fields.ForeignKeyRelation[JobRun] = fields.ForeignKeyField(
        "models.JobRun", related_name="chunks", on_delete=fields.CASCADE
    )
    run_id: int
    position = fields.IntField()
    low = fields.CharField(max_length=36)
    high = fields.CharField(max_length=36)
    # PENDING, RUNNING, DONE, FAILED (out of tries)
    status = fields.CharField(max_length=10, default="PENDING")
    # While RUNNING: until when the process that claimed it holds it.
    lease_until = fields.DatetimeField(null=True)
    # While PENDING after a failed try: not to be tried again before this.
    not_before = fields.DatetimeField(null=True)
    attempts = fields.IntField(default=0)
    processed = fields.IntField(default=0)
    changed = fields.IntField(default=0)
    last_error = fields.CharField(max_length=500, default="")
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "job_chunk"
        unique_together = (("run", "position"),)


class ScheduleClaim(Model):
    """The scheduler replica that fires a schedule at a due time: the first to insert."""

    id = fields.BigIntField(primary_key=True)
    schedule_id = fields.CharField(max_length=60)
    due_at = fields.DatetimeField()
    claimed_by = fields.CharField(max_length=120)
    claimed_at = fields.DatetimeField()

    class Meta:
        table = "schedule_claim"
        unique_together = (("schedule_id", "due_at"),)
