"""Opening, checking and migrating the arena's SQLite file, and the few queries the runtime needs.

The file is refused, untouched, when it is not SQLite, is some other program's database, or was
written by a newer arena. Writes are short transactions in WAL mode with a busy timeout, so several
arena processes can share one file. The rows of matches being played go through a writer process
(`arena.store.writer`); this module's own connection reads and sets batches up.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arena.store.keys import lineup_key, seat_identity
from arena.store.schema import LATEST, MIGRATIONS
from arena.store.writer import BUSY_TIMEOUT_S, Writer, dumps
from arena.store.writer import StoreError as StoreError  # raised here too; callers import it here

# sqlite_utils and the games are imported where a Store first needs them, so that reading a file
# for analysis (`open_read_only`, `open_for_analysis`) starts quickly.
if TYPE_CHECKING:
    from games.base import Decision

DEFAULT_DB = Path("saves") / "arena.db"
MIGRATIONS_TABLE = "arena_migrations"
SQLITE_HEADER = b"SQLite format 3\x00"


def default_db_path() -> Path:
    return Path(os.environ.get("ARENA_DB") or DEFAULT_DB)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def check_db_file(path: Path) -> bool:
    """Raise StoreError if `path` cannot be an arena database; True if it already holds data.

    Reads at most the header; writes nothing, so bad input leaves no trace.
    """
    if path.is_dir():
        raise StoreError(f"{path} is a directory, not a database file")
    if not path.exists() or path.stat().st_size == 0:
        return False
    try:
        with path.open("rb") as file:
            header = file.read(len(SQLITE_HEADER))
    except OSError as error:
        raise StoreError(f"cannot read {path}: {error.strerror}") from None
    if header != SQLITE_HEADER:
        raise StoreError(f"{path} is not a SQLite database")
    return True


def open_read_only(path: Path, check: bool = True) -> sqlite3.Connection:
    """A connection that cannot change `path` or anything else: opened read-only, with
    `query_only` on and ATTACH (which could create files) denied. StoreError if there is no
    such file or it is not SQLite; with `check`, also if it is not an arena file (or a newer
    arena's), or a current one lacks some of its tables, views or triggers (a damaged file).

    A file on a read-only mount is read too: SQLite cannot create the shared-memory file that
    WAL mode reads through there, so the file is opened as immutable, unless a write-ahead log
    beside it holds changes that reading it so would miss."""
    if not path.exists():
        raise StoreError(f"no database at {path}")
    check_db_file(path)
    uri = path.resolve().as_uri()
    try:
        conn = _connect_read_only(f"{uri}?mode=ro")
    except sqlite3.OperationalError as error:
        if os.access(path.parent, os.W_OK) and _writable_mount(path):
            raise StoreError(f"cannot open {path}: {error}") from None
        log = _log_of(path)
        if log.exists() and log.stat().st_size > 0:
            raise StoreError(
                f"cannot read {path}: it is on a read-only mount and {log.name} beside it holds "
                "changes not yet in the file; copy both files somewhere writable first"
            ) from None
        try:
            conn = _connect_read_only(f"{uri}?mode=ro&immutable=1")
        except sqlite3.Error as again:
            raise StoreError(f"cannot open {path}: {again}") from None
    except sqlite3.Error as error:
        raise StoreError(f"cannot open {path}: {error}") from None
    conn.set_authorizer(_deny_attach)
    if check:
        try:
            check_arena_file(conn, path)
        except sqlite3.DatabaseError as error:
            conn.close()
            raise StoreError(f"cannot read {path}: {error}") from None
        except StoreError:
            conn.close()
            raise
    return conn


def _connect_read_only(uri: str) -> sqlite3.Connection:
    conn = sqlite3.connect(uri, uri=True)
    try:
        conn.execute("PRAGMA query_only = ON")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # opens the file now
    except sqlite3.Error:
        conn.close()
        raise
    return conn


def _log_of(path: Path) -> Path:
    """The write-ahead log SQLite keeps beside the file at `path` in WAL mode."""
    return path.with_name(path.name + "-wal")


def _writable_mount(path: Path) -> bool:
    """False when the file system holding `path` is mounted read-only (root may write anywhere
    else, so permissions alone do not tell)."""
    try:
        return not os.statvfs(path).f_flag & os.ST_RDONLY
    except OSError:
        return True


def _schema_version(conn: sqlite3.Connection) -> int:
    """The arena schema version of the file behind `conn`: 0 when it has no migrations table."""
    tables = {
        name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    if MIGRATIONS_TABLE not in tables:
        return 0
    (version,) = conn.execute(f"SELECT max(version) FROM {MIGRATIONS_TABLE}").fetchone()
    return int(version or 0)


def check_arena_file(conn: sqlite3.Connection, path: Path) -> int:
    """The schema version of the arena file behind `conn` (0: a new, empty file); StoreError
    for another program's database, a newer arena's, or a current one that lacks a table, view
    or trigger of its schema (someone dropped it: the file is damaged)."""
    version = _schema_version(conn)
    if version == 0 and conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone():
        raise StoreError(
            f"{path} is a SQLite database of another program "
            f"(no {MIGRATIONS_TABLE} table); give another --db"
        )
    if version > LATEST:
        raise StoreError(
            f"{path} has schema version {version}, newer than this arena knows "
            f"({LATEST}): upgrade collusion-arena to use it"
        )
    if version == LATEST:
        _check_objects(conn, path)
    return version


def open_for_analysis(path: Path) -> sqlite3.Connection:
    """A read-only connection to the arena file at `path`. An older arena file is migrated
    first (once; the views came with schema version 5); a current one is never opened for
    writing. StoreError, the file untouched, for no file, a file that is not SQLite, an empty
    database, another program's database, a newer arena's, or a damaged one (see
    `open_read_only`)."""
    conn = open_read_only(path)
    version = _schema_version(conn)
    if version == 0:
        conn.close()
        raise StoreError(f"{path} is an empty database: no arena match was recorded in it")
    if version >= LATEST:
        return conn
    conn.close()
    Store(path).close()
    return open_read_only(path)


@functools.cache
def expected_objects() -> frozenset[tuple[str, str]]:
    """The (type, name) of every table, view and trigger of an arena file at the current
    version, read off a new in-memory database with every migration applied."""
    conn = sqlite3.connect(":memory:")
    try:
        _apply_migrations(conn, 0)
        return _objects(conn)
    finally:
        conn.close()


def _objects(conn: sqlite3.Connection) -> frozenset[tuple[str, str]]:
    rows = conn.execute(
        "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view', 'trigger')"
        " AND name NOT LIKE 'sqlite_%'"
    )
    return frozenset((kind, name) for kind, name in rows)


def _check_objects(conn: sqlite3.Connection, path: Path) -> None:
    """StoreError naming what is missing if the current-version arena file behind `conn` lacks
    a table, view or trigger of its schema."""
    missing = sorted(expected_objects() - _objects(conn))
    if missing:
        names = ", ".join(f"{kind} {name}" for kind, name in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise StoreError(
            f"{path} is damaged: it lacks the {names}{more} of an arena file of schema version "
            f"{LATEST}; restore a copy or give another --db"
        )


def check_integrity(conn: sqlite3.Connection, path: Path) -> None:
    """StoreError if SQLite's quick check finds the file behind `conn` damaged (a bad page, an
    index out of step with its table). The check reads the whole file, about a second per
    gigabyte, so a file found sound is remembered (`checked_file()`) and not read again until
    it, or its write-ahead log, changes."""
    state = _file_state(path)
    if state is not None and _checked().get(_key(path)) == state:
        return
    found = quick_check(conn)
    if found != ["ok"]:
        lines = [line for text in found for line in text.splitlines() if "***" not in line]
        raise StoreError(
            f"{path} is damaged (SQLite's quick_check: {'; '.join(lines[:3])}); it was left "
            "as it is. Restore a copy, or try `sqlite3 FILE .recover` into a new file"
        )
    if state is not None:
        _remember_checked(path, state)


def quick_check(conn: sqlite3.Connection) -> list[str]:
    """What SQLite's quick check says of the file behind `conn`: ["ok"], or its first problems."""
    try:
        return [row[0] for row in conn.execute("PRAGMA quick_check(3)")]
    except sqlite3.DatabaseError as error:
        return [str(error)]


# Files found sound by the quick check, each with the state it had then (device, inode, size
# and modification time, and its write-ahead log's size and time): a file in that state is not
# checked again. Kept in the user's cache folder; a cache that cannot be read or written only
# costs time.
KEEP_CHECKED = 64


def checked_file() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "collusion-arena" / "checked.json"


def _key(path: Path) -> str:
    return str(path.resolve())


def _file_state(path: Path) -> list[int] | None:
    try:
        found = path.stat()
    except OSError:
        return None
    state = [found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns]
    try:
        log = _log_of(path).stat()
    except OSError:
        return state
    return [*state, log.st_size, log.st_mtime_ns]


def _checked() -> dict[str, Any]:
    try:
        known = json.loads(checked_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return known if isinstance(known, dict) else {}


def _remember_checked(path: Path, state: list[int]) -> None:
    known = _checked()
    known.pop(_key(path), None)
    known[_key(path)] = state
    kept = dict(list(known.items())[-KEEP_CHECKED:])
    target = checked_file()
    part = target.with_name(f"{target.name}.{os.getpid()}.part")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        part.write_text(json.dumps(kept), encoding="utf-8")
        part.replace(target)
    except OSError:
        part.unlink(missing_ok=True)


def _apply_migrations(conn: sqlite3.Connection, current: int) -> None:
    """Apply the migrations after version `current` inside the caller's transaction."""
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} "
        "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    for version, name, statements in MIGRATIONS:
        if version > current:
            for step in statements:
                if isinstance(step, str):
                    conn.execute(step)
                else:
                    step(conn)
            conn.execute(f"INSERT INTO {MIGRATIONS_TABLE} VALUES (?, ?, ?)", (version, name, now()))


def _deny_attach(action: int, *_: object) -> int:
    if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


class Store:
    """One connection to one arena database (use one Store per thread)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        has_data = check_db_file(path)
        if not has_data:
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)
        except sqlite3.Error as error:
            raise StoreError(f"cannot open {path}: {error}") from None
        try:
            if has_data:
                # Before anything is written: another program's file, a newer arena's, or a
                # damaged one is refused untouched.
                check_arena_file(self.conn, path)
                check_integrity(self.conn, path)
            self._migrate()
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.DatabaseError as error:
            self.conn.close()
            if not _writable_mount(path):
                raise StoreError(
                    f"cannot write to {path}: it is on a read-only file system (analyze, sql "
                    "and export can read it there)"
                ) from None
            raise StoreError(f"cannot use {path}: {error}") from None
        except StoreError:
            self.conn.close()
            raise
        import sqlite_utils

        self.db = sqlite_utils.Database(self.conn)
        self._writer: Writer | None = None

    @property
    def writer(self) -> Writer:
        """The writer process that records matches into this file (started on first use)."""
        if self._writer is None:
            self._writer = Writer(self.path)
        return self._writer

    def sync(self) -> None:
        """Return once every row sent to the writer is committed and readable here."""
        if self._writer is not None:
            self._writer.commit()

    def close(self) -> None:
        """Wait for the writer to commit what it was sent, then close."""
        try:
            if self._writer is not None:
                self._writer.close()
        finally:
            self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema ----------------------------------------------------------------------------

    def schema_version(self) -> int:
        return _schema_version(self.conn)

    def _migrate(self) -> None:
        if self.schema_version() >= LATEST:
            return
        # IMMEDIATE takes the write lock first, so two processes opening a new file at once
        # cannot both apply the same migration.
        self.conn.isolation_level = None
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            _apply_migrations(self.conn, self.schema_version())
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        finally:
            self.conn.isolation_level = "DEFERRED"  # the default, spelled out

    # -- matches ---------------------------------------------------------------------------

    def matches_of(self, batch: str, start: int, stop: int) -> dict[int, dict[str, Any]]:
        """The batch's matches of batch index `start` to `stop` (excluded), by index."""
        rows = self.db.query(
            "SELECT * FROM matches WHERE batch = ? AND batch_index >= ? AND batch_index < ?",
            (batch, start, stop),
        )
        return {row["batch_index"]: row for row in rows}

    def create_matches(
        self,
        *,
        batch: str,
        indexes: Sequence[int],
        seeds: Sequence[int],
        game: str,
        preset: str,
        config: dict[str, Any],
        seats: Sequence[dict[str, Any]],
        version: str,
        observer: str = "off",
        framing: str | None = None,
        offers: Sequence[str] = (),
        grants: Sequence[str] = (),
        monitor: str | None = None,
        experiment: str | None = None,
    ) -> list[int]:
        """Insert the batch's matches (status `running`, not yet finished) and their seats in one
        transaction; return their ids in order. `framing` (None: no secret tools), `offers` and
        `grants` (spec strings, `tools.offers`), `monitor` (`rules` or a model) and `experiment`
        are the conditions stored with each match (docs/schema.md)."""
        ids = []
        config_json = dumps(config)
        lineup = lineup_key(
            game,
            preset,
            config,
            [seat_identity(s["kind"], s.get("persona"), s.get("model"), s.get("params", {}))
             for s in seats],
        )  # fmt: skip
        conditions = (
            observer, framing, dumps(list(offers)), dumps(list(grants)), monitor, experiment
        )  # fmt: skip
        created = now()
        with self.conn:
            for index, seed in zip(indexes, seeds, strict=True):
                cursor = self.conn.execute(
                    "INSERT INTO matches (batch, batch_index, game, preset, seed, config, status,"
                    " software_version, created_at, observer, framing, offers, grants, monitor,"
                    " experiment, lineup)"
                    " VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        batch,
                        index,
                        game,
                        preset,
                        seed,
                        config_json,
                        version,
                        created,
                        *conditions,
                        lineup,
                    ),
                )
                match_id = cursor.lastrowid
                assert match_id is not None
                ids.append(match_id)
                self.conn.executemany(
                    "INSERT INTO seats (match_id, seat, name, kind, persona, model, params)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            match_id,
                            i,
                            seat["name"],
                            seat["kind"],
                            seat.get("persona"),
                            seat.get("model"),
                            dumps(seat.get("params", {})),
                        )
                        for i, seat in enumerate(seats)
                    ],
                )
        return ids

    def stored_decisions(self, match_id: int) -> list[tuple[int, Decision]]:
        rows = self.conn.execute(
            "SELECT seat, action, talk FROM decisions WHERE match_id = ? ORDER BY seq", (match_id,)
        )
        from games.base import Decision

        return [(seat, Decision(action, talk)) for seat, action, talk in rows]

    def stored_toggles(self, match_id: int) -> list[tuple[int, str]]:
        """The observer changes made during a match: (event seq, condition)."""
        rows = self.conn.execute(
            "SELECT seq, json_extract(payload, '$.condition') FROM events"
            " WHERE match_id = ? AND kind = 'observer' ORDER BY seq",
            (match_id,),
        )
        return [(seq, condition) for seq, condition in rows]

    def stored_event_count(self, match_id: int) -> int:
        (count,) = self.conn.execute(
            "SELECT count(*) FROM events WHERE match_id = ?", (match_id,)
        ).fetchone()
        return int(count)
