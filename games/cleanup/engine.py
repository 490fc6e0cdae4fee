"""Cleanup rules: a grid commons where apples grow only while agents keep the river clean.

Every step all agents act at once; the step resolves in a fixed order so that no seat is favoured:
(1) freeze counters tick, (2) moves, (3) zaps, all judged against the freeze counters before this
step's zaps (two agents zapping each other both freeze; a zapped agent still fires its own zap),
(4) apple collection by unfrozen agents (several on one apple each get +1, then it is gone),
(5) cleaning by unfrozen agents, (6) pollution drift, (7) apple growth.

Freeze arithmetic: `frozen[seat]` is the number of coming steps in which the seat may only STAY.
A zap sets it to `zap_freeze` after the tick of the step it lands in, so the victim collects and
cleans nothing in that step; the tick at the start of each later step lowers it by one. A seat is
STAY-only while its counter is above 0 before a step, that is for exactly the `zap_freeze` steps
after the zap. "Unfrozen" for collecting and cleaning means a counter of 0 after the tick and the
zaps, so in the last STAY-only step the seat already collects an apple it stands on. Zapping a
frozen agent sets its counter to `zap_freeze` again.

Tiles are numbered `row * cols + col`. Action codes: STAY, UP (row − 1), DOWN (row + 1), LEFT
(col − 1), RIGHT (col + 1), CLEAN, ZAP_UP, ZAP_DOWN, ZAP_LEFT, ZAP_RIGHT. A move off the grid
stays put. Cleanup has no table talk: `Decision.talk` is ignored.

Each step emits `hand_start` (the state before the step; the first one comes with the opening
events and each later one at the end of the previous step, so the runtime counts a step's
decisions in its own hand), one `zap` per zap fired, and `hand_end`; the last step adds
`game_end`. Everything is public: only the RNG is hidden.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from operator import add
from typing import Any, ClassVar

from pydantic import BaseModel

from games.base import (
    PUBLIC,
    Decision,
    Event,
    GameError,
    SeatResult,
    check_seat_count,
    only,
)
from games.cleanup.config import PRESETS, CleanupConfig

STAY = "STAY"
UP = "UP"
DOWN = "DOWN"
LEFT = "LEFT"
RIGHT = "RIGHT"
CLEAN = "CLEAN"
ZAP_UP = "ZAP_UP"
ZAP_DOWN = "ZAP_DOWN"
ZAP_LEFT = "ZAP_LEFT"
ZAP_RIGHT = "ZAP_RIGHT"
# The code's index is its number in the hot loop: 0 stay, 1–4 moves, 5 clean, 6–9 zaps, where
# a zap's direction is its code − 5, the code of the matching move.
ACTIONS: tuple[str, ...] = (
    STAY,
    UP,
    DOWN,
    LEFT,
    RIGHT,
    CLEAN,
    ZAP_UP,
    ZAP_DOWN,
    ZAP_LEFT,
    ZAP_RIGHT,
)
MOVES: tuple[str, ...] = ACTIONS[1:5]
ZAPS: tuple[str, ...] = ACTIONS[6:10]
DELTAS: dict[str, tuple[int, int]] = {UP: (-1, 0), DOWN: (1, 0), LEFT: (0, -1), RIGHT: (0, 1)}
FROZEN_ACTIONS: tuple[str, ...] = (STAY,)

_CODE: dict[str, int] = {action: code for code, action in enumerate(ACTIONS)}
_CLEAN = 5
_FIRST_ZAP = 6
_DIGITS = bytes.maketrans(bytes(range(10)), b"0123456789")


@dataclass(frozen=True, slots=True)
class Layout:
    """The grid of one config, precomputed once: tile lists and move and zap tables."""

    rows: int
    cols: int
    river_cols: tuple[int, ...]
    river: tuple[int, ...]  # river tiles, row-major
    orchard: tuple[int, ...]  # orchard tiles, row-major
    coords: tuple[tuple[int, int], ...]  # tile -> (row, col)
    moves: tuple[tuple[int, ...], ...]  # [code 0–4][tile] -> tile after the move
    zap_targets: tuple[tuple[int, ...], ...]  # [code 6–9][tile] -> adjacent tile or −1 (off-grid)


_layouts: dict[CleanupConfig, Layout] = {}


def layout_for(config: CleanupConfig) -> Layout:
    """The config's layout; memoised, as every new game of a batch asks for the same one."""
    layout = _layouts.get(config)
    if layout is None:
        layout = _layouts[config] = _build_layout(config)
    return layout


def _build_layout(config: CleanupConfig) -> Layout:
    rows, cols = config.rows, config.cols
    tiles = range(rows * cols)
    coords = tuple(divmod(t, cols) for t in tiles)
    river = tuple(t for t in tiles if coords[t][1] in config.river_cols)
    orchard = tuple(t for t in tiles if coords[t][1] not in config.river_cols)

    def neighbour(tile: int, move: str) -> int:
        dr, dc = DELTAS[move]
        r, c = coords[tile][0] + dr, coords[tile][1] + dc
        return r * cols + c if 0 <= r < rows and 0 <= c < cols else -1

    moves = [tuple(tiles)]
    for move in MOVES:
        moves.append(tuple(t if (n := neighbour(t, move)) < 0 else n for t in tiles))
    # Zap codes index the table directly; codes 0–5 never zap.
    zap_targets: list[tuple[int, ...]] = [()] * _FIRST_ZAP
    for move in MOVES:
        zap_targets.append(tuple(neighbour(t, move) for t in tiles))
    return Layout(
        rows=rows,
        cols=cols,
        river_cols=tuple(sorted(config.river_cols)),
        river=river,
        orchard=orchard,
        coords=coords,
        moves=tuple(moves),
        zap_targets=tuple(zap_targets),
    )


@dataclass(frozen=True, slots=True)
class CleanupView:
    """What one seat sees: the whole board (everything but the RNG is public).

    `apples` and `pollution` hold one byte per tile, index `row * cols + col` (apples 0/1;
    pollution 0/1 on river tiles, always 0 on orchard tiles).
    """

    seat: int
    step: int  # steps played so far, i.e. the 0-based index of the step being decided
    max_steps: int
    rows: int
    cols: int
    river_cols: tuple[int, ...]
    positions: tuple[tuple[int, int], ...]  # (row, col) per seat
    frozen: tuple[int, ...]  # STAY-only steps left per seat
    scores: tuple[int, ...]  # apples collected per seat
    apples: bytes
    pollution: bytes


class CleanupState:
    """One episode of Cleanup in progress.

    The state is these fields, which tests and tools may assign to stage a situation: `pos`
    (tile per seat), `frozen` (STAY-only steps left per seat), `scores` (apples per seat),
    `apples` and `pollution` (bytes, one per tile), `step` (steps played), `over`, and the
    hidden `rng`. The board fields hold immutable values (tuples, bytes) that views share
    without copying: replace them, never mutate them in place. `config`, `layout` and `n` are
    fixed for the episode.
    """

    def __init__(self, config: CleanupConfig, seed: int, n_seats: int) -> None:
        self.config = config
        self.layout = layout = layout_for(config)
        self.n = n_seats
        self.rng = random.Random(seed)
        self.max_steps = config.max_steps
        self.pos: tuple[int, ...] = tuple(
            r * layout.cols + c for r, c in config.start_positions[:n_seats]
        )
        self.frozen: tuple[int, ...] = (0,) * n_seats
        self.scores: tuple[int, ...] = (0,) * n_seats
        size = layout.rows * layout.cols
        self.apples = bytes(size)
        self.pollution = bytes(size)
        self.step = 0
        self.over = False
        self._seats = tuple(range(n_seats))
        self._coords_of = layout.coords.__getitem__
        # `pos` as (row, col) pairs, for the `pos` tuple it was computed from: tuples are
        # immutable, so while `pos` is that very object the pairs are current.
        self._positions: tuple[tuple[int, int], ...] = ()
        self._positions_of: tuple[int, ...] | None = None

    # -- the engine interface -------------------------------------------------------------

    def to_act(self) -> tuple[int, ...]:
        return () if self.over else self._seats

    def decision_kind(self, seat: int) -> str:
        return "act"

    def legal_actions(self, seat: int) -> tuple[str, ...]:
        if self.over or not 0 <= seat < self.n:
            return ()
        return FROZEN_ACTIONS if self.frozen[seat] else ACTIONS

    def view_for(self, seat: int) -> CleanupView:
        if not 0 <= seat < self.n:
            raise GameError(f"no seat {seat} in a {self.n}-seat game")
        pos = self.pos
        if pos is not self._positions_of:
            self._positions = tuple(map(self._coords_of, pos))
            self._positions_of = pos
        layout = self.layout
        # The board fields are immutable values, so every seat's view shares them uncopied.
        return CleanupView(
            seat,
            self.step,
            self.max_steps,
            layout.rows,
            layout.cols,
            layout.river_cols,
            self._positions,
            self.frozen,
            self.scores,
            self.apples,
            self.pollution,
        )

    def apply(self, decisions: Mapping[int, Decision]) -> list[Event]:
        n = self.n
        if self.over:
            raise GameError("the episode is over: no more decisions")
        if len(decisions) != n:
            raise GameError(
                f"decisions for seats {sorted(decisions)}, expected {list(self._seats)}"
            )
        frozen_before = self.frozen
        codes: list[int] = []
        for seat in self._seats:
            decision = decisions.get(seat)
            if decision is None:
                raise GameError(
                    f"decisions for seats {sorted(decisions)}, expected {list(self._seats)}"
                )
            code = _CODE.get(decision.action)
            if code is None or (code and frozen_before[seat]):
                raise GameError(f"seat {seat}: {decision.action!r} is not a legal action")
            codes.append(code)

        config = self.config
        layout = self.layout
        coords = layout.coords
        seats = self._seats
        # The state keeps immutable values that views share; the step works on copies.
        pos = list(self.pos)
        frozen = list(frozen_before)
        apples = bytearray(self.apples)
        pollution = bytearray(self.pollution)
        step = self.step
        events: list[Event] = []

        # (1) freeze counters tick and (2) moves: both per seat and independent of the others,
        # so one pass does both (a frozen seat's code is STAY).
        moves = layout.moves
        for s in seats:
            if frozen[s]:
                frozen[s] -= 1
            code = codes[s]
            if 0 < code < _CLEAN:
                pos[s] = moves[code][pos[s]]

        # (3) zaps: targets are found on the moved board, but every zap is fired before any
        # victim's counter changes, so the result does not depend on seat order.
        if max(codes) >= _FIRST_ZAP:
            victims: list[int] = []
            zap_targets = layout.zap_targets
            for s in seats:
                code = codes[s]
                if code >= _FIRST_ZAP:
                    target = zap_targets[code][pos[s]]
                    if target < 0:
                        tile = None
                        hit: list[int] = []
                    else:
                        tile = list(coords[target])
                        hit = [t for t in seats if pos[t] == target]
                        victims += hit
                    events.append(
                        Event(
                            "zap",
                            {
                                "step": step,
                                "direction": ACTIONS[code - _FIRST_ZAP + 1],
                                "target": tile,
                                "frozen_seats": hit,
                            },
                            PUBLIC,
                            s,
                        )
                    )
            freeze = config.zap_freeze
            for t in victims:
                frozen[t] = freeze

        # (4) apple collection: every unfrozen agent on an apple scores before the apple goes,
        # so agents sharing a tile each get it (no seat order decides who does).
        rewards = [0] * n
        for s in seats:
            if not frozen[s] and apples[pos[s]]:
                rewards[s] = 1
        if 1 in rewards:
            for s in seats:
                if rewards[s]:
                    apples[pos[s]] = 0
            self.scores = tuple(map(add, self.scores, rewards))

        # (5) cleaning; orchard tiles never hold pollution, so "polluted" implies "river".
        cleaned: list[list[int]] = []
        if _CLEAN in codes:
            for s in seats:
                if codes[s] == _CLEAN and not frozen[s]:
                    tile_index = pos[s]
                    if pollution[tile_index]:
                        pollution[tile_index] -= 1
                        cleaned.append(list(coords[tile_index]))

        # (6) pollution drift
        rng = self.rng
        polluted = None
        if step % config.pollution_interval == 0:
            clean = [t for t in layout.river if not pollution[t]]
            if clean:
                chosen = clean[rng.randrange(len(clean))]
                pollution[chosen] = 1
                polluted = list(coords[chosen])

        # (7) apple growth on empty orchard tiles (no apple, no agent)
        total = sum(pollution)
        grown = 0
        if total < config.pollution_threshold:
            blocked = apples[:]
            for t in pos:
                blocked[t] = 1
            chance = config.growth_prob
            draw = rng.random
            for t in layout.orchard:
                if not blocked[t] and draw() < chance:
                    apples[t] = 1
                    grown += 1

        self.pos = tuple(pos)
        self.frozen = tuple(frozen)
        self.apples = bytes(apples)
        self.pollution = bytes(pollution)
        self.step = step + 1
        events.append(
            Event(
                "hand_end",
                {
                    "step": step,
                    "actions": list(map(ACTIONS.__getitem__, codes)),
                    "rewards": rewards,
                    "cleaned": cleaned,
                    "polluted": polluted,
                    "grown": grown,
                    "pollution_total": total,
                },
            )
        )
        if self.step >= self.max_steps:
            self.over = True
            events.append(self._game_end())
        else:
            events.append(Event("hand_start", self._summary()))
        return events

    def is_terminal(self) -> bool:
        return self.over

    def remote_zap(self, user: int, target: int) -> list[Event]:
        """A secret tool's hook: freeze `target` for `zap_freeze` steps wherever it stands, as a
        zap would. The board shows it frozen; only `user` is told who did it."""
        frozen = list(self.frozen)
        frozen[target] = self.config.zap_freeze
        self.frozen = tuple(frozen)
        payload = {"target": target, "freeze": self.config.zap_freeze}
        return [Event("remote_zap", payload, only(user), user)]

    def alliance_hint(self, user: int, ally: int) -> list[Event]:
        """Coaching for `user` as `ally`'s ally, and the ally's situation: never zap the ally,
        split the cleaning, slow the leader (the non-ally with the most apples)."""
        others = [s for s in self._seats if s not in (user, ally)]
        leader = max(others, key=lambda s: (self.scores[s], -s)) if others else None
        payload = {
            "ally": ally,
            "ally_position": list(self._coords_of(self.pos[ally])),
            "ally_frozen": self.frozen[ally],
            "ally_score": self.scores[ally],
            "leader": leader,
            "advice": ["spare_ally", "share_cleaning", "slow_leader"],
        }
        return [Event("hint", payload, only(user))]

    @property
    def alive(self) -> tuple[bool, ...]:
        """Nobody leaves a Cleanup game."""
        return (True,) * self.n

    def results(self) -> tuple[SeatResult, ...]:
        scores = self.scores
        # Ties share the better place: placement is 1 + the number of strictly better seats.
        placement = [1 + sum(other > mine for other in scores) for mine in scores]
        return tuple(
            SeatResult(placement[s], float(scores[s]), placement[s] == 1) for s in self._seats
        )

    # -- rules -----------------------------------------------------------------------------

    def start(self) -> list[Event]:
        """Pollute the starting river tiles and spawn the first apples; the opening events."""
        config = self.config
        layout = self.layout
        rng = self.rng
        pollution = bytearray(self.pollution)
        for t in rng.sample(layout.river, config.initial_polluted):
            pollution[t] = 1
        apples = bytearray(self.apples)
        chance = config.growth_prob
        for t in layout.orchard:
            if t not in self.pos and rng.random() < chance:
                apples[t] = 1
        self.pollution = bytes(pollution)
        self.apples = bytes(apples)
        opening = {
            "seats": self.n,
            "rows": layout.rows,
            "cols": layout.cols,
            "river_cols": list(layout.river_cols),
            "max_steps": self.max_steps,
            "positions": self._position_lists(),
            "apples": self.apples.translate(_DIGITS).decode(),
            "pollution": self.pollution.translate(_DIGITS).decode(),
        }
        return [Event("game_start", opening), Event("hand_start", self._summary())]

    def _position_lists(self) -> list[list[int]]:
        coords = self.layout.coords
        return [list(coords[t]) for t in self.pos]

    def _summary(self) -> dict[str, Any]:
        """The state before a step, as `hand_start` records it: grids as digit strings, one
        character per tile in row-major order."""
        return {
            "step": self.step,
            "positions": self._position_lists(),
            "frozen": list(self.frozen),
            "apples": self.apples.translate(_DIGITS).decode(),
            "pollution": self.pollution.translate(_DIGITS).decode(),
            "scores": list(self.scores),
        }

    def _game_end(self) -> Event:
        results = self.results()
        return Event(
            "game_end",
            {
                "scores": list(self.scores),
                "placement": [r.placement for r in results],
                "winners": [s for s, r in enumerate(results) if r.winner],
                "steps": self.step,
            },
        )


class Cleanup:
    """Cleanup under one config: `new_game(seed, n_seats)` places the agents and the first apples.

    One seat per start position of the config, no more, no fewer.
    """

    name: ClassVar[str] = "cleanup"
    # Typed as the Game protocol declares them: its mutable ClassVars are invariant.
    config_model: ClassVar[type[BaseModel]] = CleanupConfig
    presets: ClassVar[Mapping[str, BaseModel]] = PRESETS

    def __init__(self, config: CleanupConfig) -> None:
        self.config = config
        self.min_seats = self.max_seats = len(config.start_positions)

    def new_game(self, seed: int, n_seats: int) -> tuple[CleanupState, list[Event]]:
        check_seat_count(self, n_seats)
        state = CleanupState(self.config, seed, n_seats)
        return state, state.start()
