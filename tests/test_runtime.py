"""The match runtime with real engines, real bots and a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arena.batch import BatchPlan, plan, run_batch
from arena.players.base import DecisionRequest
from arena.players.bots import PERSONAS, BotPlayer
from arena.runtime import DecisionRecord, StoredProgress, run_match
from arena.store.db import Store
from arena.store.recorder import MatchRecorder
from games.base import Decision, Event, SeatResult
from games.cleanup.config import PRESETS as CLEANUP_PRESETS
from games.cleanup.engine import Cleanup
from games.liars_bar.config import PRESETS
from games.liars_bar.engine import LiarsBar
from tests.support import read_only


class Collector:
    """A listener that keeps everything it hears."""

    def __init__(self) -> None:
        self.events: list[tuple[int, int, Event]] = []
        self.decisions: list[DecisionRecord] = []
        self.flushes = 0
        self.ended: tuple[tuple[SeatResult, ...], int] | None = None

    def on_event(self, seq: int, hand: int, event: Event) -> None:
        self.events.append((seq, hand, event))

    def on_decision(self, record: DecisionRecord) -> None:
        self.decisions.append(record)

    async def flush(self) -> None:
        self.flushes += 1

    def on_end(self, results: tuple[SeatResult, ...], hands: int) -> None:
        self.ended = (results, hands)


class Scripted:
    """A non-instant player that answers from a function (to test what the runtime does with
    bad answers)."""

    kind = "llm"
    instant = False

    def __init__(self, answer) -> None:  # type: ignore[no-untyped-def]
        self.answer = answer
        self.seen: list[Event] = []

    async def decide(self, request: DecisionRequest) -> Decision:
        return self.answer(request)

    def replayed(self, request: DecisionRequest, decision: Decision) -> None:
        pass

    def observe(self, event: Event, hand: int) -> None:
        self.seen.append(event)


def bots(game: str, names: list[str], config: object, seed: int, first: int = 0) -> list[BotPlayer]:
    """Bots for seats `first`, `first + 1`, …"""
    return [BotPlayer(PERSONAS[game][n], config, seed, first + i) for i, n in enumerate(names)]


async def test_illegal_answer_is_replaced_by_the_first_legal_action_and_marked_fallback() -> None:
    config = PRESETS["classic"]
    cheat = Scripted(lambda request: Decision("play:KKKKK"))
    players = [cheat, *bots("liars-bar", ["random", "cautious"], config, 3, first=1)]
    heard = Collector()
    await run_match(LiarsBar(config), 3, players, [heard])
    mine = [d for d in heard.decisions if d.seat == 0]
    assert mine and all(d.source == "fallback" for d in mine)
    assert all(d.action == d.legal[0] for d in mine)
    assert all(d.error == "illegal action 'play:KKKKK'" for d in mine)
    assert all(d.source == "player" for d in heard.decisions if d.seat != 0)


async def test_a_crashing_player_never_ends_the_match() -> None:
    def crash(request: DecisionRequest) -> Decision:
        raise ConnectionError("provider went away")

    config = PRESETS["paper"]
    players = [Scripted(crash), *bots("liars-bar", ["bluffer", "counter"], config, 5, first=1)]
    heard = Collector()
    results = await run_match(LiarsBar(config), 5, players, [heard])
    assert len(results) == 3
    errors = {d.error for d in heard.decisions if d.seat == 0}
    assert errors == {"ConnectionError: provider went away"}
    assert heard.ended is not None


async def test_listeners_are_flushed_before_waiting_on_a_slow_player() -> None:
    config = PRESETS["classic"]
    slow = Scripted(lambda request: Decision(request.legal[-1]))
    players = [slow, *bots("liars-bar", ["counter", "counter"], config, 9, first=1)]
    heard = Collector()
    await run_match(LiarsBar(config), 9, players, [heard])
    asked = sum(1 for d in heard.decisions if d.seat == 0)
    assert heard.flushes == asked


async def test_players_observe_only_events_in_their_audience() -> None:
    config = PRESETS["classic"]
    watchers = [Scripted(lambda r: Decision(r.legal[0])) for _ in range(3)]
    heard = Collector()
    await run_match(LiarsBar(config), 21, watchers, [heard])
    for seat, watcher in enumerate(watchers):
        assert watcher.seen, "every seat hears the public events"
        assert all(e.audience.includes(seat) for e in watcher.seen)
        assert not any(e.kind in ("revolvers", "hand_start") for e in watcher.seen)


@pytest.mark.parametrize("game", ["liars-bar", "cleanup"])
async def test_same_seed_and_bots_give_a_byte_identical_event_log(game: str) -> None:
    async def play() -> str:
        if game == "liars-bar":
            config, engine, names = (
                PRESETS["paper"],
                LiarsBar,
                ["counter", "bluffer", "cautious", "random"],
            )
        else:
            config, engine, names = (
                CLEANUP_PRESETS["paper"],
                Cleanup,
                ["harvester", "cleaner", "zapper", "random"],
            )
        heard = Collector()
        await run_match(engine(config), 77, bots(game, names, config, 77), [heard])
        return json.dumps([e.to_json() for _, _, e in heard.events])

    first, second = await play(), await play()
    assert first == second
    assert len(first) > 1000


async def test_resume_from_a_partly_stored_match_finishes_it_identically(tmp_path: Path) -> None:
    """Store part of a match as a crash would leave it, resume, and compare with a whole run."""
    batch = plan("liars-bar", "paper", {}, None, 1, 42)
    whole = Store(tmp_path / "whole.db")
    cut = Store(tmp_path / "cut.db")
    try:
        await _resume_from_a_cut(batch, whole, cut)
    finally:
        whole.close()
        cut.close()


async def _resume_from_a_cut(batch: BatchPlan, whole: Store, cut: Store) -> None:
    await run_batch(whole, batch)

    class Killed(BaseException):
        """Like SIGKILL for the match: not an Exception, so no fallback catches it."""

    class SlowBotThatDies:
        """Seat 0's bot, but not instant (so the runtime makes the store durable before each of
        its decisions, mid-hand) and killed at its fifth decision."""

        kind = "bot"
        instant = False

        def __init__(self, bot: BotPlayer) -> None:
            self.bot = bot
            self.asked = 0

        async def decide(self, request: DecisionRequest) -> Decision:
            self.asked += 1
            if self.asked == 5:
                raise Killed
            return await self.bot.decide(request)

        def replayed(self, request: DecisionRequest, decision: Decision) -> None:
            self.bot.replayed(request, decision)

        def observe(self, event: Event, hand: int) -> None:
            pass

    (match_id,) = cut.create_matches(
        batch=batch.key,
        indexes=[0],
        seeds=[42],
        game="liars-bar",
        preset="paper",
        config=batch.config.model_dump(mode="json"),
        seats=[s.describe() for s in batch.seats],
        version="test",
    )
    bots_ = [
        BotPlayer(PERSONAS["liars-bar"][s.value], batch.config, 42, i)
        for i, s in enumerate(batch.seats)
    ]
    players = [SlowBotThatDies(bots_[0]), *bots_[1:]]
    with pytest.raises(Killed):
        await run_match(LiarsBar(batch.config), 42, players, [MatchRecorder(cut, match_id)])
    stored = StoredProgress(cut.stored_decisions(match_id), cut.stored_event_count(match_id))
    assert stored.events > 0 and stored.decisions
    open_hands = cut.conn.execute("SELECT count(*) FROM hands WHERE end_seq IS NULL").fetchone()
    assert open_hands == (1,), "the kill must land mid-hand"

    report = await run_batch(cut, batch)
    assert (report.new, report.resumed, report.skipped) == (0, 1, 0)

    def dump(store: Store) -> list[tuple[object, ...]]:
        return store.conn.execute(
            "SELECT seq, hand, kind, actor, audience, audience_seats, payload"
            " FROM events ORDER BY seq"
        ).fetchall()

    def decisions(store: Store) -> list[tuple[object, ...]]:
        return store.conn.execute(
            "SELECT seq, event_seq, hand, seat, action, source FROM decisions ORDER BY seq"
        ).fetchall()

    assert dump(cut) == dump(whole)
    assert decisions(cut) == decisions(whole)
    hands = "SELECT hand, start_seq, end_seq, summary, outcome FROM hands ORDER BY hand"
    assert cut.conn.execute(hands).fetchall() == whole.conn.execute(hands).fetchall()
    results = "SELECT seat, placement, score, winner FROM seats ORDER BY seat"
    assert cut.conn.execute(results).fetchall() == whole.conn.execute(results).fetchall()


async def test_store_rows_match_what_the_runtime_published(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    batch = plan("liars-bar", "classic", {}, ["bot:counter", "bot:bluffer"], 1, 8)
    with Store(db) as store:
        report = await run_batch(store, batch)
    config = batch.config
    heard = Collector()
    await run_match(
        LiarsBar(config), 8, bots("liars-bar", ["counter", "bluffer"], config, 8), [heard]
    )
    with read_only(db) as conn:
        rows = conn.execute(
            "SELECT seq, hand, kind, actor, audience, payload FROM events ORDER BY seq"
        ).fetchall()
        (hands,) = conn.execute("SELECT hands FROM matches").fetchone()
        starts = conn.execute("SELECT count(*) FROM hands WHERE outcome IS NOT NULL").fetchone()[0]
        legal = conn.execute("SELECT legal_actions, action FROM decisions").fetchall()
    assert report.new == 1
    assert [(r[0], r[1], r[2], r[3], r[4]) for r in rows] == [
        (seq, hand, e.kind, e.actor, e.audience.label) for seq, hand, e in heard.events
    ]
    assert [json.loads(r[5]) for r in rows] == [dict(e.payload) for _, _, e in heard.events]
    assert heard.ended is not None and hands == heard.ended[1] == starts
    assert all(action in json.loads(options) for options, action in legal)
