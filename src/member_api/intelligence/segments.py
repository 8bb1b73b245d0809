"""Segments: a filter tree over members' facts, scores, tags, tier, consents, groups and
birthday month, checked node by node and compiled to one parameterised SQL query.

A filter is a JSON object, one of:

- `{"all": [filter, ...]}`, `{"any": [filter, ...]}`, `{"not": filter}`
- `{"fact": "orders_90d", "op": ">=", "value": 3}`: a whole-number fact (a member with
  no facts yet counts as all zeros)
- `{"score": "r", "op": ">=", "value": 4}`: the latest R, F or M score (1 when unscored)
- `{"tag": "KEY_RETENTION"}`: a tag of the latest scores, or a manual tag held now
- `{"tier": ["GOLD", "DIAMOND"]}`
- `{"consent": "MARKETING", "granted": true}`: under the privacy policy in force
- `{"group": "<group id>"}`: a member of that community group
- `{"birthdayMonth": [1, 2]}`

Every value reaches the database as a bind parameter; only fixed column names and the
comparison operators of a fixed list are written into the text. A bad node is refused
with its place in the tree (e.g. `all[1].not.fact`).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from member_api.intelligence.domain import COMPARISONS, DERIVED_FACTS, NUMBER_FACTS
from member_api.privacy.domain import Purpose
from member_api.tiers.rules import TierCode

MAX_NODES = 50
MAX_DEPTH = 8
MAX_LIST = 20
SCORES = ("r", "f", "m")
SAMPLE_SIZE = 20


class FilterError(ValueError):
    """A filter that cannot be compiled; `place` says which node."""

    def __init__(self, place: str, problem: str) -> None:
        super().__init__(f"at {place or 'the root'}: {problem}")
        self.place = place


@dataclass
class Compiler:
    """Builds the condition text and its parameters, in the placeholders of a dialect."""

    postgres: bool
    policy_version: str
    values: list[Any] = field(default_factory=list)
    nodes: int = 0

    def param(self, value: Any, cast: str) -> str:
        self.values.append(value)
        return f"${len(self.values)}::{cast}" if self.postgres else "?"

    def uuid_param(self, value: uuid.UUID) -> str:
        return self.param(value if self.postgres else str(value), "uuid")

    def compile(self, node: Any, place: str = "", depth: int = 0) -> str:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise FilterError(place, f"a filter has at most {MAX_NODES} nodes")
        if depth > MAX_DEPTH:
            raise FilterError(place, f"a filter nests at most {MAX_DEPTH} deep")
        if not isinstance(node, dict) or not node:
            raise FilterError(place, "each node is a JSON object")
        kind = _kind(node, place)
        at = f"{place}.{kind}" if place else kind
        if kind in ("all", "any"):
            return self._combine(node, kind, at, depth)
        if kind == "not":
            _only(node, {"not"}, place)
            return f"NOT ({self.compile(node['not'], at, depth + 1)})"
        method = getattr(self, f"_{kind.lower()}")
        return str(method(node, place, at))

    def _combine(self, node: dict[str, Any], kind: str, at: str, depth: int) -> str:
        _only(node, {kind}, at)
        children = node[kind]
        if not isinstance(children, list) or not children:
            raise FilterError(at, f"{kind} lists at least one filter")
        parts = [self.compile(child, f"{at}[{n}]", depth + 1) for n, child in enumerate(children)]
        joiner = " AND " if kind == "all" else " OR "
        return "(" + joiner.join(f"({part})" for part in parts) + ")"

    def _comparison(self, node: dict[str, Any], key: str, place: str, at: str) -> tuple[str, int]:
        _only(node, {key, "op", "value"}, place)
        op, value = node.get("op"), node.get("value")
        if op not in COMPARISONS:
            raise FilterError(at, f"op must be one of {', '.join(COMPARISONS)}, got {op!r}")
        if not isinstance(value, int) or isinstance(value, bool) or abs(value) > 2**53 - 1:
            raise FilterError(at, f"value must be a whole number, got {value!r}")
        return str(op), value

    def _fact(self, node: dict[str, Any], place: str, at: str) -> str:
        name = node["fact"]
        if name not in NUMBER_FACTS:
            raise FilterError(
                at, f"unknown fact {name!r} (known: {', '.join(sorted(NUMBER_FACTS))})"
            )
        op, value = self._comparison(node, "fact", place, at)
        parts = DERIVED_FACTS.get(name, (name,))
        total = " + ".join(f"coalesce(f.{part}, 0)" for part in parts)
        return f"({total}) {op} {self.param(value, 'bigint')}"

    def _score(self, node: dict[str, Any], place: str, at: str) -> str:
        letter = node["score"]
        if letter not in SCORES:
            raise FilterError(at, f"score is one of r, f, m, got {letter!r}")
        op, value = self._comparison(node, "score", place, at)
        latest = _latest_score(letter)
        return f"coalesce({latest}, 1) {op} {self.param(value, 'int')}"

    def _tag(self, node: dict[str, Any], place: str, at: str) -> str:
        _only(node, {"tag"}, place)
        tag = node["tag"]
        if not isinstance(tag, str) or not tag.strip() or len(tag) > 40:
            raise FilterError(at, "tag is a code or a manual tag of 1 to 40 characters")
        tag = tag.strip()
        escaped = tag.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f'%"{escaped}"%'
        manual = (
            "EXISTS (SELECT 1 FROM member_tag t WHERE t.member_id = m.id "
            f"AND t.tag = {self.param(tag, 'text')} AND t.removed_at IS NULL)"
        )
        scored = f"coalesce({_latest_score('tags')}, '[]') LIKE {self.param(pattern, 'text')}"
        return f"({manual} OR {scored} ESCAPE '\\')"

    def _tier(self, node: dict[str, Any], place: str, at: str) -> str:
        _only(node, {"tier"}, place)
        known = [code.value for code in TierCode]
        tiers = _list(node["tier"], at, lambda v: isinstance(v, str) and v in known, known)
        return f"m.tier IN ({', '.join(self.param(t, 'text') for t in tiers)})"

    def _birthdaymonth(self, node: dict[str, Any], place: str, at: str) -> str:
        _only(node, {"birthdayMonth"}, place)
        months = _list(
            node["birthdayMonth"],
            at,
            lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 12,
            ["1 to 12"],
        )
        return f"m.birthday_month IN ({', '.join(self.param(n, 'int') for n in months)})"

    def _consent(self, node: dict[str, Any], place: str, at: str) -> str:
        _only(node, {"consent", "granted"}, place)
        purpose, granted = node["consent"], node.get("granted")
        known = [p.value for p in Purpose]
        if purpose not in known:
            raise FilterError(at, f"consent is one of {', '.join(known)}, got {purpose!r}")
        if not isinstance(granted, bool):
            raise FilterError(at, "granted must be true or false")
        # In the order they appear: SQLite's placeholders are positional.
        first = self.param(purpose, "text")
        version = self.param(self.policy_version, "text")
        again = self.param(purpose, "text")
        held = (
            "EXISTS (SELECT 1 FROM consent_record c WHERE c.member_id = m.id "
            f"AND c.purpose = {first} AND c.granted AND c.policy_version = {version} "
            "AND c.id = (SELECT max(c2.id) FROM consent_record c2 "
            f"WHERE c2.member_id = m.id AND c2.purpose = {again}))"
        )
        return held if granted else f"NOT {held}"

    def _group(self, node: dict[str, Any], place: str, at: str) -> str:
        _only(node, {"group"}, place)
        try:
            group = uuid.UUID(str(node["group"]))
        except ValueError:
            raise FilterError(at, f"group must be a group id, got {node['group']!r}") from None
        return (
            "EXISTS (SELECT 1 FROM group_membership g WHERE g.member_id = m.id "
            f"AND g.group_id = {self.uuid_param(group)})"
        )


# The key naming each kind of node, and the method compiling it.
KINDS = ("all", "any", "not", "fact", "score", "tag", "tier", "consent", "group", "birthdayMonth")


def _kind(node: dict[str, Any], place: str) -> str:
    found = [key for key in KINDS if key in node]
    if len(found) != 1:
        given = ", ".join(sorted(node)) or "none"
        raise FilterError(place, f"a node has exactly one of {', '.join(KINDS)}; got {given}")
    return found[0]


def _only(node: dict[str, Any], allowed: set[str], place: str) -> None:
    extra = sorted(set(node) - allowed)
    if extra:
        raise FilterError(place, f"unexpected key(s) {', '.join(extra)}")


def _list(values: Any, at: str, ok: Any, known: list[str]) -> list[Any]:
    if not isinstance(values, list) or not values or len(values) > MAX_LIST:
        raise FilterError(at, f"a list of 1 to {MAX_LIST} values")
    for value in values:
        if not ok(value):
            raise FilterError(at, f"{value!r} is not one of {', '.join(map(str, known))}")
    return list(dict.fromkeys(values))


def _latest_score(column: str) -> str:
    return (
        f"(SELECT s.{column} FROM member_score s WHERE s.member_id = m.id "
        "ORDER BY s.day DESC LIMIT 1)"
    )


def parse(text: str) -> Any:
    try:
        tree = json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested beyond reason
        raise FilterError("", f"not JSON: {exc}") from None
    return tree


@dataclass(frozen=True)
class Query:
    sql: str
    values: list[Any]


def compile_filter(
    tree: Any,
    *,
    postgres: bool,
    policy_version: str,
    after: uuid.UUID | None = None,
    limit: int = SAMPLE_SIZE,
) -> Query:
    """The members matching `tree` (not erased) by id: their id, display name and tier,
    with the count of all of them in every row; at most `limit` rows, those after the
    id `after` when paging through (a campaign's audience)."""
    compiler = Compiler(postgres=postgres, policy_version=policy_version)
    condition = compiler.compile(tree)
    page = ""
    if after is not None:
        page = f"AND m.id > {compiler.uuid_param(after)}"
    rows = compiler.param(limit, "int")
    sql = f"""
SELECT m.id, m.display_name, m.tier, count(*) OVER () AS total
FROM member m LEFT JOIN member_fact f ON f.member_id = m.id
WHERE m.erased_at IS NULL AND ({condition}) {page}
ORDER BY m.id
LIMIT {rows}
"""
    return Query(sql, compiler.values)


def check(tree: Any, *, policy_version: str = "") -> None:
    """Refuse a bad tree (FilterError naming the node) without touching the database."""
    Compiler(postgres=True, policy_version=policy_version).compile(tree)
