"""LLM seats playing whole matches against the fake OpenAI-compatible server, over real HTTP
through litellm, recorded into a real SQLite file: every call a row, every fault survived."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from arena.batch import plan, run_batch
from arena.llm.config import ModelsConfig, ModelSettings
from arena.llm.fake_server import FakeOpenAI, legal_answer
from arena.store.db import Store
from tests.support import read_only

# Short matches keep the fault matrix fast: every decision of a faulty seat is a fallback.
SHORT = {"liars-bar": {"max_rounds": 2}, "cleanup": {"max_steps": 3}}


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(slow_s=2.0, seed=3) as fake:
        yield fake


def models(base_url: str, **settings: Any) -> ModelsConfig:
    """One alias per fault mode of the fake server, e.g. `fake-garbage`, all at `base_url`."""
    modes = ("fake", "fake-garbage", "fake-illegal", "fake-empty", "fake-slow", "fake-500")
    modes += ("fake-429", "fake-401", "fake-prose", "fake-mixed")
    base = {"api_base": base_url, "timeout_s": 0.5, "retries": 0, "reasks": 2, **settings}
    aliases = {mode: ModelSettings(model=f"openai/{mode}", **base) for mode in modes}
    return ModelsConfig(aliases, {}, "test")


async def play(
    db: Path,
    game: str,
    seats: list[str],
    config: ModelsConfig,
    overrides: dict[str, Any] | None = None,
    matches: int = 1,
    concurrency: int = 1,
) -> None:
    batch = plan(game, None, overrides or {}, seats, matches, 7, config)
    with Store(db) as store:
        report = await run_batch(store, batch, concurrency)
    assert report.new == matches


def rows(db: Path, sql: str) -> list[dict[str, Any]]:
    with read_only(db) as conn:
        cursor = conn.execute(sql)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@pytest.mark.parametrize("game", ["liars-bar", "cleanup"])
async def test_four_llm_seats_play_a_whole_match_with_every_call_recorded(
    server: FakeOpenAI, tmp_path: Path, game: str
) -> None:
    db = tmp_path / "llm.db"
    await play(db, game, ["llm:fake"] * 4, models(server.base_url))
    (match,) = rows(db, "SELECT status, result FROM matches")
    assert match["status"] == "finished"
    decisions = rows(db, "SELECT seq, seat, action, source FROM decisions ORDER BY seq")
    calls = rows(db, "SELECT * FROM llm_calls ORDER BY decision_seq, purpose, attempt")
    assert len(decisions) > 10
    assert all(d["source"] == "player" for d in decisions)
    assert [c["decision_seq"] for c in calls] == [d["seq"] for d in decisions]
    for call, decision in zip(calls, decisions, strict=True):
        assert call["seat"] == decision["seat"]
        assert call["valid"] == 1 and call["attempt"] == 1
        assert call["prompt_tokens"] > 0 and call["completion_tokens"] > 0
        assert call["latency_ms"] > 0
        assert call["cost_usd"] is None  # litellm has no price for a fake model
        parsed = json.loads(call["parsed"])
        assert parsed["reason"]
        messages = json.loads(call["messages"])
        assert messages[0]["role"] == "system"
        assert "Legal values for" in messages[-1]["content"]
    seats = rows(db, "SELECT name, kind, model, params FROM seats ORDER BY seat")
    assert [s["name"] for s in seats] == ["fake-1", "fake-2", "fake-3", "fake-4"]
    assert {s["model"] for s in seats} == {"openai/fake"}
    assert json.loads(seats[0]["params"])["api_base"] == server.base_url


# mode -> (what each faulty call row shows, whether the seat's decisions all fall back)
FAULTS = {
    "garbage": ("invalid", True),
    "illegal": ("invalid", True),
    "empty": ("invalid", True),
    "slow": ("Timeout", True),
    "500": ("InternalServerError", True),
    "429": ("RateLimitError", True),
    "prose": ("valid", False),
}


@pytest.mark.parametrize("game", ["liars-bar", "cleanup"])
@pytest.mark.parametrize("mode", list(FAULTS))
async def test_each_fault_alone_is_recorded_and_falls_back(
    server: FakeOpenAI, tmp_path: Path, game: str, mode: str
) -> None:
    """Seat 0 gets the fault, the others answer well: the match completes, every faulty call is
    a row saying what went wrong, and the seat's decisions are marked fallback."""
    db = tmp_path / "faults.db"
    await play(db, game, [f"llm:fake-{mode}", "llm:fake", "llm:fake", "llm:fake"],
               models(server.base_url), SHORT[game])  # fmt: skip
    assert rows(db, "SELECT status FROM matches") == [{"status": "finished"}]
    shows, falls_back = FAULTS[mode]
    calls = rows(db, "SELECT * FROM llm_calls WHERE seat = 0")
    decisions = rows(db, "SELECT seq, source, error FROM decisions WHERE seat = 0")
    assert calls and decisions
    if shows == "valid":
        assert all(c["valid"] == 1 for c in calls)
    elif shows == "invalid":
        assert all(c["valid"] == 0 and c["invalid_reason"] for c in calls)
        assert all(c["raw_output"] is not None for c in calls)
        # the first ask and two re-asks, each telling the model what was wrong
        assert len(calls) == 3 * len(decisions)
        reask = json.loads(next(c for c in calls if c["attempt"] == 2)["messages"])
        assert reask[-1]["content"].startswith("That answer cannot be used:")
    else:
        assert all(c["error_class"] == shows and c["raw_output"] is None for c in calls)
        assert len(calls) == len(decisions)  # a provider failure is not re-asked
    sources = {d["source"] for d in decisions}
    assert sources == ({"fallback"} if falls_back else {"player"})
    if falls_back:
        assert all(d["error"].startswith("NoUsableAnswer") for d in decisions)
    others = rows(db, "SELECT source FROM decisions WHERE seat != 0")
    assert {d["source"] for d in others} == {"player"}


@pytest.mark.parametrize("game", ["liars-bar", "cleanup"])
async def test_all_faults_mixed_every_match_completes(
    server: FakeOpenAI, tmp_path: Path, game: str
) -> None:
    db = tmp_path / "mixed.db"
    await play(db, game, ["llm:fake-mixed"] * 4, models(server.base_url), SHORT[game],
               matches=3, concurrency=3)  # fmt: skip
    assert {r["status"] for r in rows(db, "SELECT status FROM matches")} == {"finished"}
    calls = rows(db, "SELECT valid, invalid_reason, error_class FROM llm_calls")
    kinds = {c["error_class"] or ("ok" if c["valid"] else "invalid") for c in calls}
    assert {"ok", "invalid", "Timeout", "InternalServerError", "RateLimitError"} <= kinds
    # every call is either used, unusable with a reason, or failed with a class
    assert all(c["valid"] or c["invalid_reason"] or c["error_class"] for c in calls)
    decisions = rows(db, "SELECT d.source, d.error, d.match_id, d.seq FROM decisions d")
    valid_decisions = {
        (r["match_id"], r["decision_seq"])
        for r in rows(db, "SELECT match_id, decision_seq FROM llm_calls WHERE valid = 1")
    }
    for d in decisions:
        assert (d["source"] == "player") == ((d["match_id"], d["seq"]) in valid_decisions)


def scripted(answer: Callable[[dict[str, Any], int], str]) -> Callable[[dict[str, Any]], str]:
    """A script for the fake server that knows how many times it has been asked."""
    counter = {"n": 0}
    lock = threading.Lock()

    def script(body: dict[str, Any]) -> str:
        with lock:
            counter["n"] += 1
            n = counter["n"]
        return answer(body, n)

    return script


async def test_an_unusable_answer_is_re_asked_with_the_reason(tmp_path: Path) -> None:
    def answer(body: dict[str, Any], n: int) -> str:
        if len(body["messages"]) == 2:  # a first ask: system + decision
            return "I challenge! Definitely challenging."
        return json.dumps(legal_answer(body, random.Random(n)))

    db = tmp_path / "reask.db"
    with FakeOpenAI(script=scripted(answer)) as fake:
        await play(db, "liars-bar", ["llm:fake"] * 2, models(fake.base_url, memory="none"),
                   SHORT["liars-bar"])  # fmt: skip
    calls = rows(db, "SELECT decision_seq, attempt, valid, invalid_reason, messages FROM llm_calls")
    firsts = [c for c in calls if c["attempt"] == 1]
    seconds = [c for c in calls if c["attempt"] == 2]
    assert len(firsts) == len(seconds) > 0
    assert all(c["valid"] == 0 and "no JSON object" in c["invalid_reason"] for c in firsts)
    assert all(c["valid"] == 1 for c in seconds)
    retry = json.loads(seconds[0]["messages"])
    assert retry[-2] == {"role": "assistant", "content": "I challenge! Definitely challenging."}
    assert firsts[0]["invalid_reason"] in retry[-1]["content"]
    assert {d["source"] for d in rows(db, "SELECT source FROM decisions")} == {"player"}


async def test_the_per_model_concurrency_limit_holds(tmp_path: Path) -> None:
    """Eight matches at once, but the alias allows two calls in flight: the server never sees
    more than two."""
    state = {"now": 0, "most": 0}
    lock = threading.Lock()

    def answer(body: dict[str, Any], n: int) -> str:
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
        time.sleep(0.01)
        with lock:
            state["now"] -= 1
        return json.dumps(legal_answer(body, random.Random(n)))

    db = tmp_path / "limit.db"
    with FakeOpenAI(script=scripted(answer)) as fake:
        await play(db, "cleanup", ["llm:fake"] * 4, models(fake.base_url, concurrency=2),
                   SHORT["cleanup"], matches=8, concurrency=8)  # fmt: skip
    assert state["most"] == 2


async def test_the_api_key_is_never_written_to_the_database(
    server: FakeOpenAI, tmp_path: Path, monkeypatch
) -> None:
    key = "sk-live-THIS-MUST-NOT-BE-STORED-4f1c2a"
    monkeypatch.setenv("ARENA_FAKE_KEY", key)
    config = models(server.base_url, api_key_env="ARENA_FAKE_KEY")
    db = tmp_path / "keys.db"
    await play(db, "liars-bar", ["llm:fake", "llm:fake-401", "llm:fake-garbage"], config,
               SHORT["liars-bar"])  # fmt: skip
    assert rows(db, "SELECT count(*) AS n FROM llm_calls")[0]["n"] > 0
    # the provider repeated the key in its error; it was scrubbed before it was stored
    echoed = rows(db, "SELECT error FROM llm_calls WHERE error_class IS NOT NULL")
    assert echoed and all("Incorrect API key provided: [redacted]" in r["error"] for r in echoed)
    for path in tmp_path.iterdir():
        assert key.encode() not in path.read_bytes(), path.name
        assert b"ARENA_FAKE_KEY" not in path.read_bytes(), path.name


async def test_schema_output_is_asked_for_strictly_when_on(tmp_path: Path) -> None:
    db = tmp_path / "schema.db"
    with FakeOpenAI() as fake:
        await play(db, "cleanup", ["llm:fake"] * 4, models(fake.base_url, response_schema="on"),
                   SHORT["cleanup"])  # fmt: skip
        formats = [r["response_format"] for r in fake.requests]
    assert len(formats) == 4 * 3
    assert all(f["type"] == "json_schema" and f["json_schema"]["strict"] for f in formats)
    schema = formats[0]["json_schema"]["schema"]
    assert schema["required"] == ["reason", "action"] and schema["additionalProperties"] is False
    calls = rows(db, "SELECT response_schema, valid FROM llm_calls")
    assert calls and all(c["response_schema"] == 1 and c["valid"] == 1 for c in calls)
