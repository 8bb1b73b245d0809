"""The bounded map forgets the least recently used entry first."""

from __future__ import annotations

from member_api.bounded import Bounded


def test_the_least_recently_used_entry_goes_first() -> None:
    seen: Bounded[str, int] = Bounded(2)
    seen.put("a", 1)
    seen.put("b", 2)
    assert seen.get("a") == 1  # "a" is now the most recent
    seen.put("c", 3)
    assert "b" not in seen
    assert (seen.get("a"), seen.get("c"), len(seen)) == (1, 3, 2)
    seen.forget("a")
    seen.forget("missing")
    assert "a" not in seen
    assert seen.get("a") is None
