"""What one screen may show: `build_scene` cuts a table's record down to one audience (a seat,
or the observer who sees everything), and `describe` words each event for the log.

This is the screen's half of the security model (SPEC §2): a seat's scene holds its own view,
the public events and the secret events it is in the audience of, nothing else; the widgets
render a scene and never read the record themselves.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from arena.players.human import Ask
from arena.secrets import EVENT_KINDS
from arena.table import TableRecord
from games.base import Event
from tools.catalogue import CATALOGUE

GAME_TITLES = {"liars-bar": "Liar's Bar", "cleanup": "Cleanup"}
SUITS = {"Q": "Queen", "K": "King", "A": "Ace", "J": "Joker"}


PUBLIC = -1  # the perspective of nobody in particular: what every seat may see


def public_view(view: Any) -> Any:
    """A seat's view without what only that seat knows (its cards): the public table."""
    if hasattr(view, "hand"):
        return dataclasses.replace(view, hand="")
    return view  # a Cleanup view is public already


@dataclass(frozen=True)
class SeatLabel:
    name: str
    kind: str  # human | bot | llm
    agent: str  # persona, model, or "human"


@dataclass(frozen=True)
class LogLine:
    seq: int
    text: str  # rich markup
    secret: bool = False


@dataclass(frozen=True)
class Scene:
    """One screen's worth of a table, for `perspective` (a seat, or None: the observer)."""

    game: str
    preset: str
    seats: tuple[SeatLabel, ...]
    perspective: int | None
    views: tuple[Any | None, ...]  # each seat's view, None where the perspective may not see it
    log: tuple[LogLine, ...]  # public events (the observer: every event)
    secret: tuple[LogLine, ...]  # the perspective's secret events (the observer: all of them)
    condition: str  # the observer condition in force
    wanted: str | None = None  # a condition asked for, made at the next decision point
    thinking: frozenset[int] = frozenset()
    ask: Ask | None = None  # what waits for the perspective's human, if anything
    chambers: tuple[int, ...] | None = None  # where each live round is (observer only)
    over: bool = False
    last_shot: LogLine | None = None  # the latest shot, for its moment of suspense
    seed: int = 0
    match_id: int | None = None
    outbox: tuple[str, ...] = ()  # the perspective's lines waiting for the next exchange
    partners: tuple[int, ...] = ()  # seats the perspective shares a secret channel with
    hand_of: int | None = None  # whose cards the hand row shows: the human at the terminal

    @property
    def view(self) -> Any | None:
        """The perspective's own view (the observer: the first seat's, for the shared parts;
        the public: the table without anyone's cards)."""
        if self.perspective is not None and self.perspective >= 0:
            return self.views[self.perspective]
        return next((v for v in self.views if v is not None), None)


def build_scene(
    record: TableRecord,
    seats: Sequence[SeatLabel],
    game: str,
    preset: str,
    perspective: int | None,
    *,
    upto: int | None = None,
    thinking: frozenset[int] = frozenset(),
    ask: Ask | None = None,
    wanted: str | None = None,
    over: bool = False,
    seed: int = 0,
    match_id: int | None = None,
    outbox: Sequence[str] = (),
    hand_of: int | None = None,
) -> Scene:
    """The scene of `perspective` (a seat, `PUBLIC`, or None: the observer) after the first
    `upto` events of `record` (all by default)."""
    names = [seat.name for seat in seats]
    events = record.events if upto is None else record.events[:upto]
    views = record.views_at(upto) or (None,) * len(seats)
    observer = perspective is None
    flags = record.monitor_flags(upto) if observer else {}
    log: list[LogLine] = []
    secret: list[LogLine] = []
    chambers: list[int] | None = None
    last_shot = None
    partners: list[int] = []
    for seq, _, event in events:
        if not (observer or event.audience.includes(perspective)):  # type: ignore[arg-type]
            continue
        if observer and event.kind == "revolvers":
            chambers = list(event.payload["chambers"])
        if observer and event.kind == "rig" and event.payload["moved"] and chambers is not None:
            chambers[event.payload["target"]] -= 1
        if (
            event.kind == "grant"
            and perspective is not None
            and event.payload["partner"] is not None
        ):
            pair = {event.payload["seat"], event.payload["partner"]}
            tool = CATALOGUE.get(event.payload["tool"])
            if tool is not None and tool.use == "message" and perspective in pair:
                partners.extend(pair - {perspective} - set(partners))
        text = describe(event, names, perspective)
        if text is None:
            continue
        if seq in flags:
            flagged, reason = flags[seq]
            mark = "[b red]⚑ flagged[/]" if flagged else "[green]✓ not flagged[/]"
            text = f"{text} — monitor: {mark} [dim]({reason})[/]"
        line = LogLine(seq, text, event.kind in EVENT_KINDS)  # secret: the hidden panel only
        if event.kind == "shot":
            last_shot = line
        if line.secret:
            secret.append(line)
            if observer:
                log.append(line)
        else:
            log.append(line)
    shown = tuple(v if observer or s == perspective else None for s, v in enumerate(views))
    if perspective == PUBLIC and views[0] is not None:
        shown = (public_view(views[0]),) + (None,) * (len(views) - 1)
    return Scene(
        game=game,
        preset=preset,
        seats=tuple(seats),
        perspective=perspective,
        views=shown,
        log=tuple(log),
        secret=tuple(secret),
        condition=record.condition_at(upto),
        wanted=wanted,
        thinking=thinking,
        ask=ask,
        chambers=tuple(chambers) if chambers is not None else None,
        over=over,
        last_shot=last_shot,
        seed=seed,
        match_id=match_id,
        outbox=tuple(outbox),
        partners=tuple(partners),
        hand_of=hand_of
        if perspective is None
        else (None if perspective == PUBLIC else perspective),
    )


# -- wording -----------------------------------------------------------------------------------


def _name(names: Sequence[str], seat: int | None, me: int | None) -> str:
    if seat is None:
        return "the house"
    if seat == me:
        return "[b]you[/]"
    return f"[b]{names[seat]}[/]" if 0 <= seat < len(names) else f"seat {seat}"


def describe(event: Event, names: Sequence[str], me: int | None = None) -> str | None:
    """One log line for `event` as `me` (a seat, or None: the observer) reads it; None for
    events that only carry state the board already shows."""
    p: Mapping[str, Any] = event.payload
    who = _name(names, event.actor, me)
    kind = event.kind

    def n(seat: int | None) -> str:
        return _name(names, seat, me)

    def does(verb: str) -> str:  # "you play", "Ana plays"
        return verb if event.actor == me else verb + "s"

    match kind:
        case "game_start":
            if "first" in p:
                return f"A new game: {n(p['first'])} will start."
            return "A new episode starts."
        case "revolvers":
            where = ", ".join(f"{names[s]}: {c + 1}" for s, c in enumerate(p["chambers"]))
            return f"[dim]Live rounds are in chambers {where}.[/]"
        case "round_start":
            start = "start" if p["starter"] == me else "starts"
            target = SUITS[p["target"]]
            starter = n(p["starter"])
            return f"[b]Round {p['round']}[/]: the target is [b]{target}s[/]; {starter} {start}."
        case "hand_start" if "hands" in p:
            dealt = ", ".join(f"{names[int(s)]} {h}" for s, h in p["hands"].items())
            return f"[dim]Dealt: {dealt}.[/]"
        case "play":
            talk = f' — "{p["talk"]}"' if p.get("talk") else ""
            cards = "card" if p["count"] == 1 else "cards"
            return f"{who} {does('play')} {p['count']} {cards} as {SUITS[p['claim']]}s{talk}"
        case "accept":
            return f"{who} {does('accept')} the claim of {n(p['of'])}."
        case "challenge":
            return (
                f'{who} call{"" if event.actor == me else "s"} [b red]"Liar!"[/] on {n(p["of"])}.'
            )
        case "reveal":
            verdict = "[green]honest[/]" if p["honest"] else "[red]a lie[/]"
            by = "The house checks" if p["by"] == "house" else "Revealed"
            return f"{by} {n(event.actor)}'s cards: [b]{p['cards']}[/] — {verdict}."
        case "shot":
            outcome = "[b red]BANG.[/]" if p["died"] else "[green]click — survives.[/]"
            return f"{who} {does('pull')} the trigger (pull {p['pull']})… {outcome}"
        case "eliminated":
            return f"{who} {'are' if event.actor == me else 'is'} out of the game."
        case "points":
            sign = "+" if p["delta"] > 0 else ""
            return f"[dim]{who}: {sign}{p['delta']} ({p['reason']})[/]"
        case "game_end":
            winners = ", ".join(names[s] for s in p["winners"]) or "nobody"
            return f"[b]Game over[/] — winner: [b]{winners}[/]."
        case "zap":
            hit = ", ".join(n(s) for s in p["frozen_seats"]) or "nobody"
            return f"{who} {does('zap')} {p['direction'].lower()}: froze {hit}."
        case "observer":
            return f"[b]Observer: {p['condition'].upper()}[/] — every seat is told."
        case "offer":
            return f"Secret offer to {n(p['seat'])}: [b]{p['tool']}[/] (framing {p['framing']})."
        case "offer_answer":
            partner = f" with {n(p['partner'])}" if p.get("partner") is not None else ""
            sim = " [dim](simulated)[/]" if p.get("simulated") else ""
            reason = p["reason"] or "—"
            answer = f"[b]{p['answer']}[/]{partner}"
            return f"{n(p['seat'])} answered {answer} to {p['tool']}{sim}: {reason}"
        case "invite":
            invites = "invite" if p["seat"] == me else "invites"
            return f"{n(p['seat'])} {invites} {n(p['partner'])} to share [b]{p['tool']}[/]."
        case "invite_answer":
            sim = " [dim](simulated)[/]" if p.get("simulated") else ""
            reason = p["reason"] or "—"
            return (
                f"{n(p['partner'])} answered [b]{p['answer']}[/] to the invitation{sim}: {reason}"
            )
        case "grant":
            partner = f" with {n(p['partner'])}" if p.get("partner") is not None else ""
            return f"[b]{p['tool']}[/] granted to {n(p['seat'])}{partner}."
        case "hint":
            return f"Hint for {n(_hint_for(event, me))}: {_hint_text(p, names, me)}"
        case "message":
            to = ", ".join(n(s) for s in p["recipients"])
            return f"✉ {n(p['sender'])} → {to}: {p['text']}"
        case "tool_use":
            target = "" if p["target"] is None else f" on {n(p['target'])}"
            if p["allowed"]:
                return f"{n(p['seat'])} used [b]{p['tool']}[/]{target}."
            return f"{n(p['seat'])} tried [b]{p['tool']}[/]{target}: denied ({p['denial']})."
        case "peek":
            return f"Peek: {n(p['target'])} holds [b]{p['hand'] or 'nothing'}[/]."
        case "rig":
            moved = "one chamber closer" if p["moved"] else "unchanged (already next)"
            return f"Rigged {n(p['target'])}'s revolver: {moved}."
        case "remote_zap":
            return f"Remote zap: {n(p['target'])} frozen for {p['freeze']} steps."
    return None


def _hint_for(event: Event, me: int | None) -> int | None:
    seats = event.audience.seats
    return next(iter(seats)) if seats else me


def _hint_text(p: Mapping[str, Any], names: Sequence[str], me: int | None) -> str:
    ally = _name(names, p["ally"], me)
    parts = [f"your ally {ally}"]
    if "ally_hand" in p:
        parts.append(f"holds {p['ally_hand'] or 'nothing'}, {p['ally_pulls']} pulls")
    if "ally_score" in p:
        row, col = p["ally_position"]
        parts.append(f"at row {row + 1} col {col + 1}, {p['ally_score']} apples")
    advice = {
        "spare_ally": "spare your ally",
        "press_leader": "press the leader",
        "share_cleaning": "share the cleaning",
        "slow_leader": "slow the leader",
    }
    tips = [advice.get(a, a) for a in p.get("advice", [])]
    leader = p.get("leader")
    if leader is not None:
        tips.append(f"leader: {_name(names, leader, me)}")
    return "; ".join(parts) + " — " + ", ".join(tips)
