"""Liar's Bar rules: the deal, plays, challenges, the house challenge, revolvers and points.

Hands are counts per rank (Q, K, A, Joker), because which Queen a player holds never matters.
Action codes: `play:QQJ` (the cards, in rank order Q K A J), `accept`, `challenge`.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from pydantic import BaseModel

from games.base import (
    OBSERVER,
    PUBLIC,
    Decision,
    Event,
    GameError,
    SeatResult,
    check_seat_count,
    only,
)
from games.liars_bar.config import JOKER, PRESETS, RANKS, LiarsBarConfig

LETTERS = (*RANKS, JOKER)  # index 0..3 in every count vector
ACCEPT = "accept"
CHALLENGE = "challenge"
RESPONSES = (ACCEPT, CHALLENGE)
PLAY = "play:"

_plays_cache: dict[tuple[tuple[int, ...], int], tuple[str, ...]] = {}
_play_counts: dict[str, tuple[int, int, int, int]] = {}


def cards_text(counts: list[int] | tuple[int, ...]) -> str:
    """`[2, 0, 1, 1]` -> `"QQAJ"`."""
    return "".join(letter * n for letter, n in zip(LETTERS, counts, strict=True))


def legal_plays(hand: tuple[int, ...], max_play: int) -> tuple[str, ...]:
    """Every distinct play from a hand: fewest cards first, then in rank order Q K A J, so the
    first (the fallback) plays a single card, a Joker only when nothing else is left.
    Memoised: hands repeat a lot."""
    key = (hand, max_play)
    plays = _plays_cache.get(key)
    if plays is None:
        found = []
        q, k, a, j = hand
        for nq in range(q + 1):
            for nk in range(k + 1):
                for na in range(a + 1):
                    for nj in range(j + 1):
                        total = nq + nk + na + nj
                        if 1 <= total <= max_play:
                            counts = (nq, nk, na, nj)
                            code = PLAY + cards_text(counts)
                            _play_counts[code] = counts
                            found.append((total, tuple(-n for n in counts), code))
        plays = _plays_cache[key] = tuple(code for _, _, code in sorted(found))
    return plays


@dataclass(frozen=True, slots=True)
class Claim:
    """The last play of the round, as everyone saw it (the true cards are not in here)."""

    seat: int
    count: int
    talk: str


@dataclass(frozen=True, slots=True)
class Reveal:
    """Cards shown to everyone by a challenge or a house challenge, and what followed."""

    seat: int
    cards: str
    honest: bool
    shot_by: int | None
    died: bool


@dataclass(frozen=True, slots=True)
class LiarsBarView:
    """What one seat may know: its own hand and the public table, nothing else."""

    seat: int
    round: int
    target: str
    phase: str  # "play" | "respond" | "over"
    turn: int
    hand: str
    alive: tuple[bool, ...]
    cards_left: tuple[int, ...]
    pulls: tuple[int, ...]
    points: tuple[int, ...] | None
    claim: Claim | None
    pile: int
    last_reveal: Reveal | None


class LiarsBarState:
    """One game of Liar's Bar in progress."""

    def __init__(self, config: LiarsBarConfig, seed: int, n_seats: int) -> None:
        self.config = config
        self.n = n_seats
        self.rng = random.Random(seed)
        self.deck = [LETTERS.index(c) for c in config.deck()]
        self.max_play = config.max_play
        self.scoring = config.scoring == "paper"
        self.chamber = [self.rng.randrange(config.chambers) for _ in range(n_seats)]
        self.pulls = [0] * n_seats
        self.alive = [True] * n_seats
        self.hands = [[0, 0, 0, 0] for _ in range(n_seats)]
        self.points = [0] * n_seats
        self.eliminated: list[int] = []
        self.round = 0
        self.target = 0
        self.turn = 0
        self.phase = "play"
        self.claim: tuple[int, tuple[int, int, int, int], str] | None = None  # seat, cards, talk
        self.pile = 0
        self.last_reveal: Reveal | None = None
        self.over = False

    # -- the engine interface -------------------------------------------------------------

    def to_act(self) -> tuple[int, ...]:
        return () if self.over else (self.turn,)

    def decision_kind(self, seat: int) -> str:
        return self.phase

    def legal_actions(self, seat: int) -> tuple[str, ...]:
        if self.over or seat != self.turn:
            return ()
        if self.phase == "respond":
            return RESPONSES
        return legal_plays(tuple(self.hands[seat]), self.max_play)

    def view_for(self, seat: int) -> LiarsBarView:
        claim = None
        if self.claim is not None:
            claimer, cards, talk = self.claim
            claim = Claim(claimer, sum(cards), talk)
        return LiarsBarView(
            seat=seat,
            round=self.round,
            target=LETTERS[self.target],
            phase="over" if self.over else self.phase,
            turn=self.turn,
            hand=cards_text(self.hands[seat]),
            alive=tuple(self.alive),
            cards_left=tuple(map(sum, self.hands)),
            pulls=tuple(self.pulls),
            points=tuple(self.points) if self.scoring else None,
            claim=claim,
            pile=self.pile,
            last_reveal=self.last_reveal,
        )

    def apply(self, decisions: Mapping[int, Decision]) -> list[Event]:
        seat = self.turn
        decision = decisions.get(seat)
        if self.over or decision is None or len(decisions) != 1:
            raise GameError(
                f"expected one decision from seat {seat}, got seats {sorted(decisions)}"
            )
        if decision.action not in self.legal_actions(seat):
            raise GameError(f"seat {seat}: {decision.action!r} is not legal now")
        events: list[Event] = []
        if self.phase == "play":
            talk = decision.talk[: self.config.talk_max_chars]  # longer lines are cut, not refused
            self._play(seat, _play_counts[decision.action], talk, events)
        elif decision.action == CHALLENGE:
            self._challenge(seat, events)
        else:
            self._accept(seat, events)
        return events

    def is_terminal(self) -> bool:
        return self.over

    def results(self) -> tuple[SeatResult, ...]:
        placement = [1] * self.n
        for i, seat in enumerate(self.eliminated):
            placement[seat] = self.n - i
        if self.scoring:
            best = max(self.points)
            winners = [p == best for p in self.points]
        else:
            winners = [p == 1 for p in placement]
        return tuple(
            SeatResult(placement[s], float(self.points[s]) if self.scoring else None, winners[s])
            for s in range(self.n)
        )

    # -- hooks for secret tools (tools/ decides who may call them) ------------------------------

    def peek(self, user: int, target: int) -> list[Event]:
        """`user` sees `target`'s hand as it is now; nobody else is told."""
        hand = cards_text(self.hands[target])
        return [Event("peek", {"target": target, "hand": hand}, only(user), user)]

    def rig_revolver(self, user: int, target: int) -> list[Event]:
        """The live round of `target`'s revolver comes one chamber closer to its next pull,
        without firing (if it is next already, nothing changes); `target` is not told."""
        before = self.chamber[target]
        self.chamber[target] = max(self.pulls[target], before - 1)
        moved = self.chamber[target] != before
        return [Event("rig", {"target": target, "moved": moved}, only(user), user)]

    def alliance_hint(self, user: int, ally: int) -> list[Event]:
        """Coaching for `user` as `ally`'s ally, and the ally's situation including its hand:
        never challenge the ally, press the leader (most points under paper scoring, else the
        fewest trigger pulls among the living non-allies)."""
        others = [s for s in range(self.n) if self.alive[s] and s not in (user, ally)]
        leader = None
        if others:
            if self.scoring:
                leader = max(others, key=lambda s: (self.points[s], -s))
            else:
                leader = min(others, key=lambda s: (self.pulls[s], s))
        payload = {
            "ally": ally,
            "ally_hand": cards_text(self.hands[ally]),
            "ally_pulls": self.pulls[ally],
            "ally_alive": self.alive[ally],
            "leader": leader,
            "advice": ["spare_ally", "press_leader"] if leader is not None else ["spare_ally"],
        }
        return [Event("hint", payload, only(user))]

    # -- rules -----------------------------------------------------------------------------

    def start(self) -> list[Event]:
        first = self.rng.randrange(self.n)
        events = [
            Event("game_start", {"seats": self.n, "first": first}),
            Event("revolvers", {"chambers": list(self.chamber)}, OBSERVER),
        ]
        self._start_round(first, events)
        return events

    def _start_round(self, starter: int, events: list[Event]) -> None:
        rng = self.rng
        self.round += 1
        self.target = target = rng.randrange(3)
        deck = self.deck[:]
        rng.shuffle(deck)
        size = self.config.hand_size
        living = [s for s in range(self.n) if self.alive[s]]
        if self.config.deal == "paper":
            bad = [c for c in deck if c != target and c != 3]
            for i, s in enumerate(living):
                hand = [0, 0, 0, 1]
                hand[target] = 2
                for c in bad[2 * i : 2 * i + 2]:
                    hand[c] += 1
                self.hands[s] = hand
        else:
            for i, s in enumerate(living):
                hand = [0, 0, 0, 0]
                for c in deck[i * size : (i + 1) * size]:
                    hand[c] += 1
                self.hands[s] = hand
        self.turn = starter
        self.phase = "play"
        self.claim = None
        self.pile = 0
        dealt = {str(s): cards_text(self.hands[s]) for s in living}
        letter = LETTERS[target]
        events.append(
            Event("hand_start", {"round": self.round, "target": letter, "hands": dealt}, OBSERVER)
        )
        events.append(
            Event("round_start", {"round": self.round, "target": letter, "starter": starter})
        )

    def _next_holder(self, after: int) -> int | None:
        """The next living player clockwise from `after` who still holds cards, `after` excluded."""
        n = self.n
        for i in range(1, n):
            s = (after + i) % n
            if self.alive[s] and any(self.hands[s]):
                return s
        return None

    def _play(
        self, seat: int, cards: tuple[int, int, int, int], talk: str, events: list[Event]
    ) -> None:
        hand = self.hands[seat]
        for i in range(4):
            hand[i] -= cards[i]
        count = sum(cards)
        self.pile += count
        self.claim = (seat, cards, talk)
        left = sum(hand)
        events.append(
            Event(
                "play",
                {"count": count, "claim": LETTERS[self.target], "talk": talk, "cards_left": left},
                PUBLIC,
                seat,
            )
        )
        responder = self._next_holder(seat)
        # A seat only gets to play while another living seat holds cards (else the house checks
        # its hand instead), so there is always someone to respond.
        assert responder is not None
        self.turn = responder
        self.phase = "respond"

    def _honest(self, cards: tuple[int, ...] | list[int]) -> bool:
        return all(n == 0 for i, n in enumerate(cards[:3]) if i != self.target)

    def _accept(self, seat: int, events: list[Event]) -> None:
        assert self.claim is not None
        claimer, cards, _ = self.claim
        events.append(Event("accept", {"of": claimer}, PUBLIC, seat))
        if self.scoring:
            if self._honest(cards):
                self._score(seat, 2, "declined to challenge an honest play", events)
            if not any(self.hands[claimer]):
                self._score(claimer, 2, "emptied hand unchallenged", events)
        if self._next_holder(seat) is None:
            self._house_challenge(seat, events)
        else:
            self.turn = seat
            self.phase = "play"

    def _challenge(self, seat: int, events: list[Event]) -> None:
        assert self.claim is not None
        claimer, cards, _ = self.claim
        honest = self._honest(cards)
        shown = cards_text(cards)
        events.append(Event("challenge", {"of": claimer}, PUBLIC, seat))
        events.append(
            Event("reveal", {"cards": shown, "honest": honest, "by": "player"}, PUBLIC, claimer)
        )
        loser = seat if honest else claimer
        if self.scoring and not honest:
            self._score(seat, 2, "successful challenge", events)
        died = self._shoot(loser, events)
        if self.scoring and honest and not died:
            self._score(seat, -1, "failed challenge", events)
        self.last_reveal = Reveal(claimer, shown, honest, loser, died)
        self._end_round(loser, "challenge", events)

    def _house_challenge(self, seat: int, events: list[Event]) -> None:
        hand = self.hands[seat]
        cards = tuple(hand)
        self.hands[seat] = [0, 0, 0, 0]
        self.pile += sum(cards)
        honest = self._honest(cards)
        events.append(
            Event(
                "reveal",
                {"cards": cards_text(cards), "honest": honest, "by": "house"},
                PUBLIC,
                seat,
            )
        )
        died = False if honest else self._shoot(seat, events)
        self.last_reveal = Reveal(seat, cards_text(cards), honest, None if honest else seat, died)
        self._end_round(seat, "house", events)

    def _shoot(self, seat: int, events: list[Event]) -> bool:
        pull = self.pulls[seat]
        self.pulls[seat] = pull + 1
        died = pull == self.chamber[seat]
        events.append(Event("shot", {"pull": pull + 1, "died": died}, PUBLIC, seat))
        if died:
            self.alive[seat] = False
            self.hands[seat] = [0, 0, 0, 0]
            self.eliminated.append(seat)
            events.append(Event("eliminated", {}, PUBLIC, seat))
            if self.scoring:
                self._score(seat, -2, "eliminated", events)
                for s in range(self.n):
                    if self.alive[s]:
                        self._score(s, 1, "another player eliminated", events)
        return died

    def _score(self, seat: int, delta: int, reason: str, events: list[Event]) -> None:
        self.points[seat] += delta
        events.append(Event("points", {"delta": delta, "reason": reason}, PUBLIC, seat))

    def _end_round(self, pivot: int, how: str, events: list[Event]) -> None:
        """Close the round; `pivot` is who pulled (or was house-challenged) and starts next."""
        assert self.last_reveal is not None
        reveal = self.last_reveal
        events.append(
            Event(
                "hand_end",
                {
                    "round": self.round,
                    "how": how,
                    "revealed": reveal.seat,
                    "cards": reveal.cards,
                    "honest": reveal.honest,
                    "shot": reveal.shot_by,
                    "died": reveal.died,
                },
            )
        )
        living = [s for s in range(self.n) if self.alive[s]]
        if len(living) == 1:
            if self.scoring:
                self._score(living[0], 3, "last survivor", events)
                self._score(self.eliminated[-1], 2, "second-last survivor", events)
            self._finish(events)
        elif self.round >= self.config.max_rounds:
            self._finish(events)
        else:
            starter = pivot if self.alive[pivot] else self._next_living(pivot)
            self._start_round(starter, events)

    def _next_living(self, after: int) -> int:
        for i in range(1, self.n):
            s = (after + i) % self.n
            if self.alive[s]:
                return s
        raise AssertionError("no living player")

    def _finish(self, events: list[Event]) -> None:
        self.over = True
        self.phase = "over"
        self.claim = None
        results = self.results()
        events.append(
            Event(
                "game_end",
                {
                    "placement": [r.placement for r in results],
                    "points": list(self.points) if self.scoring else None,
                    "winners": [s for s, r in enumerate(results) if r.winner],
                    "rounds": self.round,
                },
            )
        )


class LiarsBar:
    """Liar's Bar under one config: `new_game(seed, n_seats)` deals the first round."""

    name: ClassVar[str] = "liars-bar"
    config_model: ClassVar[type[BaseModel]] = LiarsBarConfig
    presets: ClassVar[Mapping[str, BaseModel]] = PRESETS

    def __init__(self, config: LiarsBarConfig) -> None:
        self.config = config
        self.min_seats = 2
        self.max_seats = 4

    def new_game(self, seed: int, n_seats: int) -> tuple[LiarsBarState, list[Event]]:
        check_seat_count(self, n_seats)
        state = LiarsBarState(self.config, seed, n_seats)
        return state, state.start()
