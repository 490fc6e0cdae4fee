"""Writes one match into the store as it is played: a listener of the match runtime.

Rows are buffered and sent to the store's writer process as one block before the runtime waits on
a slow player (human or LLM: that block is durable before the wait begins), whenever the buffer
grows large, and at the end of the match. So a crash loses at most the decision in flight of a
match with slow players; a bot-only match loses at most its unwritten part, which the rerun
replays identically from the seed. Payloads travel as Python values; the writer process encodes
them as JSON (see `arena.store.writer` for why).

The secret phase's tables are derived from its events here, as they are heard: a `tool_offers`
row at each `offer` (its answers, the partner's and the grant fill it in later), a `tool_uses`
row at each `tool_use`, a `messages` row at each private `message` and each Liar's Bar `play`
with table talk. The runtime passes only events a previous run did not store, so each derived
row is written exactly once however often a match is resumed. The `tool_grants` rows, which
look back over the whole match (who held which tool, and what allies did while allied), are
derived by SQL from the stored rows in the block that finishes the match (`schema.tool_grants_sql`),
and so are the match's additions to `seat_baselines` when it had no tools
(`schema.seat_baselines_sql`).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from typing import Any

from arena.runtime import DecisionRecord
from arena.store.db import Store, now
from arena.store.schema import OFFER_COPIES, seat_baselines_sql, tool_grants_sql
from arena.store.writer import Op, dumps
from games.base import Event, SeatResult

FLUSH_AT_ROWS = 5000
_HAND_END_SQL = "UPDATE hands SET end_seq = ?, outcome = ? WHERE match_id = ? AND hand = ?"
_SEATS_SQL = "UPDATE seats SET placement = ?, score = ?, winner = ? WHERE match_id = ? AND seat = ?"
_MATCH_SQL = (
    "UPDATE matches SET status = 'finished', result = ?, hands = ?, finished_at = ? WHERE id = ?"
)
_TOOL_GRANTS_SQL = tool_grants_sql(":match")
_SEAT_BASELINES_SQL = seat_baselines_sql(":match")
_OFFER_ANSWER_SQL = (
    "UPDATE tool_offers SET answer = ?, partner = ?, reason = ?, decision_seq = ?, simulated = ?"
    " WHERE match_id = ? AND offer_seq = ?"
)
_INVITE_ANSWER_SQL = (
    "UPDATE tool_offers SET partner_answer = ?, partner_reason = ?, partner_decision_seq = ?,"
    " partner_simulated = ? WHERE match_id = ? AND offer_seq = ?"
)
_GRANTED_SQL = "UPDATE tool_offers SET granted = ? WHERE match_id = ? AND offer_seq = ?"
# A tool_offers row's copies of its match's and seat's columns: set by the database's trigger.
_COPIES = (None,) * len(OFFER_COPIES)
# Where each update writes in a tool_offers row (the column index of its first value).
_ANSWER_AT, _PARTNER_ANSWER_AT, _GRANTED_AT = 7, 12, 16
# Event kinds the recorder derives rows from (beyond events and hands): checked once per event.
DERIVED_KINDS = frozenset(
    {"play", "message", "tool_use", "offer", "offer_answer", "invite_answer", "grant"}
)
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


def legal_json(legal: tuple[str, ...]) -> str:
    """JSON of a legal-action list, cached: engines hand out the same few tuples again and again."""
    text = _legal_json.get(legal)
    if text is None:
        if len(_legal_json) > 10_000:
            _legal_json.clear()
        text = _legal_json[legal] = dumps(legal)
    return text


class MatchRecorder:
    """Buffers one match's rows and sends them, in order, one block per flush."""

    def __init__(self, store: Store, match_id: int) -> None:
        self.store = store
        self.match_id = match_id
        self.events: list[tuple[Any, ...]] = []
        self.decisions: list[tuple[Any, ...]] = []
        # Hands not yet sent, by number: [match_id, hand, start_seq, end_seq, summary, outcome]
        self.hands: dict[int, list[Any]] = {}
        # Ends of hands whose start is already sent
        self.hand_ends: list[tuple[Any, ...]] = []
        # Rows of what players did to decide (e.g. LLM calls), by table: (json columns, rows)
        self.traces: dict[str, tuple[tuple[int, ...], list[tuple[Any, ...]]]] = {}
        # tool_offers rows not yet sent, by offer seq (filled in place while unsent), and the
        # updates of rows already sent, by statement
        self.offers: dict[int, list[Any]] = {}
        self.offer_updates: dict[str, list[tuple[Any, ...]]] = {}
        self.tool_uses: list[tuple[Any, ...]] = []
        self.messages: list[tuple[Any, ...]] = []

    def on_event(self, seq: int, hand: int, event: Event) -> None:
        audience = event.audience
        self.events.append(
            (
                self.match_id,
                seq,
                hand,
                event.kind,
                event.actor,
                audience.label,
                audience_json(audience.seats),
                event.payload,
            )
        )
        if event.kind == "hand_start":
            self.hands[hand] = [self.match_id, hand, seq, None, event.payload, None]
        elif event.kind == "hand_end":
            pending = self.hands.get(hand)
            if pending is None:
                self.hand_ends.append((seq, dumps(event.payload), self.match_id, hand))
            else:
                pending[3], pending[5] = seq, event.payload
            if len(self.events) >= FLUSH_AT_ROWS:
                self._send()
        elif event.kind in DERIVED_KINDS:
            self._derive(seq, hand, event)

    def _derive(self, seq: int, hand: int, event: Event) -> None:
        """The secret-phase and table-talk rows of one event (payloads: `arena.secrets`)."""
        kind, p, match_id = event.kind, event.payload, self.match_id
        if kind == "play":
            talk = p.get("talk")
            if talk:
                self.messages.append((match_id, seq, hand, "table", event.actor, None, talk))
        elif kind == "message":
            self.messages.append(
                (match_id, seq, hand, p["channel"], p["sender"], list(p["recipients"]), p["text"])
            )
        elif kind == "tool_use":
            self.tool_uses.append(
                (match_id, seq, hand, p["seat"], p["tool"], p["target"], int(p["allowed"]),
                 p["denial"], p["decision"])
            )  # fmt: skip
        elif kind == "offer":
            self.offers[seq] = [
                match_id, seq, hand, p["tool"], p["seat"], p["framing"], p["observer"],
                None, None, None, None, None, None, None, None, None, 0, *_COPIES,
            ]  # fmt: skip
        elif kind == "offer_answer":
            offered = (p["answer"], p["partner"], p["reason"], p["decision"], int(p["simulated"]))
            self._update_offer(p["offer"], _ANSWER_AT, offered, _OFFER_ANSWER_SQL)
        elif kind == "invite_answer":
            invited = (p["answer"], p["reason"], p["decision"], int(p["simulated"]))
            self._update_offer(p["offer"], _PARTNER_ANSWER_AT, invited, _INVITE_ANSWER_SQL)
        elif kind == "grant" and p["offer"] is not None:  # a standing grant answers no offer
            self._update_offer(p["offer"], _GRANTED_AT, (1,), _GRANTED_SQL)

    def _update_offer(self, offer: int, at: int, values: tuple[Any, ...], sql: str) -> None:
        """Fill in the offer's row if it is still unsent, else send an UPDATE after it."""
        row = self.offers.get(offer)
        if row is not None:
            row[at : at + len(values)] = values
        else:
            self.offer_updates.setdefault(sql, []).append((*values, self.match_id, offer))

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
                record.observer,
            )
        )
        for item in record.trace:
            _, rows = self.traces.setdefault(item.table, (item.json_columns, []))
            rows.append(item.row(self.match_id, record.seq, record.seat))

    async def flush(self) -> None:
        """Everything so far is durable when this returns (the event loop runs meanwhile)."""
        await asyncio.wrap_future(self._send(durable=True))

    def _send(self, finish: tuple[Op, ...] = (), durable: bool = False) -> Future[None]:
        """Send the buffered rows, then `finish`, as one block."""
        ops: list[Op] = [
            ("rows", "events", self.events, (7,)),
            ("rows", "decisions", self.decisions, ()),
            ("rows", "hands", [tuple(row) for row in self.hands.values()], (4, 5)),
        ]
        if self.hand_ends:
            ops.append(("many", _HAND_END_SQL, self.hand_ends))
        for table, (json_columns, rows) in self.traces.items():
            ops.append(("rows", table, rows, json_columns))
        if self.offers or self.offer_updates or self.tool_uses or self.messages:
            ops.append(("rows", "tool_offers", [tuple(row) for row in self.offers.values()], ()))
            ops.extend(("many", sql, params) for sql, params in self.offer_updates.items())
            ops.append(("rows", "tool_uses", self.tool_uses, ()))
            ops.append(("rows", "messages", self.messages, (5,)))
            self.offers, self.offer_updates, self.tool_uses, self.messages = {}, {}, [], []
        sent = self.store.writer.send([*ops, *finish], durable=durable)
        self.events, self.decisions, self.hands, self.hand_ends = [], [], {}, []
        self.traces = {}
        return sent

    def on_end(self, results: tuple[SeatResult, ...], hands: int) -> None:
        """Send the last rows and the results as one block."""
        match_id = self.match_id
        result = dumps(
            {
                "placement": [r.placement for r in results],
                "score": [r.score for r in results],
                "winners": [s for s, r in enumerate(results) if r.winner],
            }
        )
        seats = [(r.placement, r.score, int(r.winner), match_id, s) for s, r in enumerate(results)]
        self._send(
            (
                ("many", _SEATS_SQL, seats),
                ("many", _MATCH_SQL, [(result, hands, now(), match_id)]),
                ("many", _TOOL_GRANTS_SQL, [{"match": match_id}]),
                ("many", _SEAT_BASELINES_SQL, [{"match": match_id}]),
            )
        )
