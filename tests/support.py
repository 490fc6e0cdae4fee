"""Helpers for tests: running the real `arena` command as its own process and reading a database
file the way an analyst would (read-only)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from arena.runtime import DecisionRecord
from arena.store.schema import MIGRATIONS
from arena.table import TableRecord
from games.base import Event

REPO = Path(__file__).resolve().parent.parent


@contextmanager
def read_only(path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        yield conn
    finally:
        conn.close()


def arena_process(
    *args: str, env: dict[str, str] | None = None, cwd: Path = REPO, new_session: bool = False
) -> subprocess.Popen[str]:
    """`arena ARGS` as its own process (for kills, interrupts and concurrent writers); with
    `new_session`, in a process group of its own, as a terminal's foreground job is."""
    return subprocess.Popen(
        [sys.executable, "-m", "arena", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=new_session,
    )


class Heard(TableRecord):
    """A match listener that keeps everything it hears (the table's record): events as (seq,
    hand, event), and the decision records."""

    def __init__(self) -> None:
        super().__init__(seats=0)

    def of(self, kind: str) -> list[Event]:
        """The events of one kind, in order."""
        return [event for _, _, event in self.events if event.kind == kind]

    def decided(self, kind: str) -> list[DecisionRecord]:
        """The decisions of one kind, in order."""
        return [record for record in self.decisions if record.kind == kind]


def old_arena_file(path: Path, version: int) -> None:
    """An empty arena database as a program of schema `version` left it."""
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE arena_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL)"
    )
    for number, name, statements in MIGRATIONS[:version]:
        for step in statements:
            if isinstance(step, str):
                conn.execute(step)
            else:
                step(conn)
        conn.execute("INSERT INTO arena_migrations VALUES (?, ?, '2026-01-01')", (number, name))
    conn.commit()
    conn.close()


async def until(pilot: Pilot[Any], condition: Callable[[], bool], seconds: float = 20) -> None:
    """Let the app run until `condition` holds; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the arena")
        await pilot.pause(0.01)
