"""Error codes are enum members, one enum per area, and every enum is in both schemas."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from member_api.error_codes import ERROR_CODE_ENUMS
from member_api.graphql.schema import admin_schema, member_schema, sdl

SOURCE = Path(__file__).resolve().parents[2] / "src" / "member_api"

# Whatever takes an error code as its first argument.
_CODE_FIRST = {
    "DomainError",
    "InvalidInput",
    "NotAuthenticated",
    "Forbidden",
    "Conflict",
    "NotFound",
    "RateLimited",
    "UpstreamFailure",
    "ClientError",
}


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


_TEXT = (ast.Constant, ast.JoinedStr)


def _literal_codes(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, text) of every error code written as a bare string."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            first = node.args[0] if node.args else None
            if _name(node.func) in _CODE_FIRST and isinstance(first, _TEXT):
                found.append((node.lineno, ast.unparse(first)))
            for keyword in node.keywords:
                if keyword.arg == "code" and isinstance(keyword.value, _TEXT):
                    found.append((node.lineno, ast.unparse(keyword.value)))
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                is_code = isinstance(key, ast.Constant) and key.value == "code"
                if is_code and isinstance(value, _TEXT):
                    found.append((node.lineno, ast.unparse(value)))
    return found


def test_no_error_code_is_a_free_string() -> None:
    offenders = [
        f"{path.relative_to(SOURCE)}:{line}: {text}"
        for path in sorted(SOURCE.rglob("*.py"))
        for line, text in _literal_codes(ast.parse(path.read_text()))
    ]
    assert offenders == []


def test_the_scan_finds_a_free_string_code() -> None:
    # The scan itself must be able to fail.
    sample = ast.parse(
        'raise NotFound("UNKNOWN_THING", "x")\n'
        'parse_id(v, code=f"UNKNOWN_{kind}", what="x")\n'
        'GraphQLError("m", extensions={"code": "QUERY_TOO_DEEP"})\n'
        'raise NotFound(RewardErrorCode.UNKNOWN_REWARD, "x")\n'
    )
    assert [line for line, _ in _literal_codes(sample)] == [1, 2, 3]


@pytest.mark.parametrize("schema", [member_schema, admin_schema], ids=["member", "admin"])
def test_every_code_enum_is_listed_in_the_schema(schema: object) -> None:
    text = sdl(schema)
    for enum in ERROR_CODE_ENUMS:
        assert f"enum {enum.__name__} {{" in text
        for member in enum:
            assert f"  {member.value}\n" in text


def test_each_enum_names_its_own_values() -> None:
    for enum in ERROR_CODE_ENUMS:
        assert enum.__name__.endswith("ErrorCode")
        assert all(member.name == member.value for member in enum)
