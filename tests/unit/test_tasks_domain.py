"""The task catalogue: which actions complete which task, rewards, and the new-member week."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from member_api.tasks.domain import (
    COUPON_NAMES,
    INTERACTIONS,
    Action,
    CouponKind,
    Task,
    TaskCode,
    TaskRules,
    in_window,
    window_end,
)
from member_api.tiers.rules import TierRules

RULES = TaskRules()
CATALOGUE = {task.code: task for task in RULES.catalogue()}
WEEK = CATALOGUE[TaskCode.NEW_MEMBER_WEEK]
SHANGHAI = ZoneInfo("Asia/Shanghai")
JOINED = datetime(2026, 11, 23, 0, 0, tzinfo=SHANGHAI)  # midnight in Shanghai


def test_the_catalogue_has_one_task_per_code() -> None:
    assert len(RULES.catalogue()) == len(CATALOGUE) == len(TaskCode)


@pytest.mark.parametrize(
    ("code", "action"),
    [
        (TaskCode.COMPLETE_PROFILE, Action.PROFILE_COMPLETED),
        (TaskCode.FIRST_AUTHENTICATION, Action.AUTHENTICATION),
        (TaskCode.JOIN_GROUP, Action.JOIN_GROUP),
        (TaskCode.FIRST_POST, Action.POST),
        (TaskCode.SHARE_AUTHENTICATION, Action.SHARE_AUTHENTICATION),
    ],
)
def test_a_one_off_task_is_completed_by_its_single_action(code: TaskCode, action: Action) -> None:
    task = CATALOGUE[code]
    assert task.actions == frozenset({action})
    assert task.target == 1
    assert task.window_days is None
    assert task.coupon is None


@pytest.mark.parametrize(
    ("code", "points"),
    [
        (TaskCode.COMPLETE_PROFILE, 20),
        (TaskCode.FIRST_AUTHENTICATION, 50),
        (TaskCode.JOIN_GROUP, 10),
        (TaskCode.FIRST_POST, 20),
        (TaskCode.SHARE_AUTHENTICATION, 10),
        (TaskCode.NEW_MEMBER_WEEK, 0),  # it earns a coupon instead
    ],
)
def test_each_task_earns_its_points(code: TaskCode, points: int) -> None:
    assert RULES.points_for(code) == points


def test_points_come_from_configuration_keyed_by_plain_names() -> None:
    rules = TaskRules(points={"FIRST_POST": 5})
    assert rules.points_for(TaskCode.FIRST_POST) == 5
    assert rules.points_for(TaskCode.COMPLETE_PROFILE) == 0  # not configured: nothing


def test_each_rules_object_has_its_own_points_table() -> None:
    assert TaskRules().points is not TaskRules().points


# --- New-member week --------------------------------------------------------------------


def test_the_new_member_week_is_three_interactions_in_seven_days_for_free_shipping() -> None:
    assert WEEK.target == 3
    assert WEEK.window_days == 7
    assert WEEK.coupon is CouponKind.FREE_SHIPPING
    assert WEEK.actions == INTERACTIONS


def test_profile_and_authentication_are_not_interactions() -> None:
    assert Action.PROFILE_COMPLETED not in INTERACTIONS
    assert Action.AUTHENTICATION not in INTERACTIONS
    assert set(Action) - INTERACTIONS == {Action.PROFILE_COMPLETED, Action.AUTHENTICATION}


def test_the_new_member_week_follows_its_configuration() -> None:
    week = {t.code: t for t in TaskRules(new_member_days=14, new_member_interactions=5).catalogue()}
    task = week[TaskCode.NEW_MEMBER_WEEK]
    assert (task.target, task.window_days) == (5, 14)
    assert "Interact 5 times in your first 14 days" in task.description


def test_the_window_ends_seven_days_after_joining() -> None:
    assert window_end(WEEK, JOINED) == JOINED + timedelta(days=7)


def test_a_task_without_a_window_never_ends() -> None:
    task = CATALOGUE[TaskCode.FIRST_POST]
    assert window_end(task, JOINED) is None
    assert in_window(task, JOINED, JOINED + timedelta(days=3650))


@pytest.mark.parametrize(
    ("at", "inside"),
    [
        (JOINED, True),
        (JOINED + timedelta(days=7, microseconds=-1), True),
        (JOINED + timedelta(days=7), False),  # the end is not in the window
        (JOINED + timedelta(days=8), False),
    ],
)
def test_an_action_counts_only_strictly_before_the_window_ends(at: datetime, inside: bool) -> None:
    assert in_window(WEEK, JOINED, at) is inside


def test_the_window_is_measured_in_instants_whatever_the_zone() -> None:
    # Seven days after midnight in Shanghai is 16:00 UTC six days after joining.
    assert in_window(WEEK, JOINED, datetime(2026, 11, 29, 15, 59, 59, 999_999, tzinfo=UTC))
    assert not in_window(WEEK, JOINED, datetime(2026, 11, 29, 16, 0, tzinfo=UTC))


@given(
    st.integers(min_value=1, max_value=60),
    st.integers(min_value=0, max_value=90 * 24 * 3600),
)
def test_an_action_is_in_the_window_exactly_when_it_is_under_window_days_old(
    days: int, seconds: int
) -> None:
    task = Task(TaskCode.NEW_MEMBER_WEEK, "", "", INTERACTIONS, window_days=days)
    at = JOINED + timedelta(seconds=seconds)
    assert in_window(task, JOINED, at) is (seconds < days * 24 * 3600)


# --- Onboarding -------------------------------------------------------------------------


def test_onboarding_is_profile_and_first_authentication_within_30_days() -> None:
    assert set(RULES.onboarding) == {TaskCode.COMPLETE_PROFILE, TaskCode.FIRST_AUTHENTICATION}
    assert TierRules().observation_days == 30  # the window follows registration
    assert RULES.welcome_points > 0
    assert all(code in CATALOGUE for code in RULES.onboarding)


# --- The new-member coupon pack -----------------------------------------------------------


def test_the_default_pack_is_a_free_shipping_and_a_new_member_discount_coupon() -> None:
    assert RULES.new_member_coupons == {
        CouponKind.FREE_SHIPPING: 1,
        CouponKind.NEW_MEMBER_DISCOUNT: 1,
    }
    assert TaskRules.from_mapping({}).new_member_coupons == RULES.new_member_coupons


def test_a_pack_given_replaces_the_default_whole() -> None:
    rules = TaskRules.from_mapping({"new_member_coupons": {"NEW_MEMBER_DISCOUNT": 3}})
    assert rules.new_member_coupons == {CouponKind.NEW_MEMBER_DISCOUNT: 3}
    counted = TaskRules.from_mapping({"new_member_coupons": {"FREE_SHIPPING": 0}})
    assert counted.new_member_coupons == {CouponKind.FREE_SHIPPING: 0}


def test_an_empty_pack_switches_it_off() -> None:
    assert TaskRules.from_mapping({"new_member_coupons": {}}).new_member_coupons == {}


def test_every_coupon_kind_has_a_name() -> None:
    assert set(COUPON_NAMES) == set(CouponKind)
