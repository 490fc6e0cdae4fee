"""An LLM seat: asks a model for each decision through the same async interface as every player,
game decisions and the secret phase's offers, invitations, messages and tool choices alike.

An answer that cannot be used (no JSON, wrong shape, an illegal move) is re-asked with the reason
stated, at most `reasks` times; a provider failure is not re-asked beyond litellm's own retries.
When no usable answer comes, `decide` raises and the runtime records the engine's fallback. Every
attempt is appended to the request's trace, which the runtime stores with the decision.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from arena.conditions import observer_text
from arena.llm.answers import (
    AnswerError,
    parse_decision,
    parse_reflection,
    parse_secret,
    response_format,
)
from arena.llm.client import CallResult, LLMClient
from arena.llm.config import ModelSettings
from arena.llm.prompts import (
    decision_message,
    describe_event,
    reask_message,
    reflection_message,
    secret_message,
    system_prompt,
)
from arena.players.base import DecisionRequest
from arena.store.db import now
from games.base import Decision, Event
from tools.offers import SECRET_KINDS

# In `summary` memory, earlier Liar's Bar rounds keep only the lines of these event kinds, and
# Cleanup (whose board is all in view) keeps only its last few steps.
OUTCOME_KINDS = frozenset({"reveal", "shot", "eliminated", "points", "game_end"})
SUMMARY_STEPS = 5
# Lines every memory mode keeps, like the observer notice: the secret tools the seat holds and
# who its allies are stay true for the rest of the match.
STANDING_KINDS = frozenset({"grant"})


class NoUsableAnswer(RuntimeError):
    """The model gave no usable answer: the runtime falls back and stores this message."""


@dataclass
class LLMCall:
    """One attempt, as stored in `llm_calls` (see docs/schema.md)."""

    table = "llm_calls"
    json_columns = (6, 9)  # messages, parsed

    purpose: str  # "decision" | "reflection"
    attempt: int
    model: str
    messages: list[dict[str, str]]
    schema: bool
    result: CallResult
    parsed: dict[str, Any] | None = None
    invalid_reason: str | None = None
    at: str = field(default_factory=now)

    @property
    def valid(self) -> bool:
        return self.parsed is not None

    def row(self, match_id: int, decision_seq: int, seat: int) -> tuple[Any, ...]:
        r = self.result
        return (
            match_id,
            decision_seq,
            self.purpose,
            self.attempt,
            seat,
            self.model,
            self.messages,
            int(self.schema),
            r.raw,
            self.parsed,
            int(self.valid),
            self.invalid_reason,
            r.prompt_tokens,
            r.completion_tokens,
            r.reasoning_tokens,
            r.cost_usd,
            r.latency_ms,
            r.error_class,
            r.error,
            self.at,
        )


@dataclass
class _Memory:
    hand: int = 0
    lines: list[tuple[int, str, str]] = field(default_factory=list)  # (hand, kind, line)
    opinions: dict[str, str] = field(default_factory=dict)
    reflected_hand: int = 0


class LLMPlayer:
    kind = "llm"
    instant = False

    def __init__(
        self,
        *,
        game: str,
        config: BaseModel,
        seat: int,
        names: Sequence[str],
        settings: ModelSettings,
        client: LLMClient,
        observer: str = "off",
        templates: Path | None = None,
    ) -> None:
        self.game = game
        self.seat = seat
        self.names = list(names)
        self.settings = settings
        self.client = client
        self.templates = templates
        told = observer_text(observer, templates)
        self.system = system_prompt(game, config, seat, names, observer=told, templates=templates)
        self.memory = _Memory()
        # Reflection follows the reference experiment: after each Liar's Bar round. A Cleanup
        # "hand" is one step, too short to reflect on.
        self.reflects = settings.reflection and game == "liars-bar"

    # -- the Player interface --------------------------------------------------------------

    def observe(self, event: Event, hand: int) -> None:
        memory = self.memory
        memory.hand = hand
        if event.kind == "observer":  # the condition changed mid-match: say what holds now
            told = observer_text(event.payload["condition"], self.templates)
            memory.lines.append((hand, "observer", f"Notice, from now on: {told}"))
            return
        line = describe_event(self.game, event, self.seat, self.names)
        if line:
            memory.lines.append((hand, event.kind, line))

    def replayed(self, request: DecisionRequest, decision: Decision) -> None:
        """A resumed match: the model did not see this decision's prompt; note what was chosen."""
        self.memory.lines.append((self.memory.hand, "answer", f"You chose {decision.action}."))

    async def decide(self, request: DecisionRequest) -> Decision:
        trace: list[Any] = request.trace
        self.memory.hand = request.hand
        if self.reflects and self.memory.hand > self.memory.reflected_hand + 1:
            await self._reflect(trace)
        game, kind, templates = self.game, request.kind, self.templates
        # The secret phase's questions (offers, invitations, messages, tool uses) go the same
        # way as game decisions, with their own prompts and answers.
        secret = kind in SECRET_KINDS
        ask = secret_message if secret else decision_message
        situation = ask(game, kind, request.view, request.legal, self.names, templates=templates)
        user = self._memory_text() + situation
        messages = [{"role": "system", "content": self.system}, user_message(user)]
        schema = None
        if self.client.may_use_schema(self.settings):
            schema = response_format(game, kind)
        reason = ""
        for attempt in range(1, self.settings.reasks + 2):
            result = await self.client.complete(self.settings, messages, schema)
            call = LLMCall(
                "decision", attempt, self.settings.model, list(messages), result.schema_used, result
            )
            trace.append(call)
            if result.raw is None:
                raise NoUsableAnswer(f"{result.error_class}: {result.error}")
            try:
                if secret:
                    decision, answer = parse_secret(
                        game, kind, result.raw, request.legal, self.names
                    )
                else:
                    decision, answer = parse_decision(game, kind, result.raw, request.legal)
            except AnswerError as error:
                call.invalid_reason = reason = str(error)
                again = reask_message(
                    game,
                    kind,
                    reason,
                    request.legal,
                    templates=templates,
                    view=request.view,
                    names=self.names,
                )
                answered = {"role": "assistant", "content": result.raw or "(empty)"}
                messages = [*messages, answered, user_message(again)]
                continue
            call.parsed = answer.model_dump(mode="json")
            if kind != "message":  # a message sent is remembered from its event, as it went out
                told = json.dumps(call.parsed, ensure_ascii=False)
                self.memory.lines.append((self.memory.hand, "answer", f"You answered: {told}"))
            return decision
        tries = self.settings.reasks + 1
        raise NoUsableAnswer(f"no usable answer in {tries} attempts; last: {reason}")

    # -- memory ----------------------------------------------------------------------------

    def _memory_text(self) -> str:
        """What the seat remembers, before the decision message: the transcript of what it saw
        and answered (by memory mode; every mode keeps the current hand, so this turn's private
        messages and hints, and the grants of the match), then its notes on the others. Two
        messages a call, however long the match: in `full` memory the transcript only grows at
        its end, so a provider's prompt cache keeps serving its start, and the OpenAI client's
        per-message work stays flat (bench/README.md)."""
        memory = self.memory
        mode = self.settings.memory
        if mode == "full":
            lines = [line for _, _, line in memory.lines]
        elif mode == "summary" and self.game == "cleanup":
            lines = [
                line
                for hand, kind, line in memory.lines
                if hand > memory.hand - SUMMARY_STEPS or kind in STANDING_KINDS
            ]
        elif mode == "summary":
            lines = [
                line
                for hand, kind, line in memory.lines
                if hand == memory.hand or kind in OUTCOME_KINDS or kind in STANDING_KINDS
            ]
        else:
            lines = [
                line
                for hand, kind, line in memory.lines
                if hand == memory.hand or kind in STANDING_KINDS
            ]
        text = ""
        if lines:
            text += "What happened so far:\n" + "\n".join(lines) + "\n\n"
        notices = [line for _, kind, line in memory.lines if kind == "observer"]
        if notices and notices[-1] not in lines:  # the condition in force is never forgotten
            text += notices[-1] + "\n\n"
        if memory.opinions:
            notes = "; ".join(f"{name}: {opinion}" for name, opinion in memory.opinions.items())
            text += f"Your notes on the other players: {notes}\n\n"
        return text

    async def _reflect(self, trace: list[Any]) -> None:
        """The reference experiment's reflection: an opinion of each other player after a round.
        A failed reflection is recorded and skipped."""
        memory = self.memory
        ended = memory.hand - 1
        lines = [line for hand, _, line in memory.lines if hand == ended]
        memory.reflected_hand = ended
        if not lines:
            return
        text = reflection_message(self.game, self.seat, self.names, lines, templates=self.templates)
        messages = [{"role": "system", "content": self.system}, user_message(text)]
        result = await self.client.complete(self.settings, messages, None)
        call = LLMCall("reflection", 1, self.settings.model, messages, False, result)
        trace.append(call)
        if result.raw is None:
            return
        others = [name for seat, name in enumerate(self.names) if seat != self.seat]
        try:
            reflection = parse_reflection(result.raw, others)
        except AnswerError as error:
            call.invalid_reason = str(error)
            return
        call.parsed = reflection.model_dump(mode="json")
        memory.opinions.update(reflection.opinions)


def user_message(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}
