"""The one engine interface every game implements, and the values it speaks in.

A game is a deterministic function of (config, seed, decisions): the state owns its RNG, the
engine never reads a clock or does I/O, and every piece of information it emits carries an
audience, so the runtime, the store and the views can keep it with the seats allowed to know it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel


class GameError(ValueError):
    """A config, seat count or decision the rules do not allow; the message says which."""


@dataclass(frozen=True, slots=True)
class Audience:
    """Who may see a piece of information. The observer sees everything, always.

    `seats is None` means every seat (public); an empty set means the observer alone.
    """

    seats: frozenset[int] | None

    def includes(self, seat: int) -> bool:
        return self.seats is None or seat in self.seats

    @property
    def label(self) -> str:
        if self.seats is None:
            return "public"
        return "seats" if self.seats else "observer"


PUBLIC = Audience(None)
OBSERVER = Audience(frozenset())
_ONLY: dict[int, Audience] = {}


def only(seat: int) -> Audience:
    """The audience of one seat (and the observer); cached, as engines ask for it in hot loops."""
    audience = _ONLY.get(seat)
    if audience is None:
        audience = _ONLY[seat] = Audience(frozenset((seat,)))
    return audience


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened. `payload` holds JSON-ready values only.

    Two kinds are a convention every engine follows, so the runtime can cut a match into hands
    without knowing the game: `hand_start` (payload: what was dealt or the state summary) and
    `hand_end` (payload: the outcome). A hand's `hand_start` must be emitted before any decision
    of that hand is asked for (with the opening events, or at the end of the previous `apply`),
    since the runtime files each decision under the hand most recently started.
    """

    kind: str
    payload: Mapping[str, Any]
    audience: Audience = PUBLIC
    actor: int | None = None

    def to_json(self) -> dict[str, Any]:
        seats = None if self.audience.seats is None else sorted(self.audience.seats)
        return {
            "kind": self.kind,
            "actor": self.actor,
            "audience": self.audience.label,
            "audience_seats": seats,
            "payload": dict(self.payload),
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """What a seat chose: one of its legal action codes, plus optional public table talk."""

    action: str
    talk: str = ""


@dataclass(frozen=True, slots=True)
class SeatResult:
    """A seat's result: placement 1 is best (ties share a place), score is game points or apples
    (None where the preset keeps no score), winner follows the preset's winning rule."""

    placement: int
    score: float | None
    winner: bool


class State(Protocol):
    """One game in progress. Only `apply` changes it."""

    def to_act(self) -> tuple[int, ...]:
        """Seats that must decide now (several at once for simultaneous-move games)."""
        ...

    def decision_kind(self, seat: int) -> str:
        """What the seat is deciding, e.g. `play`, `respond`, `act`."""
        ...

    def legal_actions(self, seat: int) -> tuple[str, ...]:
        """The action codes the seat may choose now; the first is the engine's fallback."""
        ...

    def view_for(self, seat: int) -> Any:
        """Everything this seat may know now, and nothing else: an immutable, comparable value."""
        ...

    def apply(self, decisions: Mapping[int, Decision]) -> list[Event]:
        """Apply one decision from every seat in `to_act()`; return what happened."""
        ...

    def is_terminal(self) -> bool: ...

    def results(self) -> tuple[SeatResult, ...]: ...


class Game(Protocol):
    """A game's rules under one config. `new_game` returns the state and the opening events.

    The seat limits belong to the instance because a config may change them (a bigger map seats
    more agents)."""

    name: ClassVar[str]
    config_model: ClassVar[type[BaseModel]]
    presets: ClassVar[Mapping[str, BaseModel]]
    min_seats: int
    max_seats: int

    def __init__(self, config: Any) -> None: ...

    def new_game(self, seed: int, n_seats: int) -> tuple[State, list[Event]]: ...


def check_seat_count(game: Game, n_seats: int) -> None:
    if not game.min_seats <= n_seats <= game.max_seats:
        span = (
            str(game.min_seats)
            if game.min_seats == game.max_seats
            else f"{game.min_seats}–{game.max_seats}"
        )
        raise GameError(f"{game.name} needs {span} seats, got {n_seats}")


def build_config(game: type[Game], preset: str, overrides: Mapping[str, Any]) -> BaseModel:
    """The preset's config with `overrides` applied and validated (unknown keys are errors).
    Validation is strict, as for JSON: `true` is no number and `2.5` no count."""
    try:
        base = game.presets[preset]
    except KeyError:
        known = ", ".join(game.presets)
        raise GameError(f"unknown preset {preset!r} for {game.name} (known: {known})") from None
    data = base.model_dump(mode="json")
    data.update(overrides)
    return game.config_model.model_validate_json(json.dumps(data), strict=True)
