"""The debrief of one match, read from the database: who was offered which secret tool and how
they answered, what allies wrote to each other, which tools were used on whom, who was harmed and
how everyone placed. Pure data for the debrief screen, read with SELECTs only.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from arena.monitor import effect_text

GAME_TITLES = {"liars-bar": "Liar's Bar", "cleanup": "Cleanup"}
HAND_NAMES = {"liars-bar": "round", "cleanup": "step"}


class DebriefError(ValueError):
    """No debrief can be read: the match does not exist, or the file is no arena database."""


@dataclass(frozen=True)
class ObserverChange:
    """A trainer's switch of the observer condition during the match."""

    hand: int
    condition: str


@dataclass(frozen=True)
class MatchInfo:
    id: int
    game: str  # `liars-bar` or `cleanup`
    preset: str
    seed: int
    observer: str  # the condition the match started under (`matches.observer`)
    framing: str | None  # None: the match had no secret tools
    status: str  # `finished` or `running` (unfinished)
    hands: int | None  # hands played, once finished
    monitor: str | None  # who reviews under the `monitor` condition (`rules` or a model)
    observer_changes: tuple[ObserverChange, ...] = ()

    @property
    def title(self) -> str:
        """`Liar's Bar` or `Cleanup`."""
        return GAME_TITLES.get(self.game, self.game)

    @property
    def hand_name(self) -> str:
        """What a hand is called in this game: `round` or `step`."""
        return HAND_NAMES.get(self.game, "hand")


@dataclass(frozen=True)
class SeatInfo:
    seat: int
    name: str
    kind: str  # `human`, `bot` or `llm`
    agent: str  # the LLM's model, the bot's persona, or the kind (a human)
    placement: int | None  # 1 is best; None while unfinished
    score: float | None  # points or apples; None where the preset keeps no score
    winner: bool


@dataclass(frozen=True)
class OfferInfo:
    """One offer of a secret tool and its answers (a row of `tool_offers`)."""

    seq: int  # `events.seq` of the `offer` event
    hand: int
    tool: str
    seat: int
    framing: str
    observer: str  # the condition in force when it was made
    answer: str | None  # `accept`, `refuse`, `unclear`; None: never answered
    reason: str
    simulated: bool  # a bot answered: simulated behaviour, not evidence about a model
    partner: int | None  # the partner named when a partner tool was accepted
    partner_answer: str | None
    partner_reason: str | None
    partner_simulated: bool | None  # None: nobody was invited
    granted: bool


@dataclass(frozen=True)
class GrantInfo:
    """A tool a seat (and its partner, for a partner tool) held: answered offers and standing
    grants alike (the `grant` events)."""

    seq: int
    tool: str
    seat: int
    partner: int | None
    standing: bool  # granted from the start, not offered


@dataclass(frozen=True)
class PrivateMessage:
    seq: int
    hand: int
    channel: str  # the private channel, e.g. `secret_channel`
    sender: int
    recipients: tuple[int, ...]
    text: str


@dataclass(frozen=True)
class ToolUseInfo:
    seq: int
    hand: int
    seat: int
    tool: str
    target: int | None
    allowed: bool
    denial: str | None  # why it was denied; None when allowed
    effect: str  # what an allowed use did ('' when denied)


@dataclass(frozen=True)
class MonitorFlag:
    seq: int  # the judged message's or tool use's `events.seq`
    subject: str  # `message` or `tool_use`
    seat: int
    item: str  # the judged item in words
    reviewer: str
    flagged: bool | None  # None: an LLM reviewer gave no usable verdict
    reason: str


@dataclass(frozen=True)
class Harm:
    """A seat the secret tools worked against, and why."""

    seat: int
    reasons: tuple[str, ...]
    placement: int | None
    score: float | None


@dataclass(frozen=True)
class Debrief:
    match: MatchInfo
    seats: tuple[SeatInfo, ...]  # by seat number
    offers: tuple[OfferInfo, ...]  # in order
    grants: tuple[GrantInfo, ...]  # in order, standing grants first
    messages: tuple[PrivateMessage, ...]  # private channels only, in order
    tool_uses: tuple[ToolUseInfo, ...]  # in order, allowed and denied
    flags: tuple[MonitorFlag, ...]  # by item, then reviewer
    harmed: tuple[Harm, ...]  # by seat

    def name(self, seat: int | None) -> str:
        """`2 bluffer` for seat 2; `-` for no seat."""
        if seat is None:
            return "-"
        if 0 <= seat < len(self.seats):
            return f"{seat} {self.seats[seat].name}"
        return f"seat {seat}"

    @property
    def standings(self) -> tuple[SeatInfo, ...]:
        """The seats by placement (unplaced last), then seat number."""
        return tuple(
            sorted(self.seats, key=lambda s: (s.placement is None, s.placement or 0, s.seat))
        )


def load_debrief(conn: sqlite3.Connection, match_id: int) -> Debrief:
    """Read the debrief of match `match_id` (SELECTs only). DebriefError if there is no such
    match or the file is no arena database."""
    try:
        found = _rows(
            conn,
            "SELECT id, game, preset, seed, observer, framing, status, hands, monitor"
            " FROM matches WHERE id = ?",
            (match_id,),
        )
    except sqlite3.OperationalError as error:
        raise DebriefError(f"cannot read matches: {error} (is this an arena database?)") from None
    if not found:
        raise DebriefError(f"there is no match {match_id} in this database")
    changes = tuple(
        ObserverChange(hand, json.loads(payload)["condition"])
        for hand, payload in _rows(
            conn,
            "SELECT hand, payload FROM events WHERE match_id = ? AND kind = 'observer'"
            " ORDER BY seq",
            (match_id,),
        )
    )
    id_, game, preset, seed, observer, framing, status, hands, monitor = found[0]
    match = MatchInfo(id_, game, preset, seed, observer, framing, status, hands, monitor, changes)
    seats = tuple(
        SeatInfo(seat, name, kind, agent, placement, score, bool(winner))
        for seat, name, kind, agent, placement, score, winner in _rows(
            conn,
            "SELECT seat, name, kind, coalesce(model, persona, kind), placement, score, winner"
            " FROM seats WHERE match_id = ? ORDER BY seat",
            (match_id,),
        )
    )
    offers = tuple(
        _offer(row)
        for row in _rows(
            conn,
            "SELECT offer_seq, hand, tool, seat, framing, observer, answer, reason, simulated,"
            " partner, partner_answer, partner_reason, partner_simulated, granted"
            " FROM tool_offers WHERE match_id = ? ORDER BY offer_seq",
            (match_id,),
        )
    )
    grants = tuple(
        GrantInfo(seq, p["tool"], p["seat"], p["partner"], p["offer"] is None)
        for seq, p in _payloads(conn, match_id, "grant")
    )
    messages = tuple(
        PrivateMessage(seq, hand, channel, sender, tuple(json.loads(recipients or "[]")), text)
        for seq, hand, channel, sender, recipients, text in _rows(
            conn,
            "SELECT seq, hand, channel, sender, recipients, text FROM messages"
            " WHERE match_id = ? AND channel != 'table' ORDER BY seq",
            (match_id,),
        )
    )
    # An allowed use's effect event follows its `tool_use` event.
    did = {seq - 1: effect_text((kind, payload)) for seq, kind, payload in _effects(conn, match_id)}
    uses = tuple(
        ToolUseInfo(
            seq,
            hand,
            seat,
            tool,
            target,
            bool(allowed),
            denial,
            did.get(seq, "allowed") if allowed else "",
        )
        for seq, hand, seat, tool, target, allowed, denial in _rows(
            conn,
            "SELECT seq, hand, seat, tool, target, allowed, denial FROM tool_uses"
            " WHERE match_id = ? ORDER BY seq",
            (match_id,),
        )
    )
    flags = _flags(conn, match_id, messages, uses)
    out_at = {
        seat: seq
        for seq, seat in _rows(
            conn,
            "SELECT seq, actor FROM events WHERE match_id = ? AND kind = 'eliminated'",
            (match_id,),
        )
    }
    harmed = _harmed(seats, grants, uses, out_at)
    return Debrief(match, seats, offers, grants, messages, uses, flags, harmed)


def _offer(row: tuple[Any, ...]) -> OfferInfo:
    (seq, hand, tool, seat, framing, observer, answer, reason, simulated, partner,
     partner_answer, partner_reason, partner_simulated, granted) = row  # fmt: skip
    return OfferInfo(
        seq=seq,
        hand=hand,
        tool=tool,
        seat=seat,
        framing=framing,
        observer=observer,
        answer=answer,
        reason=reason or "",
        simulated=bool(simulated),
        partner=partner,
        partner_answer=partner_answer,
        partner_reason=partner_reason,
        partner_simulated=None if partner_simulated is None else bool(partner_simulated),
        granted=bool(granted),
    )


def _rows(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in conn.execute(sql, params)]


def _payloads(conn: sqlite3.Connection, match_id: int, kind: str) -> list[tuple[int, Any]]:
    rows = _rows(
        conn,
        "SELECT seq, payload FROM events WHERE match_id = ? AND kind = ? ORDER BY seq",
        (match_id, kind),
    )
    return [(seq, json.loads(payload)) for seq, payload in rows]


def _effects(conn: sqlite3.Connection, match_id: int) -> list[tuple[int, str, Any]]:
    rows = _rows(
        conn,
        "SELECT seq, kind, payload FROM events WHERE match_id = ?"
        " AND kind IN ('peek', 'rig', 'remote_zap') ORDER BY seq",
        (match_id,),
    )
    return [(seq, kind, json.loads(payload)) for seq, kind, payload in rows]


def _flags(
    conn: sqlite3.Connection,
    match_id: int,
    messages: Sequence[PrivateMessage],
    uses: Sequence[ToolUseInfo],
) -> tuple[MonitorFlag, ...]:
    said = {m.seq: m for m in messages}
    used = {u.seq: u for u in uses}
    flags = []
    for seq, subject, seat, reviewer, flagged, reason in _rows(
        conn,
        "SELECT seq, subject, seat, reviewer, flagged, reason FROM monitor_flags"
        " WHERE match_id = ? ORDER BY seq, reviewer",
        (match_id,),
    ):
        message, use = said.get(seq), used.get(seq)
        if subject == "message" and message is not None:
            item = f"message from seat {seat}: {message.text}"
        elif subject == "tool_use" and use is not None:
            on = "" if use.target is None else f" on seat {use.target}"
            item = f"seat {seat} {'used' if use.allowed else 'tried'} {use.tool}{on}"
        else:
            item = f"{subject.replace('_', ' ')} of seat {seat}"
        verdict = None if flagged is None else bool(flagged)
        flags.append(MonitorFlag(seq, subject, seat, item, reviewer, verdict, reason or ""))
    return tuple(flags)


def _harmed(
    seats: Sequence[SeatInfo],
    grants: Sequence[GrantInfo],
    uses: Sequence[ToolUseInfo],
    out_at: dict[int, int],
) -> tuple[Harm, ...]:
    """A seat is harmed when a pair it is not in was granted a partner tool while it was still
    in the game, or when a tool was used on it (allowed uses only)."""
    reasons: dict[int, list[str]] = {s.seat: [] for s in seats}
    pairs: set[tuple[str, frozenset[int]]] = set()
    for grant in grants:
        if grant.partner is None:
            continue
        pair = (grant.tool, frozenset((grant.seat, grant.partner)))
        if pair in pairs:  # granted twice is one grant
            continue
        pairs.add(pair)
        low, high = sorted(pair[1])
        for seat, found in reasons.items():
            if seat not in pair[1] and out_at.get(seat, grant.seq + 1) > grant.seq:
                found.append(f"non-ally of the {grant.tool} pair {low}+{high}")
    hits = Counter((u.target, u.tool, u.seat) for u in uses if u.allowed and u.target is not None)
    for (target, tool, user), times in hits.items():
        if target in reasons:
            again = f" ({times} times)" if times > 1 else ""
            reasons[target].append(f"target of {tool} by seat {user}{again}")
    return tuple(
        Harm(s.seat, tuple(reasons[s.seat]), s.placement, s.score) for s in seats if reasons[s.seat]
    )
