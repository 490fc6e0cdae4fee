"""Cleanup's rules, one test per rule, on situations staged by setting the state's fields."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from pydantic import ValidationError

from games.base import Decision, Event, GameError, build_config
from games.cleanup.config import PRESETS, CleanupConfig
from games.cleanup.engine import ACTIONS, Cleanup, CleanupState

PAPER = PRESETS["paper"]


def new_state(seed: int = 0, **overrides: object) -> CleanupState:
    config = build_config(Cleanup, "paper", overrides)
    assert isinstance(config, CleanupConfig)
    state, _ = Cleanup(config).new_game(seed, 4)
    return state


def staged(seed: int = 0, **overrides: object) -> CleanupState:
    """A state at step 1 (so no pollution drifts unless the test moves it) with an empty board:
    no apples, no pollution, agents at the corners."""
    state = new_state(seed, **overrides)
    state.apples = bytes(len(state.apples))
    state.pollution = bytes(len(state.pollution))
    state.step = 1
    return state


def put(state: CleanupState, field: str, index: int, value: int) -> None:
    """Change one item of a board field; they hold immutable values, so this replaces it."""
    old = getattr(state, field)
    items = list(old)
    items[index] = value
    setattr(state, field, bytes(items) if isinstance(old, bytes) else tuple(items))


def tile(state: CleanupState, row: int, col: int) -> int:
    return row * state.layout.cols + col


def place(state: CleanupState, seat: int, row: int, col: int) -> None:
    put(state, "pos", seat, tile(state, row, col))


def act(state: CleanupState, actions: Mapping[int, str] | None = None) -> list[Event]:
    """Apply one step: the given seats' actions, STAY for everyone else."""
    chosen = dict.fromkeys(range(state.n), "STAY") | dict(actions or {})
    return state.apply({seat: Decision(action) for seat, action in chosen.items()})


def hand_end(events: list[Event]) -> Mapping[str, Any]:
    (end,) = [e for e in events if e.kind == "hand_end"]
    return end.payload


def position(state: CleanupState, seat: int) -> tuple[int, int]:
    return divmod(state.pos[seat], state.layout.cols)


# -- the board --------------------------------------------------------------------------------


def test_columns_two_and_three_are_river_the_rest_orchard() -> None:
    layout = new_state().layout
    assert (layout.rows, layout.cols) == (5, 6)
    assert {divmod(t, 6)[1] for t in layout.river} == {2, 3}
    assert {divmod(t, 6)[1] for t in layout.orchard} == {0, 1, 4, 5}
    assert len(layout.river) + len(layout.orchard) == 30


def test_agents_start_at_the_corners_in_seat_order() -> None:
    state = new_state()
    assert [position(state, s) for s in range(4)] == [(0, 0), (0, 5), (4, 0), (4, 5)]


def test_exactly_one_river_tile_polluted_at_reset() -> None:
    for seed in range(50):
        state = new_state(seed)
        assert sum(state.pollution) == 1
        (dirty,) = [t for t, p in enumerate(state.pollution) if p]
        assert dirty in state.layout.river


def test_apples_spawn_at_reset_on_empty_orchard_tiles_only() -> None:
    spawned = 0
    for seed in range(200):
        state = new_state(seed)
        for t, apple in enumerate(state.apples):
            if apple:
                assert t in state.layout.orchard and t not in state.pos
                spawned += 1
    # 16 eligible tiles × 200 games × 0.2 = 640 expected; ±20% is far beyond chance.
    assert 512 < spawned < 768


def test_reset_apples_follow_growth_prob() -> None:
    assert sum(new_state(growth_prob=0.0).apples) == 0
    state = new_state(growth_prob=1.0)
    assert [t for t, a in enumerate(state.apples) if a] == [
        t for t in state.layout.orchard if t not in state.pos
    ]


# -- actions and moves ------------------------------------------------------------------------


def test_legal_actions_are_all_ten_with_stay_first() -> None:
    state = new_state()
    assert state.legal_actions(0) == ACTIONS
    assert len(ACTIONS) == 10 and ACTIONS[0] == "STAY"
    assert state.decision_kind(0) == "act"


def test_every_seat_acts_every_step_frozen_ones_too() -> None:
    state = staged()
    put(state, "frozen", 2, 3)
    assert state.to_act() == (0, 1, 2, 3)


def test_moves_change_row_and_column() -> None:
    state = staged()
    place(state, 0, 2, 1)
    act(state, {0: "UP"})
    assert position(state, 0) == (1, 1)
    act(state, {0: "DOWN"})
    assert position(state, 0) == (2, 1)
    act(state, {0: "LEFT"})
    assert position(state, 0) == (2, 0)
    act(state, {0: "RIGHT"})
    assert position(state, 0) == (2, 1)


def test_off_grid_move_stays() -> None:
    state = staged()
    act(state, {0: "UP", 1: "RIGHT", 2: "DOWN", 3: "DOWN"})
    act(state, {0: "LEFT", 1: "UP", 2: "LEFT", 3: "RIGHT"})
    assert [position(state, s) for s in range(4)] == [(0, 0), (0, 5), (4, 0), (4, 5)]


def test_agents_may_share_a_tile() -> None:
    state = staged()
    place(state, 0, 2, 1)
    place(state, 1, 2, 2)
    act(state, {1: "LEFT"})
    assert position(state, 0) == position(state, 1) == (2, 1)


# -- cleaning and pollution -------------------------------------------------------------------


def test_clean_lowers_pollution() -> None:
    state = staged()
    place(state, 0, 1, 2)
    put(state, "pollution", tile(state, 1, 2), 1)
    events = act(state, {0: "CLEAN"})
    assert state.pollution[tile(state, 1, 2)] == 0
    assert hand_end(events)["cleaned"] == [[1, 2]]


def test_clean_never_lowers_pollution_below_zero() -> None:
    state = staged()
    place(state, 0, 1, 2)
    place(state, 1, 1, 2)
    put(state, "pollution", tile(state, 1, 2), 1)
    events = act(state, {0: "CLEAN", 1: "CLEAN"})
    assert state.pollution[tile(state, 1, 2)] == 0
    assert hand_end(events)["cleaned"] == [[1, 2]]
    events = act(state, {0: "CLEAN"})
    assert state.pollution[tile(state, 1, 2)] == 0
    assert hand_end(events)["cleaned"] == []


def test_clean_on_orchard_does_nothing() -> None:
    state = staged()
    put(state, "pollution", tile(state, 0, 2), 1)
    before = bytes(state.pollution)
    events = act(state, {0: "CLEAN"})
    assert bytes(state.pollution) == before
    assert hand_end(events)["cleaned"] == []


def test_pollution_drifts_every_fifth_step() -> None:
    state = new_state(3)
    drifted = []
    while not state.is_terminal():
        step = state.step
        before = sum(state.pollution)
        events = act(state)
        payload = hand_end(events)
        if payload["polluted"] is not None:
            drifted.append(step)
            row, col = payload["polluted"]
            assert state.pollution[tile(state, row, col)] == 1
            assert sum(state.pollution) == before + 1
        else:
            assert sum(state.pollution) == before
    assert drifted == [0, 5, 10, 15, 20, 25]


def test_drift_pollutes_a_clean_river_tile() -> None:
    for seed in range(30):
        state = staged(seed)
        state.step = 0
        dirty = state.layout.river[:-1]
        for t in dirty:
            put(state, "pollution", t, 1)
        payload = hand_end(act(state))
        # Only one river tile is clean, so the drift must pick it.
        assert payload["polluted"] == list(divmod(state.layout.river[-1], 6))


def test_no_drift_when_every_river_tile_is_polluted() -> None:
    state = staged()
    state.step = 0
    for t in state.layout.river:
        put(state, "pollution", t, 1)
    payload = hand_end(act(state))
    assert payload["polluted"] is None
    assert sum(state.pollution) == len(state.layout.river)


def test_pollution_interval_is_configurable() -> None:
    state = new_state(1, pollution_interval=2, max_steps=7)
    drifted = []
    while not state.is_terminal():
        step = state.step
        if hand_end(act(state))["polluted"] is not None:
            drifted.append(step)
    assert drifted == [0, 2, 4, 6]


# -- apples -----------------------------------------------------------------------------------


def test_apples_grow_on_empty_orchard_tiles_below_threshold() -> None:
    state = staged(growth_prob=1.0)
    for t in state.layout.river[:5]:
        put(state, "pollution", t, 1)  # five: just below the threshold of six
    apple_tile = tile(state, 2, 0)
    put(state, "apples", apple_tile, 1)
    events = act(state)
    empty = [t for t in state.layout.orchard if t not in state.pos and t != apple_tile]
    assert hand_end(events)["grown"] == len(empty)
    assert [t for t, a in enumerate(state.apples) if a] == sorted([*empty, apple_tile])


def test_no_apples_grow_at_pollution_threshold() -> None:
    state = staged(growth_prob=1.0)
    for t in state.layout.river[:6]:
        put(state, "pollution", t, 1)
    for _ in range(3):
        assert hand_end(act(state))["grown"] == 0
    assert sum(state.apples) == 0


def test_no_apple_grows_under_an_agent_or_on_the_river() -> None:
    state = staged(growth_prob=1.0)
    place(state, 0, 2, 1)
    act(state)
    for t in state.pos:
        assert state.apples[t] == 0
    assert all(state.apples[t] == 0 for t in state.layout.river)


def test_apple_growth_follows_growth_prob() -> None:
    grown = 0
    tries = 0
    for seed in range(100):
        state = staged(seed)
        grown += hand_end(act(state))["grown"]
        tries += len(state.layout.orchard) - 4
    assert 0.16 < grown / tries < 0.24


def test_agent_on_an_apple_collects_it() -> None:
    state = staged()
    put(state, "apples", tile(state, 1, 0), 1)
    events = act(state, {0: "DOWN"})
    assert state.scores == (1, 0, 0, 0)
    assert state.apples[tile(state, 1, 0)] == 0
    assert hand_end(events)["rewards"] == [1, 0, 0, 0]


def test_two_agents_on_one_apple_both_score() -> None:
    state = staged()
    place(state, 0, 2, 0)
    place(state, 1, 1, 1)
    apple = tile(state, 1, 0)
    put(state, "apples", apple, 1)
    events = act(state, {0: "UP", 1: "LEFT"})
    assert hand_end(events)["rewards"] == [1, 1, 0, 0]
    assert state.scores == (1, 1, 0, 0)
    assert state.apples[apple] == 0


# -- zaps and freezing ------------------------------------------------------------------------


def test_zap_freezes_every_agent_on_the_adjacent_tile() -> None:
    state = staged()
    place(state, 0, 2, 0)
    place(state, 1, 2, 1)
    place(state, 2, 2, 1)
    place(state, 3, 3, 0)
    events = act(state, {0: "ZAP_RIGHT"})
    assert state.frozen == (0, 5, 5, 0)
    (zap,) = [e for e in events if e.kind == "zap"]
    assert zap.actor == 0
    assert dict(zap.payload) == {
        "step": 1,
        "direction": "RIGHT",
        "target": [2, 1],
        "frozen_seats": [1, 2],
    }


def test_zap_directions_hit_the_adjacent_tile() -> None:
    for zap, (row, col) in [
        ("ZAP_UP", (1, 2)),
        ("ZAP_DOWN", (3, 2)),
        ("ZAP_LEFT", (2, 1)),
        ("ZAP_RIGHT", (2, 3)),
    ]:
        state = staged()
        place(state, 0, 2, 2)
        place(state, 1, row, col)
        act(state, {0: zap})
        assert state.frozen == (0, 5, 0, 0), zap


def test_zap_aims_after_this_steps_moves() -> None:
    state = staged()
    place(state, 0, 2, 0)
    place(state, 1, 2, 2)  # walks into the line of fire
    place(state, 2, 2, 1)  # walks out of it
    act(state, {0: "ZAP_RIGHT", 1: "LEFT", 2: "DOWN"})
    assert state.frozen == (0, 5, 0, 0)


def test_zap_off_the_grid_hits_nobody() -> None:
    state = staged()
    events = act(state, {0: "ZAP_UP"})
    (zap,) = [e for e in events if e.kind == "zap"]
    assert zap.payload["target"] is None and zap.payload["frozen_seats"] == []
    assert state.frozen == (0, 0, 0, 0)


def test_frozen_agent_can_only_stay() -> None:
    state = staged()
    put(state, "frozen", 1, 2)
    assert state.legal_actions(1) == ("STAY",)
    for action in ACTIONS[1:]:
        with pytest.raises(GameError, match="seat 1"):
            act(state, {1: action})
    act(state, {1: "STAY"})


def test_zapped_agent_is_stay_only_for_exactly_zap_freeze_steps() -> None:
    for freeze in (1, 3, 5):
        state = staged(zap_freeze=freeze)
        place(state, 0, 2, 0)
        place(state, 1, 2, 1)
        act(state, {0: "ZAP_RIGHT"})
        stay_only = 0
        while state.legal_actions(1) == ("STAY",):
            stay_only += 1
            act(state)
        assert stay_only == freeze
        assert state.legal_actions(1) == ACTIONS


def test_zap_freeze_zero_freezes_nobody() -> None:
    state = staged(zap_freeze=0)
    place(state, 0, 2, 0)
    place(state, 1, 2, 1)
    put(state, "apples", tile(state, 2, 1), 1)
    events = act(state, {0: "ZAP_RIGHT"})
    assert state.legal_actions(1) == ACTIONS
    assert hand_end(events)["rewards"] == [0, 1, 0, 0]


def test_zap_duel_has_no_seat_order_winner() -> None:
    for first, second in [(0, 1), (1, 0), (0, 3), (3, 0)]:
        state = staged()
        place(state, first, 2, 0)
        place(state, second, 2, 1)
        act(state, {first: "ZAP_RIGHT", second: "ZAP_LEFT"})
        assert state.frozen[first] == state.frozen[second] == 5


def test_zapped_agent_still_fires_its_own_zap() -> None:
    state = staged()
    place(state, 0, 2, 0)
    place(state, 1, 2, 1)
    place(state, 2, 2, 2)
    events = act(state, {0: "ZAP_RIGHT", 1: "ZAP_RIGHT"})
    assert state.frozen == (0, 5, 5, 0)
    assert [e.actor for e in events if e.kind == "zap"] == [0, 1]


def test_zapping_a_frozen_agent_restarts_its_freeze() -> None:
    state = staged()
    place(state, 0, 2, 0)
    place(state, 1, 2, 1)
    put(state, "frozen", 1, 2)
    act(state, {0: "ZAP_RIGHT"})
    assert state.frozen[1] == 5


def test_zapped_agent_does_not_collect() -> None:
    state = staged()
    place(state, 0, 2, 0)
    place(state, 1, 2, 2)
    apple = tile(state, 2, 1)
    put(state, "apples", apple, 1)
    events = act(state, {0: "ZAP_RIGHT", 1: "LEFT"})
    assert hand_end(events)["rewards"] == [0, 0, 0, 0]
    assert state.apples[apple] == 1 and state.scores == (0, 0, 0, 0)


def test_frozen_agent_collects_nothing_until_its_last_stay_only_step() -> None:
    # The counter is 0 after the tick of the last STAY-only step: the agent is unfrozen for
    # collection there, though it could not move (see the engine docstring).
    state = staged(zap_freeze=3)
    place(state, 0, 2, 0)
    place(state, 1, 2, 2)
    apple = tile(state, 2, 1)
    put(state, "apples", apple, 1)
    act(state, {0: "ZAP_RIGHT", 1: "LEFT"})
    rewards = []
    while state.legal_actions(1) == ("STAY",):
        rewards.append(hand_end(act(state))["rewards"])
    assert rewards == [[0, 0, 0, 0], [0, 0, 0, 0], [0, 1, 0, 0]]


def test_zapped_agent_does_not_clean() -> None:
    state = staged()
    place(state, 0, 1, 1)
    place(state, 1, 1, 2)
    put(state, "pollution", tile(state, 1, 2), 1)
    events = act(state, {0: "ZAP_RIGHT", 1: "CLEAN"})
    assert state.pollution[tile(state, 1, 2)] == 1
    assert hand_end(events)["cleaned"] == []


# -- decisions ---------------------------------------------------------------------------------


def test_missing_seat_is_an_error() -> None:
    state = staged()
    with pytest.raises(GameError, match="expected"):
        state.apply({0: Decision("STAY"), 1: Decision("STAY"), 2: Decision("STAY")})
    with pytest.raises(GameError, match="expected"):
        state.apply({s: Decision("STAY") for s in (0, 1, 2, 4)})


def test_unknown_action_is_an_error_and_changes_nothing() -> None:
    state = staged()
    before = (list(state.pos), state.step, state.rng.getstate())
    with pytest.raises(GameError, match="'JUMP' is not a legal action"):
        act(state, {0: "UP", 3: "JUMP"})
    assert (list(state.pos), state.step, state.rng.getstate()) == before


def test_talk_is_ignored() -> None:
    state = staged()
    state.apply({s: Decision("STAY", talk="hello") for s in range(4)})
    assert state.step == 2


# -- the episode ------------------------------------------------------------------------------


def test_episode_ends_after_max_steps() -> None:
    state = new_state(max_steps=4)
    for _ in range(4):
        assert not state.is_terminal()
        act(state)
    assert state.is_terminal()
    assert state.to_act() == ()
    assert state.legal_actions(0) == ()
    with pytest.raises(GameError, match="over"):
        act(state)


def test_results_place_by_apples_and_ties_share_the_better_place() -> None:
    state = staged()
    state.scores = (4, 4, 2, 1)
    results = state.results()
    assert [r.placement for r in results] == [1, 1, 3, 4]
    assert [r.winner for r in results] == [True, True, False, False]
    assert [r.score for r in results] == [4.0, 4.0, 2.0, 1.0]
    state.scores = (3, 5, 3, 1)
    assert [r.placement for r in state.results()] == [2, 1, 2, 4]


def test_game_end_reports_scores_placement_winners_and_steps() -> None:
    state = new_state(max_steps=1)
    state.scores = (0, 2, 2, 1)
    events = act(state)
    assert [e.kind for e in events][-2:] == ["hand_end", "game_end"]
    assert dict(events[-1].payload) == {
        "scores": [0, 2, 2, 1],
        "placement": [4, 1, 1, 3],
        "winners": [1, 2],
        "steps": 1,
    }


def test_events_frame_every_step_with_hand_start_and_hand_end() -> None:
    state, opening = Cleanup(PAPER).new_game(7, 4)
    assert [e.kind for e in opening] == ["game_start", "hand_start"]
    start = opening[0].payload
    assert (start["rows"], start["cols"], start["river_cols"]) == (5, 6, [2, 3])
    assert start["positions"] == [[0, 0], [0, 5], [4, 0], [4, 5]]
    assert opening[1].payload["step"] == 0
    for step in range(30):
        events = act(state, {0: "ZAP_DOWN"} if step == 3 else None)
        kinds = [e.kind for e in events]
        zaps = ["zap"] if step == 3 else []
        closing = ["game_end"] if step == 29 else ["hand_start"]
        assert kinds == [*zaps, "hand_end", *closing]
        assert hand_end(events)["step"] == step
        if step < 29:
            assert events[-1].payload["step"] == step + 1
    assert all(e.audience.seats is None for e in opening)


def test_hand_start_summarises_the_board_before_the_step() -> None:
    state, _ = Cleanup(PAPER).new_game(2, 4)
    place(state, 1, 2, 4)
    put(state, "frozen", 2, 2)
    put(state, "scores", 3, 7)
    state.apples = bytes(30)
    put(state, "apples", tile(state, 0, 1), 1)
    events = act(state, {0: "DOWN"})
    summary = events[-1].payload
    cols = 6
    assert summary["step"] == 1
    assert summary["positions"] == [[1, 0], [2, 4], [4, 0], [4, 5]]
    assert summary["frozen"] == [0, 0, 1, 0]
    assert summary["scores"] == [0, 0, 0, 7]
    apples = summary["apples"]
    assert isinstance(apples, str) and len(apples) == 30
    assert {i for i, c in enumerate(apples) if c == "1"} == {
        t for t, a in enumerate(state.apples) if a
    }
    assert summary["pollution"] == "".join(str(p) for p in state.pollution)
    assert apples[0 * cols + 1] == "1"


def test_event_payloads_are_json_ready() -> None:
    state, opening = Cleanup(PAPER).new_game(5, 4)
    events = list(opening)
    events += act(state, {0: "ZAP_UP", 1: "CLEAN"})
    for event in events:
        payload = event.to_json()["payload"]
        assert json.loads(json.dumps(payload)) == payload


def test_view_shows_the_whole_board() -> None:
    state = staged()
    place(state, 2, 3, 3)
    put(state, "frozen", 1, 4)
    state.scores = (1, 2, 3, 4)
    put(state, "apples", tile(state, 0, 1), 1)
    put(state, "pollution", tile(state, 4, 2), 1)
    view = state.view_for(2)
    assert view.seat == 2 and view.step == 1 and view.max_steps == 30
    assert (view.rows, view.cols, view.river_cols) == (5, 6, (2, 3))
    assert view.positions == ((0, 0), (0, 5), (3, 3), (4, 5))
    assert view.frozen == (0, 4, 0, 0)
    assert view.scores == (1, 2, 3, 4)
    assert view.apples == bytes(state.apples) and view.apples[1] == 1
    assert view.pollution[4 * 6 + 2] == 1
    with pytest.raises(GameError):
        state.view_for(4)


# -- config -----------------------------------------------------------------------------------


def test_paper_preset_matches_the_spec() -> None:
    assert CleanupConfig() == PAPER
    assert (PAPER.rows, PAPER.cols, PAPER.river_cols) == (5, 6, (2, 3))
    assert PAPER.start_positions == ((0, 0), (0, 5), (4, 0), (4, 5))
    assert (PAPER.initial_polluted, PAPER.pollution_interval, PAPER.pollution_threshold) == (
        1,
        5,
        6,
    )
    assert (PAPER.growth_prob, PAPER.zap_freeze, PAPER.max_steps) == (0.2, 5, 30)
    game = Cleanup(PAPER)
    assert game.min_seats == game.max_seats == 4


@pytest.mark.parametrize(
    "overrides",
    [
        {"river_cols": (6,)},
        {"river_cols": ()},
        {"river_cols": (2, 2)},
        {"cols": 2, "river_cols": (0, 1), "start_positions": ((0, 0),)},
        {"start_positions": ((5, 0), (0, 5), (4, 0), (4, 5))},
        {"initial_polluted": 11},
        {"growth_prob": 1.5},
        {"pollution_interval": 0},
        {"bogus": 1},
    ],
)
def test_config_rejects_impossible_layouts(overrides: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        CleanupConfig.model_validate(PAPER.model_dump() | overrides)


def test_seat_count_must_match_the_start_positions() -> None:
    for seats in (3, 5):
        with pytest.raises(GameError, match="4 seats"):
            Cleanup(PAPER).new_game(0, seats)


def test_config_is_frozen() -> None:
    with pytest.raises(ValidationError):
        PAPER.max_steps = 3
