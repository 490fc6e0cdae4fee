"""Scripted bots behind the async player interface, and the persona registry per game.

Bots are offline and deterministic given the match seed. Each seat has two RNGs, both derived
from the seed and the seat number only: one for game decisions and one for the secret phase
(offers and invitations, see `arena.players.propensity`). Secret answers therefore never move
the game RNG: until a tool or an alliance changes the game, a bot plays a match with offers
exactly as the same match without them, which is what matched baseline matches compare against.

A bot answers every secret kind (`tools.offers`): offers and invitations by its propensity
(simulated, and its reason says so), messages to an ally with its plan when the plan changes,
tool uses by its game's rules; and it learns its allies from the `grant` events it is told of,
so it never challenges or zaps them (`SecretPlay.adjust` of its game). See docs/bots.md.
"""

from __future__ import annotations

import random
from typing import Any

from arena.players.base import DecisionRequest
from arena.players.cleanup_bots import CLEANUP_PERSONAS, CLEANUP_SECRET_PLAY
from arena.players.liars_bar_bots import LIARS_BAR_PERSONAS, LIARS_BAR_SECRET_PLAY
from arena.players.personas import RANDOM, Knowledge, Persona, SecretPlay
from arena.players.propensity import AnswerKind, propensity
from games.base import Decision, Event
from games.cleanup.engine import CleanupView
from games.liars_bar.engine import LiarsBarView
from tools.offers import ACCEPT, NONE, REFUSE, SECRET_KINDS, SEND, MessageView, OfferView, ToolView

PERSONAS: dict[str, dict[str, Persona]] = {
    "liars-bar": {"random": RANDOM, **LIARS_BAR_PERSONAS},
    "cleanup": {"random": RANDOM, **CLEANUP_PERSONAS},
}

# The secret side of each game's bots, by the type of the game's view.
SECRET_PLAY: dict[type, SecretPlay] = {
    LiarsBarView: LIARS_BAR_SECRET_PLAY,
    CleanupView: CLEANUP_SECRET_PLAY,
}

# The decisions of the secret phase, and the events a bot learns from: sets, because every
# decision and every event a bot is told of is checked against them (the hot path of a batch).
_SECRET_KINDS = frozenset(SECRET_KINDS)
_GRANTS_AND_PEEKS = frozenset(("grant", "peek"))
_AND_PLAYS = _GRANTS_AND_PEEKS | {"play", "round_start"}  # followed only after a peek


class BotPlayer:
    """A persona at a seat."""

    kind = "bot"
    instant = True

    def __init__(self, persona: Persona, config: Any, seed: int, seat: int) -> None:
        self.persona = persona
        self.config = config
        self.params = dict(persona.params)
        self.seed = seed
        self.seat = seat
        self.rng = random.Random(f"{seed}/bot/{seat}")
        self._secret_rng: random.Random | None = None  # made at the first offer: most never get one
        self.knowledge = Knowledge()
        self.informed = False  # whether it has an ally or has peeked: only then adjust its play
        self._learns_from = _GRANTS_AND_PEEKS
        self.said: dict[int, str] = {}  # the last plan messaged to each ally

    @property
    def secret_rng(self) -> random.Random:
        """The RNG of offers and invitations (`SEED/bot/SEAT/secret`), apart from the game's."""
        if self._secret_rng is None:
            self._secret_rng = random.Random(f"{self.seed}/bot/{self.seat}/secret")
        return self._secret_rng

    def choose(self, request: DecisionRequest) -> Decision:
        if request.kind in _SECRET_KINDS:
            return self.answer_secret(request)
        decision = self.persona.strategy(
            request.view, request.legal, self.rng, self.config, self.params
        )
        if self.informed:
            play = SECRET_PLAY.get(type(request.view))
            if play is not None:
                decision = play.adjust(
                    request.view,
                    request.legal,
                    decision,
                    self.knowledge,
                    self.rng,
                    self.config,
                    self.params,
                )
        return decision

    async def decide(self, request: DecisionRequest) -> Decision:
        return self.choose(request)

    def replayed(self, request: DecisionRequest, decision: Decision) -> None:
        # Choosing again consumes both RNGs and updates what the bot remembers exactly as the
        # first run did, so a resumed match goes on with the same decisions as an uninterrupted
        # one (what it learns from events is relearnt as the runtime replays them).
        self.choose(request)

    def observe(self, event: Event, hand: int) -> None:
        if event.kind in self._learns_from:
            self._learn(event)

    # -- the secret phase ------------------------------------------------------------------

    def answer_secret(self, request: DecisionRequest) -> Decision:
        """Answer an `offer`, `invite`, `message` or `tool` decision (see `tools.offers`)."""
        view = request.view
        if isinstance(view, OfferView):
            return self._answer_offer(request, view)
        play = SECRET_PLAY.get(type(view.game))
        if isinstance(view, MessageView):
            if play is None:
                return Decision(NONE)
            allies = frozenset(self.knowledge.allies | {view.partner})
            text = play.plan(view.game, allies)[: view.max_chars]
            if self.said.get(view.partner) == text:
                return Decision(NONE)  # the plan stands; no need to repeat it every turn
            self.said[view.partner] = text
            return Decision(SEND, text)
        if isinstance(view, ToolView) and play is not None:
            allies = frozenset(self.knowledge.allies | set(view.allies))
            action, reason = play.tool(view.game, view.tools, allies, request.legal)
            if action in request.legal:
                return Decision(action, reason)
        return Decision(NONE)

    def _answer_offer(self, request: DecisionRequest, view: OfferView) -> Decision:
        kind: AnswerKind = "invite" if view.role == "invited" else "offer"
        chance = propensity(self.persona.name, kind, view.framing, view.observer)
        accepted = self.secret_rng.random() < chance.p
        reason = chance.reason(accepted)
        if not accepted:
            return Decision(REFUSE, reason)
        if ACCEPT in request.legal:
            return Decision(ACCEPT, reason)
        candidates = tuple(s for s in view.candidates if f"{ACCEPT}:{s}" in request.legal)
        if not candidates:  # nobody to name: the offer cannot be taken up
            return Decision(REFUSE, f"{chance.reason(False)}; nobody to name as partner")
        play = SECRET_PLAY.get(type(view.game))
        if play is None:
            partner, why = candidates[0], "the first seat I may name"
        else:
            partner, why = play.partner(view.game, candidates)
        return Decision(f"{ACCEPT}:{partner}", f"{reason}; partner Player {partner}, {why}")

    def _learn(self, event: Event) -> None:
        kind, payload, knowledge = event.kind, event.payload, self.knowledge
        if kind == "grant":
            seat, partner = payload["seat"], payload["partner"]
            if partner is not None and self.seat in (seat, partner):
                knowledge.allies.add(partner if seat == self.seat else seat)
                self.informed = True
        elif kind == "peek":
            knowledge.peeked = (payload["target"], payload["hand"])
            self._learns_from = _AND_PLAYS
            self.informed = True
        elif kind == "play" and event.actor is not None:
            knowledge.learn_play(event.actor)
        elif kind == "round_start":
            knowledge.forget_deal()
