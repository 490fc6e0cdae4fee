"""Seat specs from the command line (`bot:counter`, `human:Ana`, `llm:MODEL`) and the players
they become."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from arena.players.base import Player
from arena.players.bots import PERSONAS, BotPlayer

KINDS = ("human", "bot", "llm")


class SeatError(ValueError):
    """A seat spec that cannot be used; the message names it."""


@dataclass(frozen=True)
class SeatSpec:
    kind: str
    value: str  # the persona of a bot, the name of a human, the model of an LLM
    name: str

    def describe(self) -> dict[str, Any]:
        """The `seats` row fields this spec defines."""
        return {
            "name": self.name,
            "kind": self.kind,
            "persona": self.value if self.kind == "bot" else None,
            "model": self.value if self.kind == "llm" else None,
        }


def parse_seats(texts: Sequence[str], game: str) -> list[SeatSpec]:
    """Parse and check every spec for `game`; bots are named after their persona, numbered when a
    persona sits more than once."""
    parsed = [_parse(text, game) for text in texts]
    repeats = Counter(value for kind, value in parsed if kind == "bot")
    seen: Counter[str] = Counter()
    specs = []
    for kind, value in parsed:
        name = value
        if kind == "bot" and repeats[value] > 1:
            seen[value] += 1
            name = f"{value}-{seen[value]}"
        specs.append(SeatSpec(kind, value, name))
    return specs


def _parse(text: str, game: str) -> tuple[str, str]:
    kind, sep, value = text.partition(":")
    kind, value = kind.strip().lower(), value.strip()
    if not sep or not value:
        raise SeatError(f"seat {text!r} is not KIND:VALUE (e.g. bot:counter, human:Ana)")
    if kind not in KINDS:
        raise SeatError(f"seat {text!r}: unknown kind {kind!r} (known: {', '.join(KINDS)})")
    if kind == "bot" and value not in PERSONAS[game]:
        known = ", ".join(PERSONAS[game])
        raise SeatError(f"seat {text!r}: no bot persona {value!r} for {game} (known: {known})")
    if kind == "human":
        raise SeatError(f"seat {text!r}: human seats need the interactive arena, not `arena run`")
    if kind == "llm":
        raise SeatError(f"seat {text!r}: LLM players are not available in this version yet")
    return kind, value


def make_player(spec: SeatSpec, game: str, config: Any, seed: int, seat: int) -> Player:
    if spec.kind == "bot":
        return BotPlayer(PERSONAS[game][spec.value], config, seed, seat)
    raise SeatError(f"cannot seat a {spec.kind} player here")
