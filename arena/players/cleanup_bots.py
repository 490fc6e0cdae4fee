"""Cleanup bot personas: `harvester`, `cleaner` and `zapper`.

All three walk the same way: to the nearest target tile by Manhattan distance, one step along a
row or a column that shortens the distance, with ties (between targets, and between a vertical
and a horizontal step) broken by the rng they are handed. A frozen bot returns its only legal
action, STAY. They read nothing but the view.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from arena.players.personas import Persona, legal_or_fallback
from games.base import Decision
from games.cleanup.config import CleanupConfig
from games.cleanup.engine import (
    CLEAN,
    DELTAS,
    DOWN,
    LEFT,
    RIGHT,
    STAY,
    UP,
    ZAP_DOWN,
    ZAP_LEFT,
    ZAP_RIGHT,
    ZAP_UP,
    CleanupView,
)

_ZAP_DELTAS: tuple[tuple[str, tuple[int, int]], ...] = (
    (ZAP_UP, DELTAS[UP]),
    (ZAP_DOWN, DELTAS[DOWN]),
    (ZAP_LEFT, DELTAS[LEFT]),
    (ZAP_RIGHT, DELTAS[RIGHT]),
)


def nearest_tile(
    view: CleanupView, grid: bytes, origin: tuple[int, int], rng: random.Random
) -> tuple[int, int] | None:
    """The (row, col) of the nearest tile whose byte in `grid` is non-zero, or None if none is."""
    row, col = origin
    cols = view.cols
    best: list[tuple[int, int]] = []
    best_distance = -1
    for tile, value in enumerate(grid):
        if not value:
            continue
        r, c = divmod(tile, cols)
        distance = abs(r - row) + abs(c - col)
        if best_distance < 0 or distance < best_distance:
            best, best_distance = [(r, c)], distance
        elif distance == best_distance:
            best.append((r, c))
    if not best:
        return None
    return best[0] if len(best) == 1 else best[rng.randrange(len(best))]


def step_towards(origin: tuple[int, int], target: tuple[int, int], rng: random.Random) -> str:
    """A move that shortens the Manhattan distance to `target`; STAY when already there."""
    (row, col), (to_row, to_col) = origin, target
    options = []
    if to_row != row:
        options.append(UP if to_row < row else DOWN)
    if to_col != col:
        options.append(LEFT if to_col < col else RIGHT)
    if not options:
        return STAY
    return options[0] if len(options) == 1 else options[rng.randrange(2)]


def _harvest(view: CleanupView, rng: random.Random) -> str:
    here = view.positions[view.seat]
    apple = nearest_tile(view, view.apples, here, rng)
    # With no apple on the board, waiting is as good as wandering: everything is visible.
    return STAY if apple is None else step_towards(here, apple, rng)


def harvester(
    view: CleanupView,
    legal: tuple[str, ...],
    rng: random.Random,
    config: CleanupConfig,
    params: Mapping[str, float],
) -> Decision:
    """Walks to the nearest apple and collects it; never cleans or zaps."""
    if view.frozen[view.seat]:
        return Decision(legal[0])
    return legal_or_fallback(_harvest(view, rng), legal)


def cleaner(
    view: CleanupView,
    legal: tuple[str, ...],
    rng: random.Random,
    config: CleanupConfig,
    params: Mapping[str, float],
) -> Decision:
    """While total pollution is at least `clean_at`, walks to the nearest polluted river tile and
    cleans it; otherwise harvests."""
    if view.frozen[view.seat]:
        return Decision(legal[0])
    if sum(view.pollution) >= params["clean_at"]:
        here = view.positions[view.seat]
        if view.pollution[here[0] * view.cols + here[1]]:
            return legal_or_fallback(CLEAN, legal)
        dirty = nearest_tile(view, view.pollution, here, rng)
        if dirty is not None:
            return legal_or_fallback(step_towards(here, dirty, rng), legal)
    return legal_or_fallback(_harvest(view, rng), legal)


def zapper(
    view: CleanupView,
    legal: tuple[str, ...],
    rng: random.Random,
    config: CleanupConfig,
    params: Mapping[str, float],
) -> Decision:
    """Harvests, but zaps an unfrozen agent on an adjacent tile with probability `zap_prob`
    (a random one of the directions that hold such an agent)."""
    if view.frozen[view.seat]:
        return Decision(legal[0])
    row, col = view.positions[view.seat]
    targets = []
    for zap, (dr, dc) in _ZAP_DELTAS:
        tile = (row + dr, col + dc)
        if any(
            s != view.seat and pos == tile and not view.frozen[s]
            for s, pos in enumerate(view.positions)
        ):
            targets.append(zap)
    if targets and rng.random() < params["zap_prob"]:
        return legal_or_fallback(targets[rng.randrange(len(targets))], legal)
    return legal_or_fallback(_harvest(view, rng), legal)


CLEANUP_PERSONAS: dict[str, Persona] = {
    persona.name: persona
    for persona in (
        Persona(
            "harvester",
            ("cleanup",),
            "walks to the nearest apple and collects it; never cleans or zaps",
            harvester,
        ),
        Persona(
            "cleaner",
            ("cleanup",),
            "cleans the nearest polluted river tile while total pollution is at least "
            "`clean_at` (default 3); harvests otherwise",
            cleaner,
            {"clean_at": 3.0},
        ),
        Persona(
            "zapper",
            ("cleanup",),
            "harvests, and zaps an unfrozen agent on an adjacent tile with probability "
            "`zap_prob` (default 0.7)",
            zapper,
            {"zap_prob": 0.7},
        ),
    )
}
