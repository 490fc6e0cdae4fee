"""Per-seat LLM health for a run's summary: real matches against the fake server with seats whose
calls fail, counted by `llm_seat_health` and recounted here row by row from `decisions` and
`llm_calls`; the warning names a seat that fell back on more than 10% of its decisions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from arena.batch import plan, run_batch
from arena.llm.config import ModelsConfig, ModelSettings
from arena.llm.fake_server import FakeOpenAI
from arena.llm.health import (
    UNUSABLE,
    SeatHealth,
    health_lines,
    health_warnings,
    llm_seat_health,
)
from arena.store.db import Store
from tests.support import read_only

SHORT = {"max_rounds": 2}


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(seed=5) as fake:
        yield fake


def models(base_url: str) -> ModelsConfig:
    base = {"api_base": base_url, "timeout_s": 2, "retries": 0, "reasks": 1}
    aliases = {
        name: ModelSettings(model=f"openai/{name}", **base)
        for name in ("fake", "fake-401", "fake-garbage", "fake-mixed")
    }
    return ModelsConfig(aliases, {}, "test")


async def play(db: Path, seats: list[str], config: ModelsConfig, seed: int) -> str:
    """Two short matches; the batch's key."""
    batch = plan("liars-bar", None, SHORT, seats, 2, seed, config)
    with Store(db) as store:
        report = await run_batch(store, batch, 2)
    assert report.new == 2
    return batch.key


def recount(db: Path, batch: str) -> dict[int, tuple[int, int, dict[str, int]]]:
    """seat -> (decisions, fallbacks, problems), from the rows themselves."""
    counted: dict[int, tuple[int, int, dict[str, int]]] = {}
    with read_only(db) as conn:
        found = conn.execute("SELECT id FROM matches WHERE batch = ?", (batch,)).fetchall()
        match_ids = [match_id for (match_id,) in found]
        seats = conn.execute(
            "SELECT DISTINCT seat FROM seats WHERE kind = 'llm' AND match_id IN "
            f"({','.join('?' * len(match_ids))})",
            match_ids,
        ).fetchall()
        for (seat,) in seats:
            decisions: list[Any] = []
            calls: list[Any] = []
            for match_id in match_ids:
                decisions += conn.execute(
                    "SELECT source FROM decisions WHERE match_id = ? AND seat = ?",
                    (match_id, seat),
                ).fetchall()
                calls += conn.execute(
                    "SELECT valid, error_class FROM llm_calls WHERE match_id = ? AND seat = ?",
                    (match_id, seat),
                ).fetchall()
            problems = Counter(
                error_class or UNUSABLE for valid, error_class in calls if error_class or not valid
            )
            fallbacks = sum(1 for (source,) in decisions if source == "fallback")
            counted[seat] = (len(decisions), fallbacks, dict(problems))
    return counted


async def test_fallbacks_and_error_classes_equal_a_recount_of_the_rows(
    server: FakeOpenAI, tmp_path: Path
) -> None:
    db = tmp_path / "health.db"
    config = models(server.base_url)
    seats = ["llm:fake-401", "llm:fake", "llm:fake-mixed", "bot:counter"]
    key = await play(db, seats, config, seed=1)
    other = await play(db, ["llm:fake-garbage", "llm:fake", "bot:cautious"], config, seed=50)
    with read_only(db) as conn:
        health = llm_seat_health(conn, key, 2)
    assert [(h.seat, h.name, h.model) for h in health] == [
        (0, "fake-401", "openai/fake-401"),
        (1, "fake", "openai/fake"),
        (2, "fake-mixed", "openai/fake-mixed"),
    ]  # the bot is not an LLM seat; the other batch's seats are not counted
    expected = recount(db, key)
    assert {h.seat: (h.decisions, h.fallbacks, h.problems) for h in health} == expected
    refused, steady, mixed = health
    assert refused.decisions > 0 and refused.fallbacks == refused.decisions
    assert set(refused.problems) == {"AuthenticationError"}
    assert (steady.fallbacks, steady.problems) == (0, {})
    assert sum(mixed.problems.values()) > 0
    # the other batch alone: the garbage seat's every call is an unusable answer
    with read_only(db) as conn:
        (garbage, _) = llm_seat_health(conn, other)
        (first, _) = llm_seat_health(conn, other, 1)  # the first match of the two
    assert garbage.fallback_rate == 1.0 and set(garbage.problems) == {UNUSABLE}
    assert garbage.problems[UNUSABLE] == 2 * garbage.decisions  # the ask and one re-ask
    assert 0 < first.decisions < garbage.decisions


async def test_the_summary_warns_of_a_seat_that_mostly_fell_back_and_not_of_a_sound_one(
    server: FakeOpenAI, tmp_path: Path
) -> None:
    db = tmp_path / "warn.db"
    key = await play(db, ["llm:fake-401", "llm:fake", "bot:counter"], models(server.base_url), 3)
    with read_only(db) as conn:
        health = llm_seat_health(conn, key)
    refused, steady = health
    lines = health_lines(health)
    assert lines[0] == (
        f"seat 0 fake-401 (openai/fake-401): {refused.decisions} decisions, "
        f"{refused.fallbacks} fallbacks (100%) · AuthenticationError ×{refused.decisions}"
    )
    assert lines[1] == f"seat 1 fake (openai/fake): {steady.decisions} decisions, 0 fallbacks (0%)"
    assert health_warnings(health) == [
        f"warning: seat 0 openai/fake-401 fell back on 100% of its decisions "
        f"(AuthenticationError ×{refused.decisions}): its numbers are not the model's play"
    ]


def seat(decisions: int, fallbacks: int, **problems: int) -> SeatHealth:
    return SeatHealth(0, "m", "openai/m", decisions, fallbacks, dict(problems))


@pytest.mark.parametrize(
    ("decisions", "fallbacks", "warned"),
    [(10, 1, False), (100, 10, False), (96, 10, True), (1000, 101, True), (0, 0, False)],
)
def test_the_warning_is_for_a_fallback_rate_above_ten_percent(
    decisions: int, fallbacks: int, warned: bool
) -> None:
    assert bool(health_warnings([seat(decisions, fallbacks)])) is warned


def test_a_rate_just_past_the_threshold_does_not_read_as_the_threshold() -> None:
    (warning,) = health_warnings([seat(96, 10, Timeout=10)])
    assert "fell back on 10.4% of its decisions (Timeout ×10)" in warning


def test_a_batch_without_matches_has_no_seats(tmp_path: Path) -> None:
    with Store(tmp_path / "empty.db") as store:
        assert llm_seat_health(store.conn, "0123456789abcdef") == []
