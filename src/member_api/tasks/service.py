"""Recording what members do, completing tasks from it, each reward granted once."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.functions import Count
from tortoise.transactions import in_transaction

from member_api.commerce.domain import EventType
from member_api.commerce.models import CommerceEvent
from member_api.db import create_once
from member_api.error_codes import TaskErrorCode
from member_api.errors import NotFound
from member_api.members.models import Member
from member_api.notifications.service import notify
from member_api.points import service as points
from member_api.points.domain import Reason
from member_api.services import Services
from member_api.tasks.domain import (
    COUPON_NAMES,
    Action,
    CouponKind,
    Task,
    TaskCode,
    in_window,
    window_end,
)
from member_api.tasks.models import Coupon, MemberAction, TaskCompletion
from member_api.tiers import service as tiers

_COUPON_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


async def record(
    services: Services, *, member_id: uuid.UUID, action: Action, reference: str
) -> list[TaskCode]:
    """Record that the member did `action` (once per reference) and complete what it
    completes. Call it inside the transaction of the action itself, before touching the
    member's ledger: it locks the member row so that concurrent actions count each other."""
    now = services.clock.now()
    member = await tiers.lock_member(member_id)
    if not await create_once(
        MemberAction, member_id=member_id, action=action.value, reference=reference[:160], at=now
    ):
        return []  # the same action replayed
    rules = services.settings.task_rules
    done: list[TaskCode] = []
    for task in rules.catalogue():
        if action not in task.actions or not in_window(task, member.joined_at, now):
            continue
        if await _count(member, task) < task.target:
            continue
        if await _complete(services, member, task, now):
            done.append(task.code)
    if done:
        await _welcome_if_onboarded(services, member, now)
    return done


async def _count(member: Member, task: Task) -> int:
    query = MemberAction.filter(member_id=member.id, action__in=[a.value for a in task.actions])
    end = window_end(task, member.joined_at)
    if end is not None:
        query = query.filter(at__lt=end)
    return await query.limit(task.target).count()


async def _progress(member: Member, tasks: list[Task]) -> dict[TaskCode, int]:
    """Each task's count of the member's actions (within its window, if it has one): one
    grouped count per distinct window end, not one query per task."""
    by_end: dict[datetime | None, list[Task]] = {}
    for task in tasks:
        by_end.setdefault(window_end(task, member.joined_at), []).append(task)
    progress: dict[TaskCode, int] = {}
    for end, grouped in by_end.items():
        actions = sorted({a.value for task in grouped for a in task.actions})
        query = MemberAction.filter(member_id=member.id, action__in=actions)
        if end is not None:
            query = query.filter(at__lt=end)
        rows = await query.annotate(n=Count("id")).group_by("action").values_list("action", "n")
        counts = {str(action): int(n) for action, n in rows}
        for task in grouped:
            progress[task.code] = sum(counts.get(a.value, 0) for a in task.actions)
    return progress


async def _complete(services: Services, member: Member, task: Task, now: datetime) -> bool:
    reward = services.settings.task_rules.points_for(task.code)
    if not await create_once(
        TaskCompletion, member_id=member.id, code=task.code.value, completed_at=now, points=reward
    ):
        return False
    if reward > 0:
        await points.credit_activity(
            services,
            member_id=member.id,
            reason=Reason.TASK,
            points=reward,
            reference=f"task:{task.code.value}",
        )
    if task.coupon is not None:
        await issue_coupon(services, member.id, task.coupon, source=f"task:{task.code.value}")
    await notify(
        member_id=member.id,
        kind="TASK",
        title=f"Task done: {task.name}",
        body=_reward_words(reward, task.coupon),
        at=now,
        dedupe_key=f"task:{task.code.value}",
    )
    return True


def _reward_words(reward: int, coupon: CouponKind | None) -> str:
    parts = [f"{reward} points"] if reward else []
    if coupon is not None:
        parts.append(f"a {COUPON_NAMES[coupon]}")
    return "You earned " + " and ".join(parts) + "." if parts else "Well done."


async def _welcome_if_onboarded(services: Services, member: Member, now: datetime) -> None:
    rules = services.settings.task_rules
    observation = timedelta(days=services.settings.tier_rules.observation_days)
    if rules.welcome_points <= 0 or now >= member.joined_at + observation:
        return
    codes = [code.value for code in rules.onboarding]
    if await TaskCompletion.filter(member_id=member.id, code__in=codes).count() < len(codes):
        return
    await points.credit_activity(
        services,
        member_id=member.id,
        reason=Reason.TASK,
        points=rules.welcome_points,
        reference="welcome",
    )
    await notify(
        member_id=member.id,
        kind="TASK",
        title="Welcome gift",
        body=f"You finished onboarding: {rules.welcome_points} points are yours.",
        at=now,
        dedupe_key="welcome",
    )


async def issue_coupon(
    services: Services, member_id: uuid.UUID, kind: CouponKind, *, source: str
) -> bool:
    now = services.clock.now()
    code = "C-" + "".join(secrets.choice(_COUPON_ALPHABET) for _ in range(10))
    return await create_once(
        Coupon,
        member_id=member_id,
        kind=kind.value,
        code=code,
        source=source,
        issued_at=now,
        expires_at=now + timedelta(days=services.settings.task_rules.coupon_valid_days),
    )


async def issue_new_member_pack(services: Services, member_id: uuid.UUID) -> None:
    """The new-member coupon pack, inside the transaction that creates the member. Each
    coupon has a source of its own (kind and number), so none is issued twice."""
    for kind, number in services.settings.task_rules.new_member_coupons.items():
        for n in range(1, number + 1):
            await issue_coupon(services, member_id, kind, source=f"new-member:{kind.value}:{n}")


async def share_authentication(
    services: Services, *, member_id: uuid.UUID, item_public_id: str
) -> tuple[str, list[TaskCode]]:
    """Record a share of an item we authenticated for this member; the link to share."""
    authenticated = await CommerceEvent.exists(
        member_id=member_id,
        type=EventType.AUTHENTICATION_COMPLETED.value,
        item_public_id=item_public_id,
    )
    if not authenticated:
        raise NotFound(
            TaskErrorCode.UNKNOWN_AUTHENTICATION, "You have no authentication of that item."
        )
    async with in_transaction():
        done = await record(
            services,
            member_id=member_id,
            action=Action.SHARE_AUTHENTICATION,
            reference=item_public_id,
        )
    return f"{services.settings.public_base_url}/p/{item_public_id}", done


@dataclass(frozen=True)
class TaskStatus:
    task: Task
    points: int
    progress: int
    completed_at: datetime | None
    available_until: datetime | None


async def statuses(services: Services, member: Member) -> list[TaskStatus]:
    rules = services.settings.task_rules
    completions = {row.code: row for row in await TaskCompletion.filter(member_id=member.id).all()}
    open_tasks = [task for task in rules.catalogue() if task.code.value not in completions]
    counted = await _progress(member, open_tasks) if open_tasks else {}
    result = []
    for task in rules.catalogue():
        done = completions.get(task.code.value)
        progress = task.target if done else counted[task.code]
        result.append(
            TaskStatus(
                task=task,
                points=done.points if done else rules.points_for(task.code),
                progress=min(progress, task.target),
                completed_at=done.completed_at if done else None,
                available_until=window_end(task, member.joined_at),
            )
        )
    return result
