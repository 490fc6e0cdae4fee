"""Writes one match into the store as it is played: a listener of the match runtime.

Rows are buffered and committed in one short transaction before the runtime waits on a slow
player (human or LLM), whenever the buffer grows large, and at the end of the match. So a crash
loses at most the decision in flight of a match with slow players; a bot-only match loses at most
its unwritten part, which the rerun replays identically from the seed. Committing every hand
instead made a bot batch 2–3× slower than playing it unrecorded (bench/recording.py); a writer
thread did not help, the GIL serialising it with the game.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from arena.runtime import DecisionRecord
from arena.store.db import Store, dumps, now
from games.base import Event, SeatResult

FLUSH_AT_ROWS = 5000
ROWS_PER_STATEMENT = 100
_HAND_END_SQL = "UPDATE hands SET end_seq = ?, outcome = ? WHERE match_id = ? AND hand = ?"
_legal_json: dict[tuple[str, ...], str] = {}
_audience_json: dict[frozenset[int], str] = {}


def audience_json(seats: frozenset[int] | None) -> str | None:
    """`[0, 2]` for an audience of seats 0 and 2 (cached), None for public and observer."""
    if not seats:
        return None
    text = _audience_json.get(seats)
    if text is None:
        text = _audience_json[seats] = dumps(sorted(seats))
    return text


def insert_rows(conn: sqlite3.Connection, table: str, rows: list[tuple[Any, ...]]) -> None:
    """INSERT many rows, up to ROWS_PER_STATEMENT per statement: binding a batch of rows to one
    multi-row INSERT costs about 40% less per row than executemany of a one-row INSERT."""
    width = len(rows[0])
    one = "(" + ",".join("?" * width) + ")"
    full, rest = divmod(len(rows), ROWS_PER_STATEMENT)
    if full:
        sql = f"INSERT INTO {table} VALUES " + ",".join([one] * ROWS_PER_STATEMENT)
        for i in range(full):
            chunk = rows[i * ROWS_PER_STATEMENT : (i + 1) * ROWS_PER_STATEMENT]
            conn.execute(sql, [value for row in chunk for value in row])
    if rest:
        sql = f"INSERT INTO {table} VALUES " + ",".join([one] * rest)
        conn.execute(sql, [value for row in rows[-rest:] for value in row])


def legal_json(legal: tuple[str, ...]) -> str:
    """JSON of a legal-action list, cached: engines hand out the same few tuples again and again."""
    text = _legal_json.get(legal)
    if text is None:
        if len(_legal_json) > 10_000:
            _legal_json.clear()
        text = _legal_json[legal] = dumps(legal)
    return text


class MatchRecorder:
    """Buffers one match's rows and writes them in order, one transaction per flush."""

    def __init__(self, store: Store, match_id: int) -> None:
        self.store = store
        self.match_id = match_id
        self.events: list[tuple[Any, ...]] = []
        self.decisions: list[tuple[Any, ...]] = []
        # Hands not yet written, by number: [match_id, hand, start_seq, end_seq, summary, outcome]
        self.hands: dict[int, list[Any]] = {}
        # Ends of hands whose start is already written
        self.hand_ends: list[tuple[Any, ...]] = []

    def on_event(self, seq: int, hand: int, event: Event) -> None:
        audience = event.audience
        payload = dumps(event.payload)
        self.events.append(
            (
                self.match_id,
                seq,
                hand,
                event.kind,
                event.actor,
                audience.label,
                audience_json(audience.seats),
                payload,
            )
        )
        if event.kind == "hand_start":
            self.hands[hand] = [self.match_id, hand, seq, None, payload, None]
        elif event.kind == "hand_end":
            pending = self.hands.get(hand)
            if pending is None:
                self.hand_ends.append((seq, payload, self.match_id, hand))
            else:
                pending[3], pending[5] = seq, payload
            if len(self.events) >= FLUSH_AT_ROWS:
                self._write()

    def on_decision(self, record: DecisionRecord) -> None:
        self.decisions.append(
            (
                self.match_id,
                record.seq,
                record.event_seq,
                record.hand,
                record.seat,
                record.kind,
                legal_json(record.legal),
                record.action,
                record.talk,
                record.source,
                record.error,
                record.latency_ms,
            )
        )

    async def flush(self) -> None:
        """Everything so far is durable when this returns."""
        self._write(durable=True)

    def _write(
        self, finish: Callable[[sqlite3.Connection], None] | None = None, durable: bool = False
    ) -> None:
        """Write the buffered rows, then `finish`, as one block (see `Store.write`)."""
        with self.store.write(durable=durable) as conn:
            if self.events:
                insert_rows(conn, "events", self.events)
            if self.decisions:
                insert_rows(conn, "decisions", self.decisions)
            if self.hands:
                insert_rows(conn, "hands", [tuple(row) for row in self.hands.values()])
            if self.hand_ends:
                conn.executemany(_HAND_END_SQL, self.hand_ends)
            if finish is not None:
                finish(conn)
        self.events, self.decisions, self.hands, self.hand_ends = [], [], {}, []

    def on_end(self, results: tuple[SeatResult, ...], hands: int) -> None:
        """Write the last rows and the results in one transaction."""
        match_id = self.match_id
        result = dumps(
            {
                "placement": [r.placement for r in results],
                "score": [r.score for r in results],
                "winners": [s for s, r in enumerate(results) if r.winner],
            }
        )
        finished_at = now()

        def finish(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "UPDATE seats SET placement = ?, score = ?, winner = ?"
                " WHERE match_id = ? AND seat = ?",
                [(r.placement, r.score, int(r.winner), match_id, s) for s, r in enumerate(results)],
            )
            conn.execute(
                "UPDATE matches SET status = 'finished', result = ?, hands = ?, finished_at = ?"
                " WHERE id = ?",
                (result, hands, finished_at, match_id),
            )

        self._write(finish)
