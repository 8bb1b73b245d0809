"""Scalars for money and points: whole numbers of any size a JSON number carries exactly.

GraphQL's `Int` is 32 bits, which a points balance or an order in fen outgrows; a Float
is never exact enough for money. `Fen` and `PointCount` are integers within +-(2**53 - 1),
the range every JSON reader keeps exact; a value beyond it is refused on the way in with
a typed error (`VALUE_OUT_OF_RANGE`), and never produced on the way out.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, NewType

import strawberry
from graphql import GraphQLError

from member_api.error_codes import RequestErrorCode

SAFE_INTEGER = 2**53 - 1

Fen = NewType("Fen", int)
PointCount = NewType("PointCount", int)
# An exact value cut to a few decimals (a tier condition's average or percentage).
ConditionValue = NewType("ConditionValue", Fraction)


def _whole(name: str) -> Any:
    def parse(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise GraphQLError(
                f"{name} must be a whole number.",
                extensions={"code": RequestErrorCode.INVALID_NUMBER},
            )
        if abs(value) > SAFE_INTEGER:
            raise GraphQLError(
                f"{name} must be within -{SAFE_INTEGER}..{SAFE_INTEGER}.",
                extensions={"code": RequestErrorCode.VALUE_OUT_OF_RANGE},
            )
        return value

    return parse


def _serialize(name: str) -> Any:
    def serialize(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > SAFE_INTEGER:
            raise GraphQLError(f"{name} cannot represent {value!r} exactly.")
        return value

    return serialize


def _serialize_condition_value(value: object) -> int | float:
    """A whole number as a JSON integer; otherwise the decimal the fraction stands for
    (its denominator divides a power of ten, so the shortest float form prints it)."""
    if isinstance(value, bool) or not isinstance(value, int | Fraction):
        raise GraphQLError(f"ConditionValue cannot represent {value!r}.")
    exact = Fraction(value)
    if exact.denominator == 1:
        return _serialize("ConditionValue")(exact.numerator)  # type: ignore[no-any-return]
    return float(exact)


def _output_only(value: object) -> object:
    raise GraphQLError(
        "ConditionValue is an output type.", extensions={"code": RequestErrorCode.INVALID_NUMBER}
    )


SCALARS: dict[object, Any] = {
    Fen: strawberry.scalar(
        name="Fen",
        description="An amount of money in integer fen (1/100 yuan), within +-(2^53 - 1).",
        serialize=_serialize("Fen"),
        parse_value=_whole("Fen"),
    ),
    PointCount: strawberry.scalar(
        name="PointCount",
        description="A whole number of points, within +-(2^53 - 1).",
        serialize=_serialize("PointCount"),
        parse_value=_whole("PointCount"),
    ),
    ConditionValue: strawberry.scalar(
        name="ConditionValue",
        description=(
            "A tier condition's value in its unit: a whole number for FEN, COUNT and FLAG; "
            "for DAYS_PER_MONTH and PERCENT a decimal of at most two places, cut so that a "
            "condition never looks closer to met than it is."
        ),
        serialize=_serialize_condition_value,
        parse_value=_output_only,
    ),
}
