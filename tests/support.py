"""Helpers for tests: running the real `arena` command as its own process and reading a database
file the way an analyst would (read-only)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from arena.runtime import DecisionRecord
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
