"""What a bot persona is: a named, documented strategy function with default parameters.

A strategy maps (view, legal actions, rng, game config, params) to a decision. It sees only the
seat's view, like any other player, and draws randomness only from the rng it is handed.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from games.base import Decision

Strategy = Callable[[Any, tuple[str, ...], random.Random, Any, Mapping[str, float]], Decision]


@dataclass(frozen=True)
class Persona:
    """A named bot strategy for the games it lists, with documented default parameters."""

    name: str
    games: tuple[str, ...]
    summary: str
    strategy: Strategy
    params: Mapping[str, float] = field(default_factory=dict)


def random_strategy(
    view: Any, legal: tuple[str, ...], rng: random.Random, config: Any, params: Mapping[str, float]
) -> Decision:
    """Uniformly random among the legal actions."""
    return Decision(legal[rng.randrange(len(legal))])


def legal_or_fallback(action: str, legal: tuple[str, ...]) -> Decision:
    """`action` if it is legal now, else the engine's fallback (the first legal action)."""
    return Decision(action if action in legal else legal[0])


RANDOM = Persona(
    "random", ("liars-bar", "cleanup"), "uniformly random legal actions", random_strategy
)
