"""Properties of whole Cleanup episodes (hypothesis), and the behaviour of the Cleanup bots."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace

from hypothesis import given, settings
from hypothesis import strategies as st

from arena.players.cleanup_bots import CLEANUP_PERSONAS
from arena.players.personas import RANDOM, Persona
from games.base import Decision, Event
from games.cleanup.config import PRESETS, CleanupConfig
from games.cleanup.engine import ACTIONS, Cleanup, CleanupState, CleanupView

PAPER = PRESETS["paper"]

configs = st.builds(
    lambda steps, freeze, interval, threshold, growth: PAPER.model_copy(
        update={
            "max_steps": steps,
            "zap_freeze": freeze,
            "pollution_interval": interval,
            "pollution_threshold": threshold,
            "growth_prob": growth,
        }
    ),
    st.integers(1, 40),
    st.integers(0, 6),
    st.integers(1, 7),
    st.integers(0, 10),
    st.sampled_from([0.0, 0.2, 0.5, 1.0]),
)
seeds = st.integers(0, 2**32)
# One number per seat and step, read modulo the number of legal actions.
choices = st.lists(st.integers(0, 9), min_size=4 * 40, max_size=4 * 40)


@dataclass
class Episode:
    state: CleanupState
    events: list[Event]
    decisions: list[dict[int, Decision]]
    views: list[tuple[CleanupView, ...]]  # every seat's view before each step, then at the end


def play(config: CleanupConfig, seed: int, picks: Sequence[int]) -> Episode:
    state, events = Cleanup(config).new_game(seed, 4)
    decisions: list[dict[int, Decision]] = []
    views: list[tuple[CleanupView, ...]] = []
    step = 0
    while not state.is_terminal():
        views.append(tuple(state.view_for(s) for s in range(4)))
        chosen = {}
        for seat in state.to_act():
            legal = state.legal_actions(seat)
            chosen[seat] = Decision(legal[picks[(step * 4 + seat) % len(picks)] % len(legal)])
        decisions.append(chosen)
        events += state.apply(chosen)
        step += 1
    views.append(tuple(state.view_for(s) for s in range(4)))
    return Episode(state, events, decisions, views)


def put(state: CleanupState, field: str, index: int, value: int) -> None:
    """Change one item of a board field; they hold immutable values, so this replaces it."""
    old = getattr(state, field)
    items = list(old)
    items[index] = value
    setattr(state, field, bytes(items) if isinstance(old, bytes) else tuple(items))


def as_json(events: list[Event]) -> str:
    return json.dumps([event.to_json() for event in events])


@given(configs, seeds, choices)
def test_episode_terminates_in_exactly_max_steps(
    config: CleanupConfig, seed: int, picks: list[int]
) -> None:
    episode = play(config, seed, picks)
    assert len(episode.decisions) == config.max_steps == episode.state.step
    kinds = [e.kind for e in episode.events]
    assert kinds.count("hand_end") == kinds.count("hand_start") == config.max_steps
    assert kinds[-1] == "game_end" and kinds.count("game_end") == 1


@given(configs, seeds, choices)
def test_replay_with_the_same_seed_and_decisions_is_identical(
    config: CleanupConfig, seed: int, picks: list[int]
) -> None:
    first = play(config, seed, picks)
    state, events = Cleanup(config).new_game(seed, 4)
    for chosen in first.decisions:
        events += state.apply(chosen)
    assert as_json(events) == as_json(first.events)
    assert state.results() == first.state.results()


@given(configs, seeds, choices)
def test_views_are_identical_for_all_seats_except_the_seat(
    config: CleanupConfig, seed: int, picks: list[int]
) -> None:
    for views in play(config, seed, picks).views:
        assert [v.seat for v in views] == [0, 1, 2, 3]
        assert all(replace(v, seat=0) == views[0] for v in views)


@given(configs, seeds, seeds, choices)
def test_views_do_not_depend_on_the_rng(
    config: CleanupConfig, seed: int, other_seed: int, picks: list[int]
) -> None:
    state, _ = Cleanup(config).new_game(seed, 4)
    twin, _ = Cleanup(config).new_game(other_seed, 4)
    step = 0
    while not state.is_terminal():
        # The twin copies every public field and keeps a different RNG: the only hidden thing.
        twin.pos, twin.frozen, twin.scores = state.pos, state.frozen, state.scores
        twin.apples, twin.pollution, twin.step = state.apples, state.pollution, state.step
        for seat in range(4):
            view = state.view_for(seat)
            state.rng.seed(step)  # disturbing the RNG must not change the view either
            assert state.view_for(seat) == view == twin.view_for(seat)
        chosen = {}
        for seat in state.to_act():
            legal = state.legal_actions(seat)
            assert twin.legal_actions(seat) == legal
            chosen[seat] = Decision(legal[picks[step * 4 + seat] % len(legal)])
        state.apply(chosen)
        step += 1


@given(configs, seeds, choices)
def test_scores_equal_the_apples_collected_in_the_events(
    config: CleanupConfig, seed: int, picks: list[int]
) -> None:
    episode = play(config, seed, picks)
    collected = [0, 0, 0, 0]
    for event in episode.events:
        if event.kind == "hand_end":
            collected = [c + r for c, r in zip(collected, event.payload["rewards"], strict=True)]
    assert collected == list(episode.state.scores) == episode.events[-1].payload["scores"]
    assert [r.score for r in episode.state.results()] == [float(c) for c in collected]


@given(configs, seeds, choices)
def test_pollution_stays_zero_or_one_and_only_on_the_river(
    config: CleanupConfig, seed: int, picks: list[int]
) -> None:
    river = set(Cleanup(config).new_game(seed, 4)[0].layout.river)
    for views in play(config, seed, picks).views:
        for t, p in enumerate(views[0].pollution):
            assert p in (0, 1)
            assert p == 0 or t in river


@given(configs, seeds, choices)
def test_apples_are_never_on_river_tiles(
    config: CleanupConfig, seed: int, picks: list[int]
) -> None:
    river = Cleanup(config).new_game(seed, 4)[0].layout.river
    for views in play(config, seed, picks).views:
        assert all(views[0].apples[t] == 0 for t in river)
        assert set(views[0].apples) <= {0, 1}


@given(configs, seeds, choices)
def test_freeze_counters_stay_within_zap_freeze(
    config: CleanupConfig, seed: int, picks: list[int]
) -> None:
    for views in play(config, seed, picks).views:
        assert all(0 <= f <= config.zap_freeze for f in views[0].frozen)


@given(configs, seeds, choices)
def test_hand_start_matches_the_board_the_seats_decide_on(
    config: CleanupConfig, seed: int, picks: list[int]
) -> None:
    episode = play(config, seed, picks)
    starts = [e.payload for e in episode.events if e.kind == "hand_start"]
    for summary, views in zip(starts, episode.views, strict=False):
        view = views[0]
        assert summary["step"] == view.step
        assert summary["positions"] == [list(p) for p in view.positions]
        assert summary["frozen"] == list(view.frozen)
        assert summary["scores"] == list(view.scores)
        assert summary["apples"] == "".join(map(str, view.apples))
        assert summary["pollution"] == "".join(map(str, view.pollution))


# -- bots -------------------------------------------------------------------------------------


def bot_episode(personas: Sequence[Persona], seed: int) -> tuple[CleanupState, list[str]]:
    """Play one paper episode with these personas; returns the end state and every action."""
    state, _ = Cleanup(PAPER).new_game(seed, 4)
    rngs = [random.Random(f"{seed}/bot/{seat}") for seat in range(4)]
    actions = []
    while not state.is_terminal():
        chosen = {}
        for seat in state.to_act():
            persona = personas[seat]
            legal = state.legal_actions(seat)
            decision = persona.strategy(
                state.view_for(seat), legal, rngs[seat], PAPER, dict(persona.params)
            )
            assert decision.action in legal, (persona.name, decision.action, legal)
            chosen[seat] = decision
            actions.append(decision.action)
        state.apply(chosen)
    return state, actions


HARVESTER = CLEANUP_PERSONAS["harvester"]
CLEANER = CLEANUP_PERSONAS["cleaner"]
ZAPPER = CLEANUP_PERSONAS["zapper"]


def test_personas_are_named_documented_and_for_cleanup() -> None:
    assert set(CLEANUP_PERSONAS) == {"harvester", "cleaner", "zapper"}
    for name, persona in CLEANUP_PERSONAS.items():
        assert persona.name == name and persona.games == ("cleanup",) and persona.summary
    assert dict(CLEANER.params) == {"clean_at": 3.0}
    assert dict(ZAPPER.params) == {"zap_prob": 0.7}


@given(seeds)
@settings(max_examples=25)
def test_bots_are_deterministic_given_the_seed_and_always_legal(seed: int) -> None:
    lineup = [HARVESTER, CLEANER, ZAPPER, RANDOM]
    first_state, first_actions = bot_episode(lineup, seed)
    again_state, again_actions = bot_episode(lineup, seed)
    assert first_actions == again_actions
    assert first_state.scores == again_state.scores


def test_harvester_collects_more_apples_than_random() -> None:
    harvested = randomly = 0
    for seed in range(10):
        state, _ = bot_episode([HARVESTER, RANDOM, HARVESTER, RANDOM], seed)
        harvested += state.scores[0] + state.scores[2]
        randomly += state.scores[1] + state.scores[3]
    assert harvested > 2 * randomly


def test_cleaner_cleans_when_pollution_is_high() -> None:
    state, _ = Cleanup(PAPER).new_game(0, 4)
    state.pollution = bytes(30)
    for t in state.layout.river[:3]:
        put(state, "pollution", t, 1)
    put(state, "pos", 0, state.layout.river[0])
    params = dict(CLEANER.params)
    rng = random.Random(0)
    assert CLEANER.strategy(state.view_for(0), ACTIONS, rng, PAPER, params).action == "CLEAN"
    # Away from the river it walks towards the nearest polluted tile: (0, 2) from (0, 0).
    assert CLEANER.strategy(state.view_for(2), ACTIONS, rng, PAPER, params).action in {
        "UP",
        "RIGHT",
    }
    assert CLEANER.strategy(state.view_for(1), ACTIONS, rng, PAPER, params).action == "LEFT"


def test_cleaner_harvests_below_clean_at() -> None:
    state, _ = Cleanup(PAPER).new_game(0, 4)
    state.pollution = bytes(30)
    put(state, "pollution", state.layout.river[0], 1)
    put(state, "pos", 0, state.layout.river[0])
    state.apples = bytes(30)
    put(state, "apples", 1 * 6 + 1, 1)
    view = state.view_for(0)
    decision = CLEANER.strategy(view, ACTIONS, random.Random(0), PAPER, dict(CLEANER.params))
    assert decision.action in {"DOWN", "LEFT"}  # towards the apple at (1, 1) from (0, 2)


def test_cleaner_issues_clean_over_an_episode_with_high_pollution() -> None:
    _, actions = bot_episode([CLEANER] * 4, 1)
    assert actions.count("CLEAN") > 0


def test_harvester_walks_to_the_nearest_apple() -> None:
    state, _ = Cleanup(PAPER).new_game(0, 4)
    state.apples = bytes(30)
    put(state, "apples", 0 * 6 + 3, 1)  # three steps right of seat 0
    put(state, "apples", 2 * 6 + 0, 1)  # two steps down: nearer
    rng = random.Random(0)
    assert HARVESTER.strategy(state.view_for(0), ACTIONS, rng, PAPER, {}).action == "DOWN"
    state.apples = bytes(30)
    assert HARVESTER.strategy(state.view_for(0), ACTIONS, rng, PAPER, {}).action == "STAY"


def test_zapper_zaps_an_unfrozen_neighbour_and_spares_a_frozen_one() -> None:
    state, _ = Cleanup(PAPER).new_game(0, 4)
    put(state, "pos", 1, 1)  # (0, 1): right of seat 0
    params = {"zap_prob": 1.0}
    rng = random.Random(0)
    assert ZAPPER.strategy(state.view_for(0), ACTIONS, rng, PAPER, params).action == "ZAP_RIGHT"
    put(state, "frozen", 1, 3)
    assert ZAPPER.strategy(state.view_for(0), ACTIONS, rng, PAPER, params).action != "ZAP_RIGHT"
    put(state, "frozen", 1, 0)
    never = {"zap_prob": 0.0}
    assert not ZAPPER.strategy(state.view_for(0), ACTIONS, rng, PAPER, never).action.startswith(
        "ZAP"
    )


def test_frozen_bots_stay() -> None:
    state, _ = Cleanup(PAPER).new_game(0, 4)
    put(state, "frozen", 0, 2)
    put(state, "pos", 1, 1)
    for persona in CLEANUP_PERSONAS.values():
        params = {**persona.params, "zap_prob": 1.0}
        decision = persona.strategy(state.view_for(0), ("STAY",), random.Random(0), PAPER, params)
        assert decision.action == "STAY"
