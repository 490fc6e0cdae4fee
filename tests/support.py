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
