"""What an LLM seat may answer, and how an answer becomes a decision.

Each decision kind has a pydantic model whose first field is a short `reason`, so a model states
why before it chooses (a secret message has only its text). The secret phase's kinds (`offer`,
`invite`, `message`, `tool`, see `tools.offers`) are the same in both games and name players by
their prompt names. `extract_json` finds the one JSON object in a free-text reply,
`parse_decision` (`parse_secret` for the secret kinds) validates it and maps it to the action
code; anything unusable raises `AnswerError` with a message written to be shown to the model when
it is asked again. Nothing is ever guessed from prose: "I challenge!" without a JSON object is an
error, not a challenge.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Sequence
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from games.base import Decision
from games.liars_bar.engine import LETTERS, PLAY, cards_text
from tools.offers import ACCEPT, NONE, REFUSE, SECRET_KINDS, SEND, read_answer, read_tool

LIARS_BAR = "liars-bar"
CLEANUP = "cleanup"
REFLECTION = "reflection"


class AnswerError(ValueError):
    """Why an answer cannot be used, worded so it can be shown to the model when re-asking."""


# -- the answer models --------------------------------------------------------------------------


class Answer(BaseModel):
    """Base of every answer: keys the model adds beyond the fields are ignored."""

    model_config = ConfigDict(extra="ignore")


class LiarsBarPlay(Answer):
    """A Liar's Bar play: the cards put face down, claimed to be the target rank."""

    reason: str = Field(description="one short sentence: why you play these cards")
    cards: str = Field(
        description="the cards you play face down, as letters from Q, K, A, J (Joker), e.g. QQJ"
    )
    talk: str = Field("", description="optional public table talk (empty for none)")

    @field_validator("cards", mode="before")
    @classmethod
    def _canonical_cards(cls, value: Any) -> Any:
        """Order- and case-insensitive; spaces and commas between letters are allowed, and so
        is a list of letters. The result is in the engine's order (Q K A J)."""
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = "".join(value)
        if not isinstance(value, str):
            return value  # the str validator reports the type
        letters = re.sub(r"[\s,]+", "", value).upper().removeprefix(PLAY.upper())
        if not letters:
            raise ValueError('no cards: play at least one card, e.g. "Q"')
        unknown = sorted({c for c in letters if c not in LETTERS})
        if unknown:
            raise ValueError(
                f"{json.dumps(value)} holds {', '.join(map(repr, unknown))}: "
                "cards are the letters Q, K, A and J (Joker)"
            )
        return cards_text([letters.count(c) for c in LETTERS])

    @field_validator("talk", mode="before")
    @classmethod
    def _no_talk(cls, value: Any) -> Any:
        return "" if value is None else value


class LiarsBarRespond(Answer):
    """A Liar's Bar response to the last claim."""

    reason: str = Field(description="one short sentence: why you accept or challenge")
    call: Literal["accept", "challenge"] = Field(
        description='"challenge" calls the last play a lie ("Liar!"); "accept" lets it stand'
    )

    @field_validator("call", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value


CleanupActionCode = Literal[
    "STAY",
    "UP",
    "DOWN",
    "LEFT",
    "RIGHT",
    "CLEAN",
    "ZAP_UP",
    "ZAP_DOWN",
    "ZAP_LEFT",
    "ZAP_RIGHT",
]


class CleanupAct(Answer):
    """A Cleanup action for this step."""

    reason: str = Field(description="one short sentence: why this action")
    action: CleanupActionCode = Field(description="your action for this step")

    @field_validator("action", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        if isinstance(value, str):
            return re.sub(r"[\s-]+", "_", value.strip()).upper()
        return value


class Reflection(Answer):
    """After a round: a one-sentence opinion of each other player, by name."""

    opinions: dict[str, str] = Field(
        description="each other player's name -> your one-sentence opinion of them"
    )


class OfferAnswer(Answer):
    """The answer to an offer of a secret tool: accept or refuse, and for a partner tool the
    partner named."""

    reason: str = Field(description="one short sentence: why you accept or refuse")
    answer: Literal["accept", "refuse"] = Field(description='"accept" or "refuse" the offer')
    partner: str | None = Field(
        None,
        description="when you accept a tool that needs a partner: the name of the player you "
        "choose; null otherwise",
    )

    @field_validator("answer", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return _lowered(value)


class InviteAnswer(Answer):
    """The answer of a player invited to share a secret tool."""

    reason: str = Field(description="one short sentence: why you accept or refuse")
    answer: Literal["accept", "refuse"] = Field(description='"accept" or "refuse" the invitation')

    @field_validator("answer", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return _lowered(value)


class MessageAnswer(Answer):
    """A message over the secret channel; empty (or left out) sends nothing."""

    message: str = Field("", description="your message to your partner; empty to send nothing")

    @field_validator("message", mode="before")
    @classmethod
    def _no_message(cls, value: Any) -> Any:
        return "" if value is None else value


class ToolAnswer(Answer):
    """Whether to use a secret tool now, and on whom."""

    reason: str = Field(description="one short sentence: why you use a tool or not")
    use: str = Field(description='"none", or the id of the tool you use now')
    target: str | None = Field(
        None, description="the name of the player you use the tool on; null when you use none"
    )


def _lowered(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


_DECISIONS: dict[tuple[str, str], type[Answer]] = {
    (LIARS_BAR, "play"): LiarsBarPlay,
    (LIARS_BAR, "respond"): LiarsBarRespond,
    (CLEANUP, "act"): CleanupAct,
}
_SECRETS: dict[str, type[Answer]] = {
    "offer": OfferAnswer,
    "invite": InviteAnswer,
    "message": MessageAnswer,
    "tool": ToolAnswer,
}
assert tuple(_SECRETS) == SECRET_KINDS
# The field holding the choice, per decision model; the prompt lists its legal values.
_CHOICE: dict[type[BaseModel], str] = {
    LiarsBarPlay: "cards",
    LiarsBarRespond: "call",
    CleanupAct: "action",
}


def answer_model(game: str, kind: str) -> type[BaseModel]:
    """The answer model of a decision kind (the engine's `decision_kind`, a secret kind) or
    `reflection`."""
    if kind == REFLECTION and game in (LIARS_BAR, CLEANUP):
        return Reflection
    if kind in _SECRETS and game in (LIARS_BAR, CLEANUP):
        return _SECRETS[kind]
    try:
        return _DECISIONS[game, kind]
    except KeyError:
        known = ", ".join(f"{g}/{k}" for g, k in _DECISIONS)
        secret = ", ".join(f"*/{k}" for k in _SECRETS)
        raise ValueError(
            f"no answer model for game {game!r}, kind {kind!r} "
            f"(known: {known}, {secret}, */reflection)"
        ) from None


def choice_field(game: str, kind: str) -> str:
    """The name of the field that holds the choice (`cards`, `call`, `action`)."""
    model = answer_model(game, kind)
    if model not in _CHOICE:
        raise ValueError(f"a {kind} answer has no single choice field")
    return _CHOICE[model]


def legal_values(game: str, kind: str, legal: Sequence[str]) -> list[str]:
    """The legal action codes as the model writes them in the choice field: the cards of each
    Liar's Bar play (`play:QQJ` -> `QQJ`), the codes themselves otherwise."""
    choice_field(game, kind)  # checks the kind
    if game == LIARS_BAR and kind == "play":
        return [code.removeprefix(PLAY) for code in legal]
    return list(legal)


def response_schema(game: str, kind: str) -> dict[str, Any]:
    """The answer's JSON schema for litellm's `response_format`, in the form strict structured
    outputs accept: every property required, no extra properties, no titles or defaults. (An
    optional field such as `talk` is then asked for always; `""` means none.)"""
    return copy.deepcopy(_schema(game, kind))  # a copy: callers may hand it to code that edits


@functools.cache
def _schema(game: str, kind: str) -> dict[str, Any]:
    """Built once per kind: pydantic takes about a millisecond to write a schema."""
    schema: dict[str, Any] = _strict(answer_model(game, kind).model_json_schema())
    return schema


def response_format(game: str, kind: str) -> dict[str, Any]:
    """The whole `response_format` argument for litellm. A reflection's opinions are keyed by
    player names, an open-ended object that strict mode cannot express, so it is not strict."""
    schema = response_schema(game, kind)
    return {
        "type": "json_schema",
        "json_schema": {
            "name": f"{game}_{kind}".replace("-", "_"),
            "schema": schema,
            "strict": kind != REFLECTION,
        },
    }


def _strict(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _strict(v) for k, v in schema.items() if k not in ("title", "default")}
    if "properties" in out:
        out["properties"] = {k: _strict(v) for k, v in schema["properties"].items()}
        out["required"] = list(out["properties"])
        out["additionalProperties"] = False
    return out


# -- finding the JSON object in a reply ---------------------------------------------------------

_FENCE = re.compile(r"```[ \t]*(?:json\b)?(.*?)```", re.DOTALL | re.IGNORECASE)
_STRUCTURE = re.compile(r'[{}"\\]')
_THINK_END = "</think>"


# The brace scan is quadratic in the worst case (thousands of unclosed braces): it looks at the
# last SCAN_CHARS characters of a long answer and gives up after MAX_UNCLOSED unclosed braces.
SCAN_CHARS = 8000
MAX_UNCLOSED = 64


def extract_json(text: str) -> dict[str, Any]:
    """The JSON object in a reply: the whole text if it is one; else the first fenced block
    (```json or bare ```) holding one; else the first balanced `{...}` that parses, scanning
    left to right with JSON strings and escapes tracked, so braces inside strings do not count.
    A reasoning model's `<think>...</think>` preamble is skipped (its drafts are not answers)."""
    try:
        return _extract_json(text)
    except RecursionError:  # nesting deeper than the JSON parser goes
        raise AnswerError("the answer nests too deeply: reply with one flat JSON object") from None


def _extract_json(text: str) -> dict[str, Any]:
    if _THINK_END in text:
        text = text.rsplit(_THINK_END, 1)[1]
    text = text.strip()
    if not text:
        raise AnswerError("the answer is empty: reply with one JSON object")
    try:
        whole = json.loads(text, strict=False)
    except ValueError:
        pass
    else:
        if isinstance(whole, dict):
            return whole
        raise AnswerError(f"the answer is {_json_kind(whole)}, not a JSON object {{...}}")

    not_objects: list[Any] = []
    for block in _FENCE.findall(text):
        try:
            value = json.loads(block, strict=False)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
        not_objects.append(value)

    first_error: tuple[str, ValueError] | None = None
    text = text[-SCAN_CHARS:]
    start = text.find("{")
    unclosed = 0
    while start >= 0 and unclosed < MAX_UNCLOSED:
        end = _balanced_end(text, start)
        if end is None:  # never closed: an object may still start further on
            unclosed += 1
            start = text.find("{", start + 1)
            continue
        candidate = text[start:end]
        try:
            value = json.loads(candidate, strict=False)
        except ValueError as problem:
            first_error = first_error or (candidate, problem)
            start = text.find("{", end)  # a broken object's inner braces are not top level
            continue
        if isinstance(value, dict):
            return value
        start = text.find("{", end)  # pragma: no cover - a balanced {...} that parses is a dict

    if first_error is not None:
        broken, why = first_error
        shown = broken if len(broken) <= 80 else broken[:77] + "..."
        raise AnswerError(f"{shown} is not valid JSON ({why}): reply with one JSON object")
    if not_objects:
        kind = _json_kind(not_objects[0])
        raise AnswerError(f"the fenced block holds {kind}, not a JSON object {{...}}")
    raise AnswerError("no JSON object {...} found in the answer: reply with one JSON object")


def _balanced_end(text: str, start: int) -> int | None:
    """The index after the `}` that closes the `{` at `start`, or None if it never closes."""
    depth = 0
    in_string = False
    escaped = False
    for match in _STRUCTURE.finditer(text, start):
        char = match.group()
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                # An escape covers the next character, which may not be a structural one.
                if match.end() < len(text) and text[match.end()] not in '{}"\\':
                    continue
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return match.end()
    return None


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "a JSON array [...]"
    if isinstance(value, str):
        return "a JSON string"
    if isinstance(value, bool) or value is None:
        return f"the JSON value {json.dumps(value)}"
    return "a JSON number"


# -- from an answer to a decision ---------------------------------------------------------------


def parse_answer(game: str, kind: str, text: str) -> BaseModel:
    """The reply validated against the kind's answer model (extra keys ignored)."""
    model = answer_model(game, kind)
    data = extract_json(text)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise AnswerError(_explain(model, error)) from None


def parse_decision(
    game: str, kind: str, text: str, legal: tuple[str, ...]
) -> tuple[Decision, BaseModel]:
    """The decision a reply makes, and the validated answer (for its reason). Raises
    AnswerError naming the offending value and the legal values when the choice is not legal."""
    answer = parse_answer(game, kind, text)
    talk = ""
    if isinstance(answer, LiarsBarPlay):
        action, shown = PLAY + answer.cards, answer.cards
        talk = answer.talk.strip()  # the engine cuts long lines: its rule, not ours
    elif isinstance(answer, LiarsBarRespond):
        action = shown = answer.call
    elif isinstance(answer, CleanupAct):
        action = shown = answer.action
    else:
        raise ValueError(f"{kind} answers are not decisions")
    if action not in legal:
        field = choice_field(game, kind)
        values = legal_values(game, kind, legal)
        hint = _play_hint(answer.cards, values) if isinstance(answer, LiarsBarPlay) else ""
        raise AnswerError(
            f'"{field}": {json.dumps(shown)} is not legal now{hint}; '
            f"legal values: {json.dumps(values)}"
        )
    return Decision(action, talk), answer


def parse_reflection(text: str, others: Sequence[str]) -> Reflection:
    """A reflection's opinions, keyed by the other players' names exactly as given."""
    answer = parse_answer(LIARS_BAR, REFLECTION, text)
    assert isinstance(answer, Reflection)
    unknown = [name for name in answer.opinions if name not in others]
    if unknown:
        raise AnswerError(
            f'"opinions" names {json.dumps(unknown)}, who are not other players here; '
            f"use these names: {json.dumps(list(others))}"
        )
    return answer


def parse_secret(
    game: str, kind: str, text: str, legal: tuple[str, ...], names: Sequence[str]
) -> tuple[Decision, BaseModel]:
    """The decision a reply to the secret phase makes, in its action codes (`tools.offers`), and
    the validated answer. Players are named as in the prompts (`names`, by seat). The stated
    reason becomes the decision's talk (a message: its text). A partner named when refusing, or
    for a tool that needs none, and a target named when using no tool, are ignored."""
    answer = parse_answer(game, kind, text)
    if isinstance(answer, MessageAnswer):
        message = answer.message.strip()
        return (Decision(SEND, message) if message else Decision(NONE)), answer
    if isinstance(answer, InviteAnswer):
        action = _legal_answer(answer.answer, legal)
    elif isinstance(answer, OfferAnswer):
        action = _offer_action(answer, legal, names)
    elif isinstance(answer, ToolAnswer):
        action = _tool_action(answer, legal, names)
    else:
        raise ValueError(f"{kind} answers are not secret decisions")
    return Decision(action, answer.reason.strip()), answer


def _legal_answer(answer: str, legal: tuple[str, ...]) -> str:
    if answer not in legal:  # pragma: no cover - accept and refuse are always legal
        raise ValueError(f"{answer!r} is not among the legal answers {legal}")
    return answer


def _offer_action(answer: OfferAnswer, legal: tuple[str, ...], names: Sequence[str]) -> str:
    if answer.answer == REFUSE:
        return _legal_answer(REFUSE, legal)
    candidates = [seat for code in legal for said, seat in [read_answer(code)] if said == ACCEPT]
    partners = [seat for seat in candidates if seat is not None]
    if not partners:  # a tool without partner: plain accept
        return _legal_answer(ACCEPT, legal)
    allowed = json.dumps([names[seat] for seat in partners], ensure_ascii=False)
    if answer.partner is None or not answer.partner.strip():
        raise AnswerError(
            f'"partner" is missing: this tool needs a partner, so name one when you accept; '
            f"legal values: {allowed}"
        )
    seat = _seat_named(answer.partner, names)
    if seat not in partners:
        raise AnswerError(
            f'"partner": {_show(answer.partner)} is not a player you may name; '
            f"legal values: {allowed}"
        )
    return f"{ACCEPT}:{seat}"


def _tool_action(answer: ToolAnswer, legal: tuple[str, ...], names: Sequence[str]) -> str:
    targets: dict[str, list[int]] = {}
    for code in legal:
        picked = read_tool(code)
        if picked is not None:
            targets.setdefault(picked[0], []).append(picked[1])
    use = answer.use.strip().lower()
    if use == NONE:
        return NONE
    if use not in targets:
        allowed = json.dumps([NONE, *targets])
        raise AnswerError(
            f'"use": {_show(answer.use)} is not a tool you can use now; legal values: {allowed}'
        )
    shown = json.dumps([names[seat] for seat in targets[use]], ensure_ascii=False)
    if answer.target is None or not answer.target.strip():
        raise AnswerError(f'"target" is missing: {use} needs a target; legal values: {shown}')
    seat = _seat_named(answer.target, names)
    if seat not in targets[use]:
        raise AnswerError(
            f'"target": {_show(answer.target)} is not a player {use} can be used on; '
            f"legal values: {shown}"
        )
    return f"{use}:{seat}"


def _seat_named(name: str, names: Sequence[str]) -> int | None:
    """The seat of the player called `name` (spacing and case aside), or None."""
    wanted = " ".join(name.split()).casefold()
    return next((seat for seat, known in enumerate(names) if known.casefold() == wanted), None)


def _play_hint(cards: str, legal_cards: Sequence[str]) -> str:
    """Why a play is not legal, as far as the legal plays tell (they show the hand, up to the
    most cards one play may hold)."""
    most = max(map(len, legal_cards), default=0)
    if len(cards) > most:
        return f" (you may play at most {most} cards now)"
    for letter in LETTERS:
        held = max((c.count(letter) for c in legal_cards), default=0)
        if cards.count(letter) > held:
            return f" (you hold no {letter})" if held == 0 else f" (you hold {held} {letter})"
    return ""  # pragma: no cover - every combination within the hand is a legal play


def _explain(model: type[BaseModel], error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False):
        field = ".".join(str(p) for p in item["loc"]) or "answer"
        kind = item["type"]
        if kind == "missing":
            parts.append(f'missing field "{field}"')
        elif kind == "literal_error":
            info = model.model_fields.get(field)
            allowed = list(get_args(info.annotation)) if info is not None else []
            parts.append(
                f'"{field}" must be one of {json.dumps(allowed)}, got {_show(item["input"])}'
            )
        elif kind == "value_error":
            parts.append(f'"{field}": {item["ctx"]["error"]}')
        else:
            parts.append(f'"{field}": {item["msg"].lower()}, got {_show(item["input"])}')
    fields = ", ".join(f'"{name}"' for name in model.model_fields)
    return "; ".join(parts) + f" (an answer has the fields {fields})"


def _show(value: Any) -> str:
    shown = json.dumps(value, ensure_ascii=False, default=str)
    return shown if len(shown) <= 60 else shown[:57] + "..."
