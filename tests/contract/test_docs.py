"""The README stays a short first screen; the docs it links to exist and cover every
setting the service reads."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = ROOT / "src" / "member_api" / "settings.py"
_READS = re.compile(
    r"""(?:env\.get\(|_int\(env,\s*|_float\(env,\s*|_bool\(env,\s*|"(?=[A-Z_]+":\s*"[a-z_]+"))"""
    r"""["']?([A-Z][A-Z0-9_]+)["']"""
)


def settings_read() -> set[str]:
    return set(_READS.findall(SETTINGS.read_text()))


def test_the_scan_finds_the_settings() -> None:
    names = settings_read()
    assert {"DATABASE_URL", "PORT", "POINTS_PER_YUAN", "TRUSTED_PROXIES"} <= names
    assert len(names) > 40


def test_every_setting_has_a_row_in_the_configuration_table() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text()
    rows = "\n".join(line for line in text.splitlines() if line.startswith("| `"))
    missing = sorted(name for name in settings_read() if f"`{name}`" not in rows)
    assert missing == []


def test_every_relative_link_resolves() -> None:
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text()):
            assert (page.parent / target).exists(), f"{page.name} links to {target}"


def test_the_readme_is_a_first_screen_that_links_every_doc() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 80
    for doc in sorted((ROOT / "docs").glob("*.md")):
        assert f"(docs/{doc.name})" in readme
