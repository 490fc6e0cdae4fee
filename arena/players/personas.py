"""What a bot persona is: a named, documented strategy function with default parameters; and
what a game's bots do on the secret side (`SecretPlay`) with what they learned (`Knowledge`).

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


@dataclass
class Knowledge:
    """What a bot learned in the secret phase, from the events of its audience: its allies (the
    partners in its granted partner tools) and what a peek showed (Liar's Bar).

    A seat's hand changes only when it plays, so a peek shows the hand its next claim comes
    from: `peeked` holds it until that seat plays, then `played_from` holds it for as long as
    that play is the last claim. A new deal forgets both."""

    allies: set[int] = field(default_factory=set)
    peeked: tuple[int, str] | None = None  # (seat, its hand now)
    played_from: tuple[int, str] | None = None  # (seat of the last claim, its hand before it)

    def learn_play(self, seat: int) -> None:
        """`seat` made a claim: a peek at it now tells what that claim was played from."""
        peeked = self.peeked
        if peeked is not None and peeked[0] == seat:
            self.played_from, self.peeked = peeked, None
        else:
            self.played_from = None

    def forget_deal(self) -> None:
        self.peeked = self.played_from = None


@dataclass(frozen=True)
class SecretPlay:
    """How a game's bots play the secret side, whatever their persona:

    - `partner(view, candidates)`: the partner to name for a partner tool, and why;
    - `plan(view, allies)`: the plan to message an ally (a short, deterministic text);
    - `tool(view, tools, allies, legal)`: the tool use to make now (an action of `legal`) and
      its reason;
    - `adjust(view, legal, decision, knowledge, rng, config, params)`: the game decision as an
      ally (or with a peek) would make it, given the persona's own `decision`. It is applied
      after the strategy, so the strategy draws from its rng exactly as without allies.
    """

    partner: Callable[[Any, tuple[int, ...]], tuple[int, str]]
    plan: Callable[[Any, frozenset[int]], str]
    tool: Callable[[Any, tuple[str, ...], frozenset[int], tuple[str, ...]], tuple[str, str]]
    adjust: Callable[
        [Any, tuple[str, ...], Decision, Knowledge, random.Random, Any, Mapping[str, float]],
        Decision,
    ]


def living_after(alive: tuple[bool, ...], seat: int) -> list[int]:
    """The other living seats in clockwise order starting after `seat`."""
    n = len(alive)
    return [s for s in ((seat + i) % n for i in range(1, n)) if alive[s]]


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
