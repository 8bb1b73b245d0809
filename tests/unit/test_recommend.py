"""Recommendation rules on small examples worked by hand: cosine similarity over members
in common, scores blended with brand and category affinity, popular items to fill up,
the reason naming the item behind each pick, and the offline hit rate."""

from __future__ import annotations

import random

import pytest

from member_api.intelligence import recommend
from member_api.intelligence.recommend import Item, Neighbour, Pick

A: Item = ("GROUP", "a")
B: Item = ("GROUP", "b")
C: Item = ("GROUP", "c")
D: Item = ("REWARD", "d")
HERMES: Item = ("BRAND", "hermès")
NAMES = {A: "爱马仕俱乐部", B: "腕表俱乐部", C: "Hermès salon", D: "Care kit"}


def histories() -> list[list[Item]]:
    # a: 3 members, b: 3, c: 1; a and b together twice, a and c once.
    return [[A, B], [A, B, A], [A, C], [B]]


def test_co_occurrence_counts_members_not_repeats() -> None:
    items, pairs = recommend.co_occurrence(histories())
    assert items == {A: 3, B: 3, C: 1}
    assert pairs == {(A, B): 2, (B, A): 2, (A, C): 1, (C, A): 1}


def test_cosine_similarity_with_a_minimum_of_members_in_common() -> None:
    items, pairs = recommend.co_occurrence(histories())
    # 2 / sqrt(3 x 3); a and c have one member in common only: not similar.
    assert recommend.similarities(items, pairs) == {
        A: [Neighbour(B, 0.666667, 2)],
        B: [Neighbour(A, 0.666667, 2)],
    }
    loose = recommend.similarities(items, pairs, min_together=1)
    # 1 / sqrt(3 x 1) = 0.57735
    assert loose[A] == [Neighbour(B, 0.666667, 2), Neighbour(C, 0.57735, 1)]
    assert loose[C] == [Neighbour(A, 0.57735, 1)]
    assert recommend.similarities(items, pairs, neighbours=1, min_together=1)[A] == [
        Neighbour(B, 0.666667, 2)
    ]


def test_a_favourited_brand_is_a_source_never_a_target() -> None:
    items, pairs = recommend.co_occurrence([[HERMES, A], [HERMES, A]])
    near = recommend.similarities(items, pairs)
    assert near == {HERMES: [Neighbour(A, 1.0, 2)]}


def test_affinity_averages_the_shares_of_spend_and_of_favourites() -> None:
    assert recommend.affinity({"hermès": 300, "gucci": 100}, {"hermès": 1}) == {
        "hermès": 0.875,
        "gucci": 0.125,
    }
    assert recommend.affinity({"bag": 5}, {}) == {"bag": 1.0}
    assert recommend.affinity({}, {}) == {}


def test_mentioned_terms_ignore_case_and_single_letters() -> None:
    assert recommend.mentioned("The HERMÈS salon for bags", ["hermès", "bag", "x"]) == [
        "bag",
        "hermès",
    ]


def rank(**changes: object) -> list[Pick]:
    items, pairs = recommend.co_occurrence(histories())
    args: dict[str, object] = {
        "neighbours": recommend.similarities(items, pairs),
        "interests": {"hermès": 0.5},
        "mentions": lambda term: [C] if term == "hermès" else [],
        "popular": [A, B, D],
        "usable": lambda item: True,
        "names": NAMES,
        "tier_name": "Gold",
        "limit": 10,
    }
    args.update(changes)
    return recommend.rank([A], **args)  # type: ignore[arg-type]


def test_similar_items_then_affinity_then_popular_each_with_its_reason() -> None:
    assert rank() == [
        # 0.7 x (0.666667 / 0.666667)
        Pick(B, 0.7, "Members who joined 爱马仕俱乐部 also joined 腕表俱乐部"),
        # 0.3 x 0.5
        Pick(C, 0.15, "Because you like hermès"),
        # a is the member's own already; b is picked already.
        Pick(D, 0.0, "Popular with Gold members"),
    ]


def test_an_item_both_similar_and_liked_adds_both_parts() -> None:
    picks = rank(mentions=lambda term: [B])
    assert picks[0] == Pick(B, 0.85, "Members who joined 爱马仕俱乐部 also joined 腕表俱乐部")


def test_nothing_unusable_and_no_more_than_the_limit() -> None:
    assert [p.item for p in rank(usable=lambda item: item != B)] == [C, D]
    assert [p.item for p in rank(limit=1)] == [B]


def test_a_newcomer_gets_the_popular_list_of_their_tier() -> None:
    picks = recommend.rank(
        [],
        {},
        interests={},
        mentions=lambda term: [],
        popular=[D, A],
        usable=lambda item: True,
        names=NAMES,
        tier_name="Silver",
    )
    assert picks == [
        Pick(D, 0.0, "Popular with Silver members"),
        Pick(A, 0.0, "Popular with Silver members"),
    ]


def test_the_reason_names_the_item_with_the_greatest_similarity() -> None:
    near = {
        A: [Neighbour(D, 0.2, 2)],
        B: [Neighbour(D, 0.5, 2)],
    }
    picks = recommend.rank(
        [A, B],
        near,
        interests={},
        mentions=lambda term: [],
        popular=[],
        usable=lambda item: True,
        names=NAMES,
        tier_name="",
    )
    assert picks == [Pick(D, 0.7, "Members who joined 腕表俱乐部 also redeemed Care kit")]


def test_long_names_are_shortened_in_reasons() -> None:
    assert recommend.short("x" * 40) == "x" * 23 + "…"
    assert recommend.short(" a \n b ") == "a b"


def test_popular_lists_most_members_first_ties_by_item() -> None:
    counts = {A: 2, B: 5, C: 2, HERMES: 9}
    assert recommend.popular(counts, lambda item: item != C, 10) == [B, A]


def planted(seed: int, members: int) -> dict[str, list[tuple[str, Item]]]:
    """Each member joins the three groups of one of ten clusters, in any order, after
    taking two of three popular rewards at random."""
    rng = random.Random(seed)
    data: dict[str, list[tuple[str, Item]]] = {}
    for m in range(members):
        pair = rng.randrange(10)
        events = [(f"{n:02d}", ("REWARD", f"r{rng.randrange(3)}")) for n in range(2)]
        groups = ["a", "b", "c"]
        rng.shuffle(groups)
        events += [(f"1{n}", ("GROUP", f"g{pair}{g}")) for n, g in enumerate(groups)]
        data[f"m{m}"] = events
    return data


def test_evaluation_holds_out_the_latest_and_beats_popular_on_planted_pairs() -> None:
    data = planted(7, 200)
    result = recommend.evaluate(data, {m: "NEW" for m in data}, k=10)
    assert result.members == 200
    # The latest is always the third group of a cluster, found from the other two.
    assert result.similar_rate == 1.0
    assert result.popular_rate < 0.6
    assert "hit rate at 10 over 200 member(s)" in result.line(10)


@pytest.mark.parametrize("events", [[], [("1", HERMES)], [("1", A)]])
def test_members_with_nothing_to_hold_out_are_not_counted(
    events: list[tuple[str, Item]],
) -> None:
    assert recommend.evaluate({"m": events}, {}).members == 0
