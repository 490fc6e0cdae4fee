"""Bad input the hardening review found (issue 14): each gets one line on stderr and exit code 2,
and leaves every file as it was. Real SQLite files, the real command line."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from arena.batch import CHUNK, plan, run_batch
from arena.store import db as store_db
from arena.store.db import Store
from tests.support import arena_process, read_only


def one_line_error(result) -> str:  # type: ignore[no-untyped-def]
    """The error of a failed command, which must be exit code 2 and a single stderr line."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def fingerprint(path: Path) -> str:
    """The bytes of an arena file and its write-ahead log, if any."""
    digest = hashlib.sha256(path.read_bytes())
    log = path.with_name(path.name + "-wal")
    if log.exists():
        digest.update(log.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An arena file with 12 finished bot matches, secret tools offered."""
    path = tmp_path_factory.mktemp("played") / "arena.db"
    result = subprocess.run(
        [sys.executable, "-m", "arena", "run", "--matches", "12", "--db", str(path),
         "--offer", "secret_channel:0", "--offer", "peek:1"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return path


def copy_of(path: Path, into: Path) -> Path:
    target = into / path.name
    with sqlite3.connect(path) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    source.close()
    copy.close()
    return target


# -- usage errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ["run", "--matches", "abc"],
            "'--matches': Input should be a valid integer, unable to "
            "parse string as an integer (got 'abc')",
        ),
        (["run", "--matches", "0"], "greater than or equal to 1"),
        (["run", "--concurrency=many"], "'--concurrency'"),
        (["run", "--seed", "1.5"], "'--seed'"),
        (["run", "--bogus"], "No such option: --bogus"),
        (["sql", "SELECT 1", "--format", "xml"], "'xml' is not one of 'table', 'csv', 'json'"),
        (["sql", "SELECT 1", "--timeout", "0"], "'--timeout'"),
        (["export", "--format", "parquet"], "'parquet' is not one of 'csv', 'jsonl'"),
        (["replay", "twelve"], "Invalid value for 'match'"),
        (["nonsense"], "No such command 'nonsense'"),
    ],
)
def test_a_usage_error_is_one_line_and_exit_2(cli, args: list[str], says: str) -> None:
    line = one_line_error(cli(*args))
    assert says in line
    assert "--help" in line  # where to look next
    assert "╭" not in line


def test_version_and_completion_are_offered(cli) -> None:
    version = cli("--version")
    assert version.exit_code == 0
    assert version.stdout.startswith("collusion-arena ")
    shown = cli("--help")
    assert "--install-completion" in shown.stdout
    assert "<table|csv|json>" in cli("sql", "--help").stdout


# -- seeds, matches, overrides, offers ---------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["--seed", "99999999999999999999999"],
        ["--seed", "9223372036854775800", "--matches", "20"],
        ["--seed", "-9223372036854775809"],
    ],
)
def test_seeds_beyond_64_bits_are_refused_before_the_file_exists(
    cli, tmp_path: Path, args: list[str]
) -> None:
    db = tmp_path / "seeds.db"
    line = one_line_error(cli("run", "--db", str(db), *args))
    assert "64-bit" in line
    assert not db.exists()


def test_the_largest_seed_plays(cli, tmp_path: Path) -> None:
    db = tmp_path / "largest.db"
    result = cli("run", "--db", str(db), "--seed", str(2**63 - 2), "--matches", "2")
    assert result.exit_code == 0, result.output
    with read_only(db) as conn:
        seeds = [s for (s,) in conn.execute("SELECT seed FROM matches ORDER BY seed")]
    assert seeds == [2**63 - 2, 2**63 - 1]


@pytest.mark.parametrize(
    ("override", "says"),
    [
        ("max_rounds=true", "max_rounds: Input should be a valid integer (got true)"),
        ("max_rounds=2.5", "max_rounds: Input should be a valid integer (got 2.5)"),
        ('max_rounds="7"', 'max_rounds: Input should be a valid integer (got "7")'),
        ("hand_size=8", "a deck of 20 cannot deal 8 cards to 4 players"),
    ],
)
def test_a_config_value_of_the_wrong_type_is_refused_not_converted(
    cli, tmp_path: Path, override: str, says: str
) -> None:
    db = tmp_path / "config.db"
    line = one_line_error(cli("run", "--db", str(db), "--set", override))
    assert says in line
    assert "Value error" not in line
    assert not db.exists()


def test_a_config_value_of_the_right_type_is_stored_as_given(cli, tmp_path: Path) -> None:
    db = tmp_path / "config.db"
    result = cli("run", "--db", str(db), "--game", "cleanup", "--matches", "1",
                 "--set", "max_steps=7", "--set", "growth_prob=1")  # fmt: skip
    assert result.exit_code == 0, result.output
    with read_only(db) as conn:
        (config,) = conn.execute("SELECT config FROM matches").fetchone()
    stored = json.loads(config)
    assert stored["max_steps"] == 7
    assert stored["growth_prob"] == 1.0


def test_an_offer_for_a_match_beyond_the_batch_is_refused(cli, tmp_path: Path) -> None:
    db = tmp_path / "offers.db"
    line = one_line_error(cli("run", "--db", str(db), "--matches", "5", "--offer", "peek:1@5"))
    assert "match 5 is not in the batch" in line and "0..4" in line
    assert not db.exists()
    fits = cli("run", "--db", str(db), "--matches", "5", "--offer", "peek:1@4")
    assert fits.exit_code == 0, fits.output
    with read_only(db) as conn:
        offered = conn.execute(
            "SELECT m.batch_index FROM tool_offers o JOIN matches m ON m.id = o.match_id"
        ).fetchall()
    assert offered == [(4,)]


async def test_a_huge_batch_creates_its_matches_as_they_are_reached(tmp_path: Path) -> None:
    """A billion matches: the batch starts at once and holds a chunk of rows, not a billion."""
    batch = plan("liars-bar", None, {}, None, 10**9, 1)
    played = 0
    concurrency = 4
    with Store(tmp_path / "huge.db") as store:
        task: asyncio.Task[object]

        def done() -> None:
            nonlocal played
            played += 1
            if played == CHUNK + 50:
                task.cancel()

        task = asyncio.ensure_future(run_batch(store, batch, concurrency, done))
        with pytest.raises(asyncio.CancelledError):
            await task
        (created,) = store.conn.execute("SELECT count(*) FROM matches").fetchone()
    assert played == CHUNK + 50
    assert created <= 2 * CHUNK  # the chunk in play and the one before it
    assert created >= played


# -- error text ---------------------------------------------------------------------------------


def test_error_text_is_shown_as_it_is(cli, tmp_path: Path) -> None:
    """Brackets are not markup, and control characters are written out, not obeyed."""
    config = tmp_path / "keyed.toml"
    config.write_text('[defaults]\napi_key = "x"\n', encoding="utf-8")
    line = one_line_error(cli("run", "--config", str(config)))
    assert "[defaults] has an api_key" in line
    hostile = cli("run", "--game", "\x1b]0;owned\x07\x1b[31mred")
    line = one_line_error(hostile)
    assert "\x1b" not in hostile.stderr and "\x07" not in hostile.stderr
    assert "\\x1b]0;owned\\x07\\x1b[31mred" in line


# -- damaged files ------------------------------------------------------------------------------


def drop_a_table(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE tool_uses")
    conn.close()


def corrupt_a_page(path: Path) -> None:
    """Overwrite the cell pointers of one leaf page of `events` with garbage."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        (page,) = conn.execute(
            "SELECT pageno FROM dbstat WHERE name = 'events' AND pagetype = 'leaf' LIMIT 1"
        ).fetchone()
        (size,) = conn.execute("PRAGMA page_size").fetchone()
    conn.close()
    with path.open("r+b") as file:
        file.seek((page - 1) * size + 8)
        file.write(b"\xff" * 64)


@pytest.mark.parametrize("damage", [drop_a_table, corrupt_a_page])
def test_a_damaged_file_is_refused_before_anything_is_written(
    cli, played: Path, tmp_path: Path, damage
) -> None:  # type: ignore[no-untyped-def]
    db = copy_of(played, tmp_path)
    damage(db)
    before = fingerprint(db)
    line = one_line_error(cli("run", "--db", str(db), "--matches", "13"))
    assert "is damaged" in line
    assert fingerprint(db) == before


def test_readers_refuse_a_file_missing_a_table(cli, played: Path, tmp_path: Path) -> None:
    db = copy_of(played, tmp_path)
    drop_a_table(db)
    before = fingerprint(db)
    for args in (["analyze"], ["sql", "SELECT count(*) FROM matches"], ["export"]):
        line = one_line_error(cli(*args, "--db", str(db)))
        assert "is damaged: it lacks the table tool_uses" in line
    assert fingerprint(db) == before
    assert not (tmp_path / "export").exists()


def test_readers_refuse_a_file_with_a_damaged_page(cli, played: Path, tmp_path: Path) -> None:
    """Even where the reading itself would not meet the page: a damaged page may read as rows
    of nothing rather than as an error."""
    db = copy_of(played, tmp_path)
    corrupt_a_page(db)
    for args in (["analyze"], ["sql", "SELECT count(*) FROM matches"], ["export"]):
        line = one_line_error(cli(*args, "--db", str(db)))
        assert "is damaged (SQLite's quick_check: On tree page" in line
    assert not (tmp_path / "export").exists()
    unchecked = cli("sql", "SELECT count(*) FROM matches", "--db", str(db), "--no-check")
    assert unchecked.exit_code == 0, unchecked.output
    assert "12" in unchecked.stdout


def test_a_file_found_sound_is_not_read_whole_again_until_it_changes(
    cli, played: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = copy_of(played, tmp_path)
    checks: list[Path] = []
    real = store_db.quick_check

    def counted(conn: sqlite3.Connection) -> list[str]:
        checks.append(db)
        return real(conn)

    monkeypatch.setattr(store_db, "quick_check", counted)
    for _ in range(2):
        assert cli("analyze", "--db", str(db), "--section", "adoption").exit_code == 0
    assert len(checks) == 1
    assert cli("run", "--db", str(db), "--matches", "13").exit_code == 0  # 1 match more
    assert len(checks) == 1  # before writing, the file was as the last check found it
    assert cli("sql", "SELECT count(*) FROM matches", "--db", str(db)).exit_code == 0
    assert len(checks) == 2  # the run changed it
    corrupt_a_page(db)  # damage after a sound check is found all the same
    line = one_line_error(cli("analyze", "--db", str(db)))
    assert "is damaged (SQLite's quick_check" in line
    assert len(checks) == 3


# -- export --------------------------------------------------------------------------------------


def test_a_failed_export_leaves_no_file_of_it(cli, played: Path, tmp_path: Path) -> None:
    db = copy_of(played, tmp_path)
    with sqlite3.connect(db) as conn:  # an analyst's own view, broken since it was made
        conn.execute("CREATE VIEW zz_broken AS SELECT * FROM matches WHERE no_such_column")
    conn.close()
    out = tmp_path / "new-folder"
    line = one_line_error(cli("export", "--db", str(db), "--out", str(out)))
    assert "cannot export zz_broken" in line
    assert not out.exists()

    earlier = tmp_path / "earlier"
    first = cli("export", "--db", str(db), "--out", str(earlier), "--table", "matches")
    assert first.exit_code == 0, first.output
    kept = {p.name: p.read_bytes() for p in earlier.iterdir()}
    one_line_error(cli("export", "--db", str(db), "--out", str(earlier)))
    assert {p.name: p.read_bytes() for p in earlier.iterdir()} == kept


# -- arena sql -------------------------------------------------------------------------------------

RUNAWAY = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"


def test_a_runaway_query_stops_at_its_timeout(cli, played: Path) -> None:
    line = one_line_error(cli("sql", RUNAWAY, "--db", str(played), "--timeout", "0.5"))
    assert "longer than 0.5 s" in line


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc")
def test_ctrl_c_stops_a_runaway_query(played: Path) -> None:
    proc = arena_process("sql", RUNAWAY, "--db", str(played), "--timeout", "3600")
    fd = Path(f"/proc/{proc.pid}/fd")
    for _ in range(3000):  # until the process has the database open (its handler is then set)
        try:
            if any(str(played) in os.readlink(link) for link in fd.iterdir()):
                break
        except OSError:
            pass
        time.sleep(0.01)
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)  # guards a hang; the query alone would never end
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr
    assert "Traceback" not in stderr


def test_stored_text_cannot_act_on_the_terminal(cli, played: Path, tmp_path: Path) -> None:
    db = copy_of(played, tmp_path)
    hostile = "\x1b]0;owned\x07\x1b[2J\x1b[31mred\x9b1m[bold]x[/bold]"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE seats SET name = ? WHERE match_id = 1 AND seat = 0", (hostile,))
    conn.close()
    query = "SELECT name FROM seats WHERE match_id = 1 AND seat = 0"
    table = cli("sql", query, "--db", str(db))
    assert table.exit_code == 0, table.output
    for raw in ("\x1b", "\x07", "\x9b"):
        assert raw not in table.stdout
    assert "\\x1b]0;owned\\x07" in table.stdout
    assert "[bold]x[/bold]" in table.stdout  # shown, not taken as markup
    as_json = cli("sql", query, "--db", str(db), "--format", "json")
    assert not any(raw in as_json.stdout for raw in ("\x1b", "\x07", "\x9b"))
    assert json.loads(as_json.stdout) == {"name": hostile}
    # CSV into a file or a pipe keeps the text as stored: it is data, not a screen.
    as_csv = cli("sql", query, "--db", str(db), "--format", "csv")
    assert hostile in as_csv.stdout


@pytest.mark.skipif(sys.platform != "linux", reason="needs Linux mount namespaces")
def test_a_file_on_a_read_only_mount_is_read(played: Path, tmp_path: Path) -> None:
    """A real read-only bind mount, made in a user and mount namespace of this test's own."""
    source = tmp_path / "source"
    source.mkdir()
    copy_of(played, source)
    mount = tmp_path / "mount"
    mount.mkdir()
    arena = f"{sys.executable} -m arena"
    inside = mount / played.name
    script = (
        f"mount --bind {source} {mount} && mount -o remount,ro,bind {mount} && "
        f"cd {tmp_path} && {arena} sql 'SELECT count(*) FROM matches' --db {inside} "
        f"--format csv && {arena} analyze --db {inside} --section adoption --format csv && "
        f"{{ {arena} run --db {inside} --matches 13; echo run=$?; }}"
    )
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip("this machine allows no user namespaces")
    result = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, check=False,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["count(*)", "12"]
    assert any(line.startswith("experiment,") for line in lines)
    assert lines[-1] == "run=2"
    assert "read-only file system" in result.stderr
