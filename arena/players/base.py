"""The one async interface behind which humans, bots and LLMs play, and what they are asked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from games.base import Decision, Event


@dataclass(frozen=True, slots=True)
class DecisionRequest:
    """What a seat is asked: the kind of decision, its view (only what it may know), the legal
    action codes (the first is the engine's fallback), and the number of the hand in progress. A
    player may append to `trace` what it did to decide (an LLM seat: every call); the runtime
    stores it with the decision, fallback or not."""

    seat: int
    kind: str
    view: Any
    legal: tuple[str, ...]
    hand: int = 0
    trace: list[Any] = field(default_factory=list, compare=False)


class Player(Protocol):
    """A seat's decision maker. `instant` players (bots) answer without waiting on anything, so
    the runtime may batch their writes; anything else is waited on and flushed around."""

    kind: str  # "human" | "bot" | "llm"
    instant: bool

    async def decide(self, request: DecisionRequest) -> Decision:
        """Choose one of `request.legal` (illegal answers are replaced by a recorded fallback)."""
        ...

    def replayed(self, request: DecisionRequest, decision: Decision) -> None:
        """A resumed match replays this stored decision: bring any private state in step."""
        ...

    def observe(self, event: Event, hand: int) -> None:
        """An event this seat is in the audience of, and the number of the hand it belongs to
        (0 before the first hand): for memory. Bots ignore it."""
        ...
