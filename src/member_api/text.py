"""Text the service can store: no NUL character (PostgreSQL refuses one, SQLite would
keep it, and the two must agree) and no lone surrogate (it has no UTF-8 form).

JSON bodies are read by `loads`, which refuses invalid UTF-8, lone surrogates, numbers
that no float holds, and nesting deeper than 1,024, with a ValueError."""

from __future__ import annotations

from typing import Any

import orjson

loads = orjson.loads


def storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def all_storable(value: Any) -> bool:
    """Every string in a decoded JSON value (keys included) is storable."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return all(all_storable(k) and all_storable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(all_storable(v) for v in value)
    return True


def is_digits(text: str) -> bool:
    """Only the ASCII digits 0-9: `str.isdigit` also takes '²' or '٣', which `int` refuses."""
    return text.isascii() and text.isdigit()
