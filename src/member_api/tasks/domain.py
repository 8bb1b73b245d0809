"""The task catalogue: what a member does, which task it completes, and what that earns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from member_api.rules_data import build, choice, choices, count, table


class Action(StrEnum):
    """Things a member does that tasks count. Each is recorded once per reference."""

    PROFILE_COMPLETED = "PROFILE_COMPLETED"
    AUTHENTICATION = "AUTHENTICATION"
    SHARE_AUTHENTICATION = "SHARE_AUTHENTICATION"
    JOIN_GROUP = "JOIN_GROUP"
    POST = "POST"
    COMMENT = "COMMENT"
    LIKE = "LIKE"
    CHECK_IN = "CHECK_IN"
    EVENT_SIGN_UP = "EVENT_SIGN_UP"


class TaskCode(StrEnum):
    COMPLETE_PROFILE = "COMPLETE_PROFILE"
    FIRST_AUTHENTICATION = "FIRST_AUTHENTICATION"
    JOIN_GROUP = "JOIN_GROUP"
    FIRST_POST = "FIRST_POST"
    SHARE_AUTHENTICATION = "SHARE_AUTHENTICATION"
    NEW_MEMBER_WEEK = "NEW_MEMBER_WEEK"


class CouponKind(StrEnum):
    FREE_SHIPPING = "FREE_SHIPPING"
    NEW_MEMBER_DISCOUNT = "NEW_MEMBER_DISCOUNT"


COUPON_NAMES = {
    CouponKind.FREE_SHIPPING: "包邮券 Free-shipping coupon",
    CouponKind.NEW_MEMBER_DISCOUNT: "新人专享券 New-member discount coupon",
}
# Coupons of one kind in the new-member pack, at most.
MAX_PACK_COUPONS = 20

# Interactions that count toward the new-member week.
INTERACTIONS = frozenset(
    {
        Action.CHECK_IN,
        Action.POST,
        Action.COMMENT,
        Action.LIKE,
        Action.JOIN_GROUP,
        Action.SHARE_AUTHENTICATION,
        Action.EVENT_SIGN_UP,
    }
)


@dataclass(frozen=True)
class Task:
    code: TaskCode
    name: str
    description: str
    actions: frozenset[Action]
    target: int = 1
    coupon: CouponKind | None = None
    window_days: int | None = None  # counted only within this many days of joining


@dataclass(frozen=True)
class TaskRules:
    points: dict[str, int] = field(
        default_factory=lambda: {
            TaskCode.COMPLETE_PROFILE: 20,
            TaskCode.FIRST_AUTHENTICATION: 50,
            TaskCode.JOIN_GROUP: 10,
            TaskCode.FIRST_POST: 20,
            TaskCode.SHARE_AUTHENTICATION: 10,
            TaskCode.NEW_MEMBER_WEEK: 0,
        }
    )
    new_member_days: int = 7
    new_member_interactions: int = 3
    coupon_valid_days: int = 90
    # Completing the onboarding tasks inside the observation window (a tier rule, since the
    # window follows registration as a New member) earns this.
    onboarding: tuple[TaskCode, ...] = (TaskCode.COMPLETE_PROFILE, TaskCode.FIRST_AUTHENTICATION)
    welcome_points: int = 100
    # The new-member coupon pack (DOMAIN.md's New tier), issued with the member row: coupons
    # by kind. Given in the rules data it replaces this whole; empty switches the pack off.
    new_member_coupons: dict[CouponKind, int] = field(
        default_factory=lambda: {CouponKind.FREE_SHIPPING: 1, CouponKind.NEW_MEMBER_DISCOUNT: 1}
    )

    @classmethod
    def from_mapping(cls, values: Any) -> TaskRules:
        codes = [code.value for code in TaskCode]

        def points(value: Any, name: str) -> dict[str, int]:
            return table(value, name, codes, cls().points)

        def at_least_one(value: Any, name: str) -> int:
            return count(value, name, minimum=1)

        def onboarding(value: Any, name: str) -> tuple[TaskCode, ...]:
            return choices(value, name, TaskCode)

        parsers = {
            "points": points,
            "new_member_coupons": coupon_pack,
            "new_member_days": at_least_one,
            "new_member_interactions": at_least_one,
            "coupon_valid_days": at_least_one,
            "onboarding": onboarding,
        }
        return build(cls, values, "tasks", parsers)

    def catalogue(self) -> tuple[Task, ...]:
        return (
            Task(
                TaskCode.COMPLETE_PROFILE,
                "完善资料 Complete your profile",
                "Set a display name and an avatar.",
                frozenset({Action.PROFILE_COMPLETED}),
            ),
            Task(
                TaskCode.FIRST_AUTHENTICATION,
                "首次鉴定 First authentication",
                "Have your first item authenticated.",
                frozenset({Action.AUTHENTICATION}),
            ),
            Task(
                TaskCode.JOIN_GROUP,
                "加入圈子 Join a group",
                "Join an interest group in the community.",
                frozenset({Action.JOIN_GROUP}),
            ),
            Task(
                TaskCode.FIRST_POST,
                "首次发帖 First post",
                "Write your first post in a group.",
                frozenset({Action.POST}),
            ),
            Task(
                TaskCode.SHARE_AUTHENTICATION,
                "分享鉴定 Share an authentication",
                "Share the provenance page of an item we authenticated for you.",
                frozenset({Action.SHARE_AUTHENTICATION}),
            ),
            Task(
                TaskCode.NEW_MEMBER_WEEK,
                "新人7天任务 New-member week",
                f"Interact {self.new_member_interactions} times in your first "
                f"{self.new_member_days} days (check in, post, comment, like, join a group, "
                "share, sign up for an event) for a free-shipping coupon.",
                INTERACTIONS,
                target=self.new_member_interactions,
                coupon=CouponKind.FREE_SHIPPING,
                window_days=self.new_member_days,
            ),
        )

    def points_for(self, code: TaskCode) -> int:
        return self.points.get(code, 0)


def coupon_pack(value: Any, name: str) -> dict[CouponKind, int]:
    """Coupons by kind, `{"FREE_SHIPPING": 1}`: every kind known, each count whole and
    within bounds; `{}` is no pack."""
    if not isinstance(value, Mapping):
        raise ValueError(f"{name} must be a JSON object of coupon kinds to counts")
    return {
        choice(kind, f"{name}: coupon kind", CouponKind): count(
            n, f"{name}.{kind}", maximum=MAX_PACK_COUPONS
        )
        for kind, n in value.items()
    }


def window_end(task: Task, joined_at: datetime) -> datetime | None:
    return None if task.window_days is None else joined_at + timedelta(days=task.window_days)


def in_window(task: Task, joined_at: datetime, at: datetime) -> bool:
    end = window_end(task, joined_at)
    return end is None or at < end
