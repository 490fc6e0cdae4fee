"""Liar's Bar invariants over random games (hypothesis), and the bot personas.

Games are drawn as a `Table`: preset, seat count, game seed, a seed for the test's random chooser,
how often the chooser calls "Liar!" (0 makes every round end by the house, 1 challenges every
play) and a round cap (small caps exercise the draw). The chooser plays uniformly among the legal
plays and sometimes talks past the table-talk limit.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from arena.players.liars_bar_bots import LIARS_BAR_PERSONAS, chance_claim_is_false
from games.base import OBSERVER, PUBLIC, Decision, Event
from games.liars_bar.config import PRESETS, LiarsBarConfig
from games.liars_bar.engine import (
    ACCEPT,
    CHALLENGE,
    LETTERS,
    Claim,
    LiarsBar,
    LiarsBarState,
    LiarsBarView,
)

GAMES = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def counts(cards: str) -> list[int]:
    """`"QQJ"` -> `[2, 0, 0, 1]`."""
    return [cards.count(letter) for letter in LETTERS]


def decision_bound(config: LiarsBarConfig, n: int) -> int:
    """Most decisions a game can take.

    A round deals `hand_size` cards to at most `n` players; every play takes at least one of them
    out of the hands, and each play is answered by at most one response. So a round has at most
    `2 × n × hand_size` decisions, and a game at most `max_rounds` times that.
    """
    return config.max_rounds * 2 * n * config.hand_size


# -- random games ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    preset: str
    n: int
    seed: int
    chooser: int
    challenge_rate: float
    max_rounds: int

    def config(self) -> LiarsBarConfig:
        data = PRESETS[self.preset].model_dump() | {"max_rounds": self.max_rounds}
        return LiarsBarConfig.model_validate(data)


tables = st.builds(
    Table,
    preset=st.sampled_from(["classic", "paper"]),
    n=st.integers(2, 4),
    seed=st.integers(0, 2**32 - 1),
    chooser=st.integers(0, 2**32 - 1),
    challenge_rate=st.sampled_from([0.0, 0.15, 0.5, 1.0]),
    max_rounds=st.sampled_from([1, 3, 100]),
)


def choose(state: LiarsBarState, seat: int, rng: random.Random, challenge_rate: float) -> Decision:
    legal = state.legal_actions(seat)
    if state.decision_kind(seat) == "respond":
        assert set(legal) == {ACCEPT, CHALLENGE}
        return Decision(CHALLENGE if rng.random() < challenge_rate else ACCEPT)
    talk = "" if rng.random() < 0.7 else "talk " * rng.randrange(60)
    return Decision(rng.choice(legal), talk)


Step = tuple[LiarsBarState, tuple[int, Decision] | None, list[Event]]


def play_steps(table: Table) -> Iterator[Step]:
    """The game's state, the decision just applied (None for `new_game`) and the events it
    produced, step by step (the state is live: inspect it before asking for the next step)."""
    config = table.config()
    state, events = LiarsBar(config).new_game(table.seed, table.n)
    yield state, None, events
    chooser = random.Random(table.chooser)
    bound = decision_bound(config, table.n)
    for _ in range(bound):
        if state.is_terminal():
            return
        seat = state.to_act()[0]
        decision = choose(state, seat, chooser, table.challenge_rate)
        yield state, (seat, decision), state.apply({seat: decision})
    assert state.is_terminal(), f"still going after {bound} decisions"


def play(table: Table) -> Iterator[tuple[LiarsBarState, list[Event]]]:
    for state, _, events in play_steps(table):
        yield state, events


def event_log(table: Table) -> str:
    return json.dumps([e.to_json() for _, events in play(table) for e in events])


# -- cards ----------------------------------------------------------------------------------------


class Ledger:
    """The round in progress as the events tell it: what each seat was dealt, still holds and
    has played. Checks each event against it."""

    def __init__(self, config: LiarsBarConfig, n: int) -> None:
        self.config = config
        self.deck = counts("".join(config.deck()))
        self.n = n
        self.dealt = [[0] * 4 for _ in range(n)]
        self.held = [[0] * 4 for _ in range(n)]
        self.played = [0] * 4
        self.last_play: tuple[int, str] | None = None
        self.last_reveal: str | None = None
        self.pending_play: tuple[int, str] | None = None

    def decided(self, step: tuple[int, Decision] | None) -> None:
        """The true cards of a play come from the decision (no event shows them to anyone)."""
        if step is not None and step[1].action.startswith("play:"):
            self.pending_play = (step[0], step[1].action.removeprefix("play:"))

    def record(self, event: Event) -> None:
        kind, payload, actor = event.kind, event.payload, event.actor
        if kind == "hand_start":
            self.dealt = [[0] * 4 for _ in range(self.n)]
            for seat, hand in payload["hands"].items():
                self.dealt[int(seat)] = counts(hand)
            self.held = [list(hand) for hand in self.dealt]
            self.played = [0] * 4
            self.last_play = None
            totals = [sum(hand[i] for hand in self.dealt) for i in range(4)]
            assert all(t <= d for t, d in zip(totals, self.deck, strict=True)), totals
            assert all(sum(counts(h)) == self.config.hand_size for h in payload["hands"].values())
        elif kind == "play":
            assert actor is not None and self.pending_play is not None
            seat, cards_played = self.pending_play
            assert seat == actor and sum(counts(cards_played)) == payload["count"]
            cards = counts(cards_played)
            self.held[actor] = [h - c for h, c in zip(self.held[actor], cards, strict=True)]
            assert min(self.held[actor]) >= 0, "played a card it did not hold"
            self.played = [p + c for p, c in zip(self.played, cards, strict=True)]
            self.last_play = (actor, cards_played)
            self.pending_play = None
        elif kind == "reveal":
            assert actor is not None
            if payload["by"] == "player":
                # A challenge shows the last play, and nothing else.
                assert self.last_play == (actor, payload["cards"])
            else:
                # The house shows the whole hand, which then joins the pile.
                assert counts(payload["cards"]) == self.held[actor]
                self.played = [p + h for p, h in zip(self.played, self.held[actor], strict=True)]
                self.held[actor] = [0] * 4
            self.last_reveal = payload["cards"]
        elif kind == "hand_end":
            assert payload["cards"] == self.last_reveal
        elif kind == "eliminated":
            assert actor is not None
            self.held[actor] = [0] * 4

    def check(self, state: LiarsBarState) -> None:
        """Hands + cards played this round = cards dealt, rank by rank and seat by seat."""
        assert state.hands == self.held
        for rank in range(4):
            in_hands = sum(hand[rank] for hand in state.hands)
            dealt = sum(hand[rank] for hand in self.dealt)
            assert in_hands + self.played[rank] == dealt
        assert state.pile == sum(self.played)


@GAMES
@given(tables)
def test_cards_are_conserved_every_round(table: Table) -> None:
    ledger = Ledger(table.config(), table.n)
    for state, step, events in play_steps(table):
        ledger.decided(step)
        for event in events:
            ledger.record(event)
        if not state.is_terminal():
            ledger.check(state)
            living = [s for s in range(table.n) if state.alive[s]]
            assert sum(map(sum, ledger.dealt)) == len(living) * table.config().hand_size


# -- termination and the end ----------------------------------------------------------------------


@GAMES
@given(tables)
def test_game_terminates_within_the_round_cap_and_decision_bound(table: Table) -> None:
    """Rounds ≤ max_rounds; decisions ≤ max_rounds × 2 × n × hand_size (see `decision_bound`)."""
    config = table.config()
    decisions = -1  # the first step is new_game
    ends = 0
    for state, events in play(table):
        decisions += 1
        ends += sum(e.kind == "game_end" for e in events)
        assert state.round <= config.max_rounds
    assert state.is_terminal() and ends == 1 and events[-1].kind == "game_end"
    assert decisions <= decision_bound(config, table.n)
    assert events[-1].payload["rounds"] == state.round


@GAMES
@given(tables)
def test_exactly_one_survivor_when_the_game_ends_before_max_rounds(table: Table) -> None:
    state, events = list(play(table))[-1]
    living = [s for s in range(table.n) if state.alive[s]]
    results = state.results()
    if state.round < table.max_rounds:
        assert len(living) == 1
    else:
        assert len(living) >= 1
    # Placement: the living share first place, the dead rank by when they died.
    assert sorted(state.eliminated) == sorted(set(range(table.n)) - set(living))
    for s in living:
        assert results[s].placement == 1
    for i, s in enumerate(state.eliminated):
        assert results[s].placement == table.n - i
    if table.preset == "classic":
        assert [s for s, r in enumerate(results) if r.winner] == living
    else:
        best = max(state.points)
        assert [r.winner for r in results] == [p == best for p in state.points]
    assert events[-1].payload["winners"] == [s for s, r in enumerate(results) if r.winner]


@GAMES
@given(tables)
def test_a_seat_is_alive_exactly_until_its_live_chamber_is_pulled(table: Table) -> None:
    chambers: list[int] | None = None
    for state, _ in play(table):
        chambers = chambers or list(state.chamber)
        assert state.chamber == chambers
        for s in range(table.n):
            assert state.alive[s] == (state.pulls[s] <= state.chamber[s])


# -- replay ---------------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(tables, st.integers())
def test_replay_is_identical(table: Table, global_seed: int) -> None:
    """Same config, seed and decisions: the same bytes, whatever the global RNG does."""
    random.seed(global_seed)
    first = event_log(table)
    random.seed(global_seed + 1)
    assert event_log(table) == first


# -- audiences ------------------------------------------------------------------------------------

OBSERVER_ONLY = {"revolvers": {"chambers"}, "hand_start": {"round", "target", "hands"}}
# Public payloads, key by key: a new public field has to be added here, on purpose.
PUBLIC_KEYS = {
    "game_start": {"seats", "first"},
    "round_start": {"round", "target", "starter"},
    "play": {"count", "claim", "talk", "cards_left"},
    "accept": {"of"},
    "challenge": {"of"},
    "reveal": {"cards", "honest", "by"},
    "shot": {"pull", "died"},
    "eliminated": set(),
    "points": {"delta", "reason"},
    "hand_end": {"round", "how", "revealed", "cards", "honest", "shot", "died"},
    "game_end": {"placement", "points", "winners", "rounds"},
}


@GAMES
@given(tables)
def test_every_event_reaches_only_its_audience(table: Table) -> None:
    """Chambers and the deal go to the observer only (a seat learns its own hand from its view,
    and the true cards of a play are in the decision); public events carry cards only in a
    reveal, and only the cards the rules reveal (checked by `Ledger`)."""
    ledger = Ledger(table.config(), table.n)
    for _, step, events in play_steps(table):
        ledger.decided(step)
        for event in events:
            keys = set(event.payload)
            if event.kind in OBSERVER_ONLY:
                assert event.audience == OBSERVER
                assert keys == OBSERVER_ONLY[event.kind]
            else:
                assert event.kind in PUBLIC_KEYS, f"unknown event kind {event.kind!r}"
                assert event.audience == PUBLIC
                assert keys == PUBLIC_KEYS[event.kind], event.kind
            json.dumps(event.to_json())  # payloads are JSON-ready
            ledger.record(event)


# -- non-interference -----------------------------------------------------------------------------


def outside_audience_changed(state: LiarsBarState, seat: int, rng: random.Random) -> LiarsBarState:
    """A copy of `state` that differs only in what `seat` may not know: the other seats' cards
    (swapped among them or redrawn from the cards `seat` cannot see, each seat keeping its count,
    the last claim's true cards included when another seat made it), every revolver's live
    chamber, and the RNG."""
    other = copy.deepcopy(state)
    others = [s for s in range(state.n) if s != seat]
    claim_is_hidden = state.claim is not None and state.claim[0] != seat
    sizes = [sum(state.hands[s]) for s in others]
    if claim_is_hidden:
        assert state.claim is not None
        sizes.append(sum(state.claim[1]))
    if rng.random() < 0.5:  # swap the hidden cards around
        pool = [c for s in others for c, k in enumerate(state.hands[s]) for _ in range(k)]
        if claim_is_hidden:
            assert state.claim is not None
            pool += [c for c, k in enumerate(state.claim[1]) for _ in range(k)]
    else:  # redraw them from every card this seat cannot see
        unseen = counts("".join(state.config.deck()))
        mine = list(state.hands[seat])
        if state.claim is not None and state.claim[0] == seat:
            mine = [m + c for m, c in zip(mine, state.claim[1], strict=True)]
        pool = [c for c in range(4) for _ in range(unseen[c] - mine[c])]
    rng.shuffle(pool)
    hands: list[list[int]] = []
    for size in sizes:
        hand = [0, 0, 0, 0]
        for c in pool[:size]:
            hand[c] += 1
        pool = pool[size:]
        hands.append(hand)
    if claim_is_hidden:
        assert state.claim is not None
        claimer, _, talk = state.claim
        q, k, a, j = hands.pop()
        other.claim = (claimer, (q, k, a, j), talk)
    for s, hand in zip(others, hands, strict=True):
        other.hands[s] = hand
    other.chamber = [rng.randrange(state.config.chambers) for _ in range(state.n)]
    other.rng = random.Random(rng.random())
    return other


def assert_same_for(seat: int, state: LiarsBarState, other: LiarsBarState) -> None:
    assert other.view_for(seat) == state.view_for(seat)
    assert other.to_act() == state.to_act()
    assert other.legal_actions(seat) == state.legal_actions(seat)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables, st.randoms(use_true_random=False))
def test_view_for_ignores_everything_outside_the_seats_audience(
    table: Table, mutator: random.Random
) -> None:
    for state, _ in play(table):
        if state.is_terminal():
            break
        for seat in range(table.n):
            assert_same_for(seat, state, outside_audience_changed(state, seat, mutator))


def test_non_interference_check_notices_a_change_inside_the_audience() -> None:
    """The property above can fail: changing the seat's own hand or a public count shows."""
    state, _ = LiarsBar(PRESETS["classic"]).new_game(3, 3)
    seat = state.turn
    changed = copy.deepcopy(state)
    changed.hands[seat] = [5, 0, 0, 0] if state.hands[seat] != [5, 0, 0, 0] else [0, 5, 0, 0]
    with pytest.raises(AssertionError):
        assert_same_for(seat, state, changed)
    changed = copy.deepcopy(state)
    changed.pulls[(seat + 1) % 3] += 1
    with pytest.raises(AssertionError):
        assert_same_for(seat, state, changed)


# -- bots -----------------------------------------------------------------------------------------

PERSONAS = sorted(LIARS_BAR_PERSONAS)


def test_the_three_personas_are_registered() -> None:
    assert PERSONAS == ["bluffer", "cautious", "counter"]


bot_tables = st.tuples(
    st.sampled_from(["classic", "paper"]),
    st.lists(st.sampled_from(PERSONAS), min_size=2, max_size=4),
    st.integers(0, 2**32 - 1),
    st.sampled_from([1, 2, 3]),
)


def bot_game(
    preset: str, personas: Sequence[str], seed: int, max_play: int
) -> tuple[list[str], LiarsBarState]:
    """A whole game of bots (each seat with its own seeded RNG); the actions they chose."""
    data = PRESETS[preset].model_dump() | {"max_play": max_play}
    config = LiarsBarConfig.model_validate(data)
    state, _ = LiarsBar(config).new_game(seed, len(personas))
    rngs = [random.Random(f"{seed}/{s}") for s in range(len(personas))]
    chosen: list[str] = []
    while not state.is_terminal():
        seat = state.to_act()[0]
        persona = LIARS_BAR_PERSONAS[personas[seat]]
        view, legal = state.view_for(seat), state.legal_actions(seat)
        if view.phase == "respond":
            assert 0.0 <= chance_claim_is_false(view, config) <= 1.0
        decision = persona.strategy(view, legal, rngs[seat], config, persona.params)
        assert decision.action in legal, f"{persona.name} chose {decision.action!r} from {legal}"
        chosen.append(decision.action)
        state.apply({seat: decision})
    return chosen, state


@settings(max_examples=100, deadline=None)
@given(bot_tables)
def test_bots_always_choose_legal_actions(game: tuple[str, list[str], int, int]) -> None:
    chosen, state = bot_game(*game)
    assert state.is_terminal() and chosen


@settings(max_examples=50, deadline=None)
@given(bot_tables)
def test_bots_are_deterministic_for_a_seed(game: tuple[str, list[str], int, int]) -> None:
    random.seed(1)
    first, _ = bot_game(*game)
    random.seed(2)
    again, _ = bot_game(*game)
    assert again == first


def respond_view(
    config: LiarsBarConfig, hand: str, target: str, count: int, claimer_left: int
) -> LiarsBarView:
    """Seat 1's view when seat 0 has just claimed `count` cards of `target`."""
    state, _ = LiarsBar(config).new_game(0, 2)
    state.hands = [counts("Q" * claimer_left), counts(hand)]
    state.target = LETTERS.index(target)
    state.turn, state.phase = 1, "respond"
    state.claim = (0, (count, 0, 0, 0), "")
    view = state.view_for(1)
    assert view.claim == Claim(0, count, "")
    return view


CONFIGS = [PRESETS["classic"], PRESETS["paper"], LiarsBarConfig(copies_per_rank=7, jokers=0)]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(CONFIGS),
    st.lists(st.sampled_from(LETTERS), min_size=1, max_size=5),
    st.sampled_from(["Q", "K", "A"]),
    st.integers(1, 3),
    st.integers(0, 4),
)
def test_chance_claim_is_false_is_certain_exactly_when_too_few_good_cards_exist(
    config: LiarsBarConfig, hand: list[str], target: str, count: int, claimer_left: int
) -> None:
    """Good cards are the target rank and Jokers; those not in the seat's own hand are all a
    claimer could hold. A claim of more than that is certainly false; anything else is possible
    (probability of a lie below 1) and the estimate is a probability."""
    mine = "".join(sorted(hand, key=LETTERS.index))
    deck = counts("".join(config.deck()))
    assume(all(mine.count(c) <= n for c, n in zip(LETTERS, deck, strict=True)))  # a dealable hand
    view = respond_view(config, mine, target, count, claimer_left)
    chance = chance_claim_is_false(view, config)
    good_elsewhere = config.copies_per_rank + config.jokers - mine.count(target) - mine.count("J")
    if count > good_elsewhere:
        assert chance == 1.0
    else:
        assert 0.0 <= chance < 1.0


@pytest.mark.parametrize("name", ["counter", "cautious"])
def test_counting_personas_challenge_a_certain_lie(name: str) -> None:
    """With 7 Queens and no Jokers in the deck and 5 Queens in its own hand, no one else can hold
    three Queens."""
    config = LiarsBarConfig(copies_per_rank=7, jokers=0)
    view = respond_view(config, "QQQQQ", "Q", 3, 2)
    assert chance_claim_is_false(view, config) == 1.0
    persona = LIARS_BAR_PERSONAS[name]
    decision = persona.strategy(view, (ACCEPT, CHALLENGE), random.Random(0), config, persona.params)
    assert decision.action == CHALLENGE


def test_counter_accepts_a_claim_that_is_probably_true() -> None:
    """One card claimed by a player who held five: with 8 good cards among 15 unseen, that is
    almost surely honest, so `counter` lets it pass."""
    config = PRESETS["classic"]
    view = respond_view(config, "KKAAA", "Q", 1, 4)
    assert chance_claim_is_false(view, config) < 0.05
    persona = LIARS_BAR_PERSONAS["counter"]
    decision = persona.strategy(view, (ACCEPT, CHALLENGE), random.Random(0), config, persona.params)
    assert decision.action == ACCEPT
