"""Snapshot pictures of the arena's screens at a small (80×24) and a roomy (120×40) terminal: the
lobby, a Liar's Bar turn, a Cleanup step, the open secret panel with an offer, the observer view
and the debrief. Every table has its own database and a fixed seed, and the agents play without
pace or suspense, so each picture is the same on every run.

Update the pictures with `pytest tests/test_tui_snapshots.py --snapshot-update` and look at them
(tests/__snapshots__/test_tui_snapshots/) before committing.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from arena.table import TableSpec, save_last_table
from arena.tui.app import ArenaApp
from arena.tui.table_screen import TableScreen

SIZES = pytest.mark.parametrize(
    "size", [(80, 24), (120, 40)], ids=lambda size: f"{size[0]}x{size[1]}"
)
LIARS_BAR_SEATS = ["human:You", "bot:counter", "bot:cautious", "bot:bluffer"]
CLEANUP_SEATS = ["human:You", "bot:harvester", "bot:cleaner", "bot:zapper"]
TIMEOUT_S = 20.0

Scenario = tuple[ArenaApp, Callable[[Pilot[Any]], Awaitable[None]]]


def make_app(tmp_path: Path, spec: TableSpec) -> ArenaApp:
    """An arena on its own database whose lobby opens with `spec` (Enter starts it)."""
    save_last_table(tmp_path, spec)
    return ArenaApp(tmp_path / "arena.db", pace_s=0, suspense_s=0)


async def wait_until(
    pilot: Pilot[Any], condition: Callable[[], bool], what: str, timeout: float = TIMEOUT_S
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await pilot.pause(0.01)


def human_ask(app: ArenaApp) -> Any:
    """What the desk asks of the seat this table screen shows, if anything."""
    screen = app.screen
    if not isinstance(screen, TableScreen) or screen.perspective is None:
        return None
    return screen.table.desk.waiting(screen.perspective)


async def start_and_wait_for_the_human(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, ArenaApp)
    await pilot.press("enter")  # the lobby's Start button has focus
    await wait_until(pilot, lambda: human_ask(app) is not None, "the human's first ask")


# -- the scenarios (also run twice by hand to check that they are deterministic) -------------


def lobby(tmp_path: Path) -> Scenario:
    app = make_app(tmp_path, TableSpec(seed=7))

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "LobbyScreen", "lobby")

    return app, run_before


def liars_bar_turn(tmp_path: Path) -> Scenario:
    app = make_app(tmp_path, TableSpec(seats=LIARS_BAR_SEATS, seed=7))
    return app, start_and_wait_for_the_human


def cleanup_step(tmp_path: Path) -> Scenario:
    app = make_app(tmp_path, TableSpec(game="cleanup", seats=CLEANUP_SEATS, seed=3))
    return app, start_and_wait_for_the_human


def secret_panel_offer(tmp_path: Path) -> Scenario:
    spec = TableSpec(seats=LIARS_BAR_SEATS, seed=11, framing="neutral", offers=["peek:0@*.1"])
    app = make_app(tmp_path, spec)

    async def run_before(pilot: Pilot[Any]) -> None:
        await start_and_wait_for_the_human(pilot)
        ask = human_ask(app)
        assert ask.secret and ask.request.kind == "offer", ask.request.kind
        await pilot.press("f2")
        await wait_until(pilot, lambda: bool(app.screen.query("#secret-ask Button")), "the offer")

    return app, run_before


def observer_view(tmp_path: Path) -> Scenario:
    app = make_app(tmp_path, TableSpec(seats=LIARS_BAR_SEATS, seed=5))

    async def run_before(pilot: Pilot[Any]) -> None:
        await start_and_wait_for_the_human(pilot)
        await pilot.press("f8")

    return app, run_before


def debrief(tmp_path: Path) -> Scenario:
    spec = TableSpec(
        seats=["bot:counter", "bot:cautious", "bot:bluffer", "bot:random"],
        seed=4,
        framing="neutral",
        offers=["peek:0@*.1"],
        grants=["secret_channel:1+2"],
    )
    app = make_app(tmp_path, spec)

    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.press("enter")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "DebriefScreen", "the debrief")

    return app, run_before


SCENARIOS: dict[str, Callable[[Path], Scenario]] = {
    "lobby": lobby,
    "liars_bar_turn": liars_bar_turn,
    "cleanup_step": cleanup_step,
    "secret_panel_offer": secret_panel_offer,
    "observer_view": observer_view,
    "debrief": debrief,
}


# -- the snapshots ----------------------------------------------------------------------------


@SIZES
def test_lobby(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    app, run_before = lobby(tmp_path)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@SIZES
def test_liars_bar_turn(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    app, run_before = liars_bar_turn(tmp_path)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@SIZES
def test_cleanup_step(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    app, run_before = cleanup_step(tmp_path)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@SIZES
def test_secret_panel_offer(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    app, run_before = secret_panel_offer(tmp_path)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@SIZES
def test_observer_view(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    app, run_before = observer_view(tmp_path)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@SIZES
def test_debrief(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    app, run_before = debrief(tmp_path)
    assert snap_compare(app, terminal_size=size, run_before=run_before)
