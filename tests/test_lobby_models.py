"""The lobby refuses a table whose LLM models do not answer, saying which and why, and starts one
whose models do; the check runs off the app's event loop, with "checking models…" meanwhile.
Driven through the real app against the fake server and a closed port on 127.0.0.1."""

from __future__ import annotations

import json
import random
import socket
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from arena.llm.fake_server import FakeOpenAI, legal_answer
from arena.table import TableSpec, save_last_table
from arena.tui.app import ArenaApp
from arena.tui.lobby import LobbyScreen
from arena.tui.table_screen import TableScreen
from tests.support import until

KEY = "sk-test-123456789-lobby"


class Gate:
    """A fake server's script that holds every good answer until the test opens the gate."""

    def __init__(self) -> None:
        self.open = threading.Event()

    def __call__(self, body: dict[str, Any]) -> str:
        self.open.wait(60)
        return json.dumps(legal_answer(body, random.Random(0)))


@pytest.fixture
def gate() -> Iterator[Gate]:
    held = Gate()
    yield held
    held.open.set()  # never leave a handler waiting


@pytest.fixture
def server(gate: Gate) -> Iterator[FakeOpenAI]:
    with FakeOpenAI(script=gate) as fake:
        yield fake


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def arena(tmp_path: Path, server: FakeOpenAI, seats: list[str]) -> ArenaApp:
    config = tmp_path / "arena.toml"
    config.write_text(
        f'[models.good]\nmodel = "openai/fake"\napi_base = "{server.base_url}"\n\n'
        f'[models.refused]\nmodel = "openai/fake-401"\napi_base = "{server.base_url}"\n'
        'api_key_env = "ARENA_LOBBY_KEY"\n\n'
        f'[models.nobody]\nmodel = "openai/x"\napi_base = "http://127.0.0.1:{closed_port()}/v1"\n'
    )
    save_last_table(tmp_path, TableSpec(seats=seats, seed=3))
    return ArenaApp(tmp_path / "arena.db", config=config, pace_s=0, suspense_s=0)


def status(app: ArenaApp) -> str:
    return str(app.screen.query_one("#lobby-error").render())


def matches(tmp_path: Path) -> int:
    db = tmp_path / "arena.db"
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM matches").fetchone()[0])


async def test_a_table_whose_models_do_not_answer_is_refused_with_the_reasons(
    tmp_path: Path, server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARENA_LOBBY_KEY", KEY)
    app = arena(tmp_path, server, ["human:You", "llm:refused", "bot:cautious", "llm:nobody"])
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await until(pilot, lambda: "no answer" in status(app), seconds=120)
        shown = status(app)
        assert isinstance(app.screen, LobbyScreen)
        assert "Cannot start: no answer from 2 models:" in shown
        assert (
            f"refused (openai/fake-401) at {server.base_url}: AuthenticationError: Incorrect "
            "API key provided: [redacted]." in shown
        )
        assert "nobody (openai/x) at http://127.0.0.1:" in shown
        assert "APIConnectionError: Connection refused" in shown
        assert KEY not in shown
    assert matches(tmp_path) == 0


async def test_a_table_whose_models_answer_starts_after_the_check(
    tmp_path: Path, server: FakeOpenAI, gate: Gate
) -> None:
    app = arena(tmp_path, server, ["human:You", "llm:good", "bot:cautious"])
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        # the model's answer is held back: the lobby says it is checking, and stays responsive
        await until(pilot, lambda: "checking models…" in status(app), seconds=120)
        await pilot.press("enter")  # a second start while checking starts nothing more
        assert isinstance(app.screen, LobbyScreen)
        gate.open.set()
        await until(pilot, lambda: isinstance(app.screen, TableScreen) and app.screen.ready)
        await pilot.pause()
    assert [body["max_tokens"] for body in server.requests[:1]] == [5]  # the probe came first
