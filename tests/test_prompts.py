"""What an LLM seat is told: the rules with the config's numbers, decision messages built from
the seat's view alone (a property: nothing outside its audience changes them), memory lines,
reflections, and templates researchers can replace."""

from __future__ import annotations

import copy
import json
import random
import re
from pathlib import Path
from typing import get_args

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arena.llm.prompts import (
    REQUIRED_FRAMINGS,
    TEMPLATES,
    TemplateError,
    decision_message,
    describe_event,
    reask_message,
    reflection_message,
    system_prompt,
)
from games.base import OBSERVER, Decision, Event
from games.cleanup.config import PRESETS as CLEANUP_PRESETS
from games.cleanup.config import CleanupConfig
from games.cleanup.engine import ACTIONS, Cleanup, CleanupState
from games.liars_bar.config import PRESETS as LIARS_BAR_PRESETS
from games.liars_bar.config import LiarsBarConfig
from games.liars_bar.engine import RESPONSES, LiarsBar, LiarsBarState
from tests.test_liars_bar_properties import Table, outside_audience_changed, play, tables
from tools.offers import SECRET_KINDS

NAMES = ["Ana", "Bob", "counter", "gpt"]
LEGAL_LINE = re.compile(r'^Legal values for "(\w+)": (\[.*\])$')


def legal_lines(message: str) -> dict[str, list[str]]:
    """The machine-readable lines at the end of a message, read as the fake server reads them."""
    found = {}
    for line in reversed(message.splitlines()):
        match = LEGAL_LINE.match(line)
        if match is None:
            break
        found[match.group(1)] = json.loads(match.group(2))
    return found


def liars_bar_state(preset: str = "classic", seed: int = 3, n: int = 4) -> LiarsBarState:
    return LiarsBar(LIARS_BAR_PRESETS[preset]).new_game(seed, n)[0]


def message_for(state: LiarsBarState, seat: int, names: list[str] = NAMES) -> str:
    view = state.view_for(seat)
    return decision_message(
        "liars-bar", view.phase, view, state.legal_actions(seat), names[: state.n]
    )


# -- system prompts -------------------------------------------------------------------------------


@pytest.mark.parametrize("preset", sorted(LIARS_BAR_PRESETS))
def test_the_liars_bar_system_prompt_carries_the_configs_numbers(preset: str) -> None:
    config = LIARS_BAR_PRESETS[preset]
    prompt = system_prompt("liars-bar", config, 1, NAMES)
    deck = f"{len(config.deck())} cards: {config.copies_per_rank} Queens (Q)"
    assert deck in prompt and f"{config.jokers} Jokers" in prompt
    assert f"{config.chambers} chambers" in prompt and f"1 to {config.max_play} cards" in prompt
    assert f"{config.hand_size} cards" in prompt and f"at most {config.talk_max_chars}" in prompt
    assert "You are Bob (seat 1)" in prompt and "seat 3 gpt" in prompt

    changed = config.model_copy(
        update={"chambers": 9, "copies_per_rank": 11, "jokers": 7, "max_play": 2}
    )
    other = system_prompt("liars-bar", changed, 1, NAMES)
    assert "9 chambers" in other and "6 chambers" not in other
    assert "40 cards: 11 Queens (Q), 11 Kings (K), 11 Aces (A) and 7 Jokers" in other
    assert "1 to 2 cards" in other


def test_the_paper_preset_states_its_deal_and_points_and_classic_does_not() -> None:
    paper = system_prompt("liars-bar", LIARS_BAR_PRESETS["paper"], 0, NAMES)
    classic = system_prompt("liars-bar", LIARS_BAR_PRESETS["classic"], 0, NAMES)
    assert "2 of the target rank, 2 of other ranks and 1 Joker" in paper
    assert "successful challenge +2" in paper and "last survivor +3" in paper
    assert "points" not in classic and "The last living player wins." in classic


@pytest.mark.parametrize("preset", sorted(CLEANUP_PRESETS))
def test_the_cleanup_system_prompt_carries_the_configs_numbers(preset: str) -> None:
    config = CLEANUP_PRESETS[preset]
    n = len(config.start_positions)
    prompt = system_prompt("cleanup", config, 2, NAMES[:n])
    assert f"{config.rows} rows" in prompt and f"{config.cols} columns" in prompt
    assert f"for {config.max_steps} steps" in prompt and f"for {config.zap_freeze} steps" in prompt
    assert f"probability {config.growth_prob:g}" in prompt
    assert f"fewer than {config.pollution_threshold} river tiles" in prompt
    assert "You are counter (seat 2, marker 2)" in prompt

    changed = CleanupConfig.model_validate(
        config.model_dump()
        | {
            "rows": 7,
            "cols": 9,
            "river_cols": (3, 4, 5),
            "pollution_threshold": 4,
            "pollution_interval": 3,
            "growth_prob": 0.35,
            "zap_freeze": 2,
            "max_steps": 50,
            "initial_polluted": 2,
        }
    )
    other = system_prompt("cleanup", changed, 2, NAMES[:n])
    assert "7 rows" in other and "9 columns" in other and "Columns 3, 4 and 5 are river" in other
    assert "fewer than 4 river tiles" in other and "probability 0.35" in other
    assert "for 2 steps" in other and "for 50 steps" in other
    assert "at steps 0, 3, 6, 9, …" in other and "2 river tiles are polluted" in other


def test_the_observer_text_fills_its_slot_and_leaves_no_gap_when_empty() -> None:
    config = LIARS_BAR_PRESETS["classic"]
    plain = system_prompt("liars-bar", config, 0, NAMES)
    framed = system_prompt("liars-bar", config, 0, NAMES, observer="OBSERVER TEXT")
    assert framed.endswith("\n\nOBSERVER TEXT")
    assert framed.startswith(plain) and not plain.endswith("\n") and "\n\n\n" not in plain
    only_observer = system_prompt("cleanup", CLEANUP_PRESETS["paper"], 0, NAMES, observer="O")
    assert only_observer.endswith('"<one legal action>"}\n\nO')


def test_the_system_prompt_needs_the_games_own_config() -> None:
    with pytest.raises(TypeError, match="LiarsBarConfig"):
        system_prompt("liars-bar", CLEANUP_PRESETS["paper"], 0, NAMES)
    with pytest.raises(ValueError, match="seat 4"):
        system_prompt("liars-bar", LIARS_BAR_PRESETS["classic"], 4, NAMES)


# -- decision messages ----------------------------------------------------------------------------


def test_a_play_message_shows_the_hand_and_ends_with_the_legal_cards() -> None:
    state = liars_bar_state()
    seat = state.turn
    state.hands[seat] = [2, 1, 0, 1]
    message = message_for(state, seat)
    assert "Your hand: Q Q K J." in message
    assert message.splitlines()[-1] == (
        'Legal values for "cards": ["Q", "K", "J", "QQ", "QK", "QJ", "KJ", "QQK", "QQJ", "QKJ"]'
    )
    assert legal_lines(message) == {
        "cards": [a.removeprefix("play:") for a in state.legal_actions(seat)]
    }
    assert len(message) < 800


def test_a_respond_message_states_the_claim_and_ends_with_the_calls() -> None:
    state = liars_bar_state()
    claimer = state.turn
    state.apply({claimer: Decision(state.legal_actions(claimer)[-1], 'I have "Kings"\nreally')})
    seat = state.turn
    message = message_for(state, seat)
    assert legal_lines(message) == {"call": ["accept", "challenge"]}
    assert f"{NAMES[claimer]} just played 3 cards face down" in message
    assert '"I have \\"Kings\\"\\nreally"' in message  # quoted: talk cannot pose as the prompt
    assert len(message) < 800


def test_the_paper_message_shows_the_points() -> None:
    state = liars_bar_state("paper")
    assert "Points: Ana 0, Bob 0, counter 0, gpt 0" in message_for(state, state.turn)


def test_the_message_after_a_challenge_tells_how_the_last_round_ended() -> None:
    state = liars_bar_state(seed=5, n=2)
    claimer = state.turn
    state.apply({claimer: Decision(state.legal_actions(claimer)[0])})
    state.apply({state.turn: Decision("challenge")})
    assert not state.is_terminal()  # seed 5: the first shot is a click
    message = message_for(state, state.turn, NAMES[:2])
    assert "Last round ended:" in message and "pulled the trigger" in message


def test_a_cleanup_message_draws_the_map_and_ends_with_the_actions() -> None:
    config = CLEANUP_PRESETS["paper"]
    state, _ = Cleanup(config).new_game(0, 4)
    state.apples = bytes(30)
    state.pollution = bytes(30)
    state.apples = bytes(1 if t in (1, 11) else 0 for t in range(30))
    state.pollution = bytes(1 if t == 8 else 0 for t in range(30))
    state.frozen = (0, 3, 0, 0)
    message = decision_message("cleanup", "act", state.view_for(1), ("STAY",), NAMES)
    assert "Step 1 of 30." in message
    assert "  0 1 2 3 4 5\n0 0 o ~ ~ . 1\n1 . . # ~ . o\n" in message
    assert "- 1 Bob (you): (0, 5), 0 apples, frozen for 3 steps (this one included)" in message
    assert "You are frozen" in message and "River: 1 of 10 tiles polluted" in message
    assert legal_lines(message) == {"action": ["STAY"]}
    free = decision_message("cleanup", "act", state.view_for(0), ACTIONS, NAMES)
    assert legal_lines(free) == {"action": list(ACTIONS)} and "You are frozen" not in free


def test_agents_sharing_a_tile_show_as_a_star() -> None:
    state, _ = Cleanup(CLEANUP_PRESETS["paper"]).new_game(0, 4)
    state.pos = (0, 0, 29, 29)
    message = decision_message("cleanup", "act", state.view_for(0), ACTIONS, NAMES)
    rows = message.splitlines()[1:7]
    assert rows[1].startswith("0 *") and rows[5].endswith("*")


def test_the_decision_kind_must_match_the_view() -> None:
    state = liars_bar_state()
    view = state.view_for(state.turn)
    with pytest.raises(ValueError, match="phase 'play'"):
        decision_message("liars-bar", "respond", view, ("accept", "challenge"), NAMES)


# -- non-interference -----------------------------------------------------------------------------

PROMPTS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROMPTS
@given(tables, st.randoms(use_true_random=False))
def test_decision_messages_ignore_everything_outside_the_seats_audience(
    table: Table, mutator: random.Random
) -> None:
    """Other seats' cards (the last claim's true cards included), every revolver and the RNG
    may change: no seat's message may change with them."""
    for state, _ in play(table):
        if state.is_terminal():
            break
        for seat in range(table.n):
            other = outside_audience_changed(state, seat, mutator)
            assert message_for(other, seat) == message_for(state, seat)


def test_the_prompt_non_interference_check_notices_a_change_inside_the_audience() -> None:
    state = liars_bar_state()
    seat = state.turn
    changed = copy.deepcopy(state)
    changed.hands[seat] = [5, 0, 0, 0] if state.hands[seat] != [5, 0, 0, 0] else [0, 5, 0, 0]
    assert message_for(changed, seat) != message_for(state, seat)
    changed = copy.deepcopy(state)
    changed.pulls[(seat + 1) % 4] += 1
    assert message_for(changed, seat) != message_for(state, seat)


def cleanup_messages(state: CleanupState) -> list[str]:
    return [
        decision_message("cleanup", "act", state.view_for(s), state.legal_actions(s), NAMES)
        for s in range(4)
    ]


@PROMPTS
@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
def test_cleanup_messages_do_not_depend_on_the_rng(seed: int, chooser: int, reseed: int) -> None:
    config = CLEANUP_PRESETS["paper"].model_copy(update={"max_steps": 15})
    state, _ = Cleanup(config).new_game(seed, 4)
    rnd = random.Random(chooser)
    while not state.is_terminal():
        other = copy.deepcopy(state)
        other.rng = random.Random(reseed)
        assert cleanup_messages(other) == cleanup_messages(state)
        state.apply({s: Decision(rnd.choice(state.legal_actions(s))) for s in state.to_act()})


# -- memory lines ---------------------------------------------------------------------------------


@settings(max_examples=20, deadline=None)
@given(tables)
def test_every_liars_bar_event_gets_a_line_or_none_and_hidden_ones_none(table: Table) -> None:
    for _, events in play(table):
        for event in events:
            for seat in range(table.n):
                line = describe_event("liars-bar", event, seat, NAMES[: table.n])
                if event.audience == OBSERVER or event.kind in ("hand_start", "revolvers"):
                    assert line is None
                elif event.kind in ("play", "challenge", "reveal", "shot", "round_start"):
                    assert line


def test_a_play_line_carries_the_claim_and_the_talk() -> None:
    event = Event("play", {"count": 2, "claim": "K", "talk": "all Kings", "cards_left": 3}, actor=0)
    assert describe_event("liars-bar", event, 1, NAMES) == (
        'Ana played 2 cards claiming K (3 cards left) and said: "all Kings"'
    )
    assert (describe_event("liars-bar", event, 0, NAMES) or "").startswith("You played 2 cards")


def test_a_reveal_and_a_shot_read_plainly() -> None:
    reveal = Event("reveal", {"cards": "QK", "honest": False, "by": "player"}, actor=2)
    shot = Event("shot", {"pull": 2, "died": True}, actor=2)
    assert describe_event("liars-bar", reveal, 0, NAMES) == (
        "counter's play was revealed: Q K, a lie."
    )
    assert describe_event("liars-bar", shot, 2, NAMES) == (
        "You pulled the trigger (pull 2): bang, eliminated."
    )


def test_an_event_outside_the_seats_audience_gets_no_line() -> None:
    dealt = Event("hand_start", {"round": 1, "target": "Q", "hands": {"0": "QQKAJ"}}, OBSERVER)
    assert describe_event("liars-bar", dealt, 0, NAMES) is None


def test_cleanup_steps_and_hits_get_lines() -> None:
    config = CLEANUP_PRESETS["paper"]
    state, _ = Cleanup(config).new_game(1, 4)
    state.pos = (0, 1, 20, 29)
    events = state.apply(
        {0: Decision("ZAP_RIGHT"), 1: Decision("STAY"), 2: Decision("UP"), 3: Decision("CLEAN")}
    )
    lines = [describe_event("cleanup", e, 1, NAMES) for e in events]
    assert "Ana zapped RIGHT at (0, 1), freezing you." in lines
    step = next(line for line in lines if line and line.startswith("Step 1:"))
    assert "Ana ZAP_RIGHT, you STAY, counter UP, gpt CLEAN" in step


# -- reflection -----------------------------------------------------------------------------------


def test_the_reflection_message_lists_the_round_and_the_other_players() -> None:
    message = reflection_message("liars-bar", 1, NAMES, ["Ana played 2 cards claiming K."])
    assert "- Ana played 2 cards claiming K." in message
    assert message.splitlines()[-1] == 'Keys for "opinions": ["Ana", "counter", "gpt"]'


# -- templates ------------------------------------------------------------------------------------


def test_a_user_template_replaces_the_packaged_one_and_the_rest_fall_back(tmp_path: Path) -> None:
    (tmp_path / "liars_bar").mkdir()
    (tmp_path / "liars_bar" / "decision_play.txt").write_text(
        "R$round: you hold $hand; aim $target.\n", encoding="utf-8"
    )
    state = liars_bar_state()
    seat = state.turn
    view = state.view_for(seat)
    legal = state.legal_actions(seat)
    message = decision_message("liars-bar", "play", view, legal, NAMES, templates=tmp_path)
    assert message.startswith(f"R1: you hold {' '.join(view.hand)}; aim {view.target}.\n")
    assert legal_lines(message)  # the machine-readable lines are always there
    config = LIARS_BAR_PRESETS["classic"]
    assert system_prompt("liars-bar", config, 0, NAMES, templates=tmp_path) == system_prompt(
        "liars-bar", config, 0, NAMES
    )


def test_an_unknown_placeholder_names_the_file_and_the_placeholder(tmp_path: Path) -> None:
    (tmp_path / "cleanup").mkdir()
    path = tmp_path / "cleanup" / "system.txt"
    path.write_text("You are $name and your mood is $mood.\n", encoding="utf-8")
    with pytest.raises(TemplateError) as caught:
        system_prompt("cleanup", CLEANUP_PRESETS["paper"], 0, NAMES, templates=tmp_path)
    assert str(path) in str(caught.value) and "$mood" in str(caught.value)
    assert "$name" in str(caught.value)  # and what the template may use instead


def test_a_stray_dollar_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "reflection.txt"
    path.write_text("$lines\nWorth $5 to you?\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"reflection.txt, line 2, column 7.*\$\$"):
        reflection_message("cleanup", 0, NAMES, [], templates=tmp_path)
    path.write_text("$lines\nWorth $$5 to you?\n", encoding="utf-8")
    assert "Worth $5 to you?" in reflection_message("cleanup", 0, NAMES, [], templates=tmp_path)


def test_a_missing_templates_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="does not exist"):
        reflection_message("cleanup", 0, NAMES, [], templates=tmp_path / "nope")


def test_every_packaged_template_is_used() -> None:
    """A template file nobody reads would mislead a researcher editing it."""
    files = {p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.txt")}
    assert files == {
        "reflection.txt",
        "reask.txt",
        "monitor.txt",
        "observer/off.txt",
        "observer/on.txt",
        "observer/monitor.txt",
        *(f"framings/{name}.txt" for name in REQUIRED_FRAMINGS),
        "liars_bar/system.txt",
        "liars_bar/deal_random.txt",
        "liars_bar/deal_paper.txt",
        "liars_bar/scoring_none.txt",
        "liars_bar/scoring_paper.txt",
        "liars_bar/decision_play.txt",
        "liars_bar/decision_respond.txt",
        "cleanup/system.txt",
        "cleanup/decision_act.txt",
        *(f"secrets/{kind}.txt" for kind in SECRET_KINDS),
    }
    for field in ("deal", "scoring"):  # one rules file per value the config allows
        allowed = get_args(LiarsBarConfig.model_fields[field].annotation)
        assert {f"liars_bar/{field}_{value}.txt" for value in allowed} <= files


def test_a_reask_says_why_and_repeats_the_legal_values() -> None:
    text = reask_message("liars-bar", "respond", '"call": "maybe" is not legal', RESPONSES)
    assert text.startswith('That answer cannot be used: "call": "maybe" is not legal')
    assert text.splitlines()[-1] == 'Legal values for "call": ["accept", "challenge"]'
