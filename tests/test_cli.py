"""`arena run` as a user meets it: batches, the summary, resuming, and bad input."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from arena.store.schema import LATEST
from tests.support import arena_process, read_only


def finished(db: Path) -> int:
    with read_only(db) as conn:
        return conn.execute("SELECT count(*) FROM matches WHERE status = 'finished'").fetchone()[0]


def wait_until_finished(db: Path, matches: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if finished(db) >= matches:
                return
        except sqlite3.OperationalError:
            pass  # the file or its tables do not exist yet
        time.sleep(0.01)
    raise AssertionError(f"{matches} matches not finished within {timeout} s")


def test_default_run_plays_four_bots_and_prints_a_summary(cli, tmp_path: Path) -> None:
    result = cli("run", "--matches", "3")
    assert result.exit_code == 0, result.output
    for persona in ("counter", "cautious", "bluffer", "random"):
        assert persona in result.stdout
    assert "mean hands per match" in result.stdout
    db = tmp_path / "saves" / "arena.db"
    assert finished(db) == 3
    with read_only(db) as conn:
        wins = conn.execute("SELECT sum(winner) FROM seats").fetchone()[0]
    assert wins == 3  # classic Liar's Bar: one survivor per match


def test_rerun_skips_finished_matches_and_writes_nothing_twice(cli, tmp_path: Path) -> None:
    db = str(tmp_path / "a.db")
    assert cli("run", "--matches", "4", "--db", db).exit_code == 0
    with read_only(Path(db)) as conn:
        events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    again = cli("run", "--matches", "6", "--db", db)
    assert again.exit_code == 0, again.output
    assert "2 new, 0 resumed, 4 already done" in again.stdout
    with read_only(Path(db)) as conn:
        assert conn.execute("SELECT count(*) FROM matches").fetchone()[0] == 6
        first_four = conn.execute(
            "SELECT count(*) FROM events WHERE match_id IN "
            "(SELECT id FROM matches WHERE batch_index < 4)"
        ).fetchone()[0]
    assert first_four == events


def test_arena_db_environment_variable_chooses_the_file(cli, tmp_path: Path) -> None:
    target = tmp_path / "from-env.db"
    result = cli("run", "--matches", "1", "--game", "cleanup", env={"ARENA_DB": str(target)})
    assert result.exit_code == 0, result.output
    assert finished(target) == 1
    assert not (tmp_path / "saves").exists()


def test_cleanup_batch_records_thirty_steps_as_hands(cli, tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    assert cli("run", "--game", "cleanup", "--matches", "2", "--db", str(db)).exit_code == 0
    with read_only(db) as conn:
        assert conn.execute("SELECT DISTINCT hands FROM matches").fetchall() == [(30,)]
        assert conn.execute("SELECT count(*) FROM hands WHERE outcome IS NULL").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM decisions").fetchone()[0] == 2 * 30 * 4


def test_config_override_is_applied_and_stored(cli, tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    result = cli(
        "run", "--game", "cleanup", "--set", "max_steps=7", "--matches", "1", "--db", str(db)
    )
    assert result.exit_code == 0, result.output
    with read_only(db) as conn:
        hands, config = conn.execute("SELECT hands, config FROM matches").fetchone()
    assert hands == 7
    assert '"max_steps":7' in config


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--game", "poker"], "unknown game 'poker'"),
        (["--preset", "turbo"], "unknown preset 'turbo'"),
        (["--seat", "bot:counter"], "needs 2–4 seats, got 1"),
        (
            ["--game", "cleanup", "--seat", "bot:harvester", "--seat", "bot:cleaner"],
            "needs 4 seats",
        ),
        (["--seat", "counter", "--seat", "bot:random"], "is not KIND:VALUE"),
        (["--seat", "robot:x", "--seat", "bot:random"], "unknown kind 'robot'"),
        (["--seat", "bot:genius", "--seat", "bot:random"], "no bot persona 'genius'"),
        (["--seat", "bot:harvester", "--seat", "bot:random"], "no bot persona 'harvester'"),
        (["--set", "hand_size=0"], "bad liars-bar config: hand_size"),
        (["--set", "colour=red"], "colour: Extra inputs are not permitted"),
        (["--set", "nonsense"], "is not KEY=VALUE"),
        (["--seat", "llm:nosuch", "--seat", "bot:random"], "llm:nosuch is neither an alias"),
        (["--config", "missing.toml"], "config file missing.toml does not exist"),
    ],
)
def test_bad_input_gets_one_line_exit_2_and_writes_nothing(
    cli, tmp_path: Path, args: list[str], message: str
) -> None:
    result = cli("run", "--matches", "1", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_an_llm_seat_whose_key_variable_is_unset_is_refused(
    cli, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.delenv("ARENA_TEST_KEY", raising=False)
    config = tmp_path / "models.toml"
    config.write_text('[models.m]\nmodel = "openai/x"\napi_key_env = "ARENA_TEST_KEY"\n')
    result = cli("run", "--config", str(config), "--seat", "llm:m", "--seat", "bot:random")
    assert result.exit_code == 2
    assert "the environment variable ARENA_TEST_KEY is not set" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["models.toml"]


def test_file_that_is_not_sqlite_is_refused_untouched(cli, tmp_path: Path) -> None:
    notes = tmp_path / "notes.db"
    notes.write_text("shopping list\n")
    result = cli("run", "--db", str(notes))
    assert result.exit_code == 2
    assert "is not a SQLite database" in result.stderr
    assert notes.read_text() == "shopping list\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]


def test_foreign_sqlite_database_is_refused_untouched(cli, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    before = other.read_bytes()
    result = cli("run", "--db", str(other))
    assert result.exit_code == 2
    assert "another program" in result.stderr
    assert other.read_bytes() == before


def test_database_from_a_newer_version_is_refused_untouched(cli, tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    assert cli("run", "--matches", "1", "--db", str(db)).exit_code == 0
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA journal_mode = DELETE")  # fold the WAL in so the bytes say it all
        conn.execute(
            "INSERT INTO arena_migrations VALUES (?, 'from the future', 'x')", (LATEST + 1,)
        )
    before = db.read_bytes()
    result = cli("run", "--matches", "2", "--db", str(db))
    assert result.exit_code == 2
    assert f"schema version {LATEST + 1}, newer than this arena knows ({LATEST})" in result.stderr
    assert db.read_bytes() == before


def test_directory_as_database_is_refused(cli, tmp_path: Path) -> None:
    result = cli("run", "--db", str(tmp_path))
    assert result.exit_code == 2
    assert "is a directory" in result.stderr


PLACEMENTS = """SELECT m.batch_index, s.seat, s.placement
    FROM seats s JOIN matches m ON m.id = s.match_id ORDER BY 1, 2"""
EVENTS_PER_MATCH = """SELECT m.batch_index, count(*)
    FROM events e JOIN matches m ON m.id = e.match_id GROUP BY 1 ORDER BY 1"""


def row_counts(db: Path) -> list[int]:
    with read_only(db) as conn:
        tables = ("matches", "events", "decisions", "hands")
        return [conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables]


def writer_pids(db: Path) -> list[int]:
    """The arena writer processes of `db` (Linux: read from /proc)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"arena.store.writer" in args and str(db).encode() in args:
            pids.append(int(cmdline.parent.name))
    return pids


def wait_for_no_writer(db: Path, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while writer_pids(db):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc")
def test_killed_batch_resumes_with_every_match_exactly_once(tmp_path: Path) -> None:
    """SIGKILL mid-batch, rerun: every match once, the file intact, and the results the same as
    an uninterrupted run of the same batch."""
    db = tmp_path / "killed.db"
    args = ["run", "--matches", "300", "--concurrency", "3", "--seed", "11", "--db", str(db)]
    proc = arena_process(*args)
    wait_until_finished(db, 20)
    assert writer_pids(db), "the batch records through a writer process"
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    done_at_kill = finished(db)
    assert 20 <= done_at_kill < 300, "the kill must land mid-batch"
    rows_at_kill = row_counts(db)
    # The orphaned writer process stops on its own and commits nothing after the kill.
    assert wait_for_no_writer(db, timeout=10), "the writer process outlived the kill"
    assert row_counts(db) == rows_at_kill

    rerun = arena_process(*args)
    _, stderr = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, stderr

    reference = tmp_path / "reference.db"
    whole = arena_process(*args[:-1], str(reference))
    whole.communicate(timeout=120)
    assert whole.returncode == 0

    with read_only(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        indexes = conn.execute("SELECT batch_index FROM matches ORDER BY batch_index").fetchall()
        assert [i for (i,) in indexes] == list(range(300))
        assert finished(db) == 300
        got = conn.execute(PLACEMENTS).fetchall()
        event_counts = conn.execute(EVENTS_PER_MATCH).fetchall()
    with read_only(reference) as conn:
        expected = conn.execute(PLACEMENTS).fetchall()
        expected_counts = conn.execute(EVENTS_PER_MATCH).fetchall()
    assert got == expected
    assert event_counts == expected_counts


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc")
def test_ctrl_c_stops_the_batch_with_every_finished_match_whole(tmp_path: Path) -> None:
    """Ctrl-C reaches the whole foreground process group, writer included: the batch stops with
    exit code 130, what was finished is stored whole, and the rerun completes the rest."""
    db = tmp_path / "interrupted.db"
    args = ["run", "--matches", "300", "--seed", "5", "--db", str(db)]
    proc = arena_process(*args, new_session=True)
    wait_until_finished(db, 20)
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert "interrupted: rerun the same command" in stderr
    assert "Traceback" not in stderr
    assert not writer_pids(db)
    done = finished(db)
    assert 20 <= done < 300, "the interrupt must land mid-batch"

    reference = tmp_path / "reference.db"
    whole = arena_process(*args[:-1], str(reference))
    whole.communicate(timeout=120)
    assert whole.returncode == 0
    per_match = """SELECT m.batch_index, count(*) FROM events e JOIN matches m
        ON m.id = e.match_id WHERE m.status = 'finished' GROUP BY 1 ORDER BY 1"""
    with read_only(db) as conn:
        stored = conn.execute(per_match).fetchall()
    with read_only(reference) as conn:
        expected = dict(conn.execute(per_match).fetchall())
    assert len(stored) == done
    assert all(count == expected[index] for index, count in stored)

    rerun = arena_process(*args)
    _, stderr = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, stderr
    assert finished(db) == 300


def test_two_processes_can_write_one_database_at_once(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    runs = [
        arena_process("run", "--matches", "40", "--seed", str(seed), "--db", str(db))
        for seed in (100, 200)
    ]
    for run in runs:
        _, stderr = run.communicate(timeout=120)
        assert run.returncode == 0, stderr
    with read_only(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT count(DISTINCT batch) FROM matches").fetchone()[0] == 2
    assert finished(db) == 80


def test_the_help_lists_the_interactive_commands(cli) -> None:
    result = cli("--help")
    assert result.exit_code == 0
    for command in ("play", "replay", "serve", "run", "models"):
        assert command in result.stdout
    served = cli("serve", "--help")
    assert "localhost" in served.stdout


def test_replay_of_a_match_that_is_not_there_is_refused_with_exit_2(cli, tmp_path: Path) -> None:
    missing = cli("replay", "1", "--db", str(tmp_path / "none.db"))
    assert missing.exit_code == 2 and "no database" in missing.stderr
    assert not (tmp_path / "none.db").exists()
    assert cli("run", "--matches", "1").exit_code == 0
    db = tmp_path / "saves" / "arena.db"
    before = db.read_bytes()
    result = cli("replay", "99")
    assert result.exit_code == 2 and "there is no match 99" in result.stderr
    assert db.read_bytes() == before


def test_play_refuses_a_database_it_cannot_use_before_any_screen(cli, tmp_path: Path) -> None:
    bad = tmp_path / "notes.db"
    bad.write_text("not a database")
    result = cli("play", "--db", str(bad))
    assert result.exit_code == 2 and "notes.db" in result.stderr
    assert bad.read_text() == "not a database"


def test_serve_puts_the_arena_on_localhost(tmp_path: Path) -> None:
    import socket
    import subprocess
    import sys
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "arena", "serve", "--port", str(port), "--db",
         str(tmp_path / "arena.db")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        page = ""
        while time.monotonic() < deadline and not page:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as reply:
                    page = reply.read().decode()
            except OSError:
                time.sleep(0.1)
        assert "Collusion Arena" in page  # the title given to textual-serve
        assert "textual.js" in page  # the browser terminal that runs `arena play`
    finally:
        server.terminate()
        _, err = server.communicate(timeout=10)
    assert f"http://localhost:{port}" in err.decode()
