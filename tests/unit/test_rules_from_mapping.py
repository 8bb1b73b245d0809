"""The business rules as configuration data: each area's `from_mapping` keeps DOMAIN.md's
defaults for what is not given, and refuses unknown keys and bad values; Settings reads
them from RULES_FILE (and TIER_RULES_FILE), with single-rule variables on top."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from member_api.badges.domain import BadgeRules, Counter
from member_api.community.domain import CommunityRules
from member_api.points.domain import PointsRules
from member_api.rights.domain import Period, RightsRules
from member_api.settings import RULE_SECTIONS, Settings, SettingsError
from member_api.tasks.domain import TaskCode, TaskRules
from member_api.tiers.rules import TierCode, TierRules

ALL_RULES = [TierRules, PointsRules, TaskRules, CommunityRules, RightsRules, BadgeRules]


@pytest.mark.parametrize("rules", ALL_RULES)
def test_nothing_given_means_domain_defaults(rules: Any) -> None:
    assert rules.from_mapping({}) == rules()


@pytest.mark.parametrize(
    ("rules", "values", "message"),
    [
        # unknown keys, at every level
        (TierRules, {"commision_percent": {}}, "unknown tier rule"),
        (PointsRules, {"check_in_pointz": 7}, "unknown points rule"),
        (TaskRules, {"observation_days": 30}, "unknown tasks rule"),  # a tier rule now
        (CommunityRules, {"post_point": 4}, "unknown community rule"),
        (RightsRules, {"catalog": {}}, "unknown rights rule"),
        (BadgeRules, {"thresholds": {}}, "unknown badges rule"),
        (RightsRules, {"catalogue": {"FREE_PACKAGING": {"colour": "red"}}}, "unknown rights"),
        (BadgeRules, {"catalogue": {"STREAK_7": {"level": 3}}}, "unknown badges"),
        (TierRules, {"commission_percent": {"PLATINUM": 5}}, "unknown code"),
        (PointsRules, {"multiplier_percent": {"VIP": 150}}, "unknown code"),
        (TaskRules, {"points": {"FIRST_POSTS": 5}}, "unknown code"),
        # bad numbers
        (TierRules, {"commission_percent": {"GOLD": 101}}, r"GOLD must be an integer in 0\.\.100"),
        (TierRules, {"commission_percent": {"GOLD": "12"}}, "GOLD must be an integer"),
        (TierRules, {"observation_days": -1}, "observation_days must be a non-negative"),
        (PointsRules, {"check_in_points": "7"}, "check_in_points must be a non-negative"),
        (PointsRules, {"check_in_points": 7.5}, "check_in_points must be a non-negative"),
        (PointsRules, {"event_attendance_points": True}, "non-negative"),
        (
            PointsRules,
            {"referral_percent": 101},
            r"referral_percent must be an integer in 0\.\.100",
        ),
        (PointsRules, {"multiplier_percent": [150]}, "JSON object"),
        (TaskRules, {"points": {"FIRST_POST": -5}}, "FIRST_POST must be a non-negative"),
        (
            TaskRules,
            {"new_member_interactions": 0},
            "new_member_interactions must be an integer >= 1",
        ),
        (TaskRules, {"welcome_points": None}, "welcome_points must be a non-negative"),
        (TaskRules, {"onboarding": ["COMPLETE_PROFILE", "NOPE"]}, "onboarding must be one of"),
        (
            TaskRules,
            {"new_member_coupons": {"FREE_SHIPING": 1}},
            "new_member_coupons: coupon kind must be one of FREE_SHIPPING, NEW_MEMBER_DISCOUNT",
        ),
        (
            TaskRules,
            {"new_member_coupons": {"FREE_SHIPPING": -1}},
            r"new_member_coupons\.FREE_SHIPPING must be an integer in 0\.\.20, got -1",
        ),
        (TaskRules, {"new_member_coupons": {"FREE_SHIPPING": 21}}, r"in 0\.\.20, got 21"),
        (TaskRules, {"new_member_coupons": {"FREE_SHIPPING": 1.5}}, r"in 0\.\.20"),
        (TaskRules, {"new_member_coupons": ["FREE_SHIPPING"]}, "JSON object of coupon kinds"),
        (CommunityRules, {"report_threshold": 0}, "report_threshold must be an integer >= 1"),
        (CommunityRules, {"quiz_points": -20}, "quiz_points must be a non-negative"),
        (CommunityRules, {"banned_words": "a,b"}, "banned_words must be a list of strings"),
        (
            BadgeRules,
            {"catalogue": {"STREAK_7": {"threshold": 0}}},
            "threshold must be an integer >= 1",
        ),
        (BadgeRules, {"catalogue": {"STREAK_7": {"counter": "LIKES"}}}, "counter must be one of"),
        (BadgeRules, {"catalogue": {"STREAK_100": {"threshold": 100}}}, "needs name, counter"),
        (BadgeRules, [], "must be a JSON object"),
        # bad catalogue entries
        (RightsRules, {"catalogue": {"FREE_PACKAGING": {"min_tier": "PLATINUM"}}}, "one of NEW"),
        (RightsRules, {"catalogue": {"CONCIERGE": {"name": "x"}}}, "needs description, min_tier"),
        (RightsRules, {"catalogue": {"FREE_PACKAGING": {"limit": 2}}}, "both a limit and a period"),
        (RightsRules, {"catalogue": {"BIRTHDAY_DISCOUNT": {"limit": 0}}}, "limit must be"),
        (RightsRules, {"catalogue": {"BIRTHDAY_DISCOUNT": {"period": "WEEK"}}}, "period must be"),
        (RightsRules, {"catalogue": {"FREE_PACKAGING": {"name": " "}}}, "non-empty string"),
        (RightsRules, {"catalogue": {"GONE": None}}, "no GONE to remove"),
        (RightsRules, {"catalogue": {"free packaging": None}}, "is not a code"),
        (RightsRules, {"catalogue": {"FREE_PACKAGING": "DIAMOND"}}, "must be a JSON object"),
        (RightsRules, {"catalogue": ["FREE_PACKAGING"]}, "must be a JSON object"),
        (
            RightsRules,
            {"catalogue": {"FIRST_AUTHENTICATION_FREE": {"limit": None, "period": None}}},
            "FIRST_AUTHENTICATION_FREE is used up by events, so it needs a limit and a period",
        ),
    ],
)
def test_from_mapping_refuses_unknown_keys_and_bad_values(
    rules: Any, values: Any, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        rules.from_mapping(values)


def test_tables_by_code_keep_the_defaults_of_codes_not_given() -> None:
    tiers = TierRules.from_mapping({"commission_percent": {"GOLD": 12}})
    assert tiers.commission_rate(TierCode.GOLD) == 0.12
    assert tiers.commission_rate(TierCode.SILVER) == 0.10
    assert tiers.commission_rate(TierCode.DIAMOND) == 0.08
    points = PointsRules.from_mapping({"multiplier_percent": {"DIAMOND": 200}})
    assert [points.multiplier(t) for t in TierCode] == [100, 100, 150, 200, 150]
    tasks = TaskRules.from_mapping({"points": {"FIRST_POST": 5}})
    assert tasks.points_for(TaskCode.FIRST_POST) == 5
    assert tasks.points_for(TaskCode.FIRST_AUTHENTICATION) == 50


def test_a_rights_catalogue_entry_is_changed_moved_removed_or_added() -> None:
    rules = RightsRules.from_mapping(
        {
            "catalogue": {
                "FREE_PACKAGING": None,
                "VIP_AUCTIONS": {"min_tier": "DIAMOND"},
                "CURATED_SELECTION": {"limit": 5},
                "CONCIERGE": {"name": "礼宾", "description": "On call.", "min_tier": "GOLD"},
            }
        }
    )
    codes = [right.code for right in rules.catalogue]
    assert "FREE_PACKAGING" not in codes
    assert codes[-1] == "CONCIERGE"  # new rights come last; the others keep their order
    assert codes[:-1] == [r.code for r in RightsRules().catalogue if r.code != "FREE_PACKAGING"]
    gold = {right.code for right in rules.rights_for(TierCode.GOLD)}
    assert "VIP_AUCTIONS" not in gold
    assert "CONCIERGE" in gold
    assert "VIP_AUCTIONS" in {right.code for right in rules.rights_for(TierCode.DIAMOND)}
    curated = rules.by_code("CURATED_SELECTION")
    assert curated is not None
    assert (curated.limit, curated.period) == (5, Period.MONTH)
    assert rules.by_code("FREE_PACKAGING") is None


def test_a_right_may_be_once_ever_and_the_free_first_authentication_changed_or_removed() -> None:
    welcome = {"name": "迎新礼", "description": "A welcome gift.", "min_tier": "NEW"}
    rules = RightsRules.from_mapping(
        {
            "catalogue": {
                "WELCOME_GIFT": {**welcome, "limit": 1, "period": "ONCE"},
                "FIRST_AUTHENTICATION_FREE": {"limit": 2, "min_tier": "SILVER"},
            }
        }
    )
    gift, first = rules.by_code("WELCOME_GIFT"), rules.by_code("FIRST_AUTHENTICATION_FREE")
    assert gift is not None
    assert (gift.limit, gift.period) == (1, Period.ONCE)
    assert first is not None
    assert (first.limit, first.period, first.min_tier) == (2, Period.ONCE, TierCode.SILVER)
    switched_off = RightsRules.from_mapping({"catalogue": {"FIRST_AUTHENTICATION_FREE": None}})
    assert switched_off.by_code("FIRST_AUTHENTICATION_FREE") is None


def test_a_badge_threshold_is_configured_and_a_badge_added() -> None:
    rules = BadgeRules.from_mapping(
        {
            "catalogue": {
                "AUTHENTICATIONS_10": {"threshold": 3},
                "STREAK_100": {"name": "百日", "counter": "CHECK_IN_STREAK", "threshold": 100},
            }
        }
    )
    assert rules.reached(Counter.AUTHENTICATIONS, 3) == [
        "FIRST_AUTHENTICATION",
        "AUTHENTICATIONS_10",
    ]
    assert rules.reached(Counter.AUTHENTICATIONS, 2) == ["FIRST_AUTHENTICATION"]
    assert "STREAK_100" in rules.reached(Counter.CHECK_IN_STREAK, 100)
    assert rules.name_of("STREAK_100") == "百日"
    assert rules.name_of("RETIRED_BADGE") == "RETIRED_BADGE"


# --- Settings: RULES_FILE, TIER_RULES_FILE and single-rule variables -----------------------


def write(tmp_path: Path, name: str, data: Any) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def test_rules_file_sections_fill_each_areas_rules(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "rules.json",
        {
            "tiers": {"commission_percent": {"GOLD": 12}, "observation_days": 45},
            "points": {"check_in_points": 7},
            "tasks": {"welcome_points": 150},
            "community": {"post_points": 4},
            "rights": {"catalogue": {"FREE_PACKAGING": None}},
            "badges": {"catalogue": {"STREAK_7": {"threshold": 3}}},
        },
    )
    settings = Settings.from_env({"RULES_FILE": path})
    assert settings.tier_rules.commission_percent["GOLD"] == 12
    assert settings.tier_rules.observation_days == 45
    assert settings.points_rules.check_in_points == 7
    assert settings.task_rules.welcome_points == 150
    assert settings.community_rules.post_points == 4
    assert settings.rights_rules.by_code("FREE_PACKAGING") is None
    assert settings.badge_rules.reached(Counter.CHECK_IN_STREAK, 3) == ["STREAK_7"]


def test_every_rules_field_of_settings_has_a_section() -> None:
    fields = {name for name in Settings.__dataclass_fields__ if name.endswith("_rules")}
    assert fields - {"clone_rules"} == {field for field, _ in RULE_SECTIONS.values()}


def test_tier_rules_file_still_works(tmp_path: Path) -> None:
    path = write(tmp_path, "tiers.json", {"gold_referrals": 2})
    assert Settings.from_env({"TIER_RULES_FILE": path}).tier_rules.gold_referrals == 2


def test_single_rule_variables_override_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "rules.json", {"points": {"points_per_yuan": 3, "check_in_points": 7}})
    settings = Settings.from_env({"RULES_FILE": path, "POINTS_PER_YUAN": "4", "BANNED_WORDS": ""})
    assert (settings.points_rules.points_per_yuan, settings.points_rules.check_in_points) == (4, 7)
    assert settings.community_rules.banned_words == ()


@pytest.mark.parametrize(
    ("files", "env", "message"),
    [
        ({"rules.json": {"tiers": {}, "loyalty": {}}}, {}, "unknown section"),
        ({"rules.json": ["tiers"]}, {}, "JSON object with a section per area"),
        (
            {"rules.json": {"points": {"check_in_points": -1}}},
            {},
            r"rules \(points\): .*non-negative",
        ),
        ({"rules.json": {"points": []}}, {}, "points rules must be a JSON object"),
        (
            {"rules.json": {"tasks": {"new_member_coupons": {"GOLD_BAR": 1}}}},
            {},
            r"rules \(tasks\): .*coupon kind must be one of",
        ),
        (
            {"rules.json": {"tiers": {}}, "tiers.json": {}},
            {"TIER_RULES_FILE": "tiers.json"},
            "not both",
        ),
        ({"rules.json": {}}, {"REPORT_THRESHOLD": "0"}, "report_threshold must be an integer >= 1"),
        ({"rules.json": {}}, {"WELCOME_POINTS": "many"}, "WELCOME_POINTS must be an integer"),
    ],
)
def test_bad_rules_stop_the_service_from_starting(
    tmp_path: Path, files: dict[str, Any], env: dict[str, str], message: str
) -> None:
    paths = {name: write(tmp_path, name, data) for name, data in files.items()}
    env = {key: paths.get(value, value) for key, value in env.items()}
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({"RULES_FILE": paths["rules.json"], **env})


def test_an_unreadable_rules_file_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "rules.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(SettingsError, match="RULES_FILE"):
        Settings.from_env({"RULES_FILE": str(broken)})
    with pytest.raises(SettingsError, match="RULES_FILE"):
        Settings.from_env({"RULES_FILE": str(tmp_path / "missing.json")})
