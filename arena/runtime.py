"""The match loop: one game-agnostic async loop that drives any engine with any players.

Who must act is asked (concurrently when moves are simultaneous), each answer is checked against
the legal actions (an illegal answer or a crashing player gets the engine's fallback, recorded as
such), the engine applies the decisions, and every event and decision is published to listeners
(the store, a progress bar, later the TUI). A resumed match replays its stored decisions first.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from arena.conditions import ObserverSwitch
from arena.players.base import DecisionRequest, Player
from arena.secrets import SecretPhase, SecretSetup
from games.base import PUBLIC, Decision, Event, Game, SeatResult


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """One seat's decision as it is stored: what was asked, what was chosen and how."""

    seq: int  # decision number within the match
    event_seq: int  # seq of the first event the decision's step produced
    hand: int
    seat: int
    kind: str
    legal: tuple[str, ...]
    action: str
    talk: str
    source: str  # "player" | "fallback"
    error: str | None
    latency_ms: float
    trace: tuple[Any, ...] = ()  # what the player did to decide (an LLM seat's calls)
    observer: str = "off"  # the observer condition in force when it was made


class MatchListener(Protocol):
    def on_event(self, seq: int, hand: int, event: Event) -> None: ...

    def on_decision(self, record: DecisionRecord) -> None: ...

    async def flush(self) -> None:
        """Make everything so far durable: awaited before waiting on a slow (not instant) player."""
        ...

    def on_end(self, results: tuple[SeatResult, ...], hands: int) -> None: ...


@dataclass(frozen=True)
class StoredProgress:
    """What a previous run of this match already stored: its decisions in order (seat, decision)
    and how many events. Replaying the decisions regenerates exactly those events."""

    decisions: Sequence[tuple[int, Decision]] = ()
    events: int = 0
    toggles: Sequence[tuple[int, str]] = ()  # (event seq, condition) of observer changes


class ResumeError(RuntimeError):
    """Stored decisions that the engine does not accept: the match cannot be resumed."""


async def _ask(player: Player, request: DecisionRequest) -> tuple[Decision, str, str | None, float]:
    started = time.perf_counter()
    try:
        decision = await player.decide(request)
    except Exception as error:  # a player's crash must not end the match: fall back, record why
        elapsed = (time.perf_counter() - started) * 1000
        reason = f"{type(error).__name__}: {error}"
        return Decision(request.legal[0]), "fallback", reason, elapsed
    elapsed = (time.perf_counter() - started) * 1000
    if not isinstance(decision, Decision) or decision.action not in request.legal:
        shown = decision.action if isinstance(decision, Decision) else repr(decision)
        reason = f"illegal action {shown!r}"
        return Decision(request.legal[0]), "fallback", reason, elapsed
    return decision, "player", None, elapsed


async def run_match(
    game: Game,
    seed: int,
    players: Sequence[Player],
    listeners: Sequence[MatchListener] = (),
    stored: StoredProgress = StoredProgress(),
    observer: ObserverSwitch | None = None,
    secrets: SecretSetup | None = None,
    viewer: Callable[[tuple[Any, ...]], None] | None = None,
) -> tuple[SeatResult, ...]:
    """Play one match to the end and return the results. Listeners hear only what `stored`
    does not already hold. `observer` holds the condition in force; a change asked of it is
    made at the next decision point as a public `observer` event (replayed where it was).
    `secrets` (offers, standing grants, framing) adds the secret phase before each decision
    point (see `arena.secrets`). `viewer`, if given, is told every seat's view after each batch
    of events (a screen shows a seat only its own; the observer may see them all)."""
    observer = observer or ObserverSwitch()
    toggles = list(stored.toggles)
    state, opening = game.new_game(seed, len(players))
    seq = 0
    hand = 0
    dseq = 0
    replay = list(stored.decisions)
    waits = any(not p.instant for p in players)

    def publish(events: list[Event]) -> None:
        nonlocal seq, hand
        for event in events:
            if event.kind == "hand_start":
                hand += 1
            if seq >= stored.events:
                for listener in listeners:
                    listener.on_event(seq, hand, event)
            audience = event.audience
            for s, player in enumerate(players):
                if audience.includes(s):
                    player.observe(event, hand)
            seq += 1
        if viewer is not None and events:
            viewer(tuple(state.view_for(s) for s in range(len(players))))

    def switch(condition: str) -> None:
        observer.condition = condition
        publish([Event("observer", {"condition": condition}, PUBLIC)])

    async def decide(requests: list[DecisionRequest]) -> tuple[dict[int, Decision], int]:
        """Ask (or replay) one decision from each request's seat; record them. Returns the
        decisions by seat and the number of the first."""
        nonlocal dseq
        first = dseq
        if dseq < len(replay):
            decisions = _replayed(requests, replay[dseq : dseq + len(requests)], players, dseq)
        else:
            if waits and any(not players[r.seat].instant for r in requests):
                for listener in listeners:
                    await listener.flush()
            if len(requests) == 1:
                answers = [await _ask(players[requests[0].seat], requests[0])]
            else:
                answers = list(await asyncio.gather(*(_ask(players[r.seat], r) for r in requests)))
            decisions = {}
            for i, (request, (decision, source, error, latency)) in enumerate(
                zip(requests, answers, strict=True)
            ):
                decisions[request.seat] = decision
                record = DecisionRecord(
                    seq=dseq + i,
                    event_seq=seq,
                    hand=hand,
                    seat=request.seat,
                    kind=request.kind,
                    legal=request.legal,
                    action=decision.action,
                    talk=decision.talk,
                    source=source,
                    error=error,
                    latency_ms=latency,
                    trace=tuple(request.trace),
                    observer=observer.condition,
                )
                for listener in listeners:
                    listener.on_decision(record)
        dseq += len(requests)
        return decisions, first

    phase = None
    if secrets:
        phase = SecretPhase(game.name, secrets, players, observer, decide, publish, lambda: seq)
    publish(opening)
    if phase is not None:
        phase.start()
    while not state.is_terminal():
        while toggles and toggles[0][0] == seq:  # a change made here in an earlier run
            switch(toggles.pop(0)[1])
        if dseq >= len(replay) and (wanted := observer.take()) is not None:
            switch(wanted)
        seats = state.to_act()
        if phase is not None:
            await phase.before(state, seats, hand)
        requests = [
            DecisionRequest(
                s, state.decision_kind(s), state.view_for(s), state.legal_actions(s), hand
            )
            for s in seats
        ]
        decisions, _ = await decide(requests)
        publish(state.apply(decisions))
    results = state.results()
    for listener in listeners:
        listener.on_end(results, hand)
    return results


def _replayed(
    requests: list[DecisionRequest],
    stored: Sequence[tuple[int, Decision]],
    players: Sequence[Player],
    first: int,
) -> dict[int, Decision]:
    by_seat = dict(stored)
    if sorted(by_seat) != sorted(r.seat for r in requests):
        raise ResumeError(
            f"stored decisions {first}+ are for seats {sorted(by_seat)}, "
            f"but seats {[r.seat for r in requests]} are to act"
        )
    for request in requests:
        decision = by_seat[request.seat]
        if decision.action not in request.legal:
            raise ResumeError(f"stored decision {decision.action!r} is not legal on replay")
        players[request.seat].replayed(request, decision)
    return by_seat
