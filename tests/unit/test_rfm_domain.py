"""RFM bands at every edge, with DOMAIN.md's defaults, and the key-retention tag."""

from __future__ import annotations

import pytest

from member_api.intelligence.domain import (
    Facts,
    ScoreRules,
    frequency_score,
    monetary_score,
    recency_score,
    scores_of,
    tags_of,
)
from member_api.settings import SettingsError, read_rules

RULES = ScoreRules()
REF = 400_000


@pytest.mark.parametrize(
    ("days", "score"),
    [
        (None, 1),
        (0, 5),
        (15, 5),
        (16, 4),
        (30, 4),
        (31, 3),
        (90, 3),
        (91, 2),
        (180, 2),
        (181, 1),
        (10_000, 1),
    ],
)
def test_recency_bands(days: int | None, score: int) -> None:
    assert recency_score(days, RULES) == score


@pytest.mark.parametrize(
    ("orders", "score"),
    [(0, 1), (1, 1), (2, 2), (3, 3), (4, 4), (5, 4), (6, 5), (40, 5)],
)
def test_frequency_bands(orders: int, score: int) -> None:
    assert frequency_score(orders, RULES) == score


@pytest.mark.parametrize(
    ("net", "orders", "score"),
    [
        (0, 0, 1),
        (10 * REF, 0, 1),
        (2 * REF - 1, 1, 1),
        (2 * REF, 1, 2),
        (3 * REF - 1, 1, 2),
        (3 * REF, 1, 3),
        (4 * REF - 1, 1, 3),
        (4 * REF, 1, 4),
        (5 * REF - 1, 1, 4),
        (5 * REF, 1, 5),
        # Averages over several orders, exact: 3 orders just short of 2x on average.
        (6 * REF - 1, 3, 1),
        (6 * REF, 3, 2),
        (15 * REF - 1, 3, 4),
        (15 * REF, 3, 5),
    ],
)
def test_monetary_bands_compare_the_average_exactly(net: int, orders: int, score: int) -> None:
    assert monetary_score(net, orders, RULES) == score


@pytest.mark.parametrize(
    ("r", "f", "m", "tagged"),
    [
        (4, 3, 2, True),
        (5, 5, 5, True),
        (3, 3, 2, False),
        (4, 2, 2, False),
        (4, 3, 1, False),
    ],
)
def test_key_retention_needs_r4_f3_m2(r: int, f: int, m: int, tagged: bool) -> None:
    assert tags_of(r, f, m, RULES) == (("KEY_RETENTION",) if tagged else ())


def test_scores_of_combines_the_three() -> None:
    scores = scores_of(30, 3, 2 * REF * 5, 5, RULES)
    assert (scores.r, scores.f, scores.m, scores.tags) == (4, 3, 2, ("KEY_RETENTION",))
    assert scores_of(None, 0, 0, 0, RULES).tags == ()


def test_the_bands_are_data_and_refuse_bad_values() -> None:
    rules = ScoreRules.from_mapping({"recency_days": [7, 14, 60, 120], "reference_order_fen": 100})
    assert recency_score(7, rules) == 5
    assert recency_score(8, rules) == 4
    assert monetary_score(200, 1, rules) == 2
    with pytest.raises(ValueError, match="strictly rising"):
        ScoreRules.from_mapping({"recency_days": [30, 15, 90, 180]})
    with pytest.raises(ValueError, match="4 bands"):
        ScoreRules.from_mapping({"frequency_orders": [6, 4, 3]})
    with pytest.raises(ValueError, match="unknown scores rule"):
        ScoreRules.from_mapping({"bogus": 1})


def test_the_reference_value_is_a_setting() -> None:
    assert read_rules({})["score_rules"].reference_order_fen == 400_000
    rules = read_rules({"SCORE_REFERENCE_ORDER_FEN": "500000"})["score_rules"]
    assert rules.reference_order_fen == 500_000
    with pytest.raises(SettingsError, match="scores"):
        read_rules({"SCORE_REFERENCE_ORDER_FEN": "0"})


def persona_tags(**values: int) -> tuple[str, ...]:
    return tags_of(1, 1, 1, RULES, Facts(**values))


@pytest.mark.parametrize(
    ("facts", "tags"),
    [
        # Trend follower: 30 views in 30 days, at most one order in 90.
        ({"views_30d": 30, "orders_90d": 1}, ("TREND_FOLLOWER",)),
        ({"views_30d": 29, "orders_90d": 0}, ()),
        ({"views_30d": 300, "orders_90d": 2}, ()),
        # Collector: an average of 12,000 yuan (3x the reference), one to three orders.
        (
            {"average_order_365d_fen": 1_200_000, "orders_365d": 3, "spend_365d_fen": 3_600_000},
            ("COLLECTOR",),
        ),
        ({"average_order_365d_fen": 1_199_999, "orders_365d": 1}, ()),
        ({"average_order_365d_fen": 2_000_000, "orders_365d": 4}, ()),
        ({"average_order_365d_fen": 2_000_000, "orders_365d": 0}, ()),
        # Social butterfly: 20 posts, comments and likes in 90 days, under 4,000 yuan.
        ({"posts_90d": 5, "comments_90d": 5, "likes_90d": 10}, ("SOCIAL_BUTTERFLY",)),
        ({"posts_90d": 5, "comments_90d": 5, "likes_90d": 9}, ()),
        ({"likes_90d": 20, "spend_365d_fen": 399_999}, ("SOCIAL_BUTTERFLY",)),
        ({"likes_90d": 20, "spend_365d_fen": 400_000}, ()),
        # Two at once, in the rules' order.
        ({"views_30d": 40, "likes_90d": 25}, ("TREND_FOLLOWER", "SOCIAL_BUTTERFLY")),
    ],
)
def test_persona_tags_at_each_edge(facts: dict[str, int], tags: tuple[str, ...]) -> None:
    assert persona_tags(**facts) == tags


def test_key_retention_comes_first_and_no_facts_means_no_personas() -> None:
    assert tags_of(5, 3, 2, RULES, Facts(views_30d=30)) == ("KEY_RETENTION", "TREND_FOLLOWER")
    assert tags_of(1, 1, 1, RULES, None) == ()


def test_personas_are_data_and_bad_ones_are_refused_naming_the_place() -> None:
    rules = ScoreRules.from_mapping(
        {
            "personas": [
                {"code": "NIGHT_OWL", "all": [{"fact": "active_days_30d", "op": ">", "value": 25}]}
            ]
        }
    )
    assert tags_of(1, 1, 1, rules, Facts(active_days_30d=26)) == ("NIGHT_OWL",)
    assert tags_of(1, 1, 1, rules, Facts(active_days_30d=25, views_30d=99)) == ()
    bad = [
        ({"code": "x", "all": []}, "personas\\[0\\] code"),
        ({"code": "KEY_RETENTION", "all": []}, "taken"),
        ({"code": "A", "all": []}, "at least one condition"),
        ({"code": "A", "all": [{"fact": "shoe_size", "op": ">", "value": 1}]}, "unknown fact"),
        ({"code": "A", "all": [{"fact": "views_30d", "op": "~", "value": 1}]}, "op must be"),
        ({"code": "A", "all": [{"fact": "views_30d", "op": ">", "value": -1}]}, "all\\[0\\] value"),
        ({"code": "A"}, "code and all"),
    ]
    for persona, message in bad:
        with pytest.raises(ValueError, match=message):
            ScoreRules.from_mapping({"personas": [persona]})
