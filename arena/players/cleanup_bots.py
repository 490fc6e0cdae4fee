"""Cleanup bot personas: `harvester`, `cleaner` and `zapper`; and how any Cleanup bot plays the
secret side (`CLEANUP_SECRET_PLAY`: partner, plan, remote zap, never zapping an ally).

All three walk the same way: to the nearest target tile by Manhattan distance, one step along a
row or a column that shortens the distance, with ties (between targets, and between a vertical
and a horizontal step) broken by the rng they are handed. A frozen bot returns its only legal
action, STAY. They read nothing but the view.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from arena.players.personas import Knowledge, Persona, SecretPlay, legal_or_fallback
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
from tools.offers import NONE

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


# -- the secret side: partner, plan, remote zap, and play as an ally ----------------------------


def _distance(a: tuple[int, int], b: tuple[int, int]) -> int:
    return abs(a[0] - b[0]) + abs(a[1] - b[1])


def choose_partner(view: CleanupView, candidates: tuple[int, ...]) -> tuple[int, str]:
    """The nearest agent (Manhattan distance; ties to the first clockwise): the one best placed
    to zap this bot, and the one it can share a stretch of river and orchard with."""
    here = view.positions[view.seat]
    n = len(view.positions)
    order = {s: (s - view.seat) % n for s in candidates}
    seat = min(candidates, key=lambda s: (_distance(here, view.positions[s]), order[s]))
    far = _distance(here, view.positions[seat])
    return seat, f"the nearest agent ({far} tiles away), best placed to zap me"


def slow_target(view: CleanupView, allies: frozenset[int]) -> int | None:
    """The non-ally with the most apples (ties to the lower seat), as the engine's alliance hint
    names the leader."""
    others = [s for s in range(len(view.scores)) if s != view.seat and s not in allies]
    if not others:
        return None
    return max(others, key=lambda s: (view.scores[s], -s))


def plan_message(view: CleanupView, allies: frozenset[int]) -> str:
    """`I won't zap you. Let's slow Player 3.` (the non-ally with the most apples)."""
    target = slow_target(view, allies)
    if target is None:
        return "I won't zap you."
    return f"I won't zap you. Let's slow Player {target}."


def choose_tool(
    view: CleanupView, tools: tuple[str, ...], allies: frozenset[int], legal: tuple[str, ...]
) -> tuple[str, str]:
    """Remote-zap the non-ally with the most apples who is not frozen (ties to the lower seat),
    when it has at least as many apples as this bot: a rival for the win. Freezing everyone
    every step would also stop the cleaning and the apples with it."""
    if "remote_zap" in tools:
        others = [
            s
            for s in range(len(view.scores))
            if s != view.seat and s not in allies and not view.frozen[s]
        ]
        if others:
            target = max(others, key=lambda s: (view.scores[s], -s))
            action = f"remote_zap:{target}"
            if view.scores[target] >= view.scores[view.seat] and action in legal:
                reason = (
                    f"simulated: freeze Player {target}, the unfrozen opponent with the most "
                    "apples, no fewer than mine"
                )
                return action, reason
    return NONE, ""


def _zap_tile(view: CleanupView, zap: str) -> tuple[int, int]:
    row, col = view.positions[view.seat]
    dr, dc = DELTAS[zap.removeprefix("ZAP_")]
    return row + dr, col + dc


def _may_hit(view: CleanupView, zap: str, allies: set[int]) -> bool:
    """Whether `zap` could freeze an ally: moves come before zaps in a step, so an ally that is
    not frozen may step onto the zapped tile; a frozen one stays where it is."""
    tile = _zap_tile(view, zap)
    return any(
        _distance(tile, view.positions[ally]) <= (0 if view.frozen[ally] else 1) for ally in allies
    )


def play_as_ally(
    view: CleanupView,
    legal: tuple[str, ...],
    decision: Decision,
    knowledge: Knowledge,
    rng: random.Random,
    config: CleanupConfig,
    params: Mapping[str, float],
) -> Decision:
    """The persona's `decision`, unless it is a zap that could freeze an ally (the ally on the
    zapped tile, or able to step onto it this step). Then the bot zaps another adjacent unfrozen
    non-ally that no ally can reach, if there is one, and otherwise harvests."""
    allies = knowledge.allies
    if not decision.action.startswith("ZAP_") or not _may_hit(view, decision.action, allies):
        return decision
    for zap, _ in _ZAP_DELTAS:
        if zap not in legal or _may_hit(view, zap, allies):
            continue
        tile = _zap_tile(view, zap)
        if any(
            s != view.seat and pos == tile and not view.frozen[s]
            for s, pos in enumerate(view.positions)
        ):
            return Decision(zap)
    return legal_or_fallback(_harvest(view, rng), legal)


CLEANUP_SECRET_PLAY = SecretPlay(
    partner=choose_partner,
    plan=plan_message,
    tool=choose_tool,
    adjust=play_as_ally,
)
