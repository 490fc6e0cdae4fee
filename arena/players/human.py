"""Human seats: a player whose decisions wait at a desk until the person at the terminal makes
them. The desk knows nothing of screens; the TUI reads what waits there and answers it.

What waits, and when it is answered (SPEC §5: consent is asked, never assumed):

- a game decision (`play`, `respond`, `act`) waits for the human's move;
- an offer or an invitation waits for an answer from the secret panel;
- a tool use waits while it is the seat's own turn: the human uses a tool from the panel, or
  makes the game move, which answers "no tool" and is kept for the game decision that follows;
- a private message: a line the human wrote beforehand is sent at once; on the seat's own turn
  the desk waits for one (making the game move answers "no message"); otherwise nothing is sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from arena.players.base import DecisionRequest
from games.base import Decision, Event
from tools.offers import NONE, SECRET_KINDS, SEND, MessageView

WAITS_FOR_MOVE = ("message", "tool")  # answered "none" when the human makes the game move


@dataclass
class Ask:
    """A decision waiting for a human."""

    request: DecisionRequest
    future: asyncio.Future[Decision] = field(repr=False)
    since: int  # the desk's counter when it was asked: the oldest ask is served first

    @property
    def secret(self) -> bool:
        return self.request.kind in SECRET_KINDS


class Desk:
    """Where the human seats of one terminal wait for their people. `on_change` is called (on the
    event loop) whenever an ask arrives or is answered."""

    def __init__(self, on_change: Callable[[], None] = lambda: None) -> None:
        self.asks: dict[int, Ask] = {}
        self.moves: dict[int, Decision] = {}  # a game move made while a secret ask waited
        self.outbox: dict[int, list[str]] = {}  # lines written for the next message exchange
        self.on_change = on_change
        self._counter = 0

    # -- the player side -------------------------------------------------------------------

    async def ask(self, request: DecisionRequest) -> Decision:
        seat = request.seat
        now = self._answer_at_once(request)
        if now is not None:
            return now
        loop = asyncio.get_running_loop()
        self._counter += 1
        ask = Ask(request, loop.create_future(), self._counter)
        self.asks[seat] = ask
        self.on_change()
        try:
            return await ask.future
        finally:
            if self.asks.get(seat) is ask:
                del self.asks[seat]
                self.on_change()

    def _answer_at_once(self, request: DecisionRequest) -> Decision | None:
        seat, kind = request.seat, request.kind
        if kind == "message":
            lines = self.outbox.get(seat)
            if lines:
                return Decision(SEND, lines.pop(0))
            view = request.view
            if isinstance(view, MessageView) and seat not in view.turn_of:
                return Decision(NONE)
            if seat in self.moves:
                return Decision(NONE)
        elif kind == "tool" and seat in self.moves:
            return Decision(NONE)
        elif kind not in SECRET_KINDS:
            move = self.moves.pop(seat, None)
            if move is not None and move.action in request.legal:
                return move
        return None

    # -- the terminal side -----------------------------------------------------------------

    def front(self) -> int | None:
        """The human seat the terminal should serve now: the one asked longest ago."""
        if not self.asks:
            return None
        return min(self.asks.values(), key=lambda ask: ask.since).request.seat

    def waiting(self, seat: int) -> Ask | None:
        return self.asks.get(seat)

    def move(self, seat: int, decision: Decision) -> bool:
        """The human's game move. Answers the waiting game decision, or answers a waiting tool
        or message ask with "none" and keeps the move for the game decision that follows.
        False if it cannot be made now (not legal, or an offer waits for an answer first)."""
        ask = self.asks.get(seat)
        if ask is None:
            return False
        if not ask.secret:
            if decision.action not in ask.request.legal:
                return False
            return self._resolve(ask, decision)
        if ask.request.kind in WAITS_FOR_MOVE:
            self.moves[seat] = decision
            return self._resolve(ask, Decision(NONE))
        return False  # an offer or invitation must be answered first

    def answer(self, seat: int, kind: str, decision: Decision) -> bool:
        """The human's answer to a waiting secret ask of `kind`; False if none waits or the
        answer is not legal."""
        ask = self.asks.get(seat)
        if ask is None or ask.request.kind != kind or decision.action not in ask.request.legal:
            return False
        return self._resolve(ask, decision)

    def write(self, seat: int, text: str) -> str:
        """A private message from the human: sent now if an exchange waits for it, else at the
        next one. Returns "sent" or "queued"."""
        text = text.strip()
        ask = self.asks.get(seat)
        if ask is not None and ask.request.kind == "message":
            self._resolve(ask, Decision(SEND, text))
            return "sent"
        self.outbox.setdefault(seat, []).append(text)
        self.on_change()
        return "queued"

    def _resolve(self, ask: Ask, decision: Decision) -> bool:
        if ask.future.done():
            return False
        ask.future.set_result(decision)
        return True

    def cancel(self) -> None:
        """The table is closing: every waiting decision gets its fallback."""
        for ask in list(self.asks.values()):
            self._resolve(ask, Decision(ask.request.legal[0]))


class HumanPlayer:
    """A seat played by a person at the terminal, through `desk`."""

    kind = "human"
    instant = False

    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    async def decide(self, request: DecisionRequest) -> Decision:
        return await self.desk.ask(request)

    def replayed(self, request: DecisionRequest, decision: Decision) -> None:
        pass

    def observe(self, event: Event, hand: int) -> None:
        pass  # the screen is built from the table's record, filtered to the seat's audience
