"""Recommendations as plain functions: item-to-item similarity from what members did
together, a member's candidates scored from their own history and blended with their
brand and category affinity, popular-in-tier lists to fill up (and for newcomers), and
the reason shown with each.

An *item* is a (kind, id) pair: a reward redeemed, an event signed up for, a group
joined, a post liked, or a brand favourited in the shop. Brands are sources only: they
say what a member likes, and are never recommended themselves.
"""

from __future__ import annotations

import functools
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    REWARD = "REWARD"
    EVENT = "EVENT"
    GROUP = "GROUP"
    POST = "POST"
    BRAND = "BRAND"  # a brand the member favourited items of: a source only


Item = tuple[str, str]  # (kind, id)

# What a member did to an item of each kind, as a reason says it.
DID: dict[str, str] = {
    Kind.REWARD.value: "redeemed",
    Kind.EVENT.value: "signed up for",
    Kind.GROUP.value: "joined",
    Kind.POST.value: "liked",
    Kind.BRAND.value: "favourited",
}
TARGET_KINDS = frozenset({Kind.REWARD, Kind.EVENT, Kind.GROUP, Kind.POST})
# How much of a score comes from brand and category affinity, the rest from similar items.
AFFINITY_WEIGHT = 0.3
# Neighbours kept per item, and members in common below which two items are not similar.
NEIGHBOURS = 30
MIN_TOGETHER = 2
# Stored per member, and per tier's popular list.
TOP_K = 50
# Scores are kept to this many places, so that a rerun compares equal.
PLACES = 6
NAME_CHARS = 24


@dataclass(frozen=True)
class Neighbour:
    item: Item
    similarity: float
    together: int


@dataclass(frozen=True)
class Pick:
    """One recommendation: the item, its score, and why."""

    item: Item
    score: float
    reason: str


def is_target(item: Item) -> bool:
    return item[0] in TARGET_KINDS


def co_occurrence(
    histories: Iterable[Iterable[Item]],
) -> tuple[Counter[Item], Counter[tuple[Item, Item]]]:
    """Members per item, and members per ordered pair of distinct items they both have."""
    items: Counter[Item] = Counter()
    pairs: Counter[tuple[Item, Item]] = Counter()
    for history in histories:
        distinct = sorted(set(history))
        items.update(distinct)
        for a in distinct:
            for b in distinct:
                if a != b:
                    pairs[(a, b)] += 1
    return items, pairs


def similarities(
    items: Mapping[Item, int],
    pairs: Mapping[tuple[Item, Item], int],
    *,
    neighbours: int = NEIGHBOURS,
    min_together: int = MIN_TOGETHER,
) -> dict[Item, list[Neighbour]]:
    """For each item, the recommendable items most similar to it, most similar first:
    cosine similarity of the sets of members who have each, together / sqrt(|a| |b|)."""
    found: dict[Item, list[Neighbour]] = defaultdict(list)
    for (a, b), together in pairs.items():
        if together < min_together or not is_target(b) or a == b:
            continue
        size = items.get(a, 0) * items.get(b, 0)
        if size <= 0:
            continue
        found[a].append(Neighbour(b, round(together / math.sqrt(size), PLACES), together))
    return {
        a: sorted(near, key=lambda n: (-n.similarity, n.item))[:neighbours]
        for a, near in sorted(found.items())
    }


def affinity(spend: Mapping[str, int], favourites: Mapping[str, int]) -> dict[str, float]:
    """A member's interest in each brand or category (lower case), 0 to 1: the share of
    their spend on it and the share of their favourites, averaged over the two when both
    are known."""
    shares: list[dict[str, float]] = []
    for weights in (spend, favourites):
        total = sum(w for w in weights.values() if w > 0)
        if total > 0:
            shares.append({k: w / total for k, w in weights.items() if w > 0})
    result: dict[str, float] = defaultdict(float)
    for part in shares:
        for key, share in part.items():
            result[key] += share / len(shares)
    return dict(result)


def mentioned(text: str, terms: Iterable[str]) -> list[str]:
    """The brands and categories (lower case) that a target's text names."""
    folded = text.lower()
    return sorted(t for t in terms if len(t) >= 2 and t in folded)


@functools.lru_cache(maxsize=65536)
def short(name: str) -> str:
    name = " ".join(name.split())
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"


def similar_reason(source: Item, target: Item, names: Mapping[Item, str]) -> str:
    did_source = DID[source[0]]
    did_target = DID[target[0]]
    source_name = short(names.get(source, source[1]))
    target_name = short(names.get(target, target[1]))
    return f"Members who {did_source} {source_name} also {did_target} {target_name}"


def affinity_reason(term: str) -> str:
    return f"Because you like {term}"


def popular_reason(tier_name: str) -> str:
    return f"Popular with {tier_name} members"


def rank(
    history: Iterable[Item],
    neighbours: Mapping[Item, Sequence[Neighbour]],
    *,
    interests: Mapping[str, float],
    mentions: Callable[[str], Iterable[Item]],
    popular: Sequence[Item],
    usable: Callable[[Item], bool],
    names: Mapping[Item, str],
    tier_name: str,
    limit: int = TOP_K,
    affinity_weight: float = AFFINITY_WEIGHT,
) -> list[Pick]:
    """A member's recommendations, best first: what is similar to their history (summed
    over it, scaled so the best is 1) blended with their affinity to a brand or category
    the target names; then, to fill up to `limit`, the popular items of their tier.
    Nothing they have already, nothing `usable` refuses."""
    own = set(history)
    similar: dict[Item, float] = defaultdict(float)
    best_source: dict[Item, tuple[float, Item]] = {}
    for source in sorted(own):
        for near in neighbours.get(source, ()):
            target = near.item
            if target in own:
                continue
            similar[target] += near.similarity
            if target not in best_source or near.similarity > best_source[target][0]:
                best_source[target] = (near.similarity, source)
    top = max(similar.values(), default=0.0)
    liked: dict[Item, tuple[float, str]] = {}
    for term, share in sorted(interests.items()):
        if share <= 0:
            continue
        for target in mentions(term):
            if target in own:
                continue
            if target not in liked or share > liked[target][0]:
                liked[target] = (share, term)
    scored: list[tuple[float, Item, bool]] = []
    for target in set(similar) | set(liked):
        if not usable(target):
            continue
        from_similar = (1 - affinity_weight) * (similar.get(target, 0.0) / top if top else 0.0)
        from_affinity = affinity_weight * liked.get(target, (0.0, ""))[0]
        score = round(from_similar + from_affinity, PLACES)
        if score > 0:
            scored.append((score, target, from_similar >= from_affinity))
    scored.sort(key=lambda s: (-s[0], s[1]))
    picks: list[Pick] = []
    for score, target, by_similar in scored[:limit]:
        if by_similar:
            reason = similar_reason(best_source[target][1], target, names)
        else:
            reason = affinity_reason(liked[target][1])
        picks.append(Pick(target, score, reason))
    chosen = {p.item for p in picks}
    for item in popular:
        if len(picks) >= limit:
            break
        if item in chosen or item in own or not usable(item):
            continue
        chosen.add(item)
        picks.append(Pick(item, 0.0, popular_reason(tier_name)))
    return picks


def popular(counts: Mapping[Item, int], usable: Callable[[Item], bool], limit: int) -> list[Item]:
    """The items most members have, most first (ties by item), that `usable` allows."""
    ordered = sorted((i for i in counts if is_target(i)), key=lambda i: (-counts[i], i))
    return [i for i in ordered if usable(i)][:limit]


@dataclass(frozen=True)
class Evaluation:
    members: int
    similar_hits: int
    popular_hits: int

    @property
    def similar_rate(self) -> float:
        return self.similar_hits / self.members if self.members else 0.0

    @property
    def popular_rate(self) -> float:
        return self.popular_hits / self.members if self.members else 0.0

    def line(self, k: int) -> str:
        return (
            f"hit rate at {k} over {self.members} member(s) with a held-out interaction: "
            f"recommendations {self.similar_rate:.3f} ({self.similar_hits}), "
            f"popular baseline {self.popular_rate:.3f} ({self.popular_hits})"
        )


def evaluate(
    histories: Mapping[str, Sequence[tuple[str, Item]]],
    tiers: Mapping[str, str],
    *,
    k: int = 10,
) -> Evaluation:
    """Hold out each member's latest recommendable interaction (histories are (when,
    item), any order), learn from the rest, and count how often the held-out item is in
    the member's top `k`: from `rank`, and from the popular list of the member's tier."""
    held: dict[str, Item] = {}
    train: dict[str, list[Item]] = {}
    for member, events in histories.items():
        ordered = sorted(events)
        latest = next((e for e in reversed(ordered) if is_target(e[1])), None)
        if latest is not None and len(ordered) >= 2:
            held[member] = latest[1]
            rest = list(ordered)
            rest.remove(latest)
            train[member] = [item for _, item in rest]
        else:
            train[member] = [item for _, item in ordered]
    counts, pairs = co_occurrence(train.values())
    near = similarities(counts, pairs)
    by_tier: dict[str, Counter[Item]] = defaultdict(Counter)
    for member, items in train.items():
        by_tier[tiers.get(member, "")].update(set(items))
    lists = {tier: popular(c, lambda _: True, k + 50) for tier, c in by_tier.items()}
    similar_hits = popular_hits = 0
    for member, target in sorted(held.items()):
        own = set(train[member])
        tier_list = lists.get(tiers.get(member, ""), [])
        picks = rank(
            own,
            near,
            interests={},
            mentions=lambda _: (),
            popular=tier_list,
            usable=lambda _: True,
            names={},
            tier_name="",
            limit=k,
        )
        similar_hits += target in {p.item for p in picks}
        popular_hits += target in [i for i in tier_list if i not in own][:k]
    return Evaluation(len(held), similar_hits, popular_hits)
