"""The writer process: it inserts recorded rows into the arena database on another core while the
playing process goes on playing.

Recording every event of a bot batch costs about as much CPU as playing it (JSON, binding values,
SQLite's B-trees): in one process that made a Liar's Bar batch 1.6× slower than playing it
unrecorded, and a thread does not help because the GIL serialises it with the game
(bench/README.md). So the recorder sends each block of rows, pickled, down a pipe to this process.

Blocks land whole or not at all. The writer commits as soon as it has caught up with the pipe,
after at most COMMIT_EVERY_S while it has a backlog, and at once for a durable block, which it
acknowledges. If the playing process dies, the writer rolls back what it has not committed and
stops, so a rerun never races with an orphaned writer.

Protocol. The playing process writes frames to stdin: a 4-byte little-endian length, then a
pickled `(durable, ops)`. An op is `("rows", table, rows, json_columns)`: insert the rows, after
encoding the values in the listed columns as JSON; or `("many", sql, params)`: executemany. The
writer answers each durable block with one line on stdout, `ok` or `error: TEXT`; after an error
it stops. This module imports only the standard library, so the process starts in milliseconds.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, InvalidStateError
from pathlib import Path
from typing import IO, Any

BUSY_TIMEOUT_S = 30.0
# With a backlog, blocks are committed together at most this long: one commit per bot match cost
# a tenth of recording it. Other writers to the file wait at most this long for the lock.
COMMIT_EVERY_S = 0.25
ROWS_PER_STATEMENT = 100

Op = tuple[Any, ...]


class StoreError(Exception):
    """The database cannot be used; the message names the file and the problem."""


def _compact_encoder() -> Callable[[Any], str]:
    """Compact JSON, as fast as the standard library allows: `json.dumps` with options builds a
    new encoder per call, and `JSONEncoder.encode` still builds the C encoder per call; calling
    the C encoder directly costs about 40% less per event payload."""
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


def insert_rows(conn: sqlite3.Connection, table: str, rows: Sequence[Sequence[Any]]) -> None:
    """INSERT many rows, up to ROWS_PER_STATEMENT per statement: binding a batch of rows to one
    multi-row INSERT costs about 40% less per row than executemany of a one-row INSERT."""
    width = len(rows[0])
    one = "(" + ",".join("?" * width) + ")"
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        chunk = rows[start : start + ROWS_PER_STATEMENT]
        sql = f"INSERT INTO {table} VALUES " + ",".join([one] * len(chunk))
        conn.execute(sql, [value for row in chunk for value in row])


def apply(conn: sqlite3.Connection, ops: Sequence[Op]) -> None:
    for op in ops:
        if op[0] == "rows":
            _, table, rows, json_columns = op
            if not rows:
                continue
            if json_columns:
                encoded = []
                for row in rows:
                    values = list(row)
                    for column in json_columns:
                        if values[column] is not None:
                            values[column] = dumps(values[column])
                    encoded.append(values)
                rows = encoded
            insert_rows(conn, table, rows)
        elif op[0] == "many":
            _, sql, params = op
            conn.executemany(sql, params)
        else:
            raise ValueError(f"unknown op {op[0]!r}")


# -- the playing side -------------------------------------------------------------------------


class Writer:
    """The playing process's handle on the writer process of one database file. Send blocks
    from one thread; a durable block's future resolves (from a thread reading the answers) once
    it is committed, so an event loop can await it without blocking."""

    def __init__(self, path: Path) -> None:
        self.path = path
        root = str(Path(__file__).resolve().parents[2])
        paths = [root, *filter(None, [os.environ.get("PYTHONPATH")])]
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "arena.store.writer", str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(paths)},
        )
        self._stdin: IO[bytes] = self._proc.stdin  # type: ignore[assignment]
        self._stdout: IO[bytes] = self._proc.stdout  # type: ignore[assignment]
        # A frame cut short (an interrupt mid-write) would garble every later one: stop sending.
        self._cut = False
        self._waiting: deque[Future[None]] = deque()  # durable blocks not yet acknowledged
        self._lock = threading.Lock()
        self._failed: StoreError | None = None
        self._answers = threading.Thread(target=self._read_answers, daemon=True)
        self._answers.start()
        # If the Writer is dropped unclosed, end of input lets the process commit and exit.
        weakref.finalize(self, self._stdin.close)

    def send(self, ops: Sequence[Op], *, durable: bool = False) -> Future[None]:
        """Queue one block. The future resolves when it is committed (at once when it is not
        `durable`: it then commits with a later block) or fails with a StoreError."""
        if self._failed is not None:
            raise self._failed
        if self._cut:
            raise StoreError(f"writing {self.path} was interrupted; rerun to finish")
        frame = pickle.dumps((durable, ops), pickle.HIGHEST_PROTOCOL)
        future: Future[None] = Future()
        if durable:
            with self._lock:
                self._waiting.append(future)
        else:
            future.set_result(None)
        self._cut = True
        try:
            self._stdin.write(len(frame).to_bytes(4, "little") + frame)  # one write, one syscall
            self._stdin.flush()
        except (BrokenPipeError, ValueError):  # ValueError: the pipe is already closed
            self._answers.join()  # the process is gone: its answers end and say why
            raise self._failed or StoreError(f"cannot write {self.path}") from None
        self._cut = False
        return future

    def commit(self) -> None:
        """Return once every block sent so far is committed."""
        self.send((), durable=True).result()

    def close(self) -> None:
        """Commit every block sent, then stop the process."""
        try:
            if not self._cut and self._failed is None:
                self.commit()
        finally:
            with contextlib.suppress(BrokenPipeError):  # the process may be gone already
                self._stdin.close()
            self._proc.wait()
            self._answers.join()
            self._stdout.close()
            if self._proc.stderr is not None:
                self._proc.stderr.close()

    def _read_answers(self) -> None:
        """Resolve durable blocks in order as their answers come; on an error or the end of the
        process, fail every block still waiting."""
        for line in iter(self._stdout.readline, b""):
            with self._lock:
                future = self._waiting.popleft() if self._waiting else None
            if line == b"ok\n" and future is not None:
                _settle(future)
                continue
            self._fail(self._failure(line), future)
            return
        code = self._proc.wait()
        with self._lock:
            pending = bool(self._waiting)
        if code != 0 or pending:
            self._fail(self._failure(b""), None)

    def _fail(self, error: StoreError, first: Future[None] | None) -> None:
        self._failed = error
        with self._lock:
            waiting = [first, *self._waiting] if first is not None else list(self._waiting)
            self._waiting.clear()
        for future in waiting:
            _settle(future, error)

    def _failure(self, answer: bytes) -> StoreError:
        """Why the writer process stopped, as a StoreError naming the file."""
        answer += self._stdout.read()
        code = self._proc.wait()
        stderr = self._proc.stderr.read() if self._proc.stderr is not None else b""
        lines = [line for line in answer.decode(errors="replace").splitlines() if line]
        errors = [line.removeprefix("error: ") for line in lines if line.startswith("error: ")]
        if errors:
            reason = errors[0]
        elif stderr.strip():
            reason = stderr.decode(errors="replace").strip().splitlines()[-1]
        else:
            reason = f"the writer process exited with code {code}"
        return StoreError(f"cannot write {self.path}: {reason}")


def _settle(future: Future[None], error: StoreError | None = None) -> None:
    """Resolve a durable block's future, unless whoever waited gave up on it: a match cancelled
    mid-block (asyncio's wrap_future then cancels the future) must not stop the answers that
    come after it, the last commit's among them."""
    with contextlib.suppress(InvalidStateError):
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)


# -- the writer process -----------------------------------------------------------------------


def _read_frames(source: IO[bytes], frames: queue.SimpleQueue[bytes | None]) -> None:
    """Move whole frames from the pipe to the queue; None at end of input (a cut frame is
    dropped)."""
    while True:
        head = source.read(4)
        if len(head) < 4:
            break
        size = int.from_bytes(head, "little")
        frame = source.read(size)
        if len(frame) < size:
            break
        frames.put(frame)
    frames.put(None)


def serve(path: str, source: IO[bytes], answers: IO[bytes]) -> int:
    """Write blocks from `source` into the database at `path` until end of input."""
    parent = os.getppid()
    frames: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
    threading.Thread(target=_read_frames, args=(source, frames), daemon=True).start()
    began: float | None = None  # when the open transaction began
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error as error:
        answers.write(f"error: {error}\n".encode())
        answers.flush()
        return 1

    def commit() -> None:
        if os.getppid() != parent:  # orphaned: a rerun may already be reading; write nothing
            raise SystemExit(1)
        conn.execute("COMMIT")

    try:
        conn.execute("PRAGMA synchronous = NORMAL")
        while True:
            if began is not None and (frames.empty() or time.monotonic() - began >= COMMIT_EVERY_S):
                commit()
                began = None
            frame = frames.get()
            if frame is None:
                break
            durable, ops = pickle.loads(frame)
            if began is None:
                conn.execute("BEGIN IMMEDIATE")
                began = time.monotonic()
            apply(conn, ops)
            if durable:
                commit()
                began = None
                answers.write(b"ok\n")
                answers.flush()
        if began is not None:
            commit()
        return 0
    except Exception as error:
        text = f"{type(error).__name__}: {error}".replace("\n", " ")
        answers.write(f"error: {text}\n".encode())
        answers.flush()
        return 1
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.close()


if __name__ == "__main__":
    # Ctrl-C reaches the whole process group: the playing process handles it and closes the pipe;
    # this process finishes what it was sent.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    code = serve(sys.argv[1], sys.stdin.buffer, sys.stdout.buffer)
    sys.stdout.flush()
    os._exit(code)  # not sys.exit: the reader thread may still be blocked on the pipe
