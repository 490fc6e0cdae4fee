"""The observer condition (SPEC §6): stored with every match and decision, told to agents, run
paired under `--observer both`, and changed mid-match as an event the players are told of."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from arena.batch import plan
from arena.conditions import ObserverSwitch
from arena.llm.client import LLMClient
from arena.llm.config import ModelsConfig, ModelSettings
from arena.llm.fake_server import FakeOpenAI
from arena.runtime import DecisionRecord, StoredProgress, run_match
from arena.seats import make_player
from arena.store.db import Store
from arena.store.recorder import MatchRecorder
from games.base import Decision
from games.liars_bar.engine import LiarsBar
from tests.support import read_only


def test_observer_both_plays_the_same_seeds_under_off_and_on(cli, tmp_path: Path) -> None:
    result = cli("run", "--matches", "3", "--observer", "both", "--seed", "40")
    assert result.exit_code == 0, result.output
    assert "observer off" in result.stdout and "observer on" in result.stdout
    with read_only(tmp_path / "saves" / "arena.db") as conn:
        matches = conn.execute("SELECT observer, seed FROM matches ORDER BY observer, seed")
        assert matches.fetchall() == [(c, s) for c in ("off", "on") for s in (40, 41, 42)]
        mismatched = conn.execute(
            "SELECT count(*) FROM decisions d JOIN matches m ON m.id = d.match_id"
            " WHERE d.observer != m.observer"
        ).fetchone()[0]
        assert mismatched == 0
        (decisions,) = conn.execute("SELECT count(*) FROM decisions").fetchone()
    assert decisions > 0


def test_an_unknown_observer_condition_is_refused(cli, tmp_path: Path) -> None:
    result = cli("run", "--observer", "maybe")
    assert result.exit_code == 2
    assert "unknown observer condition 'maybe' (known: off, on, monitor)" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_agents_are_told_the_condition_in_their_system_prompt(cli, tmp_path: Path) -> None:
    with FakeOpenAI() as fake:
        result = cli(
            "run", "--game", "cleanup", "--matches", "1", "--set", "max_steps=1",
            "--observer", "monitor", "--seat", "llm:openai/fake", "--seat", "bot:cleaner",
            "--seat", "bot:zapper", "--seat", "bot:random", "--api-base", fake.base_url,
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    with read_only(tmp_path / "saves" / "arena.db") as conn:
        (messages,) = conn.execute("SELECT messages FROM llm_calls").fetchone()
    system = json.loads(messages)[0]["content"]
    assert "a monitor reads every private message and tool use" in system


class ToggleAt:
    """A listener that, like a trainer at the keyboard, switches the observer on after the
    `at`-th decision."""

    def __init__(self, switch: ObserverSwitch, at: int) -> None:
        self.switch, self.at = switch, at

    def on_event(self, seq: int, hand: int, event: Any) -> None:
        pass

    def on_decision(self, record: DecisionRecord) -> None:
        if record.seq == self.at:
            self.switch.set("on")

    async def flush(self) -> None:
        pass

    def on_end(self, results: Any, hands: int) -> None:
        pass


async def test_a_mid_match_toggle_is_an_event_the_agents_are_told_of(tmp_path: Path) -> None:
    db = tmp_path / "toggle.db"
    with FakeOpenAI() as fake:
        alias = ModelSettings(model="openai/fake", api_base=fake.base_url, memory="none")
        models = ModelsConfig({"m": alias}, {}, "test")
        batch = plan("liars-bar", None, {"max_rounds": 3}, ["llm:m", "bot:counter"], 1, 9, models)
        with Store(db) as store:
            (match_id,) = store.create_matches(
                batch=batch.key, indexes=[0], seeds=[9], game=batch.game, preset=batch.preset,
                config=batch.config.model_dump(mode="json"),
                seats=[s.describe() for s in batch.seats], version="test",
            )  # fmt: skip
            client = LLMClient()
            players = [
                make_player(spec, batch.game, batch.config, 9, s, seats=2, client=client)
                for s, spec in enumerate(batch.seats)
            ]
            switch = ObserverSwitch("off")
            listeners = [MatchRecorder(store, match_id), ToggleAt(switch, 3)]
            await run_match(LiarsBar(batch.config), 9, players, listeners, observer=switch)
    with read_only(db) as conn:
        toggles = conn.execute(
            "SELECT seq, audience, payload FROM events WHERE kind = 'observer'"
        ).fetchall()
        conditions = [c for (c,) in conn.execute("SELECT observer FROM decisions ORDER BY seq")]
        prompts = [
            json.loads(m)[-1]["content"]
            for (m,) in conn.execute(
                "SELECT messages FROM llm_calls WHERE decision_seq > 3 ORDER BY decision_seq"
            )
        ]
    assert [(audience, json.loads(p)) for _, audience, p in toggles] == [
        ("public", {"condition": "on"})
    ]
    assert conditions[:4] == ["off"] * 4 and set(conditions[4:]) == {"on"}
    assert prompts and all("Notice, from now on: An independent observer" in p for p in prompts)


class Heard:
    def __init__(self) -> None:
        self.events: list[tuple[int, str, str]] = []

    def on_event(self, seq: int, hand: int, event: Any) -> None:
        self.events.append((seq, event.kind, json.dumps(event.payload)))

    def on_decision(self, record: DecisionRecord) -> None:
        pass

    async def flush(self) -> None:
        pass

    def on_end(self, results: Any, hands: int) -> None:
        pass


async def test_a_resumed_match_replays_its_toggle_where_it_was() -> None:
    """Cut a match a few events after a toggle, resume it from what was stored: the events after
    the cut are numbered and told exactly as in the uncut match."""
    batch = plan("liars-bar", None, {}, ["bot:counter", "bot:bluffer"], 1, 21)

    def bots() -> list[Any]:
        return [make_player(s, batch.game, batch.config, 21, i) for i, s in enumerate(batch.seats)]

    whole, switch = Decisions(), ObserverSwitch("off")
    await run_match(
        LiarsBar(batch.config), 21, bots(), [whole, ToggleAt(switch, 3)], observer=switch
    )
    (toggle_seq,) = [seq for seq, kind, _ in whole.events if kind == "observer"]
    cut = toggle_seq + 3
    # each decision of Liar's Bar shows as one play, accept or challenge event
    decided = sum(1 for seq, kind, _ in whole.events if seq < cut and kind in DECISION_KINDS)
    stored = StoredProgress(whole.made[:decided], cut, [(toggle_seq, "on")])
    resumed = Heard()
    await run_match(LiarsBar(batch.config), 21, bots(), [resumed], stored, ObserverSwitch("off"))
    assert resumed.events == [event for event in whole.events if event[0] >= cut]


DECISION_KINDS = ("play", "accept", "challenge")


class Decisions(Heard):
    def __init__(self) -> None:
        super().__init__()
        self.made: list[tuple[int, Decision]] = []

    def on_decision(self, record: DecisionRecord) -> None:
        self.made.append((record.seat, Decision(record.action, record.talk)))
