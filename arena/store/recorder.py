"""Writes one match into the store as it is played: a listener of the match runtime.

Rows are buffered and committed in one short transaction at the end of every hand, before the
runtime waits on a slow player (human or LLM), and at the end of the match. A crash therefore loses
at most the hand in progress of a bot-only match (which a resume replays identically) and at most
the decision in flight when a slow player is thinking.
"""

from __future__ import annotations

import json
from typing import Any

from arena.runtime import DecisionRecord
from arena.store.db import Store, dumps, now
from games.base import Event, SeatResult

_EVENT_SQL = "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
_DECISION_SQL = "INSERT INTO decisions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_HAND_START_SQL = "INSERT INTO hands (match_id, hand, start_seq, summary) VALUES (?, ?, ?, ?)"
_HAND_END_SQL = "UPDATE hands SET end_seq = ?, outcome = ? WHERE match_id = ? AND hand = ?"


class MatchRecorder:
    """Buffers one match's rows and writes them in order, one transaction per flush."""

    def __init__(self, store: Store, match_id: int) -> None:
        self.conn = store.conn
        self.match_id = match_id
        self.events: list[tuple[Any, ...]] = []
        self.decisions: list[tuple[Any, ...]] = []
        self.hand_starts: list[tuple[Any, ...]] = []
        self.hand_ends: list[tuple[Any, ...]] = []

    def on_event(self, seq: int, hand: int, event: Event) -> None:
        seats = event.audience.seats
        payload = dumps(event.payload)
        self.events.append(
            (
                self.match_id,
                seq,
                hand,
                event.kind,
                event.actor,
                event.audience.label,
                None if seats is None else dumps(sorted(seats)),
                payload,
            )
        )
        if event.kind == "hand_start":
            self.hand_starts.append((self.match_id, hand, seq, payload))
        elif event.kind == "hand_end":
            self.hand_ends.append((seq, payload, self.match_id, hand))
            self.flush()

    def on_decision(self, record: DecisionRecord) -> None:
        self.decisions.append(
            (
                self.match_id,
                record.seq,
                record.event_seq,
                record.hand,
                record.seat,
                record.kind,
                dumps(record.legal),
                record.action,
                record.talk,
                record.source,
                record.error,
                record.latency_ms,
            )
        )

    def flush(self) -> None:
        with self.conn:
            self._write()

    def _write(self) -> None:
        conn = self.conn
        if self.events:
            conn.executemany(_EVENT_SQL, self.events)
            self.events.clear()
        if self.decisions:
            conn.executemany(_DECISION_SQL, self.decisions)
            self.decisions.clear()
        if self.hand_starts:
            conn.executemany(_HAND_START_SQL, self.hand_starts)
            self.hand_starts.clear()
        if self.hand_ends:
            conn.executemany(_HAND_END_SQL, self.hand_ends)
            self.hand_ends.clear()

    def on_end(self, results: tuple[SeatResult, ...], hands: int) -> None:
        result = {
            "placement": [r.placement for r in results],
            "score": [r.score for r in results],
            "winners": [s for s, r in enumerate(results) if r.winner],
        }
        with self.conn:
            self._write()
            self.conn.executemany(
                "UPDATE seats SET placement = ?, score = ?, winner = ?"
                " WHERE match_id = ? AND seat = ?",
                [
                    (r.placement, r.score, int(r.winner), self.match_id, s)
                    for s, r in enumerate(results)
                ],
            )
            self.conn.execute(
                "UPDATE matches SET status = 'finished', result = ?, hands = ?, finished_at = ?"
                " WHERE id = ?",
                (json.dumps(result), hands, now(), self.match_id),
            )
