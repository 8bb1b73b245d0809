"""Checking business rules given as data (a JSON object per area).

Each area keeps its numbers in a frozen dataclass whose defaults are DOMAIN.md's; its
`from_mapping` builds one from configuration with these checks, which refuse unknown
keys and bad values with a message naming the rule.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any, TypeVar

T = TypeVar("T")
E = TypeVar("E", bound=StrEnum)

Parser = Callable[[Any, str], Any]

_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,39}$")


def refuse_unknown(values: Any, known: Collection[str], what: str) -> Mapping[str, Any]:
    """`values` as a mapping holding only `known` keys."""
    if not isinstance(values, Mapping):
        raise ValueError(f"{what} rules must be a JSON object, got {type(values).__name__}")
    unknown = sorted(str(key) for key in set(values) - set(known))
    if unknown:
        raise ValueError(
            f"unknown {what} rule(s): {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )
    return values


def count(value: Any, name: str, *, minimum: int = 0, maximum: int | None = None) -> int:
    """A whole number in [minimum, maximum]; booleans are not numbers here."""
    in_range = (
        isinstance(value, int)
        and not isinstance(value, bool)
        and value >= minimum
        and (maximum is None or value <= maximum)
    )
    if not in_range:
        wanted = "a non-negative integer" if minimum == 0 else f"an integer >= {minimum}"
        if maximum is not None:
            wanted = f"an integer in {minimum}..{maximum}"
        raise ValueError(f"{name} must be {wanted}, got {value!r}")
    return int(value)


def text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value.strip()


def words(value: Any, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(word, str) for word in value):
        raise ValueError(f"{name} must be a list of strings")
    return tuple(word.strip() for word in value if word.strip())


def choice(value: Any, name: str, kind: type[E]) -> E:
    try:
        return kind(value)
    except ValueError:
        options = ", ".join(member.value for member in kind)
        raise ValueError(f"{name} must be one of {options}, got {value!r}") from None


def choices(value: Any, name: str, kind: type[E]) -> tuple[E, ...]:
    if not isinstance(value, list):
        raise ValueError(f"{name} must be a list")
    return tuple(choice(item, name, kind) for item in value)


def table(
    value: Any,
    name: str,
    keys: Iterable[str],
    defaults: Mapping[str, int],
    *,
    minimum: int = 0,
    maximum: int | None = None,
) -> dict[str, int]:
    """A table of whole numbers by code; codes not given keep their default."""
    allowed = set(keys)
    if not isinstance(value, Mapping):
        raise ValueError(f"{name} must be a JSON object of codes to numbers")
    unknown = sorted(str(key) for key in set(value) - allowed)
    if unknown:
        raise ValueError(f"{name}: unknown code(s) {', '.join(unknown)}")
    given = {
        str(key): count(number, f"{name}.{key}", minimum=minimum, maximum=maximum)
        for key, number in value.items()
    }
    return {**defaults, **given}


def build(cls: type[T], values: Any, what: str, parsers: Mapping[str, Parser] | None = None) -> T:
    """`cls` from `values`: each field through its parser, by default a non-negative
    integer; fields not given keep their defaults."""
    fields = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    values = refuse_unknown(values, fields, what)
    parsers = parsers or {}
    cleaned: dict[str, Any] = {}
    for name, value in values.items():
        label = f"{what} rule {name}"
        parse = parsers.get(name)
        cleaned[name] = parse(value, label) if parse is not None else count(value, label)
    return cls(**cleaned)


def parse_code(value: Any, name: str) -> str:
    """A code: A-Z first, then A-Z, 0-9 and _, up to 40 in all."""
    if not isinstance(value, str) or not _CODE.match(value):
        raise ValueError(f"{name}: {value!r} is not a code (A-Z, 0-9 and _, up to 40)")
    return value


def merge_catalogue(
    defaults: Sequence[T],
    changes: Any,
    name: str,
    *,
    code_of: Callable[[T], str],
    entry: Callable[[str, Mapping[str, Any], T | None], T],
) -> tuple[T, ...]:
    """A catalogue keyed by code: `{"CODE": {...}}` adds an entry or changes some of its
    fields, `{"CODE": null}` removes it; the others keep their defaults and order."""
    if not isinstance(changes, Mapping):
        raise ValueError(f"{name} must be a JSON object of codes to entries (or null)")
    by_code = {code_of(item): item for item in defaults}
    for code, spec in changes.items():
        parse_code(code, name)
        if spec is None:
            if by_code.pop(code, None) is None:
                raise ValueError(f"{name}: there is no {code} to remove")
        elif isinstance(spec, Mapping):
            by_code[code] = entry(code, spec, by_code.get(code))
        else:
            raise ValueError(f"{name}.{code} must be a JSON object, or null to remove it")
    return tuple(by_code.values())
