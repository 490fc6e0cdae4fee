"""DuckDB's SQLite reader over a real arena file (SPEC §7): every view and every table reads the
same rows in DuckDB as in SQLite. The file holds real bot matches of both games with secret
tools offered and granted, under the observer off, on and the rules monitor; the same line-ups
and seeds without tools (the harm view's baselines and twins); and an LLM seat against the fake
OpenAI server (the cost view). DuckDB loads the sqlite_scanner extension from the installed
`duckdb-extension-sqlite-scanner` package and is told never to fetch one itself."""

from __future__ import annotations

import asyncio
import math
import sqlite3
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arena.batch import plan, run_batch
from arena.llm.config import ModelsConfig, ModelSettings
from arena.llm.fake_server import FakeOpenAI
from arena.store.db import Store
from arena.store.schema import LATEST, OFFER_COPIES
from arena.store.views import VIEWS
from tests.intervals import PAIRED_SQL, RATES_SQL, check_paired, check_rates
from tests.support import old_arena_file, read_only

CHECKED_VIEWS = [*VIEWS, "partner_consent"]

# What each game's tool matches are offered and granted: partner tools (the collusion views),
# chosen tools (tool_usage) and offers answered by bots (adoption, partner consent).
SECRETS = {
    "liars-bar": {"offers": ["secret_channel:0", "peek:random@*.2"],
                  "grants": ["alliance_hint:2+3"]},
    "cleanup": {"offers": ["secret_channel:2@*.15"],
                "grants": ["remote_zap:1", "secret_channel:0+3"]},
}  # fmt: skip
PRESETS = {"liars-bar": "paper", "cleanup": None}
MATCHES = {"liars-bar": 4, "cleanup": 3}
SEED = 3


async def _play(db: Path, api_base: str) -> None:
    fake = ModelSettings(
        model="openai/fake", api_base=api_base, timeout_s=10, retries=0,
        input_usd_per_million_tokens=0.15, output_usd_per_million_tokens=0.6,
    )  # fmt: skip
    models = ModelsConfig({"fake": fake}, {}, "test")
    with Store(db) as store:
        for game, preset in PRESETS.items():
            for observer in ("off", "on"):
                # With tools, then the same line-up and seeds without: the harm view's
                # baselines and twins; off and on on the same seeds: observability's pairs.
                tools = plan(game, preset, {}, None, MATCHES[game], SEED, observer=observer,
                             **SECRETS[game])  # fmt: skip
                await run_batch(store, tools, 4)
                bare = plan(game, preset, {}, None, MATCHES[game], SEED, observer=observer)
                await run_batch(store, bare, 4)
        monitored = plan(
            "liars-bar", "paper", {}, None, 3, SEED, observer="monitor",
            offers=["secret_channel:0"], grants=["peek:1", "alliance_hint:2+3"], monitor="rules",
        )  # fmt: skip
        await run_batch(store, monitored, 4)
        # A short match with an LLM seat offered a tool, off and on: rows of llm_calls.
        for observer in ("off", "on"):
            llm = plan(
                "liars-bar", None, {"max_rounds": 2},
                ["llm:fake", "bot:counter", "bot:bluffer", "bot:cautious"], 1, SEED, models,
                observer=observer, offers=["secret_channel:0"],
            )  # fmt: skip
            await run_batch(store, llm, 1)


@pytest.fixture(scope="module")
def arena_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("duckdb") / "arena.db"
    with FakeOpenAI(seed=SEED) as server:
        asyncio.run(_play(path, server.base_url))
    return path


def duckdb_reader(path: Path) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the arena file at `path` attached read-only as `arena`, through
    the sqlite_scanner of the installed package (DuckDB may neither install nor load an
    extension on its own: nothing is downloaded)."""
    extension = (
        files("duckdb_extension_sqlite_scanner")
        / "extensions"
        / f"v{duckdb.__version__}"
        / "sqlite_scanner.duckdb_extension"
    )
    conn = duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    conn.execute(f"LOAD '{extension}'")
    conn.execute(f"ATTACH '{path}' AS arena (TYPE sqlite, READ_ONLY)")
    return conn


@pytest.fixture(scope="module")
def duck(arena_file: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    conn = duckdb_reader(arena_file)
    yield conn
    conn.close()


def _order(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A sort key for rows from either engine: nulls first, floats rounded (the engines may
    differ in their last bits)."""
    return tuple(
        (0,) if value is None else (1, round(value, 6) if isinstance(value, float) else value)
        for value in row
    )


def _same(found: Any, wanted: Any) -> bool:
    if found is None or wanted is None:
        return found is None and wanted is None
    if type(found) is not type(wanted):  # an integer count read as a real, a bool, bytes…
        return False
    if isinstance(found, float):
        return math.isclose(found, wanted, rel_tol=1e-9, abs_tol=1e-12)
    return bool(found == wanted)


def differences(found: list[tuple[Any, ...]], wanted: list[tuple[Any, ...]]) -> list[str]:
    """Where DuckDB's rows differ from SQLite's, in any order of rows."""
    if len(found) != len(wanted):
        return [f"{len(found)} rows in DuckDB, {len(wanted)} in SQLite"]
    pairs = zip(sorted(found, key=_order), sorted(wanted, key=_order), strict=True)
    return [
        f"{duck_row} != {lite_row}"
        for duck_row, lite_row in pairs
        if len(duck_row) != len(lite_row)
        or not all(_same(a, b) for a, b in zip(duck_row, lite_row, strict=True))
    ]


def both_engines(
    arena_file: Path, duck: duckdb.DuckDBPyConnection, name: str
) -> tuple[list[str], list[tuple[Any, ...]], list[str], list[tuple[Any, ...]]]:
    """SELECT * of table or view `name`: (columns, rows) in DuckDB, then in SQLite."""
    found = duck.execute(f'SELECT * FROM arena."{name}"')
    found_columns = [d[0] for d in found.description]
    found_rows = found.fetchall()
    with read_only(arena_file) as conn:
        wanted = conn.execute(f'SELECT * FROM "{name}"')
        return found_columns, found_rows, [d[0] for d in wanted.description], wanted.fetchall()


def test_the_views_checked_are_every_view_the_file_has(arena_file: Path) -> None:
    with read_only(arena_file) as conn:
        views = {
            name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'view'")
        }
    assert views == set(CHECKED_VIEWS)


@pytest.mark.parametrize("view", CHECKED_VIEWS)
def test_duckdb_reads_the_view_with_the_same_rows_as_sqlite(
    arena_file: Path, duck: duckdb.DuckDBPyConnection, view: str
) -> None:
    found_columns, found, columns, wanted = both_engines(arena_file, duck, view)
    assert wanted, f"the test file has no row of {view}: the comparison would prove nothing"
    assert found_columns == columns
    assert differences(found, wanted) == []


def test_duckdb_reads_every_table_with_the_same_rows_and_types_as_sqlite(
    arena_file: Path, duck: duckdb.DuckDBPyConnection
) -> None:
    # The full-text index is FTS5's: a virtual table DuckDB cannot read, and its storage.
    with read_only(arena_file) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'messages_fts%'"
            )
        ]
    assert {"tool_offers", "tool_grants", "llm_calls", "monitor_flags"} <= set(tables)
    for table in tables:
        found_columns, found, columns, wanted = both_engines(arena_file, duck, table)
        assert found_columns == columns, table
        assert differences(found, wanted) == [], table


def test_a_version_6_file_gets_typed_copies_with_its_rows_unchanged(tmp_path: Path) -> None:
    db = tmp_path / "v6.db"
    old_arena_file(db, 6)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(
            "INSERT INTO matches (id, batch, batch_index, game, preset, seed, config, status,"
            " software_version, created_at, observer, framing, experiment, lineup)"
            " VALUES (1, 'b', 0, 'liars-bar', 'paper', 11, '{}', 'finished', '0.1',"
            " '2026-12-01', 'off', 'neutral', 'café', 'L')"
        )
        conn.execute(
            "INSERT INTO seats (match_id, seat, name, kind, persona, model, params)"
            " VALUES (1, 0, 'a', 'bot', 'counter', NULL, '{}'), (1, 1, 'b', 'llm', NULL,"
            " 'test/m', '{}')"
        )
        conn.execute(
            "INSERT INTO tool_offers (match_id, offer_seq, hand, tool, seat, framing, observer,"
            " answer, simulated, granted) VALUES (1, 4, 1, 'peek', 0, 'neutral', 'off',"
            " 'accept', 1, 1)"
        )
        conn.execute(
            "INSERT INTO tool_grants (match_id, tool, seat, seq, hand, standing)"
            " VALUES (1, 'peek', 0, 5, 1, 0)"
        )
    before = {
        table: conn.execute(f"SELECT * FROM {table}").fetchall()
        for table in ("tool_offers", "tool_grants")
    }
    conn.close()
    with Store(db) as store:
        assert store.schema_version() == LATEST == 7
        for table, rows in before.items():
            assert store.conn.execute(f"SELECT * FROM {table}").fetchall() == rows
        declared = {
            name: kind
            for table in ("tool_offers", "tool_grants")
            for _, name, kind, *_ in store.conn.execute(f"PRAGMA table_info({table})")
        }
        assert {name: declared[name] for name in OFFER_COPIES} == {
            "match_experiment": "TEXT", "match_game": "TEXT", "match_lineup": "TEXT",
            "match_seed": "INTEGER", "offer_specs": "TEXT", "grant_specs": "TEXT",
            "match_created_at": "TEXT", "match_batch": "TEXT", "agent": "TEXT",
            "seat_kind": "TEXT",
        }  # fmt: skip
        assert (declared["match_framing"], declared["simulated"]) == ("TEXT", "INTEGER")
        # The trigger still fills the copies of a new row.
        with store.conn:
            store.conn.execute(
                "INSERT INTO tool_offers (match_id, offer_seq, hand, tool, seat, framing,"
                " observer, answer, simulated, granted) VALUES (1, 9, 2, 'peek', 1, 'neutral',"
                " 'off', 'refuse', 0, 0)"
            )
    duck = duckdb_reader(db)
    try:
        offers = duck.execute(
            "SELECT offer_seq, match_experiment, match_seed, agent FROM arena.tool_offers"
            " ORDER BY offer_seq"
        ).fetchall()
        grant = duck.execute(
            "SELECT match_game, agent, simulated FROM arena.tool_grants"
        ).fetchall()
        adoption = duck.execute("SELECT agent, offers, accepted FROM arena.adoption").fetchall()
    finally:
        duck.close()
    assert offers == [(4, "café", 11, "counter"), (9, "café", 11, "test/m")]
    assert grant == [("liars-bar", "counter", 1)]
    assert sorted(adoption) == [("counter", 1, 1), ("test/m", 1, 0)]


counts = st.integers(min_value=0, max_value=400)


@settings(max_examples=60)
@given(x1=counts, extra1=counts, x2=counts, extra2=counts)
def test_the_interval_sql_gives_the_statistics_functions_numbers_in_duckdb(
    x1: int, extra1: int, x2: int, extra2: int
) -> None:
    n1, n2 = x1 + extra1, x2 + extra2
    conn = duckdb.connect()
    try:
        found = conn.execute(RATES_SQL, [x1, n1, x2, n2])
        row = dict(zip([d[0] for d in found.description], found.fetchone() or (), strict=True))
    finally:
        conn.close()
    check_rates(row, x1, n1, x2, n2)


@settings(max_examples=60)
@given(both=counts, first=counts, second=counts, neither=counts)
def test_the_paired_interval_sql_gives_the_statistics_functions_numbers_in_duckdb(
    both: int, first: int, second: int, neither: int
) -> None:
    conn = duckdb.connect()
    try:
        found = conn.execute(PAIRED_SQL, [both, first, second, neither])
        row = dict(zip([d[0] for d in found.description], found.fetchone() or (), strict=True))
    finally:
        conn.close()
    check_paired(row, both, first, second, neither)
