"""Seat specs from the command line (`bot:counter`, `human:Ana`, `llm:MODEL`) and the players
they become."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arena.llm.config import ConfigError, ModelsConfig, ModelSettings
from arena.players.base import Player
from arena.players.bots import PERSONAS, BotPlayer

if TYPE_CHECKING:
    from arena.llm.client import LLMClient
    from arena.players.human import Desk

KINDS = ("human", "bot", "llm")


class SeatError(ValueError):
    """A seat spec that cannot be used; the message names it."""


@dataclass(frozen=True)
class SeatSpec:
    kind: str
    value: str  # the persona of a bot, the name of a human, the alias or model of an LLM
    name: str
    settings: ModelSettings | None = None  # an LLM's

    def describe(self) -> dict[str, Any]:
        """The `seats` row fields this spec defines (never where a key lives, nor a key)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "persona": self.value if self.kind == "bot" else None,
            "model": self.settings.model if self.settings is not None else None,
            "params": self.settings.public() if self.settings is not None else {},
        }


def parse_seats(
    texts: Sequence[str],
    game: str,
    models: ModelsConfig | None = None,
    api_base: str | None = None,
    humans: bool = False,
) -> list[SeatSpec]:
    """Parse and check every spec for `game`; bots and LLMs are named after their persona or
    alias, numbered when one sits more than once, humans by the name given (which must be
    unique). `llm:` values resolve through `models`; `api_base` applies to every LLM seat given
    here. Human seats are refused unless `humans` (only the interactive arena seats them)."""
    parsed = [_parse(text, game, humans) for text in texts]
    repeats = Counter(parsed)
    seen: Counter[tuple[str, str]] = Counter()
    specs = []
    for kind, value in parsed:
        name = value
        if kind == "human" and repeats[(kind, value)] > 1:
            raise SeatError(f"two human seats are named {value!r}: give each person a name")
        if repeats[(kind, value)] > 1:
            seen[(kind, value)] += 1
            name = f"{value}-{seen[(kind, value)]}"
        settings = None
        if kind == "llm":
            try:
                _, settings = (models or ModelsConfig({}, {}, "the command line")).resolve(
                    value, api_base
                )
            except ConfigError as error:
                raise SeatError(str(error)) from None
        specs.append(SeatSpec(kind, value, name, settings))
    return specs


def _parse(text: str, game: str, humans: bool = False) -> tuple[str, str]:
    kind, sep, value = text.partition(":")
    kind, value = kind.strip().lower(), value.strip()
    if not sep or not value:
        raise SeatError(f"seat {text!r} is not KIND:VALUE (e.g. bot:counter, human:Ana)")
    if kind not in KINDS:
        raise SeatError(f"seat {text!r}: unknown kind {kind!r} (known: {', '.join(KINDS)})")
    if kind == "bot" and value not in PERSONAS[game]:
        known = ", ".join(PERSONAS[game])
        raise SeatError(f"seat {text!r}: no bot persona {value!r} for {game} (known: {known})")
    if kind == "human" and not humans:
        raise SeatError(f"seat {text!r}: human seats need the interactive arena, not `arena run`")
    return kind, value


def prompt_names(seats: int) -> list[str]:
    """How seats are named to LLM players: neutral names, so no persona or model is revealed."""
    return [f"Player {seat}" for seat in range(seats)]


def make_player(
    spec: SeatSpec,
    game: str,
    config: Any,
    seed: int,
    seat: int,
    *,
    seats: int = 0,
    client: LLMClient | None = None,
    observer: str = "off",
    desk: Desk | None = None,
) -> Player:
    """The player for one seat of a match with `seats` seats (LLM seats need the `client`,
    human seats the terminal's `desk`)."""
    if spec.kind == "bot":
        return BotPlayer(PERSONAS[game][spec.value], config, seed, seat)
    if spec.kind == "human" and desk is not None:
        from arena.players.human import HumanPlayer

        return HumanPlayer(desk)
    if spec.kind == "llm" and spec.settings is not None and client is not None:
        from arena.llm.player import LLMPlayer

        return LLMPlayer(
            game=game,
            config=config,
            seat=seat,
            names=prompt_names(seats),
            settings=spec.settings,
            client=client,
            templates=Path(spec.settings.templates) if spec.settings.templates else None,
            observer=observer,
        )
    raise SeatError(f"cannot seat a {spec.kind} player here")
