"""Scripted bots behind the async player interface, and the persona registry per game.

Bots are offline and deterministic given the match seed: each seat's RNG is derived from the
seed and the seat number only.
"""

from __future__ import annotations

import random
from typing import Any

from arena.players.base import DecisionRequest
from arena.players.cleanup_bots import CLEANUP_PERSONAS
from arena.players.liars_bar_bots import LIARS_BAR_PERSONAS
from arena.players.personas import RANDOM, Persona
from games.base import Decision, Event

PERSONAS: dict[str, dict[str, Persona]] = {
    "liars-bar": {"random": RANDOM, **LIARS_BAR_PERSONAS},
    "cleanup": {"random": RANDOM, **CLEANUP_PERSONAS},
}


class BotPlayer:
    """A persona at a seat."""

    kind = "bot"
    instant = True

    def __init__(self, persona: Persona, config: Any, seed: int, seat: int) -> None:
        self.persona = persona
        self.config = config
        self.params = dict(persona.params)
        self.rng = random.Random(f"{seed}/bot/{seat}")

    def choose(self, request: DecisionRequest) -> Decision:
        return self.persona.strategy(
            request.view, request.legal, self.rng, self.config, self.params
        )

    async def decide(self, request: DecisionRequest) -> Decision:
        return self.choose(request)

    def replayed(self, request: DecisionRequest, decision: Decision) -> None:
        # Choosing again consumes the RNG exactly as the first run did, so a resumed match
        # goes on with the same decisions as an uninterrupted one.
        self.choose(request)

    def observe(self, event: Event, hand: int) -> None:
        pass
