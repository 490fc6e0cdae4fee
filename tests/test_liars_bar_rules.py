"""Liar's Bar rules (SPEC §3.1), one test per rule.

Most tests set a precise table up with `table(...)`: a real `new_game`, then the fields the rule
depends on assigned directly. Hands are written as cards ("QQKJ") and stored as the engine's count
lists [Q, K, A, Joker]. Chambers default to the last one, so a pull is harmless unless a test loads
the revolver on purpose.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

import pytest

from games.base import OBSERVER, PUBLIC, Decision, Event, GameError
from games.liars_bar.config import PRESETS, LiarsBarConfig
from games.liars_bar.engine import (
    ACCEPT,
    CHALLENGE,
    LETTERS,
    LiarsBar,
    LiarsBarState,
    LiarsBarView,
    Reveal,
)

# -- helpers --------------------------------------------------------------------------------------


def counts(cards: str) -> list[int]:
    """`"QQJ"` -> `[2, 0, 0, 1]`."""
    return [cards.count(letter) for letter in LETTERS]


def table(
    preset: str = "classic",
    n: int = 3,
    *,
    hands: Sequence[str],
    target: str = "Q",
    turn: int = 0,
    phase: str = "play",
    claim: tuple[int, str] | None = None,
    chamber: Sequence[int] | None = None,
    pulls: Sequence[int] | None = None,
    alive: Sequence[bool] | None = None,
    eliminated: Sequence[int] = (),
    points: Sequence[int] | None = None,
    seed: int = 0,
    **overrides: Any,
) -> LiarsBarState:
    """A game of `preset` (with config `overrides`) in round 1, set to the situation described."""
    config = PRESETS[preset].model_copy(update=overrides) if overrides else PRESETS[preset]
    state, _ = LiarsBar(config).new_game(seed, n)
    state.hands = [counts(h) for h in hands]
    state.target = LETTERS.index(target)
    state.turn = turn
    state.phase = phase
    state.chamber = list(chamber) if chamber is not None else [config.chambers - 1] * n
    state.pulls = list(pulls) if pulls is not None else [0] * n
    state.alive = list(alive) if alive is not None else [True] * n
    state.eliminated = list(eliminated)
    state.points = list(points) if points is not None else [0] * n
    if claim is None:
        state.claim, state.pile = None, 0
    else:
        seat, cards = claim
        q, k, a, j = counts(cards)
        state.claim, state.pile = (seat, (q, k, a, j), ""), len(cards)
    return state


def act(state: LiarsBarState, action: str, talk: str = "") -> list[Event]:
    """The seat to act does `action` (`"play:QQ"`, `"accept"`, `"challenge"`)."""
    return state.apply({state.turn: Decision(action, talk)})


def kinds(events: Sequence[Event]) -> list[str]:
    return [e.kind for e in events]


def the(events: Sequence[Event], kind: str) -> Event:
    """The one event of `kind`."""
    found = [e for e in events if e.kind == kind]
    assert len(found) == 1, f"expected one {kind!r} event, got {kinds(events)}"
    return found[0]


def points_events(events: Sequence[Event]) -> list[tuple[int | None, int, str]]:
    return [
        (e.actor, e.payload["delta"], e.payload["reason"]) for e in events if e.kind == "points"
    ]


def new_games(preset: str, n: int, seeds: range) -> list[tuple[LiarsBarState, list[Event]]]:
    game = LiarsBar(PRESETS[preset])
    return [game.new_game(seed, n) for seed in seeds]


# -- deck, deal, target, revolver -----------------------------------------------------------------


def test_classic_deck_is_6_queens_6_kings_6_aces_and_2_jokers() -> None:
    assert Counter(PRESETS["classic"].deck()) == {"Q": 6, "K": 6, "A": 6, "J": 2}


@pytest.mark.parametrize("n", [2, 3, 4])
def test_classic_deal_gives_5_cards_from_the_deck_to_each_living_player(n: int) -> None:
    for state, events in new_games("classic", n, range(50)):
        assert [sum(h) for h in state.hands] == [5] * n
        dealt = [sum(h[i] for h in state.hands) for i in range(4)]
        assert all(d <= c for d, c in zip(dealt, [6, 6, 6, 2], strict=True))
        deal = the(events, "hand_start")
        assert deal.audience == OBSERVER
        assert {int(s): counts(h) for s, h in deal.payload["hands"].items()} == dict(
            enumerate(state.hands)
        )
        for seat in range(n):
            assert counts(state.view_for(seat).hand) == state.hands[seat]


def test_dead_players_are_not_dealt_in() -> None:
    state = table(n=3, hands=["K", "QQ", "A"], turn=1, phase="respond", claim=(0, "K"))
    state.chamber[0] = 0  # the liar's first pull is live
    events = act(state, CHALLENGE)
    assert state.round == 2
    assert [sum(h) for h in state.hands] == [0, 5, 5]
    assert set(the(events, "hand_start").payload["hands"]) == {"1", "2"}


def test_paper_deck_is_8_queens_8_kings_8_aces_and_4_jokers() -> None:
    assert Counter(PRESETS["paper"].deck()) == {"Q": 8, "K": 8, "A": 8, "J": 4}


@pytest.mark.parametrize("n", [2, 3, 4])
def test_paper_deal_gives_each_living_player_2_target_2_non_target_and_1_joker(n: int) -> None:
    for state, _ in new_games("paper", n, range(100)):
        target = state.target
        for hand in state.hands:
            others = [hand[i] for i in range(3) if i != target]
            assert hand[target] == 2 and sum(others) == 2 and hand[3] == 1, hand
        dealt = [sum(h[i] for h in state.hands) for i in range(4)]
        assert all(d <= 8 for d in dealt[:3]) and dealt[3] <= 4


def test_paper_deal_after_an_elimination_deals_only_the_living() -> None:
    state = table("paper", n=3, hands=["K", "QQ", "A"], turn=1, phase="respond", claim=(0, "K"))
    state.chamber[0] = 0
    act(state, CHALLENGE)
    assert state.hands[0] == [0, 0, 0, 0]
    for hand in state.hands[1:]:
        assert hand[state.target] == 2 and hand[3] == 1 and sum(hand) == 5


def test_target_rank_is_drawn_uniformly_from_q_k_a() -> None:
    """600 first rounds: each rank is expected 200 times; ±60 is beyond 4 standard deviations."""
    drawn = Counter(LETTERS[s.target] for s, _ in new_games("classic", 3, range(600)))
    assert set(drawn) == {"Q", "K", "A"}
    assert all(140 <= c <= 260 for c in drawn.values()), drawn


def test_round_one_starter_drawn_from_seed() -> None:
    starters = []
    for seed in range(200):
        random.seed(seed)  # the global RNG must not matter
        state, events = LiarsBar(PRESETS["classic"]).new_game(seed, 4)
        first = the(events, "game_start").payload["first"]
        assert first == the(events, "round_start").payload["starter"] == state.turn
        assert state.to_act() == (first,)
        random.seed(-seed)
        again, _ = LiarsBar(PRESETS["classic"]).new_game(seed, 4)
        assert again.turn == first
        starters.append(first)
    assert set(starters) == {0, 1, 2, 3}


def test_live_chambers_are_drawn_at_game_start_for_the_observer_only() -> None:
    seen: set[int] = set()
    for state, events in new_games("classic", 4, range(100)):
        revolvers = the(events, "revolvers")
        assert revolvers.audience == OBSERVER
        assert revolvers.payload["chambers"] == state.chamber
        assert all(0 <= c < 6 for c in state.chamber)
        seen.update(state.chamber)
    assert seen == set(range(6))


def test_hand_start_with_every_hand_is_observer_only() -> None:
    state, events = LiarsBar(PRESETS["classic"]).new_game(7, 3)
    hand_start = the(events, "hand_start")
    assert hand_start.audience == OBSERVER
    assert hand_start.payload["hands"] == {
        str(s): "".join(letter * c for letter, c in zip(LETTERS, h, strict=True))
        for s, h in enumerate(state.hands)
    }
    round_start = the(events, "round_start")
    assert round_start.audience == PUBLIC
    assert round_start.payload == {
        "round": 1,
        "target": LETTERS[state.target],
        "starter": state.turn,
    }


# -- turns ----------------------------------------------------------------------------------------


def test_a_play_is_1_to_3_cards_all_from_the_players_hand() -> None:
    state = table(hands=["QQQQJ", "KKKKK", "AAAAA"], turn=0)
    assert set(state.legal_actions(0)) == {
        "play:Q",
        "play:J",
        "play:QQ",
        "play:QJ",
        "play:QQQ",
        "play:QQJ",
    }
    assert state.legal_actions(1) == () and state.legal_actions(2) == ()


@pytest.mark.parametrize(
    ("action", "seat"),
    [
        ("play:QQQQ", 0),  # four cards
        ("play:K", 0),  # a card not held
        ("play:", 0),  # no card
        (ACCEPT, 0),  # a response when a play is due
        ("play:K", 1),  # not this seat's turn
    ],
)
def test_illegal_action_raises_game_error_and_changes_nothing(action: str, seat: int) -> None:
    state = table(hands=["QQQQJ", "KKKKK", "AAAAA"], turn=0)
    before = [state.view_for(s) for s in range(3)]
    with pytest.raises(GameError):
        state.apply({seat: Decision(action)})
    assert [state.view_for(s) for s in range(3)] == before


def test_a_response_is_accept_or_challenge_only() -> None:
    state = table(hands=["Q", "KK", "AA"], turn=1, phase="respond", claim=(0, "Q"))
    assert set(state.legal_actions(1)) == {ACCEPT, CHALLENGE}
    with pytest.raises(GameError):
        act(state, "play:K")


def test_decisions_from_several_seats_raise_game_error() -> None:
    state = table(hands=["Q", "KK", "AA"], turn=0)
    with pytest.raises(GameError):
        state.apply({0: Decision("play:Q"), 1: Decision("play:K")})


def test_play_is_public_as_a_count_and_its_cards_stay_hidden() -> None:
    state = table(hands=["QKA", "KK", "AA"], turn=0)
    events = act(state, "play:KA", talk="two queens")
    assert [e.kind for e in events] == ["play"]
    play = the(events, "play")
    assert (play.actor, play.audience) == (0, PUBLIC)
    assert play.payload == {"count": 2, "claim": "Q", "talk": "two queens", "cards_left": 1}
    assert state.hands[0] == counts("Q") and state.pile == 2


def test_next_living_player_holding_cards_responds_to_a_play() -> None:
    state = table(hands=["QQ", "KK", "AA"], turn=0)
    act(state, "play:Q")
    assert (state.turn, state.phase, state.to_act()) == (1, "respond", (1,))


def test_players_with_empty_hands_are_skipped() -> None:
    """Seat 1 has no cards and seat 2 is dead: seat 3 answers seat 0's play, clockwise."""
    state = table(n=4, hands=["QQ", "", "", "AA"], alive=[True, True, False, True], eliminated=[2])
    act(state, "play:Q")
    assert (state.turn, state.phase) == (3, "respond")


def test_responder_skips_empty_hands_around_the_table() -> None:
    state = table(n=4, hands=["", "", "Q", "A"], turn=3)
    act(state, "play:A")
    assert (state.turn, state.phase) == (2, "respond")
    state = table(n=4, hands=["", "QQ", "", "A"], turn=3)
    act(state, "play:A")
    assert state.turn == 1


def test_accepting_player_plays_next() -> None:
    state = table(hands=["QQ", "KK", "AA"], turn=1, phase="respond", claim=(0, "K"))
    events = act(state, ACCEPT)
    assert kinds(events) == ["accept"]
    accept = events[0]
    assert (accept.actor, accept.audience, accept.payload) == (1, PUBLIC, {"of": 0})
    assert (state.turn, state.phase) == (1, "play")
    assert state.legal_actions(1)[0].startswith("play:")


def test_table_talk_goes_public_with_the_play() -> None:
    state = table(hands=["QQ", "KK", "AA"], turn=0)
    events = act(state, "play:Q", talk="only queens here")
    assert the(events, "play").payload["talk"] == "only queens here"
    claim = state.view_for(2).claim
    assert claim is not None and claim.talk == "only queens here"


@pytest.mark.parametrize("limit", [200, 10, 0])
def test_table_talk_longer_than_the_limit_is_cut(limit: int) -> None:
    state = table(hands=["QQ", "KK", "AA"], turn=0, talk_max_chars=limit)
    events = act(state, "play:Q", talk="x" * 250)
    assert the(events, "play").payload["talk"] == "x" * limit
    claim = state.view_for(1).claim
    assert claim is not None and claim.talk == "x" * limit


# -- challenges -----------------------------------------------------------------------------------


def test_failed_challenge_makes_challenger_pull_trigger() -> None:
    state = table(hands=["K", "KKA", "QA"], turn=1, phase="respond", claim=(0, "QQ"))
    events = act(state, CHALLENGE)
    assert kinds(events)[:4] == ["challenge", "reveal", "shot", "hand_end"]
    challenge, reveal, shot = events[:3]
    assert (challenge.actor, challenge.audience, challenge.payload) == (1, PUBLIC, {"of": 0})
    assert (reveal.actor, reveal.audience) == (0, PUBLIC)
    assert reveal.payload == {"cards": "QQ", "honest": True, "by": "player"}
    assert (shot.actor, shot.audience, shot.payload) == (1, PUBLIC, {"pull": 1, "died": False})
    assert state.pulls == [0, 1, 0]
    assert state.last_reveal == Reveal(seat=0, cards="QQ", honest=True, shot_by=1, died=False)


def test_successful_challenge_makes_liar_pull_trigger() -> None:
    state = table(hands=["K", "KKA", "QA"], turn=1, phase="respond", claim=(0, "QK"))
    events = act(state, CHALLENGE)
    reveal, shot = the(events, "reveal"), the(events, "shot")
    assert reveal.payload == {"cards": "QK", "honest": False, "by": "player"}
    assert (shot.actor, shot.payload) == (0, {"pull": 1, "died": False})
    assert state.pulls == [1, 0, 0]
    assert state.last_reveal == Reveal(seat=0, cards="QK", honest=False, shot_by=0, died=False)


@pytest.mark.parametrize("cards", ["J", "JJ", "AJ", "AAJ"])
def test_jokers_are_honest(cards: str) -> None:
    state = table(hands=["K", "KKA", "QA"], target="A", turn=1, phase="respond", claim=(0, cards))
    events = act(state, CHALLENGE)
    assert the(events, "reveal").payload["honest"] is True
    assert the(events, "shot").actor == 1


@pytest.mark.parametrize("cards", ["K", "QJ", "AAK", "QQJ"])
def test_any_card_neither_target_nor_joker_makes_the_play_a_lie(cards: str) -> None:
    state = table(hands=["K", "KKA", "QA"], target="A", turn=1, phase="respond", claim=(0, cards))
    events = act(state, CHALLENGE)
    assert the(events, "reveal").payload["honest"] is False
    assert the(events, "shot").actor == 0


def test_challenge_judges_only_the_last_play() -> None:
    """Seat 0 lies, seat 1 lets it pass and plays honestly; seat 2 challenges seat 1's play."""
    state = table(hands=["KA", "QQ", "AA"], turn=0)
    act(state, "play:K")
    act(state, ACCEPT)
    act(state, "play:Q")
    events = act(state, CHALLENGE)
    assert the(events, "reveal").actor == 1
    assert the(events, "reveal").payload["cards"] == "Q"
    assert the(events, "shot").actor == 2


def test_challenge_ends_the_round() -> None:
    state = table(hands=["K", "KKA", "QA"], turn=1, phase="respond", claim=(0, "QQ"))
    events = act(state, CHALLENGE)
    assert kinds(events)[3:6] == ["hand_end", "hand_start", "round_start"]
    hand_end = the(events, "hand_end")
    assert hand_end.audience == PUBLIC
    assert hand_end.payload == {
        "round": 1,
        "how": "challenge",
        "revealed": 0,
        "cards": "QQ",
        "honest": True,
        "shot": 1,
        "died": False,
    }
    assert state.round == 2 and the(events, "round_start").payload["round"] == 2
    assert (state.phase, state.claim, state.pile) == ("play", None, 0)
    assert [sum(h) for h in state.hands] == [5, 5, 5]


# -- the house challenge --------------------------------------------------------------------------


def test_house_challenge_with_legal_hand_fires_no_shot() -> None:
    """Seat 0 plays its last card; seat 1 (seat 2 is empty) accepts and is then the only player
    with cards, so the house reveals seat 1's whole hand."""
    state = table(hands=["Q", "QJ", ""], turn=0)
    act(state, "play:Q")
    assert state.turn == 1
    events = act(state, ACCEPT)
    assert kinds(events)[:3] == ["accept", "reveal", "hand_end"]
    reveal = the(events, "reveal")
    assert (reveal.actor, reveal.audience) == (1, PUBLIC)
    assert reveal.payload == {"cards": "QJ", "honest": True, "by": "house"}
    assert "shot" not in kinds(events)
    assert state.pulls == [0, 0, 0]
    assert the(events, "hand_end").payload["how"] == "house"
    assert the(events, "hand_end").payload["shot"] is None
    assert state.round == 2


def test_house_challenge_with_illegal_hand_makes_player_pull() -> None:
    state = table(hands=["Q", "QK", ""], turn=0)
    act(state, "play:Q")
    events = act(state, ACCEPT)
    assert the(events, "reveal").payload == {"cards": "QK", "honest": False, "by": "house"}
    shot = the(events, "shot")
    assert (shot.actor, shot.payload) == (1, {"pull": 1, "died": False})
    assert state.pulls == [0, 1, 0]
    assert state.last_reveal == Reveal(seat=1, cards="QK", honest=False, shot_by=1, died=False)


def test_house_challenge_empties_the_hand_into_the_pile() -> None:
    """Seen just before the next deal: the round's cards all end on the pile."""
    state = table(hands=["Q", "QKA", ""], turn=0, max_rounds=1)
    act(state, "play:Q")
    act(state, ACCEPT)
    assert state.is_terminal()
    assert state.hands[1] == [0, 0, 0, 0] and state.pile == 4


def test_responder_may_still_challenge_before_the_house_does() -> None:
    """The house rule applies when the last holder is to *play*: it may still call the last
    claim."""
    state = table(hands=["Q", "QK", ""], turn=0)
    act(state, "play:Q")
    assert state.legal_actions(1) == (ACCEPT, CHALLENGE)
    events = act(state, CHALLENGE)
    assert the(events, "reveal").payload["by"] == "player"


# -- revolvers and rounds -------------------------------------------------------------------------


def test_bullet_position_never_advances_without_a_pull() -> None:
    """Whole random games: the live chamber never moves, and each seat's pull count grows by one
    per shot event and by nothing else."""
    for seed in range(30):
        game = LiarsBar(PRESETS["classic"])
        state, events = game.new_game(seed, 4)
        chambers = list(state.chamber)
        chooser = random.Random(seed)
        while not state.is_terminal():
            before = list(state.pulls)
            legal = state.legal_actions(state.turn)
            events = act(state, chooser.choice(legal))
            shots = Counter(e.actor for e in events if e.kind == "shot")
            assert state.chamber == chambers
            assert state.pulls == [before[s] + shots[s] for s in range(4)]


def test_live_round_fires_on_the_pull_after_its_chamber_count() -> None:
    state = table(hands=["K", "KKA", "QA"], turn=1, phase="respond", claim=(0, "K"))
    state.chamber[0], state.pulls[0] = 3, 3
    events = act(state, CHALLENGE)
    assert the(events, "shot").payload == {"pull": 4, "died": True}


def test_live_round_eliminates() -> None:
    state = table(hands=["KA", "KKA", "QA"], turn=1, phase="respond", claim=(0, "K"))
    state.chamber[0] = 0
    events = act(state, CHALLENGE)
    assert kinds(events)[2:5] == ["shot", "eliminated", "hand_end"]
    eliminated = the(events, "eliminated")
    assert (eliminated.actor, eliminated.audience) == (0, PUBLIC)
    assert state.alive == [False, True, True]
    assert state.eliminated == [0]
    assert state.hands[0] == [0, 0, 0, 0]
    assert state.view_for(1).cards_left[0] == 0


def test_last_living_player_wins() -> None:
    state = table(n=2, hands=["KA", "QQ"], turn=1, phase="respond", claim=(0, "K"))
    state.chamber[0] = 0
    events = act(state, CHALLENGE)
    assert kinds(events)[-1] == "game_end"
    game_end = events[-1]
    assert game_end.audience == PUBLIC
    assert game_end.payload == {"placement": [2, 1], "points": None, "winners": [1], "rounds": 1}
    assert state.is_terminal() and state.to_act() == ()
    assert [r.winner for r in state.results()] == [False, True]
    assert state.view_for(1).phase == "over"
    with pytest.raises(GameError):
        state.apply({1: Decision("play:Q")})


def test_placement_follows_elimination_order() -> None:
    """Seats 2 then 0 died earlier; seat 3 dies now, so seat 1 wins."""
    state = table(
        n=4,
        hands=["", "QQ", "", "KA"],
        alive=[False, True, False, True],
        eliminated=[2, 0],
        turn=1,
        phase="respond",
        claim=(3, "K"),
    )
    state.chamber[3] = 0
    act(state, CHALLENGE)
    assert [r.placement for r in state.results()] == [3, 1, 4, 2]
    assert [r.winner for r in state.results()] == [False, True, False, False]
    assert [r.score for r in state.results()] == [None] * 4


@pytest.mark.parametrize(
    ("claim", "puller"),
    [("QQ", 1), ("KK", 0)],  # failed challenge: the challenger; successful: the liar
)
def test_next_round_starts_with_the_puller(claim: str, puller: int) -> None:
    state = table(hands=["K", "KKA", "QA"], turn=1, phase="respond", claim=(0, claim))
    events = act(state, CHALLENGE)
    assert the(events, "shot").actor == puller
    assert the(events, "round_start").payload["starter"] == puller
    assert (state.turn, state.phase) == (puller, "play")


def test_next_round_starts_with_next_living_when_puller_died() -> None:
    """Seat 3 lies and dies; clockwise, seat 0 is dead already, so seat 1 starts."""
    state = table(
        n=4,
        hands=["", "QQ", "KK", "KA"],
        alive=[False, True, True, True],
        eliminated=[0],
        turn=1,
        phase="respond",
        claim=(3, "K"),
    )
    state.chamber[3] = 0
    events = act(state, CHALLENGE)
    assert the(events, "round_start").payload["starter"] == 1
    assert state.turn == 1


def test_next_round_after_a_legal_house_hand_starts_with_the_house_challenged_player() -> None:
    """Nobody pulled; the engine lets the player whose hand the house revealed start."""
    state = table(hands=["Q", "QJ", ""], turn=0)
    act(state, "play:Q")
    events = act(state, ACCEPT)
    assert the(events, "round_start").payload["starter"] == 1


def test_max_rounds_cap_ends_in_a_draw_among_the_living() -> None:
    state = table(
        hands=["K", "KKA", ""],
        alive=[True, True, False],
        eliminated=[2],
        turn=1,
        phase="respond",
        claim=(0, "QQ"),
        max_rounds=1,
    )
    events = act(state, CHALLENGE)
    assert kinds(events)[-2:] == ["hand_end", "game_end"]
    assert events[-1].payload == {
        "placement": [1, 1, 3],
        "points": None,
        "winners": [0, 1],
        "rounds": 1,
    }
    assert state.is_terminal() and state.alive == [True, True, False]
    assert [r.winner for r in state.results()] == [True, True, False]


# -- the view -------------------------------------------------------------------------------------


def test_view_has_the_public_table_and_own_hand_only() -> None:
    state = table(hands=["QKA", "KKJ", "AAQQ"], target="K", turn=0, pulls=[2, 0, 1])
    act(state, "play:KA", talk="kings")
    view = state.view_for(1)
    assert {f.name for f in fields(LiarsBarView)} == {
        "seat",
        "round",
        "target",
        "phase",
        "turn",
        "hand",
        "alive",
        "cards_left",
        "pulls",
        "points",
        "claim",
        "pile",
        "last_reveal",
    }
    assert (view.seat, view.round, view.target, view.phase, view.turn) == (1, 1, "K", "respond", 1)
    assert view.hand == "KKJ"
    assert view.cards_left == (1, 3, 4)
    assert view.pulls == (2, 0, 1)
    assert view.alive == (True, True, True)
    assert view.claim is not None
    assert (view.claim.seat, view.claim.count, view.claim.talk) == (0, 2, "kings")
    assert view.pile == 2
    assert view.points is None and view.last_reveal is None
    assert state.view_for(0).hand == "Q" and state.view_for(2).hand == "QQAA"
    assert hash(view) == hash(state.view_for(1))  # immutable and comparable


def test_view_shows_the_last_reveal_and_shots_to_everyone() -> None:
    state = table(hands=["K", "KKA", "QA"], turn=1, phase="respond", claim=(0, "QK"))
    act(state, CHALLENGE)
    for seat in range(3):
        view = state.view_for(seat)
        assert view.pulls == (1, 0, 0)
        assert view.last_reveal == Reveal(seat=0, cards="QK", honest=False, shot_by=0, died=False)


# -- paper points ---------------------------------------------------------------------------------


def test_classic_keeps_no_points() -> None:
    state = table(hands=["K", "KKA", "QA"], turn=1, phase="respond", claim=(0, "QK"))
    events = act(state, CHALLENGE)
    assert points_events(events) == []
    assert state.view_for(0).points is None


def test_paper_successful_challenge_gives_challenger_2() -> None:
    state = table("paper", hands=["K", "KKA", "QA"], turn=1, phase="respond", claim=(0, "QK"))
    events = act(state, CHALLENGE)
    assert points_events(events) == [(1, 2, "successful challenge")]
    assert state.points == [0, 2, 0]
    assert all(e.audience == PUBLIC for e in events if e.kind == "points")
    assert state.view_for(2).points == (0, 2, 0)


def test_paper_failed_challenge_costs_surviving_challenger_1() -> None:
    state = table("paper", hands=["K", "KKA", "QA"], turn=1, phase="respond", claim=(0, "QJ"))
    events = act(state, CHALLENGE)
    assert points_events(events) == [(1, -1, "failed challenge")]
    assert state.points == [0, -1, 0]


def test_paper_failed_challenge_costs_nothing_more_than_elimination_when_challenger_dies() -> None:
    state = table("paper", hands=["K", "KKA", "QA"], turn=1, phase="respond", claim=(0, "QJ"))
    state.chamber[1] = 0
    events = act(state, CHALLENGE)
    assert points_events(events) == [
        (1, -2, "eliminated"),
        (0, 1, "another player eliminated"),
        (2, 1, "another player eliminated"),
    ]
    assert state.points == [1, -2, 1]


@pytest.mark.parametrize(("claim", "bonus"), [("QJ", 2), ("QK", 0)])
def test_paper_declining_an_honest_play_gives_decliner_2(claim: str, bonus: int) -> None:
    state = table("paper", hands=["K", "KKA", "QA"], turn=1, phase="respond", claim=(0, claim))
    events = act(state, ACCEPT)
    expected = [(1, 2, "declined to challenge an honest play")] if bonus else []
    assert points_events(events) == expected
    assert state.points == [0, bonus, 0]


@pytest.mark.parametrize(("cards", "decliner_bonus"), [("QQ", 2), ("QK", 0)])
def test_paper_emptying_hand_unchallenged_gives_2(cards: str, decliner_bonus: int) -> None:
    """Honest or not, a hand emptied without a challenge scores; the decliner scores only if the
    play was honest."""
    state = table("paper", hands=[cards, "KKA", "QA"], turn=0)
    act(state, "play:" + cards)
    events = act(state, ACCEPT)
    assert (0, 2, "emptied hand unchallenged") in points_events(events)
    assert state.points == [2, decliner_bonus, 0]


def test_paper_emptying_hand_scores_nothing_when_challenged() -> None:
    state = table("paper", hands=["QQ", "KKA", "QA"], turn=0)
    act(state, "play:QQ")
    events = act(state, CHALLENGE)
    assert points_events(events) == [(1, -1, "failed challenge")]
    assert state.points == [0, -1, 0]


def test_paper_each_survivor_gets_1_per_elimination() -> None:
    """Seat 3 died earlier and scores nothing now; seats 1 and 2 survive seat 0's death."""
    state = table(
        "paper",
        n=4,
        hands=["K", "KKA", "QA", ""],
        alive=[True, True, True, False],
        eliminated=[3],
        turn=1,
        phase="respond",
        claim=(0, "K"),
    )
    state.chamber[0] = 0
    events = act(state, CHALLENGE)
    assert points_events(events) == [
        (1, 2, "successful challenge"),
        (0, -2, "eliminated"),
        (1, 1, "another player eliminated"),
        (2, 1, "another player eliminated"),
    ]
    assert state.points == [-2, 3, 1, 0]


def test_paper_being_eliminated_costs_2() -> None:
    state = table("paper", hands=["K", "QK", ""], turn=0)
    state.chamber[1] = 0
    act(state, "play:K")
    events = act(state, ACCEPT)  # seat 1 lets a lie pass, then the house finds its King
    assert points_events(events) == [
        (0, 2, "emptied hand unchallenged"),
        (1, -2, "eliminated"),
        (0, 1, "another player eliminated"),
        (2, 1, "another player eliminated"),
    ]
    assert state.points == [3, -2, 1]


def test_paper_last_survivor_gets_3_and_second_last_gets_2() -> None:
    state = table(
        "paper",
        hands=["K", "KKA", ""],
        alive=[True, True, False],
        eliminated=[2],
        turn=1,
        phase="respond",
        claim=(0, "K"),
    )
    state.chamber[0] = 0
    events = act(state, CHALLENGE)
    assert points_events(events) == [
        (1, 2, "successful challenge"),
        (0, -2, "eliminated"),
        (1, 1, "another player eliminated"),
        (1, 3, "last survivor"),
        (0, 2, "second-last survivor"),
    ]
    assert state.points == [0, 6, 0]
    assert events[-1].payload["points"] == [0, 6, 0]


@pytest.mark.parametrize(
    ("before", "after", "winners"),
    [
        ([7, 1, 7], [7, 7, 7], [0, 1, 2]),  # a three-way tie is shared, dead seats included
        ([10, 0, 0], [10, 6, 0], [0]),  # the points winner need not be the last survivor
    ],
)
def test_paper_points_winner_is_highest_total_with_ties_shared(
    before: list[int], after: list[int], winners: list[int]
) -> None:
    state = table(
        "paper",
        hands=["K", "KKA", ""],
        alive=[True, True, False],
        eliminated=[2],
        turn=1,
        phase="respond",
        claim=(0, "K"),
        points=before,
    )
    state.chamber[0] = 0
    events = act(state, CHALLENGE)
    assert state.points == after
    assert events[-1].payload["winners"] == winners
    results = state.results()
    assert [s for s, r in enumerate(results) if r.winner] == winners
    assert [r.score for r in results] == [float(p) for p in after]
    assert [r.placement for r in results] == [2, 1, 3]  # placement is recorded too


def test_paper_config_rejects_a_deck_too_small_for_its_deal() -> None:
    with pytest.raises(ValueError):
        LiarsBarConfig(copies_per_rank=6, jokers=2, deal="paper")
