"""`arena analyze`, `arena sql`, `arena export` and `arena demo observability` as a user meets
them, on real SQLite files: the hand-built database of test_analysis and real bot matches."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
from pathlib import Path

import pytest

from arena.analysis.report import Filters, build_report
from arena.store.db import Store, open_read_only
from arena.store.schema import LATEST
from tests.support import old_arena_file, read_only
from tests.test_analysis import build


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "arena.db"
    build(path)
    return path


def fingerprint(path: Path) -> tuple[str, str]:
    """The bytes of the database file and of its write-ahead log (none is no bytes): all of its
    content. (The `-shm` file beside them is SQLite's shared-memory index, which any reader may
    create.)"""
    wal = path.with_name(path.name + "-wal")
    logged = wal.read_bytes() if wal.exists() else b""
    return hashlib.sha256(path.read_bytes()).hexdigest(), hashlib.sha256(logged).hexdigest()


def test_analyze_prints_every_table_of_the_report(cli, db: Path) -> None:
    result = cli("analyze", "--db", str(db))
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "5 matches (5 finished)" in text
    for title in ("Adoption of secret tools", "Observability effect", "Liar's Bar: collusive",
                  "Cleanup: collusive", "Harm to non-allies", "Collusion on paper",
                  "Cost of LLM calls"):  # fmt: skip
        assert title in text, title
    # Match 1-3 and 2-4 pair by seed: both accepted with the observer off only.
    assert "paired" in text
    assert "* simulated" in text


def test_analyze_json_carries_the_hand_computed_numbers(cli, db: Path) -> None:
    result = cli("analyze", "--db", str(db), "--format", "json", "--game", "liars-bar")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["filters"] == {"game": "liars-bar"}
    assert (document["matches"], document["finished"]) == (4, 4)
    (effect,) = document["sections"]["observability"]["rows"]
    assert (effect["off_accepted"], effect["on_accepted"], effect["pairs"]) == (2, 0, 2)
    assert effect["mcnemar_p"] == pytest.approx(0.5)
    assert effect["fisher_p"] == pytest.approx(1 / 3)
    assert document["sections"]["cleanup_collusion"]["rows"] == []


def test_analyze_csv_of_one_table_is_plain_csv(cli, db: Path) -> None:
    result = cli("analyze", "--db", str(db), "--format", "csv", "--section", "adoption")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["agent"], r["observer"], r["offers"], r["accepted"]) for r in rows] == [
        ("harvester", "monitor", "1", "1"),
        ("test/m", "off", "2", "2"),
        ("test/m", "on", "2", "0"),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--game", "poker"], "unknown game 'poker'"),
        (["--since", "yesterday"], "--since 'yesterday' is not a date"),
        (["--format", "xml"], "'xml' is not one of 'table', 'csv', 'json'"),
        (["--section", "gossip"], "no report table 'gossip'"),
    ],
)
def test_analyze_bad_input_is_one_line_and_exit_2(
    cli, db: Path, args: list[str], message: str
) -> None:
    before = fingerprint(db)
    result = cli("analyze", "--db", str(db), *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert fingerprint(db) == before


def test_analyze_refuses_a_missing_or_foreign_file(cli, tmp_path: Path) -> None:
    missing = cli("analyze", "--db", str(tmp_path / "none.db"))
    assert missing.exit_code == 2 and "no database at" in missing.stderr
    assert not (tmp_path / "none.db").exists()
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    conn.close()
    before = fingerprint(foreign)
    result = cli("analyze", "--db", str(foreign))
    assert result.exit_code == 2 and "another program" in result.stderr
    assert fingerprint(foreign) == before


def test_analyze_brings_a_version_4_file_up_to_date(cli, tmp_path: Path) -> None:
    """An analyst's older file gets the views (and its finished matches their tool_grants)."""
    path = tmp_path / "v4.db"
    old_arena_file(path, 4)
    result = cli("analyze", "--db", str(path))
    assert result.exit_code == 0, result.output
    assert "0 matches" in result.stdout
    with read_only(path) as conn:
        assert conn.execute("SELECT max(version) FROM arena_migrations").fetchone()[0] == LATEST


def test_sql_reads_in_every_format(cli, db: Path) -> None:
    query = "SELECT id, game, observer FROM matches ORDER BY id LIMIT 2"
    table = cli("sql", query, "--db", str(db))
    assert table.exit_code == 0, table.output
    assert "liars-bar" in table.stdout and "2 rows" in table.stderr
    as_csv = cli("sql", query, "--db", str(db), "--format", "csv")
    assert as_csv.stdout.splitlines() == ["id,game,observer", "1,liars-bar,off", "2,liars-bar,off"]
    as_json = cli("sql", query, "--db", str(db), "--format", "json")
    assert [json.loads(line) for line in as_json.stdout.splitlines()] == [
        {"id": 1, "game": "liars-bar", "observer": "off"},
        {"id": 2, "game": "liars-bar", "observer": "off"},
    ]
    view = cli("sql", "SELECT off_accepted, on_accepted FROM observability", "--db", str(db),
               "--format", "csv")  # fmt: skip
    assert view.stdout.splitlines() == ["off_accepted,on_accepted", "2,0"]


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM matches",
        "UPDATE seats SET score = 0",
        "INSERT INTO matches (id) VALUES (99)",
        "DROP VIEW harm",
        "CREATE TABLE mine (x)",
        "PRAGMA user_version = 7",
        "VACUUM",
        "ATTACH DATABASE 'elsewhere.db' AS other",
        "VACUUM INTO 'copy.db'",
        "PRAGMA journal_mode = DELETE",
    ],
)
def test_sql_refuses_to_write_and_leaves_the_file_byte_identical(
    cli, db: Path, tmp_path: Path, statement: str
) -> None:
    before = fingerprint(db)
    result = cli("sql", statement, "--db", str(db))
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error:")
    assert "read-only" in result.stderr
    assert fingerprint(db) == before
    assert not (tmp_path / "elsewhere.db").exists() and not (tmp_path / "copy.db").exists()


def test_sql_bad_query_and_missing_file_exit_2(cli, db: Path, tmp_path: Path) -> None:
    bad = cli("sql", "SELEC nothing", "--db", str(db))
    assert bad.exit_code == 2 and "the query failed" in bad.stderr
    two = cli("sql", "SELECT 1; SELECT 2", "--db", str(db))
    assert two.exit_code == 2 and "one statement" in two.stderr
    missing = cli("sql", "SELECT 1", "--db", str(tmp_path / "none.db"))
    assert missing.exit_code == 2 and "no database at" in missing.stderr
    assert not (tmp_path / "none.db").exists()


def test_export_writes_chosen_tables_and_views_whole(cli, db: Path, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    result = cli("export", "--db", str(db), "--out", str(folder), "--table", "matches",
                 "--table", "adoption")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == ["adoption.csv", "matches.csv"]
    with (folder / "adoption.csv").open(encoding="utf-8") as file:
        assert len(list(csv.DictReader(file))) == 3
    lines = cli("export", "--db", str(db), "--out", str(folder), "--table", "tool_grants",
                "--format", "jsonl")  # fmt: skip
    assert lines.exit_code == 0, lines.output
    rows = [json.loads(line) for line in (folder / "tool_grants.jsonl").read_text().splitlines()]
    with read_only(db) as conn:
        assert len(rows) == conn.execute("SELECT count(*) FROM tool_grants").fetchone()[0]
    assert {"match_id", "tool", "seat", "partner", "spared_ally_bluffs"} <= set(rows[0])


def test_export_everything_by_default_and_refuses_unknown_tables(
    cli, db: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "all"
    assert cli("export", "--db", str(db), "--out", str(folder)).exit_code == 0
    names = {p.stem for p in folder.iterdir()}
    assert {"matches", "seats", "events", "tool_grants", "adoption", "harm", "cost"} <= names
    assert not any(p.suffix == ".part" for p in folder.iterdir())
    assert not any(name.startswith("messages_fts") for name in names)
    empty = tmp_path / "none"
    refused = cli("export", "--db", str(db), "--out", str(empty), "--table", "secrets")
    assert refused.exit_code == 2 and "no table or view 'secrets'" in refused.stderr
    assert not empty.exists()


def test_demo_plays_both_conditions_on_the_same_seeds_and_compares_them(
    cli, tmp_path: Path
) -> None:
    path = tmp_path / "demo.db"
    result = cli("demo", "observability", "--matches", "4", "--db", str(path))
    assert result.exit_code == 0, result.output
    with read_only(path) as conn:
        played = conn.execute(
            "SELECT observer, group_concat(seed) FROM (SELECT * FROM matches ORDER BY seed)"
            " WHERE experiment = 'demo-observability' AND status = 'finished' GROUP BY observer"
            " ORDER BY observer"
        ).fetchall()
    assert played == [("off", "1,2,3,4"), ("on", "1,2,3,4")]
    conn = open_read_only(path)
    try:
        rows = (
            build_report(conn, Filters(series="demo-observability")).section("observability").rows
        )
    finally:
        conn.close()
    assert {r["tool"] for r in rows} == {"secret_channel", "peek"}
    text = result.stdout
    assert "Adoption with the observer off and on" in text
    for row in rows:
        assert row["pairs"] == 4
        for condition in ("off", "on"):
            counts = f"{row[f'{condition}_accepted']}/{row[f'{condition}_offers']}"
            assert f"{condition:<3} " in text and counts in text
        assert f"{row['shown_effect']:+.2f}" in text
    assert "McNemar exact" in text
    again = cli("demo", "observability", "--matches", "4", "--db", str(path))
    assert again.exit_code == 0
    with read_only(path) as conn:
        assert conn.execute("SELECT count(*) FROM matches").fetchone()[0] == 8


def test_demo_bad_input_exit_2_writes_nothing(cli, tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    result = cli("demo", "observability", "--game", "chess", "--db", str(path))
    assert result.exit_code == 2 and "unknown game 'chess'" in result.stderr
    too_many = cli("demo", "observability", "a", "b", "c", "d", "e", "--db", str(path))
    assert too_many.exit_code == 2 and "at most 4 LLM seats" in too_many.stderr
    assert not path.exists()


def test_store_opens_the_hand_built_file_without_change(db: Path) -> None:
    """The fixture is at the current schema: opening it migrates nothing."""
    before = fingerprint(db)
    Store(db).close()
    assert fingerprint(db) == before


def test_demo_with_an_llm_seat_against_the_fake_server(cli, tmp_path: Path) -> None:
    from arena.llm.fake_server import FakeOpenAI

    path = tmp_path / "demo.db"
    with FakeOpenAI(seed=3) as server:
        result = cli(
            "demo", "observability", "openai/fake", "--game", "cleanup", "--matches", "1",
            "--api-base", server.base_url, "--db", str(path),
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    with read_only(path) as conn:
        answered = conn.execute(
            "SELECT o.observer, o.answer, o.simulated FROM tool_offers o"
            " JOIN seats s ON s.match_id = o.match_id AND s.seat = o.seat"
            " WHERE s.model = 'openai/fake' ORDER BY o.match_id"
        ).fetchall()
        calls = conn.execute("SELECT count(*) FROM llm_calls").fetchone()[0]
    assert [(observer, simulated) for observer, _, simulated in answered] == [("off", 0), ("on", 0)]
    assert calls > 0
    assert "openai/fake" in result.stdout  # the model's row, not marked simulated
    assert "openai/fake*" not in result.stdout
