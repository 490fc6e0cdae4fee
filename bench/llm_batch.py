"""LLM matches at scale: 64 Liar's Bar matches, four LLM seats each, against the fake server.

Every call waits 100 ms at the server, as a fast provider would. The server runs in a process of
its own, as a provider does, so its work does not count against the arena's. Prints one JSON line:
- `sequential_s_per_match`: a few matches at concurrency 1, per match;
- `concurrent_wall_s`: all matches at concurrency 64;
- `longest_match_s`: the longest of those matches played again alone (the fake server's answers
  depend only on the prompt, so it replays the same game);
- `ratio`: concurrent wall time over the longest single match (target: at most 1.3);
- `mean_prompt_tokens`: per decision call (the fake server counts a token per 4 characters).
The LLM gateways are started and have loaded litellm before the clock starts.
Run: `python bench/llm_batch.py [MATCHES]`; `BENCH_MODEL=hosted_vllm/fake` takes litellm's own
HTTP path instead of the OpenAI client's (default `openai/fake`).
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from arena.batch import BatchPlan, plan, run_batch
from arena.llm.config import ModelsConfig, ModelSettings
from arena.llm.gateway import warm_up
from arena.store.db import Store

LATENCY_S = 0.1
MODEL = os.environ.get("BENCH_MODEL", "openai/fake")


def batch_of(base_url: str, matches: int, seed: int) -> BatchPlan:
    settings = ModelSettings(
        model=MODEL, api_base=base_url, concurrency=256, timeout_s=30, retries=0
    )
    models = ModelsConfig({"fake": settings}, {}, "bench")
    return plan("liars-bar", "classic", {}, ["llm:fake"] * 4, matches, seed, models)


async def timed(store: Store, batch: BatchPlan, concurrency: int) -> float:
    started = time.perf_counter()
    await run_batch(store, batch, concurrency)
    return time.perf_counter() - started


def calls_per_match(db: Path) -> dict[int, int]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT m.batch_index, count(*) FROM llm_calls c JOIN matches m ON m.id = c.match_id"
            " GROUP BY 1"
        )
        return dict(rows.fetchall())


def mean_prompt_tokens(db: Path) -> float:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        (mean,) = conn.execute(
            "SELECT avg(prompt_tokens) FROM llm_calls WHERE purpose = 'decision'"
        ).fetchone()
    return float(mean)


class ServerProcess:
    """`python -m arena.llm.fake_server` on a free port, for the length of a `with`."""

    def __enter__(self) -> ServerProcess:
        command = [sys.executable, "-m", "arena.llm.fake_server", "--port", "0"]
        command += ["--latency", str(LATENCY_S), "--seed", "1"]
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.base_url = self.proc.stdout.readline().strip()
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait()


def main() -> None:
    matches = int(sys.argv[1]) if len(sys.argv) > 1 else 64
    asyncio.run(warm_up())  # the gateway loads litellm before the clock starts, as before
    with ServerProcess() as server, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        few = 2
        with Store(folder / "sequential.db") as store:
            sequential = asyncio.run(timed(store, batch_of(server.base_url, few, 1000), 1))
        concurrent_db = folder / "concurrent.db"
        batch = batch_of(server.base_url, matches, 1)
        with Store(concurrent_db) as store:
            wall = asyncio.run(timed(store, batch, matches))
        calls = calls_per_match(concurrent_db)
        longest_index = max(calls, key=lambda index: calls[index])
        alone = batch_of(server.base_url, 1, batch.seed + longest_index)
        with Store(folder / "alone.db") as store:
            longest = asyncio.run(timed(store, alone, 1))
        replayed_calls = sum(calls_per_match(folder / "alone.db").values())
        report = {
            "model": MODEL,
            "matches": matches,
            "latency_s_per_call": LATENCY_S,
            "sequential_s_per_match": round(sequential / few, 2),
            "concurrent_wall_s": round(wall, 2),
            "longest_match_s": round(longest, 2),
            "longest_match_calls": calls[longest_index],
            "longest_replayed_identically": replayed_calls == calls[longest_index],
            "ratio": round(wall / longest, 2),
            "mean_prompt_tokens": round(mean_prompt_tokens(concurrent_db), 1),
            "calls": sum(calls.values()),
        }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
