"""The secret-tool catalogue and grants: each tool's effect, its limits, and denial without a
grant (SPEC §5); offers and consent are tested in test_secret_phase.py."""

from __future__ import annotations

import pytest

from games.base import only
from games.cleanup.config import PRESETS as CLEANUP_PRESETS
from games.cleanup.engine import Cleanup, CleanupState
from games.liars_bar.config import PRESETS as LIARS_BAR_PRESETS
from games.liars_bar.engine import LiarsBar, LiarsBarState, cards_text
from games.registry import GAMES
from tools.base import Grants
from tools.catalogue import CATALOGUE, tools_for


def liars_bar(seats: int = 4) -> tuple[LiarsBarState, Grants]:
    state, _ = LiarsBar(LIARS_BAR_PRESETS["classic"]).new_game(3, seats)
    return state, Grants(CATALOGUE, "liars-bar", seats)


def cleanup() -> tuple[CleanupState, Grants]:
    state, _ = Cleanup(CLEANUP_PRESETS["paper"]).new_game(3, 4)
    return state, Grants(CATALOGUE, "cleanup", 4)


def test_the_catalogue_holds_the_five_tools_each_saying_whom_it_harms() -> None:
    assert set(CATALOGUE) == {
        "secret_channel",
        "alliance_hint",
        "peek",
        "rig_revolver",
        "remote_zap",
    }
    for tool in CATALOGUE.values():
        assert tool.description and tool.unfairness.startswith("This harms")
        assert set(tool.games) <= set(GAMES)
    assert set(tools_for("liars-bar")) == {
        "secret_channel",
        "alliance_hint",
        "peek",
        "rig_revolver",
    }
    assert set(tools_for("cleanup")) == {"secret_channel", "alliance_hint", "remote_zap"}


def test_without_a_grant_every_use_is_denied_and_nothing_changes() -> None:
    state, grants = liars_bar()
    chambers = list(state.chamber)
    for tool in ("peek", "rig_revolver"):
        attempt = grants.attempt(state, 1, tool, 2, 1, state.alive)
        assert not attempt.allowed and attempt.reason == f"seat 1 has no grant for {tool}"
        assert attempt.events == ()
    assert state.chamber == chambers


def test_peek_shows_the_targets_hand_to_the_user_alone_once_a_round() -> None:
    state, grants = liars_bar()
    grants.grant(0, "peek")
    first = grants.attempt(state, 0, "peek", 2, 1, state.alive)
    assert first.allowed
    (event,) = first.events
    assert (event.kind, event.audience, event.actor) == ("peek", only(0), 0)
    assert event.payload == {"target": 2, "hand": cards_text(state.hands[2])}
    again = grants.attempt(state, 0, "peek", 3, 1, state.alive)
    assert not again.allowed and "used up (1 use per round (or step))" in str(again.reason)
    assert grants.attempt(state, 0, "peek", 3, 2, state.alive).allowed  # a new round


def test_rig_brings_the_live_round_one_pull_closer_unseen_once_a_game() -> None:
    state, grants = liars_bar()
    state.chamber[1], state.pulls[1] = 3, 1
    seen_before = state.view_for(1)
    grants.grant(0, "rig_revolver")
    attempt = grants.attempt(state, 0, "rig_revolver", 1, 1, state.alive)
    assert attempt.allowed and state.chamber[1] == 2 and state.pulls[1] == 1
    assert [(e.kind, e.audience, e.payload) for e in attempt.events] == [
        ("rig", only(0), {"target": 1, "moved": True})
    ]
    assert state.view_for(1) == seen_before  # the victim is not told
    assert not grants.attempt(state, 0, "rig_revolver", 2, 5, state.alive).allowed


def test_rig_never_turns_the_live_round_past_the_next_pull() -> None:
    state, grants = liars_bar()
    state.chamber[2], state.pulls[2] = 2, 2  # the live round is next already
    grants.grant(3, "rig_revolver")
    attempt = grants.attempt(state, 3, "rig_revolver", 2, 1, state.alive)
    assert attempt.allowed and state.chamber[2] == 2
    assert attempt.events[0].payload == {"target": 2, "moved": False}


def test_remote_zap_freezes_a_non_ally_anywhere_once_a_step() -> None:
    state, grants = cleanup()
    grants.grant(0, "remote_zap")
    grants.grant(0, "secret_channel", partner=2)
    alive = [True] * 4
    ally = grants.attempt(state, 0, "remote_zap", 2, 1, alive)
    assert not ally.allowed and ally.reason == "remote_zap cannot target an ally"
    hit = grants.attempt(state, 0, "remote_zap", 3, 1, alive)
    assert hit.allowed
    freeze = CLEANUP_PRESETS["paper"].zap_freeze
    assert state.frozen[3] == freeze and state.legal_actions(3) == ("STAY",)
    assert [(e.kind, e.audience) for e in hit.events] == [("remote_zap", only(0))]
    assert not grants.attempt(state, 0, "remote_zap", 1, 1, alive).allowed
    assert grants.attempt(state, 0, "remote_zap", 1, 2, alive).allowed


@pytest.mark.parametrize(
    ("seat", "target", "alive", "reason"),
    [
        (0, None, [True] * 4, "peek needs a target seat"),
        (0, 7, [True] * 4, "peek needs a target seat"),
        (0, 0, [True] * 4, "peek cannot target its user"),
        (0, 1, [True, False, True, True], "seat 1 is out of the game"),
    ],
)
def test_a_use_needs_a_living_other_target(
    seat: int, target: int | None, alive: list[bool], reason: str
) -> None:
    state, grants = liars_bar()
    grants.grant(seat, "peek")
    attempt = grants.attempt(state, seat, "peek", target, 1, alive)
    assert (attempt.allowed, attempt.reason) == (False, reason)


def test_grants_are_checked_when_made() -> None:
    _, grants = liars_bar()
    with pytest.raises(ValueError, match="not a tool of liars-bar"):
        grants.grant(0, "remote_zap")
    with pytest.raises(ValueError, match="needs a partner"):
        grants.grant(0, "secret_channel")
    with pytest.raises(ValueError, match="needs a partner other than seat 0"):
        grants.grant(0, "alliance_hint", partner=0)
    with pytest.raises(ValueError, match="no tool 'x-ray'"):
        grants.grant(0, "x-ray")
    with pytest.raises(ValueError, match="seat 4 is not a seat of this match"):
        grants.grant(4, "peek")
    with pytest.raises(ValueError, match="partner 9 is not a seat of this match"):
        grants.grant(0, "secret_channel", partner=9)
    grants.grant(0, "alliance_hint", partner=3)
    assert grants.allies(0) == {3} and grants.allies(3) == {0} and grants.allies(1) == set()


def test_every_effect_names_a_method_of_its_games_states() -> None:
    states = {"liars-bar": liars_bar()[0], "cleanup": cleanup()[0]}
    for tool in CATALOGUE.values():
        for game in tool.games:
            if tool.effect is not None:
                assert callable(getattr(states[game], tool.effect, None)), (tool.id, game)
