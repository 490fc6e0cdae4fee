"""Opening, checking and migrating the arena's SQLite file, and the few queries the runtime needs.

The file is refused, untouched, when it is not SQLite, is some other program's database, or was
written by a newer arena. Writes are short transactions in WAL mode with a busy timeout, so several
arena processes can share one file.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from arena.store.schema import LATEST, MIGRATIONS
from games.base import Decision

DEFAULT_DB = Path("saves") / "arena.db"
MIGRATIONS_TABLE = "arena_migrations"
BUSY_TIMEOUT_S = 30.0
# Rows of bot-only matches are committed together at most this often: one commit per match cost
# a tenth of recording a Liar's Bar batch (bench/recording.py). Other writers wait at most this.
COMMIT_EVERY_S = 0.25
SQLITE_HEADER = b"SQLite format 3\x00"


class StoreError(Exception):
    """The database cannot be used; the message names the file and the problem."""


def default_db_path() -> Path:
    return Path(os.environ.get("ARENA_DB") or DEFAULT_DB)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _compact_encoder() -> Callable[[Any], str]:
    """Compact JSON, as fast as the standard library allows: `json.dumps` with options builds a
    new encoder per call, and `JSONEncoder.encode` still builds the C encoder per call; calling
    the C encoder directly costs about 40% less per event payload (bench/recording.py)."""
    encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
    make_c = getattr(json.encoder, "c_make_encoder", None)
    if make_c is None:  # an interpreter without the C accelerator
        return encoder.encode
    c_encode = make_c(
        None, encoder.default, json.encoder.encode_basestring, None, ":", ",", False, False, True
    )

    def encode(value: Any) -> str:
        return "".join(c_encode(value, 0))

    return encode


dumps = _compact_encoder()


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
                self._check_version()
            self._migrate()
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.DatabaseError as error:
            self.conn.close()
            raise StoreError(f"cannot use {path}: {error}") from None
        except StoreError:
            self.conn.close()
            raise
        self.db = sqlite_utils.Database(self.conn)
        self._committed_at = time.monotonic()

    def close(self) -> None:
        """Commit what `write` has done so far, then close."""
        try:
            self.commit()
        finally:
            self.conn.close()

    @contextmanager
    def write(self, *, durable: bool) -> Iterator[sqlite3.Connection]:
        """A block of writes that lands whole or not at all. With `durable`, it and every earlier
        block are committed when the block ends; otherwise the commit may wait for a later block
        (at most COMMIT_EVERY_S), so a crash can lose a few finished blocks but never part of one.
        A failed block rolls back every block not yet committed."""
        try:
            yield self.conn
        except BaseException:
            self.conn.rollback()
            raise
        if durable or time.monotonic() - self._committed_at >= COMMIT_EVERY_S:
            self.commit()

    def commit(self) -> None:
        """Make every block written so far durable."""
        self.conn.commit()
        self._committed_at = time.monotonic()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema ----------------------------------------------------------------------------

    def _tables(self) -> set[str]:
        rows = self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}

    def schema_version(self) -> int:
        if MIGRATIONS_TABLE not in self._tables():
            return 0
        (version,) = self.conn.execute(f"SELECT max(version) FROM {MIGRATIONS_TABLE}").fetchone()
        return version or 0

    def _check_version(self) -> None:
        tables = self._tables()
        if tables and MIGRATIONS_TABLE not in tables:
            raise StoreError(
                f"{self.path} is a SQLite database of another program "
                f"(no {MIGRATIONS_TABLE} table); give another --db"
            )
        version = self.schema_version()
        if version > LATEST:
            raise StoreError(
                f"{self.path} has schema version {version}, newer than this arena knows "
                f"({LATEST}): upgrade collusion-arena to use it"
            )

    def _migrate(self) -> None:
        if self.schema_version() >= LATEST:
            return
        # IMMEDIATE takes the write lock first, so two processes opening a new file at once
        # cannot both apply the same migration.
        self.conn.isolation_level = None
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.execute(
                f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} "
                "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            current = self.schema_version()
            for version, name, statements in MIGRATIONS:
                if version > current:
                    for statement in statements:
                        self.conn.execute(statement)
                    self.conn.execute(
                        f"INSERT INTO {MIGRATIONS_TABLE} VALUES (?, ?, ?)", (version, name, now())
                    )
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        finally:
            self.conn.isolation_level = ""

    # -- matches ---------------------------------------------------------------------------

    def matches_of(self, batch: str) -> dict[int, dict[str, Any]]:
        """The batch's matches by batch index."""
        rows = self.db.query("SELECT * FROM matches WHERE batch = ?", (batch,))
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
    ) -> list[int]:
        """Insert the batch's matches (status `running`, not yet finished) and their seats in one
        transaction; return their ids in order."""
        ids = []
        config_json = dumps(config)
        created = now()
        with self.conn:
            for index, seed in zip(indexes, seeds, strict=True):
                cursor = self.conn.execute(
                    "INSERT INTO matches (batch, batch_index, game, preset, seed, config, status,"
                    " software_version, created_at) VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?)",
                    (batch, index, game, preset, seed, config_json, version, created),
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
        return [(seat, Decision(action, talk)) for seat, action, talk in rows]

    def stored_event_count(self, match_id: int) -> int:
        (count,) = self.conn.execute(
            "SELECT count(*) FROM events WHERE match_id = ?", (match_id,)
        ).fetchone()
        return int(count)
