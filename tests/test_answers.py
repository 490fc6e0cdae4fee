"""LLM answers: finding the JSON object in a reply, validating it, and turning it into exactly
the decision it names (never a guess from prose)."""

from __future__ import annotations

import json
import random
from typing import Any, get_args

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arena.llm.answers import (
    AnswerError,
    CleanupAct,
    LiarsBarPlay,
    LiarsBarRespond,
    Reflection,
    answer_model,
    extract_json,
    parse_decision,
    parse_reflection,
    response_format,
    response_schema,
)
from games.base import Decision
from games.cleanup.config import PRESETS as CLEANUP_PRESETS
from games.cleanup.engine import ACTIONS, Cleanup
from games.liars_bar.engine import RESPONSES
from tests.test_liars_bar_properties import Table, play, tables

PLAY_LEGAL = ("play:Q", "play:K", "play:J", "play:QK", "play:QJ", "play:KJ", "play:QKJ")


# -- extract_json ---------------------------------------------------------------------------------


def test_plain_json_is_the_whole_answer() -> None:
    assert extract_json(' {"call": "accept", "reason": "fine"} \n') == {
        "call": "accept",
        "reason": "fine",
    }


@pytest.mark.parametrize("fence", ["```json", "```JSON", "```"])
def test_a_fenced_block_is_found(fence: str) -> None:
    text = f'Here is my move.\n{fence}\n{{"action": "UP", "reason": "apples"}}\n```\nGood luck!'
    assert extract_json(text) == {"action": "UP", "reason": "apples"}


def test_a_fenced_block_wins_over_an_earlier_object_in_prose() -> None:
    text = 'Format: {"a": 1}\n```json\n{"b": 2}\n```'
    assert extract_json(text) == {"b": 2}


def test_an_object_inside_prose_is_found() -> None:
    text = 'I think Bob is lying. {"reason": "too many Kings", "call": "challenge"} That is all.'
    assert extract_json(text)["call"] == "challenge"


def test_braces_and_quotes_inside_strings_do_not_confuse_the_scan() -> None:
    inner = {"reason": 'a "}" and a "{" and \\ and {nested}', "talk": "}}}", "cards": "QJ"}
    text = "Sure: " + json.dumps(inner) + " and } stray"
    assert extract_json(text) == inner


def test_nested_objects_come_back_whole() -> None:
    text = 'ok {"opinions": {"Ana": "sly {really}", "Bob": "honest"}} done'
    assert extract_json(text) == {"opinions": {"Ana": "sly {really}", "Bob": "honest"}}


def test_of_two_objects_the_first_that_parses_is_taken() -> None:
    assert extract_json('{"a": 1} then {"b": 2}') == {"a": 1}
    assert extract_json("{not json} then {'single': 1} then {\"b\": 2}") == {"b": 2}


def test_an_unclosed_brace_before_the_object_is_skipped() -> None:
    assert extract_json('I play { hmm {"cards": "Q", "reason": "r"}') == {
        "cards": "Q",
        "reason": "r",
    }


def test_a_reasoning_preamble_is_skipped() -> None:
    text = '<think>maybe {"call": "challenge"}?</think>\n{"call": "accept", "reason": "safe"}'
    assert extract_json(text) == {"call": "accept", "reason": "safe"}


def test_newlines_inside_strings_are_tolerated() -> None:
    assert extract_json('{"reason": "line one\nline two", "call": "accept"}')["call"] == "accept"


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_an_empty_answer_is_an_error(text: str) -> None:
    with pytest.raises(AnswerError, match="empty"):
        extract_json(text)


def test_garbage_is_an_error() -> None:
    with pytest.raises(AnswerError, match="no JSON object"):
        extract_json("I would rather not say.")


def test_an_invalid_object_is_reported_with_the_parse_error() -> None:
    with pytest.raises(AnswerError, match="not valid JSON"):
        extract_json("{'call': 'accept'}")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ('[{"call": "accept"}]', "array"),
        ('"challenge"', "string"),
        ("42", "number"),
        ("null", "null"),
        ('```json\n["accept"]\n```', "array"),
    ],
)
def test_json_that_is_not_an_object_is_an_error(text: str, kind: str) -> None:
    with pytest.raises(AnswerError, match=kind):
        extract_json(text)


# -- parse_decision -------------------------------------------------------------------------------


def test_prose_that_says_challenge_is_not_a_challenge() -> None:
    with pytest.raises(AnswerError, match="no JSON object"):
        parse_decision("liars-bar", "respond", "I challenge! Liar!", RESPONSES)


def test_a_response_maps_to_its_action_code() -> None:
    text = '{"reason": "three Kings is too many", "call": " Challenge "}'
    decision, answer = parse_decision("liars-bar", "respond", text, RESPONSES)
    assert decision == Decision("challenge")
    assert isinstance(answer, LiarsBarRespond) and answer.reason == "three Kings is too many"


def test_a_play_is_canonicalised_to_the_engines_card_order_and_keeps_its_talk() -> None:
    long_talk = "x" * 5000
    text = json.dumps({"reason": "r", "cards": "j q", "talk": f"  {long_talk}\n", "mood": "calm"})
    decision, answer = parse_decision("liars-bar", "play", text, PLAY_LEGAL)
    assert decision == Decision("play:QJ", long_talk)  # trimmed, never cut: the engine cuts
    assert isinstance(answer, LiarsBarPlay) and answer.cards == "QJ"


def test_a_play_without_talk_has_none() -> None:
    decision, _ = parse_decision("liars-bar", "play", '{"reason": "r", "cards": "K"}', PLAY_LEGAL)
    assert decision == Decision("play:K")
    decision, _ = parse_decision(
        "liars-bar", "play", '{"reason": "r", "cards": "K", "talk": null}', PLAY_LEGAL
    )
    assert decision == Decision("play:K")


def test_a_cleanup_action_maps_to_its_code() -> None:
    decision, answer = parse_decision(
        "cleanup", "act", '{"reason": "get it", "action": "zap left"}', ACTIONS
    )
    assert decision == Decision("ZAP_LEFT")
    assert isinstance(answer, CleanupAct)


@pytest.mark.parametrize(
    ("cards", "hint"),
    [("KK", "you hold 1 K"), ("A", "you hold no A"), ("QQKJ", "at most 3 cards")],
)
def test_an_illegal_play_names_the_value_and_the_legal_values(cards: str, hint: str) -> None:
    text = json.dumps({"reason": "r", "cards": cards})
    with pytest.raises(AnswerError) as caught:
        parse_decision("liars-bar", "play", text, PLAY_LEGAL)
    message = str(caught.value)
    assert f'"{cards}"' in message and hint in message
    assert '["Q", "K", "J", "QK", "QJ", "KJ", "QKJ"]' in message


def test_an_action_a_frozen_agent_may_not_take_names_the_legal_values() -> None:
    with pytest.raises(AnswerError, match=r'"UP" is not legal now; legal values: \["STAY"\]'):
        parse_decision("cleanup", "act", '{"reason": "r", "action": "UP"}', ("STAY",))


def test_a_value_outside_the_choices_names_the_value_and_the_choices() -> None:
    with pytest.raises(AnswerError) as caught:
        parse_decision("liars-bar", "respond", '{"reason": "r", "call": "liar"}', RESPONSES)
    assert '"liar"' in str(caught.value) and '["accept", "challenge"]' in str(caught.value)
    with pytest.raises(AnswerError, match=r'"JUMP"'):
        parse_decision("cleanup", "act", '{"reason": "r", "action": "jump"}', ACTIONS)


def test_cards_that_are_not_card_letters_are_named() -> None:
    with pytest.raises(AnswerError, match="'X'"):
        parse_decision("liars-bar", "play", '{"reason": "r", "cards": "QX"}', PLAY_LEGAL)
    with pytest.raises(AnswerError, match="no cards"):
        parse_decision("liars-bar", "play", '{"reason": "r", "cards": " "}', PLAY_LEGAL)


def test_missing_fields_are_named() -> None:
    with pytest.raises(AnswerError, match='missing field "call"'):
        parse_decision("liars-bar", "respond", '{"reason": "r"}', RESPONSES)
    with pytest.raises(AnswerError, match='missing field "reason"'):
        parse_decision("cleanup", "act", '{"action": "STAY"}', ACTIONS)


def test_a_reflection_keeps_opinions_by_name_and_refuses_strangers() -> None:
    text = '{"opinions": {"Ana": "bluffs a lot.", "Bob": "careful."}}'
    assert parse_reflection(text, ["Ana", "Bob"]).opinions == {
        "Ana": "bluffs a lot.",
        "Bob": "careful.",
    }
    with pytest.raises(AnswerError, match="Zed"):
        parse_reflection('{"opinions": {"Zed": "who?"}}', ["Ana", "Bob"])


def test_unknown_kinds_are_a_programming_error_not_an_answer_error() -> None:
    with pytest.raises(ValueError, match="no answer model") as caught:
        answer_model("chess", "move")
    assert not isinstance(caught.value, AnswerError)


# -- schemas --------------------------------------------------------------------------------------

CHOICES = [
    ("liars-bar", "play", "cards"),
    ("liars-bar", "respond", "call"),
    ("cleanup", "act", "action"),
]


@pytest.mark.parametrize(("game", "kind", "field"), CHOICES)
def test_the_response_schema_is_a_strict_json_schema_requiring_reason_then_choice(
    game: str, kind: str, field: str
) -> None:
    schema = response_schema(game, kind)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert list(schema["properties"])[:2] == ["reason", field]
    assert field in schema["required"] and set(schema["required"]) == set(schema["properties"])
    assert "title" not in json.dumps(schema)
    example = {"reason": "r", field: {"cards": "QJ", "call": "accept", "action": "STAY"}[field]}
    example |= {"talk": ""} if kind == "play" else {}
    jsonschema.validate(example, schema)
    assert response_format(game, kind)["json_schema"]["strict"] is True


def test_the_reflection_schema_is_open_ended_and_not_strict() -> None:
    schema = response_schema("cleanup", "reflection")
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate({"opinions": {"Ana": "kind."}}, schema)
    assert answer_model("liars-bar", "reflection") is Reflection
    assert response_format("cleanup", "reflection")["json_schema"]["strict"] is False


def test_the_answer_choices_are_the_engines_codes() -> None:
    assert get_args(LiarsBarRespond.model_fields["call"].annotation) == RESPONSES
    assert get_args(CleanupAct.model_fields["action"].annotation) == ACTIONS


# -- round trip -----------------------------------------------------------------------------------


def answer_text(kind: str, action: str, talk: str, rnd: random.Random) -> str:
    """A reply a model might give for `action`: shuffled, re-cased cards, extra keys, and
    sometimes fenced or surrounded by prose."""
    data: dict[str, Any] = {"reason": 'because {braces} and "quotes" don\'t matter'}
    if kind == "play":
        cards = list(action.removeprefix("play:"))
        rnd.shuffle(cards)
        data |= {"cards": "".join(c.lower() if rnd.random() < 0.5 else c for c in cards)}
        data |= {"talk": talk}
    elif kind == "respond":
        data["call"] = action
    else:
        data["action"] = action
    data["confidence"] = rnd.random()
    text = json.dumps(data)
    wrap = rnd.randrange(3)
    if wrap == 1:
        return f"```json\n{text}\n```"
    if wrap == 2:
        return f"My answer {{as JSON}}: {text} -- done."
    return text


TRIPS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@TRIPS
@given(tables, st.randoms(use_true_random=False), st.text(max_size=30))
def test_every_legal_liars_bar_action_survives_the_round_trip(
    table: Table, rnd: random.Random, talk: str
) -> None:
    for state, _ in play(table):
        if state.is_terminal():
            break
        seat = state.to_act()[0]
        kind = state.decision_kind(seat)
        legal = state.legal_actions(seat)
        for action in legal:
            decision, _ = parse_decision(
                "liars-bar", kind, answer_text(kind, action, talk, rnd), legal
            )
            assert decision == Decision(action, talk.strip() if kind == "play" else "")


@TRIPS
@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
def test_every_legal_cleanup_action_survives_the_round_trip(seed: int, chooser: int) -> None:
    rnd = random.Random(chooser)
    config = CLEANUP_PRESETS["paper"].model_copy(update={"max_steps": 12})
    state, _ = Cleanup(config).new_game(seed, 4)
    while not state.is_terminal():
        chosen = {}
        for seat in state.to_act():
            legal = state.legal_actions(seat)
            for action in legal:
                text = answer_text("act", action, "", rnd)
                assert parse_decision("cleanup", "act", text, legal)[0] == Decision(action)
            chosen[seat] = Decision(rnd.choice(legal))
        state.apply(chosen)


def test_pathological_answers_are_refused_quickly_not_crashing() -> None:
    with pytest.raises(AnswerError, match="nests too deeply"):
        extract_json('{"x": ' * 5000)
    with pytest.raises(AnswerError):
        extract_json("{" * 50_000)  # only the tail is scanned
