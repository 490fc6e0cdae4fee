"""What recording costs: the same bot batch played with and without the SQLite store.

Prints one JSON line with both times and their ratio (target: recording adds at most 50%, a ratio
of at most 1.5). Both sides run the same matches through the same runtime; only the listener
differs. The recorded time runs until every row is committed. The rows are written by a writer
process on the other core, so the line also gives the CPU seconds both sides spent in all
processes (`*_cpu_s`): what recording costs in total, not only in waiting.
Run: `python bench/recording.py [MATCHES]`.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from arena.batch import BatchPlan, plan, run_batch
from arena.runtime import run_match
from arena.seats import make_player
from arena.store.db import Store


def cpu_s() -> float:
    """CPU seconds of this process and of its children that have ended."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


async def without_store(batch: BatchPlan) -> float:
    game = batch.game_class(batch.config)
    started = time.perf_counter()
    for index in range(batch.matches):
        seed = batch.seed + index
        players = [
            make_player(spec, batch.game, batch.config, seed, s)
            for s, spec in enumerate(batch.seats)
        ]
        await run_match(game, seed, players)
    return time.perf_counter() - started


async def with_store(batch: BatchPlan, folder: Path) -> float:
    with Store(folder / "bench.db") as store:
        started = time.perf_counter()
        await run_batch(store, batch)
        return time.perf_counter() - started


def main() -> None:
    matches = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    report: dict[str, object] = {"matches": matches}
    for game in ("liars-bar", "cleanup"):
        batch = plan(game, None, {}, None, matches, 1)
        with tempfile.TemporaryDirectory() as folder:
            cpu = cpu_s()
            plain = asyncio.run(without_store(batch))
            plain_cpu, cpu = cpu_s() - cpu, cpu_s()
            recorded = asyncio.run(with_store(batch, Path(folder)))
            recorded_cpu = cpu_s() - cpu  # the writer process has ended: it counts
            size = (Path(folder) / "bench.db").stat().st_size
        key = game.replace("-", "_")
        report[f"{key}_plain_s"] = round(plain, 3)
        report[f"{key}_recorded_s"] = round(recorded, 3)
        report[f"{key}_ratio"] = round(recorded / plain, 2)
        report[f"{key}_plain_cpu_s"] = round(plain_cpu, 3)
        report[f"{key}_recorded_cpu_s"] = round(recorded_cpu, 3)
        report[f"{key}_db_kib_per_match"] = round(size / 1024 / matches, 1)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
