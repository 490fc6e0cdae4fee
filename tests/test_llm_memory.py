"""What an LLM seat remembers between decisions, read from the prompts the server received."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from arena.batch import plan, run_batch
from arena.llm.config import ModelsConfig, ModelSettings
from arena.llm.fake_server import FakeOpenAI
from arena.store.db import Store
from tests.support import read_only


async def prompts_of(tmp_path: Path, **settings: Any) -> list[dict[str, Any]]:
    """Seat 0 (an LLM) plays one Liar's Bar game against a bot; every llm_calls row of it."""
    db = tmp_path / "memory.db"
    with FakeOpenAI(seed=2) as fake:
        alias = ModelSettings(model="openai/fake", api_base=fake.base_url, **settings)
        models = ModelsConfig({"m": alias}, {}, "test")
        batch = plan("liars-bar", None, {"max_rounds": 4}, ["llm:m", "bot:counter"], 1, 11, models)
        with Store(db) as store:
            await run_batch(store, batch)
    with read_only(db) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute(
            "SELECT c.*, d.hand FROM llm_calls c JOIN decisions d"
            " ON d.match_id = c.match_id AND d.seq = c.decision_seq ORDER BY c.decision_seq"
        ).fetchall()
    return [dict(row) for row in rows]


def transcript(call: dict[str, Any]) -> str:
    return str(json.loads(call["messages"])[-1]["content"])


@pytest.mark.parametrize("memory", ["full", "summary", "none"])
async def test_memory_modes_keep_what_they_promise(tmp_path: Path, memory: str) -> None:
    calls = [c for c in await prompts_of(tmp_path, memory=memory) if c["purpose"] == "decision"]
    later = [c for c in calls if c["hand"] >= 2]
    assert later, "the game must last beyond its first round"
    last_call = later[-1]
    last = transcript(last_call)
    starts = last.count(" starts: target")  # one line per round start remembered
    assert all(len(json.loads(c["messages"])) == 2 for c in calls)  # system + one user message
    if memory == "full":
        assert starts == last_call["hand"]
        assert last.count("You answered:") == len(calls) - 1  # every earlier answer, in order
    elif memory == "summary":
        assert starts == 1  # earlier rounds only by their outcomes
        assert "pulled the trigger" in last.split(" starts: target")[0]
    else:
        assert starts == 1
        assert "pulled the trigger" not in last.split(" starts: target")[0]


async def test_reflection_after_each_round_feeds_later_prompts(tmp_path: Path) -> None:
    calls = await prompts_of(tmp_path, reflection=True)
    reflections = [c for c in calls if c["purpose"] == "reflection"]
    assert reflections and all(c["valid"] == 1 for c in reflections)
    opinions = json.loads(reflections[0]["parsed"])["opinions"]
    assert list(opinions) == ["Player 1"]  # only the other player, by neutral name
    after = [c for c in calls if c["purpose"] == "decision" and c["decision_seq"] > 0]
    noted = [c for c in after if "Your notes on the other players: Player 1:" in transcript(c)]
    assert noted, "opinions must reach the decisions that follow"
    # a reflection is stored with the decision it preceded
    first = reflections[0]
    assert any(
        c["purpose"] == "decision" and c["decision_seq"] == first["decision_seq"] for c in calls
    )
