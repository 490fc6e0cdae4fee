"""Engine throughput: full random games of Liar's Bar and random steps of Cleanup, one core.

Prints one JSON line. Liar's Bar: `classic`, 4 seats, uniformly random legal decisions, the acting
seat's view built for every decision. Cleanup: `paper`, 4 agents, uniformly random actions, every
seat's view built every step (as a learner would need). Run: `python bench/engines.py`.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from games.base import Decision
from games.cleanup.config import PRESETS as CLEANUP_PRESETS
from games.cleanup.engine import Cleanup
from games.liars_bar.config import PRESETS as LIARS_BAR_PRESETS
from games.liars_bar.engine import LiarsBar

SECONDS = 3.0


def liars_bar_games_per_s() -> tuple[float, float]:
    game = LiarsBar(LIARS_BAR_PRESETS["classic"])
    chooser = random.Random(1)
    games = decisions = 0
    started = time.perf_counter()
    while time.perf_counter() - started < SECONDS:
        state, _ = game.new_game(games, 4)
        while not state.is_terminal():
            (seat,) = state.to_act()
            state.view_for(seat)
            legal = state.legal_actions(seat)
            state.apply({seat: Decision(legal[chooser.randrange(len(legal))])})
            decisions += 1
        games += 1
    elapsed = time.perf_counter() - started
    return games / elapsed, decisions / games


def cleanup_steps_per_s() -> float:
    game = Cleanup(CLEANUP_PRESETS["paper"])
    chooser = random.Random(1)
    steps = episodes = 0
    started = time.perf_counter()
    while time.perf_counter() - started < SECONDS:
        state, _ = game.new_game(episodes, 4)
        while not state.is_terminal():
            decisions = {}
            for seat in state.to_act():
                state.view_for(seat)
                legal = state.legal_actions(seat)
                decisions[seat] = Decision(legal[chooser.randrange(len(legal))])
            state.apply(decisions)
            steps += 1
        episodes += 1
    return steps / (time.perf_counter() - started)


if __name__ == "__main__":
    games_per_s, decisions_per_game = liars_bar_games_per_s()
    steps_per_s = cleanup_steps_per_s()
    print(
        json.dumps(
            {
                "liars_bar_games_per_s": round(games_per_s),
                "liars_bar_decisions_per_game": round(decisions_per_game, 1),
                "liars_bar_target_ratio": round(games_per_s / 1500, 2),
                "cleanup_steps_per_s": round(steps_per_s),
                "cleanup_target_ratio": round(steps_per_s / 50_000, 2),
                "cleanup_vs_reference_env": round(steps_per_s / 8_800, 2),
                "python": sys.version.split()[0],
            }
        )
    )
