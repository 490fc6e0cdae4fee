"""The writer process: blocks land whole or not at all, failures reach the playing process with
their cause, and an orphaned writer commits nothing."""

from __future__ import annotations

import io
import json
import os
import pickle
import signal
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arena.store import writer
from arena.store.db import Store
from arena.store.writer import StoreError, Writer, dumps, serve
from tests.support import read_only

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_dumps_is_compact_json_dumps(value: Any) -> None:
    assert dumps(value) == json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def frame(durable: bool, ops: list[Any]) -> bytes:
    body = pickle.dumps((durable, ops))
    return len(body).to_bytes(4, "little") + body


def thing_rows(*names: str) -> tuple[Any, ...]:
    """An op inserting things whose second column is JSON-encoded by the writer."""
    return ("rows", "things", [(name, {"name": name}) for name in names], (1,))


@pytest.fixture
def things(tmp_path: Path) -> Path:
    db = tmp_path / "things.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("CREATE TABLE things (name TEXT PRIMARY KEY, data TEXT)")
    return db


def names(db: Path) -> list[str]:
    with read_only(db) as conn:
        return [name for (name,) in conn.execute("SELECT name FROM things ORDER BY name")]


def test_blocks_are_written_and_a_cut_frame_is_dropped(things: Path) -> None:
    stream = (
        frame(False, [thing_rows("a", "b")])
        + frame(True, [thing_rows("c")])
        + frame(False, [thing_rows("d")])
        + frame(False, [thing_rows("e")])[:-3]  # the playing process died mid-write
    )
    answers = io.BytesIO()
    assert serve(str(things), io.BytesIO(stream), answers) == 0
    assert answers.getvalue() == b"ok\n"  # one answer, for the one durable block
    assert names(things) == ["a", "b", "c", "d"]
    with read_only(things) as conn:
        assert conn.execute("SELECT data FROM things WHERE name = 'a'").fetchone() == (
            '{"name":"a"}',
        )


def test_an_orphaned_writer_commits_nothing(things: Path, monkeypatch) -> None:
    """Once the playing process is gone (the writer's parent changes), a rerun may be reading:
    the writer rolls back what it holds and stops."""
    parents = iter([100, 100, 1])  # at start, at the first commit, then orphaned
    monkeypatch.setattr(writer.os, "getppid", lambda: next(parents))
    stream = frame(True, [thing_rows("a")]) + frame(True, [thing_rows("b")])
    with pytest.raises(SystemExit):
        serve(str(things), io.BytesIO(stream), io.BytesIO())
    assert names(things) == ["a"]


def test_a_failed_block_is_reported_with_its_cause_and_rolled_back(things: Path) -> None:
    out = Writer(things)
    try:
        out.send([thing_rows("a")], durable=True).result()
        out.send([thing_rows("b")])
        with pytest.raises(StoreError) as failure:
            # "c" inserts fine, then "a" again breaks the primary key: the block fails whole
            out.send([thing_rows("c"), thing_rows("a")], durable=True).result()
        assert str(things) in str(failure.value)
        assert "UNIQUE constraint failed: things.name" in str(failure.value)
        with pytest.raises(StoreError):
            out.send([thing_rows("z")])
    finally:
        out.close()
    # "b" is committed if the writer caught up before the failing block came, else rolled back
    # with it; nothing of the failing block is written.
    assert names(things) in (["a"], ["a", "b"])


def test_a_writer_that_cannot_start_is_reported(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "x.db"
    out = Writer(missing)
    try:
        with pytest.raises(StoreError, match="unable to open database file"):
            out.send([], durable=True).result()
    finally:
        out.close()


def test_store_sync_makes_recorded_rows_readable(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        store.writer.send(
            [("many", "INSERT INTO arena_migrations VALUES (?, ?, ?)", [(99, "probe", "now")])]
        )
        store.sync()
        rows = store.conn.execute("SELECT name FROM arena_migrations WHERE version = 99")
        assert rows.fetchall() == [("probe",)]


def test_a_block_whose_waiter_gave_up_still_lets_the_writer_close(things: Path) -> None:
    """Quitting the arena mid-match cancels a match awaiting its durable block (asyncio's
    wrap_future cancels the future too); the answer that comes after must not stop the thread
    that reads answers, or closing the store waits forever for its own commit."""
    out = Writer(things)
    closing = threading.Thread(target=out.close, daemon=True)
    try:
        out.send([thing_rows("a")], durable=True).result()  # the process is up and answering
        os.kill(out._proc.pid, signal.SIGSTOP)  # hold the answer back: cancelling must win
        try:
            abandoned = out.send([thing_rows("b")], durable=True)
            assert abandoned.cancel()
        finally:
            os.kill(out._proc.pid, signal.SIGCONT)
        closing.start()
        closing.join(timeout=60)  # only guards a hang: the commit takes milliseconds
        assert not closing.is_alive(), "closing the writer hung on its last commit"
    finally:
        if closing.is_alive():
            out._proc.kill()
    assert names(things) == ["a", "b"]  # the abandoned block was still written
