"""`member-api provenance verify` catches rows changed, removed or reordered behind the
service's back; `export` and `verify-bundle` prove an item's history offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tortoise import Tortoise

from member_api import db, seed
from member_api.cli import main
from member_api.provenance.log import LogKey
from member_api.settings import Settings
from tests.conftest import _truncate_postgres, run_in_own_loop


@pytest.fixture(params=["sqlite", "postgres"])
def seeded(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A database set up as `make run` does, with the demo items."""
    if request.param == "sqlite":
        url = f"sqlite://{tmp_path / 'audit.sqlite3'}"
    else:
        url = str(request.getfixturevalue("postgres_database"))
        run_in_own_loop(_truncate_postgres(url))
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("CACHE_URL", "memory://")
    assert main(["migrate"]) == 0
    assert main(["seed-demo"]) == 0
    return url


# Five custody events for each demo item: the demo log's leaves.
LEAVES = 5 * len(seed.DEMO_ITEMS)


def sql(url: str, statement: str) -> list[dict[str, object]]:
    async def run() -> list[dict[str, object]]:
        await db.init_orm(url)
        try:
            connection = Tortoise.get_connection("default")
            if statement.lstrip().upper().startswith("SELECT"):
                return list(await connection.execute_query_dict(statement))
            await connection.execute_script(statement)
            return []
        finally:
            await Tortoise.close_connections()

    return run_in_own_loop(run())


def item_at(url: str, leaf: int) -> str:
    rows = sql(
        url,
        "SELECT i.public_id FROM custody_event e JOIN item i ON i.id = e.item_id "
        f"WHERE e.leaf_index = {leaf}",
    )
    return str(rows[0]["public_id"])


def verify(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["provenance", "verify"])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_an_untouched_log_verifies(seeded: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, said = verify(capsys)
    assert code == 0, said
    assert f"OK: {LEAVES} log entries" in said


def test_an_edited_row_fails_and_names_its_item(
    seeded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    sql(seeded, "UPDATE custody_event SET place = 'Paris' WHERE leaf_index = 6")
    code, said = verify(capsys)
    assert code == 1
    assert f"leaf 6 (item {item_at(seeded, 6)})" in said


def test_a_forged_verdict_fails_and_names_its_item(
    seeded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    forged = json.dumps({"verdict": "GENUINE", "reportDigest": "sha256:" + "0" * 64})
    sql(seeded, f"UPDATE custody_event SET details = '{forged}' WHERE leaf_index = 11")
    code, said = verify(capsys)
    assert code == 1
    assert item_at(seeded, 11) in said


def test_a_removed_row_fails(seeded: str, capsys: pytest.CaptureFixture[str]) -> None:
    sql(seeded, f"DELETE FROM custody_event WHERE leaf_index = {LEAVES - 1}")
    code, said = verify(capsys)
    assert code == 1
    assert "no longer in the database" in said
    sql(seeded, "DELETE FROM custody_event WHERE leaf_index = 3")
    code, said = verify(capsys)
    assert (code, "leaf 3 is missing" in said) == (1, True)


def test_reordered_rows_fail(seeded: str, capsys: pytest.CaptureFixture[str]) -> None:
    first = item_at(seeded, 4)
    sql(
        seeded,
        "UPDATE custody_event SET leaf_index = -1 WHERE leaf_index = 4;"
        "UPDATE custody_event SET leaf_index = 4 WHERE leaf_index = 5;"
        "UPDATE custody_event SET leaf_index = 5 WHERE leaf_index = -1;",
    )
    code, said = verify(capsys)
    assert code == 1
    assert "leaf 4" in said
    assert item_at(seeded, 5) == first


def _key() -> str:
    settings = Settings.from_env()
    return LogKey(settings.provenance_origin, settings.provenance_signing_key).verifier_key


def test_a_bundle_verifies_offline_and_a_forged_one_does_not(
    seeded: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    public_id = item_at(seeded, 0)
    out = tmp_path / "bundle.json"
    assert main(["provenance", "export", public_id, "--out", str(out)]) == 0
    key_file = tmp_path / "log.key"
    key_file.write_text(_key() + "\n")
    capsys.readouterr()
    assert main(["provenance", "verify-bundle", str(out), "--key", str(key_file)]) == 0
    assert f"OK: the first 5 event(s) of item {public_id}" in capsys.readouterr().out
    bundle = json.loads(out.read_text())
    assert "owner" not in out.read_text().lower()

    def forged(change: str) -> int:
        copy = json.loads(json.dumps(bundle))
        if change == "verdict":
            copy["events"][1]["leaf"]["details"]["verdict"] = "COUNTERFEIT"
        elif change == "date":
            copy["events"][0]["leaf"]["eventTime"] = "2020-01-01T00:00:00Z"
        elif change == "checkpoint":
            copy["checkpoint"] = copy["checkpoint"].replace(f"\n{LEAVES}\n", f"\n{LEAVES + 1}\n")
        elif change == "other item":
            copy["events"][0]["leaf"]["item"] = "someone-else"
        elif change == "relabelled":
            copy["item"]["brand"] = "Chanel"
        elif change == "dropped":
            del copy["events"][1]
        elif change == "repeated":
            copy["events"].insert(1, copy["events"][0])
        path = tmp_path / f"forged-{change}.json"
        path.write_text(json.dumps(copy))
        return main(["provenance", "verify-bundle", str(path), "--key", _key()])

    for change in (
        "verdict",
        "date",
        "checkpoint",
        "other item",
        "relabelled",
        "dropped",
        "repeated",
    ):
        assert forged(change) == 1, change
    other_key = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
    assert main(["provenance", "verify-bundle", str(out), "--key", other_key]) == 1
    assert "FAIL" in capsys.readouterr().err


def test_a_tampered_subtree_hash_fails(seeded: str, capsys: pytest.CaptureFixture[str]) -> None:
    # The demo log has more than 12 leaves: leaves 8 to 11 make the subtree at level 2,
    # position 2.
    sql(seeded, f"UPDATE merkle_node SET hash = '{'0' * 64}' WHERE level = 2 AND position = 2")
    code, said = verify(capsys)
    assert code == 1
    assert "the stored hash of leaves 8 to 11 no longer matches them" in said


def test_a_log_signed_under_another_name_is_explained_once(
    seeded: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo log was signed as 127.0.0.1/provenance; a server that names its log
    otherwise says so once, with the setting that fixes it, not a failure per checkpoint."""
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://member.example.com")
    code, said = verify(capsys)
    assert code == 1
    assert said.count("FAIL") == 1, said
    assert "signed as log 127.0.0.1/provenance" in said
    assert "PROVENANCE_LOG_NAME=127.0.0.1/provenance" in said
    monkeypatch.setenv("PROVENANCE_LOG_NAME", "127.0.0.1/provenance")
    code, said = verify(capsys)
    assert code == 0, said


@pytest.mark.parametrize("port", ["8000", "8765"])
def test_the_log_keeps_its_name_and_links_follow_the_port(
    seeded: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, port: str
) -> None:
    monkeypatch.setenv("PORT", port)
    assert Settings.from_env().public_base_url == f"http://127.0.0.1:{port}"
    code, said = verify(capsys)
    assert code == 0, said


def test_an_id_that_begins_with_a_dash_exports_after_a_double_dash_or_as_its_link(
    seeded: str, tmp_path: Path
) -> None:
    """Ids made before they had to begin with a letter or digit may begin with '-'."""
    old = item_at(seeded, 0)
    sql(seeded, f"UPDATE item SET public_id = '-{old[1:]}' WHERE public_id = '{old}'")
    dashed = f"-{old[1:]}"
    by_id, by_link = tmp_path / "by-id.json", tmp_path / "by-link.json"
    assert main(["provenance", "export", "--out", str(by_id), "--", dashed]) == 0
    link = f"http://127.0.0.1:8000/p/{dashed}"
    assert main(["provenance", "export", link, "--out", str(by_link)]) == 0
    bundle = json.loads(by_id.read_text())
    assert bundle == json.loads(by_link.read_text())
    assert dashed in by_id.read_text()
    assert len(bundle["events"]) == 5
