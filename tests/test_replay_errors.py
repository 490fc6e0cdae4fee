"""A match whose stored rows cannot be replayed is named in one line, never a traceback: by
`read_replay` (what `arena replay` calls before the screen opens), and in the arena, where the
replay asked for from the lobby, a debrief, the palette or the analysis screen ends in a
one-line notification and the arena stays where it was. Real matches are recorded by `arena
run`, then their rows are damaged with plain SQL."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from arena.cli import app as cli_app
from arena.replay import ReplayError, read_replay
from arena.tui.analysis_screen import AnalysisScreen
from arena.tui.app import ArenaApp
from arena.tui.replay_screen import ReplayScreen
from tests.support import until

LIARS_BAR = 1  # with a secret channel granted: framing, grants
CLEANUP = 2

# damage: (SQL run on the copy, match, what the one-line error says)
DAMAGES: dict[str, tuple[list[str], int, str]] = {
    "no seats": (["DELETE FROM seats WHERE match_id = 1"], LIARS_BAR, "has no seats"),
    "a seat row lost": (
        ["DELETE FROM seats WHERE match_id = 2 AND seat = 3"],
        CLEANUP,
        "decisions of seat 3, but the database holds 3 seats",
    ),
    "an observer event whose payload is not JSON": (
        [
            "UPDATE events SET kind = 'observer', payload = '{not json' WHERE match_id = 1"
            " AND seq = 3"
        ],
        LIARS_BAR,
        "the payload of event 3 is not JSON",
    ),
    "an observer event without a condition": (
        [
            "UPDATE events SET kind = 'observer', payload = '{\"to\": 5}' WHERE match_id = 2"
            " AND seq = 3"
        ],
        CLEANUP,
        "event 3 changes the observer condition to None",
    ),
    "a config that is not JSON": (
        ["UPDATE matches SET config = '{oops' WHERE id = 1"],
        LIARS_BAR,
        "its config is not JSON",
    ),
    "a config that is not a config": (
        ["UPDATE matches SET config = '{\"hand_size\": -4}' WHERE id = 1"],
        LIARS_BAR,
        "hand_size: Input should be greater than or equal to 1",
    ),
    "a config that is not an object": (
        ["UPDATE matches SET config = 'null' WHERE id = 2"],
        CLEANUP,
        "Input should be a valid dictionary",
    ),
    "grants that are not a list": (
        ["UPDATE matches SET grants = 'null' WHERE id = 1"],
        LIARS_BAR,
        "its grants are not a JSON list of texts",
    ),
    "an unknown game": (
        ["UPDATE matches SET game = 'chess' WHERE id = 2"],
        CLEANUP,
        "a game of 'chess', which this version lacks",
    ),
    "an unknown observer condition": (
        ["UPDATE matches SET observer = 'maybe' WHERE id = 2"],
        CLEANUP,
        "unknown observer condition 'maybe'",
    ),
    "a seed that is not a number": (
        ["UPDATE matches SET seed = 'abc' WHERE id = 1"],
        LIARS_BAR,
        "has no usable seed",
    ),
    "a running match without events yet": (
        [
            "UPDATE matches SET status = 'running' WHERE id = 2",
            "DELETE FROM decisions WHERE match_id = 2",
            "DELETE FROM events WHERE match_id = 2",
        ],
        CLEANUP,
        "has no events recorded",
    ),
    "no events table": (["DROP TABLE events"], LIARS_BAR, "events"),
    "no match of that number": ([], 99, "there is no match 99"),
}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with a finished Liar's Bar match (a secret channel granted) and a finished
    Cleanup match, recorded by `arena run`."""
    db = tmp_path_factory.mktemp("recorded") / "arena.db"
    runner = CliRunner()
    for args in (
        ["--framing", "neutral", "--grant", "secret_channel:0+1", "--seed", "5"],
        ["--game", "cleanup", "--seed", "3"],
    ):
        result = runner.invoke(cli_app, ["run", "--matches", "1", "--db", str(db), *args])
        assert result.exit_code == 0, result.output
    return db


def damaged_copy(recorded: Path, folder: Path, statements: list[str]) -> Path:
    """A copy of the recorded database (through SQLite, so nothing in its log is lost), damaged
    by `statements` (CHECK constraints off, as a damaged file would not honour them)."""
    path = folder / "arena.db"
    source, copy = sqlite3.connect(recorded), sqlite3.connect(path)
    with source, copy:
        source.backup(copy)
        copy.execute("PRAGMA ignore_check_constraints = ON")
        for statement in statements:
            copy.execute(statement)
    source.close()
    copy.close()
    return path


def spoil(path: Path) -> None:
    """Overwrite everything after SQLite's header: a file that still says it is a database."""
    size = path.stat().st_size
    with path.open("r+b") as file:
        file.seek(100)
        file.write(b"\xa5" * (size - 100))


def one_line(text: str) -> bool:
    return bool(text) and "\n" not in text and "\r" not in text and "Traceback" not in text


def record_notes(app: ArenaApp) -> list[str]:
    """What the arena says in notifications, from now on."""
    said: list[str] = []
    notify = app.notify

    def record(message: str, **options: Any) -> None:
        said.append(message)
        notify(message, **options)

    app.notify = record  # type: ignore[method-assign]
    return said


# -- read_replay: the check before the screen opens ---------------------------------------------


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_read_replay_names_each_damage_in_one_line(
    recorded: Path, tmp_path: Path, damage: str
) -> None:
    statements, match_id, said = DAMAGES[damage]
    path = damaged_copy(recorded, tmp_path, statements)
    with pytest.raises(ReplayError) as raised:
        read_replay(path, match_id)
    message = str(raised.value)
    assert said in message
    assert one_line(message)


def test_read_replay_names_a_missing_a_spoiled_and_a_foreign_file(
    recorded: Path, tmp_path: Path
) -> None:
    with pytest.raises(ReplayError, match="no database at"):
        read_replay(tmp_path / "gone.db", 1)
    spoiled = damaged_copy(recorded, tmp_path, [])
    spoil(spoiled)
    with pytest.raises(ReplayError, match="malformed") as raised:
        read_replay(spoiled, 1)
    assert one_line(str(raised.value))
    text = tmp_path / "notes.db"
    text.write_text("not a database\n")
    with pytest.raises(ReplayError, match="not a SQLite database"):
        read_replay(text, 1)
    foreign = tmp_path / "foreign.db"  # SQLite, but another program's
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE things (id INTEGER)")
    conn.close()
    with pytest.raises(ReplayError) as raised:
        read_replay(foreign, 1)
    assert one_line(str(raised.value))


def test_what_replays_still_replays(recorded: Path, tmp_path: Path) -> None:
    """Payloads other than observer changes are regenerated, not read; a running match with a
    few events replays up to where its record ends, and says so."""
    path = damaged_copy(
        recorded,
        tmp_path,
        [
            "UPDATE events SET payload = '{not json' WHERE match_id = 1 AND seq = 3",
            "UPDATE matches SET status = 'running' WHERE id = 2",
            "DELETE FROM decisions WHERE match_id = 2 AND seq >= 8",
            "DELETE FROM events WHERE match_id = 2 AND seq >= 10",
        ],
    )
    liars_bar = read_replay(path, LIARS_BAR)
    assert liars_bar.finished and liars_bar.note is None and liars_bar.record.events
    cleanup = read_replay(path, CLEANUP)
    assert not cleanup.finished and 0 < len(cleanup.record.events) <= 10
    assert cleanup.note is not None and one_line(cleanup.note)


# -- in the arena -------------------------------------------------------------------------------

IN_THE_ARENA = [
    "no seats",
    "an observer event whose payload is not JSON",
    "a config that is not JSON",
    "a config that is not a config",
    "grants that are not a list",
    "an unknown game",
    "a running match without events yet",
]


@pytest.mark.parametrize("damage", IN_THE_ARENA)
async def test_a_replay_that_cannot_be_shown_is_one_notification_and_the_lobby_stays(
    recorded: Path, tmp_path: Path, damage: str
) -> None:
    statements, match_id, said = DAMAGES[damage]
    path = damaged_copy(recorded, tmp_path, statements)
    app = ArenaApp(path, pace_s=0, suspense_s=0)
    notes = record_notes(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: type(app.screen).__name__ == "LobbyScreen")
        app.open_replay(match_id)  # what `r` in a debrief, Ctrl+R and the palette do
        await until(pilot, lambda: bool(notes))
        assert len(notes) == 1 and said in notes[0] and one_line(notes[0])
        assert notes[0].startswith(f"Cannot replay match {match_id}: ")
        assert type(app.screen).__name__ == "LobbyScreen"  # where it was, and usable:
        app.open_replay(CLEANUP if match_id == LIARS_BAR else LIARS_BAR)  # not damaged
        await until(pilot, lambda: isinstance(app.screen, ReplayScreen))
        await pilot.press("home", "right", "escape")
        await until(pilot, lambda: type(app.screen).__name__ == "LobbyScreen")
        await pilot.press("ctrl+q")
    assert app.return_code == 0  # quit by the user, no error


async def test_arena_replay_of_a_damaged_match_exits_with_its_one_line(
    recorded: Path, tmp_path: Path
) -> None:
    statements, match_id, said = DAMAGES["an observer event whose payload is not JSON"]
    path = damaged_copy(recorded, tmp_path, statements)
    app = ArenaApp(path, replay=match_id, pace_s=0, suspense_s=0)
    notes = record_notes(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.return_code is not None)  # closed, not crashed
    assert app.return_code == 2  # arena replay then exits with 2, as for every error
    assert len(notes) == 1 and said in notes[0] and one_line(notes[0])


async def test_a_spoiled_database_file_is_one_notification(recorded: Path, tmp_path: Path) -> None:
    path = damaged_copy(recorded, tmp_path, [])
    app = ArenaApp(path, pace_s=0, suspense_s=0)
    notes = record_notes(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: type(app.screen).__name__ == "LobbyScreen")
        spoil(path)
        app.open_replay(LIARS_BAR)
        await until(pilot, lambda: bool(notes))
        assert len(notes) == 1 and one_line(notes[0]), notes
        assert notes[0].startswith("Cannot replay match 1: ")
        assert type(app.screen).__name__ == "LobbyScreen"
        await pilot.press("ctrl+q")
    assert app.return_code == 0


async def test_the_analysis_screen_names_a_damaged_match_of_another_file(
    recorded: Path, tmp_path: Path
) -> None:
    statements, match_id, said = DAMAGES["a config that is not a config"]
    other = damaged_copy(recorded, tmp_path, statements)
    home = tmp_path / "home" / "arena.db"
    home.parent.mkdir()
    damaged_copy(recorded, home.parent, [])
    app = ArenaApp(home, pace_s=0, suspense_s=0)
    notes = record_notes(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: type(app.screen).__name__ == "LobbyScreen")
        app.open_analysis()
        await until(pilot, lambda: isinstance(app.screen, AnalysisScreen))
        screen = app.screen
        assert isinstance(screen, AnalysisScreen)
        screen.read_replay(other, match_id)  # what Enter on an offer of another file does
        await until(pilot, lambda: any(said in note for note in notes))
        note = next(note for note in notes if said in note)
        assert one_line(note) and note.startswith(f"Cannot replay match {match_id}: ")
        assert app.screen is screen
        await pilot.press("ctrl+q")
    assert app.return_code == 0
