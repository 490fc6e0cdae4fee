"""The analysis screen driven by its pilot over a real SQLite file of real bot matches (six
Liar's Bar matches with the observer off and the same six seeds with it on, seat 0 offered a
secret channel and seat 1 peek): what it shows must be what `build_report` and `offers_behind`
read from the same file, a filter narrows it, an offer opens its match's replay, and a bad path
or filter is named without touching any file."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from arena.analysis.output import SIMULATED_NOTE, cell, observability_chart
from arena.analysis.report import Filters, Report, Row, build_report, offers_behind
from arena.batch import plan, run_batch
from arena.store.db import Store
from arena.store.schema import LATEST
from arena.tui.analysis_screen import AnalysisScreen, adoption_columns, shown_columns
from arena.tui.app import ArenaApp
from tests.support import old_arena_file, read_only, until
from tests.test_tui import screen_text

OFFERS = ["secret_channel:0", "peek:1"]
MATCHES = 6  # per observer condition


async def _record(db: Path) -> None:
    with Store(db) as store:
        for observer in ("off", "on"):
            await run_batch(
                store, plan("liars-bar", None, {}, None, MATCHES, 1, observer=observer,
                            offers=OFFERS)
            )  # fmt: skip


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("analysis") / "arena.db"
    asyncio.run(_record(path))
    return path


@pytest.fixture
def db(recorded: Path, tmp_path: Path) -> Path:
    """A copy of the recorded file of this test's own (the app may open its database)."""
    path = tmp_path / "arena.db"
    shutil.copy(recorded, path)
    return path


def report_of(db: Path, filters: Filters = Filters()) -> Report:  # noqa: B008
    with read_only(db) as conn:
        return build_report(conn, filters, ("observability", "adoption"))


def analysis(app: ArenaApp) -> AnalysisScreen:
    screen = app.screen
    assert isinstance(screen, AnalysisScreen), type(screen).__name__
    return screen


async def open_analysis(pilot: Pilot[Any]) -> AnalysisScreen:
    """F6 from the lobby, then wait for the first read to end (a report or an error)."""
    app = pilot.app
    assert isinstance(app, ArenaApp)
    await until(pilot, lambda: type(app.screen).__name__ == "LobbyScreen")
    await pilot.press("f6")
    await until(pilot, lambda: isinstance(app.screen, AnalysisScreen))
    screen = analysis(app)
    await until(pilot, lambda: screen.report is not None or "Cannot read" in message(screen))
    return screen


async def apply(pilot: Pilot[Any], screen: AnalysisScreen, **fields: str) -> None:
    """Type into the fields (`db` or a filter name), press Enter, wait for the read to end."""
    for name, value in fields.items():
        widget = screen.query_one("#analysis-db" if name == "db" else f"#filter-{name}", Input)
        widget.focus()
        widget.value = ""
        if len(value) <= 3:
            await pilot.press(*value)
        else:  # typed key by key, longer values would only make the test slow
            widget.value = value
    before, said = screen.report, message(screen)
    await pilot.press("enter")

    def answered() -> bool:
        now = message(screen)
        return screen.report is not before or ("Cannot read" in now and now != said)

    await until(pilot, answered)
    await pilot.pause()


def message(screen: AnalysisScreen) -> str:
    return str(screen.query_one("#analysis-message").render())


def shown(screen: AnalysisScreen, selector: str) -> str:
    return str(screen.query_one(selector).render())


def table_cells(screen: AnalysisScreen, selector: str) -> list[list[str]]:
    """The table's cells as text (numbers are padded to align right)."""
    table = screen.query_one(selector, DataTable)
    return [[str(value).strip() for value in table.get_row_at(i)] for i in range(table.row_count)]


def adoption_cells(rows: list[Row]) -> list[list[str]]:
    columns = shown_columns(adoption_columns(), rows)
    return [[cell(row, column) for column in columns] for row in rows]


async def select_adoption_row(pilot: Pilot[Any], screen: AnalysisScreen, index: int) -> None:
    await pilot.press("f3", *["down"] * index, "enter")
    await until(pilot, lambda: screen.offer_rows != [] and screen.offer_reads > 0)
    await pilot.pause()


async def test_the_chart_and_the_adoption_table_show_what_the_report_reads(db: Path) -> None:
    report = report_of(db)
    comparison = report.section("observability").rows
    adoption = report.section("adoption").rows
    assert len(comparison) == 2 and len(adoption) == 4  # two tools, each off and on
    app = ArenaApp(db, pace_s=0, suspense_s=0)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_analysis(pilot)
        assert shown(screen, "#analysis-chart") == observability_chart(comparison)
        on_screen = shown(screen, "#analysis-chart")
        for row in comparison:
            assert f"{row['off_accepted']}/{row['off_offers']}" in on_screen
            assert f"{row['on_accepted']}/{row['on_offers']}" in on_screen
            assert f"{row['shown_effect']:+.2f}" in on_screen
        assert "observer off minus on" in shown(screen, "#analysis-effect")
        assert table_cells(screen, "#analysis-adoption") == adoption_cells(adoption)
        first = table_cells(screen, "#analysis-adoption")[0]
        assert first[0].endswith("*")  # bots: simulated
        wilson = f"{adoption[0]['adoption_rate']:.2f} [{adoption[0]['adoption_low']:.2f}, "
        assert any(value.startswith(wilson) for value in first)
        note = shown(screen, "#analysis-adoption-note")
        assert SIMULATED_NOTE in note and "framing neutral" in note and "Wilson" in note
        title = shown(screen, "#analysis-title")
        assert f"{2 * MATCHES} matches ({2 * MATCHES} finished)" in title


async def test_an_observer_filter_narrows_the_table_and_says_why_there_is_no_comparison(
    db: Path,
) -> None:
    everything = report_of(db).section("adoption").rows
    only_on = report_of(db, Filters(observer="on")).section("adoption").rows
    assert 0 < len(only_on) < len(everything)
    app = ArenaApp(db, pace_s=0, suspense_s=0)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_analysis(pilot)
        assert len(table_cells(screen, "#analysis-adoption")) == len(everything)
        await apply(pilot, screen, observer="on")
        assert screen.applied is not None and screen.applied.filters == Filters(observer="on")
        assert table_cells(screen, "#analysis-adoption") == adoption_cells(only_on)
        assert all(row["observer"] == "on" for row in screen.adoption_rows)
        assert "observer filter keeps one condition" in shown(screen, "#analysis-chart")
        assert "observer on" in shown(screen, "#analysis-title")


async def test_an_adoption_row_lists_exactly_the_offers_behind_it(db: Path) -> None:
    filters = Filters(model="cautious")
    rows = report_of(db, filters).section("adoption").rows
    assert len(rows) == 2  # cautious's peek, off and on
    with read_only(db) as conn:
        expected = offers_behind(conn, filters, rows[1])
    assert len(expected) == MATCHES and {o["observer"] for o in expected} == {"on"}
    app = ArenaApp(db, pace_s=0, suspense_s=0)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_analysis(pilot)
        await apply(pilot, screen, model="cautious")
        await select_adoption_row(pilot, screen, 1)
        assert screen.offer_rows == expected
        assert table_cells(screen, "#analysis-offers") == [
            [str(o["match_id"]), str(o["seed"]), str(o["seat"]), o["observer"], o["answer"],
             o["reason"]]
            for o in expected
        ]  # fmt: skip
        accepted = sum(o["answer"] == "accept" for o in expected)
        title = shown(screen, "#analysis-offers-title")
        assert f"observer on: {accepted} accepted of {MATCHES}" in title
        assert screen.query_one("#analysis-offers", DataTable).has_focus


@pytest.mark.parametrize("whose", ["the app's own", "another file"])
async def test_enter_on_an_offer_opens_its_match_in_the_replay(
    db: Path, tmp_path: Path, whose: str
) -> None:
    own = whose == "the app's own"
    home = db if own else tmp_path / "elsewhere" / "home.db"
    app = ArenaApp(home, pace_s=0, suspense_s=0)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_analysis(pilot)
        if not own:
            assert "no database at" in message(screen)  # the app's file does not exist yet
            await apply(pilot, screen, db=str(db))
        assert screen.report is not None
        await select_adoption_row(pilot, screen, 0)
        wanted = screen.offer_rows[2]["match_id"]
        await pilot.press("down", "down", "enter")
        await until(pilot, lambda: type(app.screen).__name__ == "ReplayScreen")
        replay = app.screen.replay  # type: ignore[attr-defined]
        assert replay.match_id == wanted
        assert f"Replay #{wanted}" in str(app.screen.query_one("#status").render())
        await pilot.press("escape")
        assert app.screen is screen
        await pilot.press("escape")
        assert type(app.screen).__name__ == "LobbyScreen"
    assert own or not home.exists()  # another file's replay did not open the app's database


BAD_INPUT = [  # what, the field it goes in, what the screen must say
    ("a missing file", "db", "no database at"),
    ("a text file", "db", "not a SQLite database"),
    ("another program's database", "db", "another program"),
    ("an empty file", "db", "empty database"),
    ("a damaged file", "db", "is damaged (SQLite's quick_check"),
    ("a bad date", "since", "is not a date"),
    ("an unknown game", "game", "unknown game 'poker'"),
]


def bad_value(what: str, folder: Path, db: Path) -> tuple[str, Path | None]:
    """The value to type for one kind of bad input, and the file it names if there is one."""
    path = folder / f"{what.replace(' ', '-')}.db"
    if what == "a damaged file":  # a copy of `db` with one leaf page's cell pointers garbled
        with sqlite3.connect(db) as source, sqlite3.connect(path) as copy:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode = DELETE")  # no -wal or -shm left beside it
            (page,) = copy.execute(
                "SELECT max(pageno) FROM dbstat WHERE pagetype = 'leaf'"
            ).fetchone()
            (size,) = copy.execute("PRAGMA page_size").fetchone()
        source.close()
        copy.close()
        with path.open("r+b") as file:
            file.seek((page - 1) * size + 8)
            file.write(b"\xff" * 64)
    elif what == "a text file":
        path.write_text("these are notes, not a database\n")
    elif what == "another program's database":
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE notes (text TEXT)")
        conn.close()
    elif what == "an empty file":
        path.touch()
    elif what == "a bad date":
        return "last tuesday", None
    elif what == "an unknown game":
        return "poker", None
    return str(path), path


async def test_bad_input_is_named_and_changes_nothing(db: Path, tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    values = {what: bad_value(what, folder, db) for what, _, _ in BAD_INPUT}
    before = {p: p.read_bytes() for _, p in values.values() if p is not None and p.exists()}
    app = ArenaApp(db, pace_s=0, suspense_s=0)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_analysis(pilot)
        for what, field, said in BAD_INPUT:
            report, cells = screen.report, table_cells(screen, "#analysis-adoption")
            chart = shown(screen, "#analysis-chart")
            await apply(pilot, screen, **{field: values[what][0]})
            assert "Cannot read" in message(screen) and said in message(screen), what
            assert screen.report is report and screen.applied is not None, what
            assert screen.applied.path == db and screen.applied.filters == Filters(), what
            assert table_cells(screen, "#analysis-adoption") == cells, what
            assert shown(screen, "#analysis-chart") == chart, what
            # put the field back as it was, for the next case (nothing is read)
            widget = screen.query_one("#analysis-db" if field == "db" else f"#filter-{field}")
            widget.value = str(db) if field == "db" else ""  # type: ignore[attr-defined]
    assert {p: p.read_bytes() for p in before} == before
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in before)


async def test_a_current_file_is_only_read_and_an_older_one_is_migrated_once(
    recorded: Path, tmp_path: Path
) -> None:
    current = tmp_path / "current" / "arena.db"
    current.parent.mkdir()
    shutil.copy(recorded, current)
    # In rollback-journal mode, so that opening it for writing would show: the store would
    # switch it to WAL, and any reader of a WAL file leaves -wal and -shm files beside it.
    with sqlite3.connect(current) as conn:
        conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    before = current.read_bytes()
    older = tmp_path / "older" / "v4.db"
    older.parent.mkdir()
    old_arena_file(older, 4)
    app = ArenaApp(tmp_path / "home.db", pace_s=0, suspense_s=0)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_analysis(pilot)
        await apply(pilot, screen, db=str(current))
        assert len(screen.adoption_rows) == 4
        await apply(pilot, screen, db=str(older))
        assert "Cannot read" not in message(screen)
        assert screen.adoption_rows == []
        assert "no offer was answered" in shown(screen, "#analysis-chart")
    assert current.read_bytes() == before  # read, never written
    assert [p.name for p in current.parent.iterdir()] == ["arena.db"]
    with read_only(older) as conn:
        assert conn.execute("SELECT max(version) FROM arena_migrations").fetchone() == (LATEST,)


async def test_the_palette_and_the_lobby_help_lead_to_the_analysis(db: Path) -> None:
    app = ArenaApp(db, pace_s=0, suspense_s=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: type(app.screen).__name__ == "LobbyScreen")
        await pilot.press("f1")
        await pilot.pause()
        keys = screen_text(app)
        assert "Analysis" in keys and "f6" in keys.lower()
        await pilot.press("escape", "ctrl+p")
        await pilot.pause()
        await pilot.press(*"Analy")
        await pilot.pause(0.2)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, AnalysisScreen))
        screen = analysis(app)
        await until(pilot, lambda: screen.report is not None)
        assert screen.applied is not None and screen.applied.path == db


def test_snapshot_of_the_analysis_screen(
    snap_compare: Any, recorded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """80×24 on a database given by a relative name, so the picture holds no temporary path."""
    shutil.copy(recorded, tmp_path / "arena.db")
    monkeypatch.chdir(tmp_path)
    app = ArenaApp(Path("arena.db"), pace_s=0, suspense_s=0)

    async def run_before(pilot: Pilot[Any]) -> None:
        screen = await open_analysis(pilot)
        assert screen.report is not None
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
