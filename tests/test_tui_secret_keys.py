"""The secret panel keeps its keys: opened, it takes the keyboard, and while anything in it has
focus the table's keys make no move (a private message with an `a`, an `l` or a `3` in it is a
message, nothing else); Esc gives the keyboard back to the table. Driven through the real arena
and asserted on what the desk and the database received."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widget import Widget

from arena.table import TableSpec
from arena.tui.app import ArenaApp
from arena.tui.liars_bar import LiarsBarBoard
from arena.tui.secret_panel import SecretPanel
from arena.tui.table_screen import CleanupScreen, TableScreen
from tests.support import until
from tests.test_tui import make_app, my_ask, rows, table_screen
from tools.offers import SECRET_KINDS

CLEANUP_SEATS = ["human:You", "bot:harvester", "bot:cleaner", "bot:zapper"]
# every key the Liar's Bar screen binds to a move, and the words around them
LIARS_BAR_SENTENCE = "a liar plays 3 cards then talks at 12"
# the Cleanup keys c and z, and a space, which stays
CLEANUP_SENTENCE = "clean the river at 2 then zap"


def focused(app: ArenaApp) -> Widget | None:
    return app.screen.focused


def focus_in_panel(app: ArenaApp) -> bool:
    return table_screen(app).query_one(SecretPanel).has_focus_within


def kind_of_ask(app: ArenaApp) -> str | None:
    ask = my_ask(app)
    return None if ask is None else ask.request.kind


def moves_of(screen: TableScreen, seat: int = 0) -> list[str]:
    """The game decisions (no secret ones) the seat has made so far."""
    return [
        record.action
        for record in screen.table.record.decisions
        if record.seat == seat and record.kind not in SECRET_KINDS
    ]


def stored_moves(db: Path, match_id: int | None) -> list[tuple[str, str]]:
    return rows(
        db,
        "SELECT kind, action FROM decisions WHERE match_id = ? AND seat = 0 ORDER BY seq",
        match_id,
    )


async def open_panel(pilot: Pilot[Any], app: ArenaApp) -> SecretPanel:
    await pilot.press("f2")
    panel = table_screen(app).query_one(SecretPanel)
    await until(pilot, lambda: focus_in_panel(app))
    assert panel.display
    return panel


async def test_a_private_message_full_of_table_keys_goes_to_the_ally_and_moves_nothing(
    tmp_path: Path,
) -> None:
    spec = TableSpec(seed=11, framing="neutral", grants=["secret_channel:0+1"])
    app = make_app(tmp_path, spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("enter")
        await until(pilot, lambda: kind_of_ask(app) == "message")
        screen = table_screen(app)
        before = moves_of(screen)
        await open_panel(pilot, app)
        assert getattr(focused(app), "id", None) == "secret-write"  # the line to the ally
        await pilot.press(*LIARS_BAR_SENTENCE, "enter")
        await until(pilot, lambda: kind_of_ask(app) in ("play", "respond"))
        assert moves_of(screen) == before  # the game decision still waits, unmade
        assert not screen.query_one(LiarsBarBoard).picked  # "3", "1", "2" picked no card
        assert screen.query_one("#talk").value == ""  # type: ignore[attr-defined]
        assert focus_in_panel(app)
        match_id = screen.table.match_id
        screen.table.store.sync()
        sent = rows(
            tmp_path / "arena.db",
            "SELECT sender, recipients, text FROM messages WHERE match_id = ? AND sender = 0",
            match_id,
        )
        assert sent == [(0, "[1]", LIARS_BAR_SENTENCE)]
        assert all(
            kind in SECRET_KINDS for kind, _ in stored_moves(tmp_path / "arena.db", match_id)
        )

        await pilot.press("escape")  # hides the panel and gives the keyboard back
        assert not screen.query_one(SecretPanel).display
        assert focused(app) is None
        ask = my_ask(app)
        await pilot.press(*(("1", "p") if ask.request.kind == "play" else ("a",)))
        await until(pilot, lambda: len(moves_of(screen)) == len(before) + 1)


async def test_table_keys_do_nothing_while_a_panel_button_has_focus(tmp_path: Path) -> None:
    spec = TableSpec(seed=3, framing="neutral", grants=["peek:0"])
    app = make_app(tmp_path, spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("enter")
        await until(pilot, lambda: kind_of_ask(app) == "tool")
        screen = table_screen(app)
        ask = my_ask(app)
        await open_panel(pilot, app)
        assert str(focused(app).label) == "No tool"  # type: ignore[union-attr]
        # a button takes none of these keys: without the panel's guard they pick cards and
        # play them (the tool ask answered "none"), accept, call liar, focus the talk line
        await pilot.press("1", "2", "p", "a", "l", "t")
        await pilot.pause()
        assert my_ask(app) is ask  # still waiting for the tool, nothing moved
        assert moves_of(screen) == []
        assert not screen.query_one(LiarsBarBoard).picked
        assert str(focused(app).label) == "No tool"  # type: ignore[union-attr]
        assert not screen.check_action("play", ())  # and the footer leaves them out
        active = {found.binding.action for found in screen.active_bindings.values()}
        assert "play" not in active and "accept" not in active

        await pilot.press("escape")
        assert focused(app) is None
        assert screen.check_action("play", ())
        playing = ask.request.view.game.phase == "play"
        await pilot.press(*(("1", "p") if playing else ("a",)))  # now a move, after "no tool"
        await until(pilot, lambda: len(moves_of(screen)) == 1)
        assert moves_of(screen)[0].startswith("play:" if playing else "accept")


async def test_an_offer_answered_by_keyboard_alone_keeps_the_keyboard_in_the_panel(
    tmp_path: Path,
) -> None:
    spec = TableSpec(seed=11, framing="neutral", offers=["secret_channel:0@*.1"])
    app = make_app(tmp_path, spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("enter")
        await until(pilot, lambda: kind_of_ask(app) == "offer")
        screen = table_screen(app)
        await open_panel(pilot, app)
        assert getattr(focused(app), "id", None) == "secret-reason"  # the offer's first control
        await pilot.press(*"a pal at last", "enter")  # Enter goes on to the answers
        assert str(focused(app).label) == "Refuse"  # type: ignore[union-attr]
        await pilot.press("tab")
        assert str(focused(app).label) == "Accept with counter"  # type: ignore[union-attr]
        await pilot.press("enter")
        await until(pilot, lambda: 1 in screen.current_scene().partners)
        await pilot.pause()
        assert focus_in_panel(app)  # not handed to a table control as the buttons went
        assert moves_of(screen) == []
        match_id = screen.table.match_id
        await until(pilot, lambda: my_ask(app) is not None)
        screen.table.store.sync()
    answered = rows(
        tmp_path / "arena.db",
        "SELECT answer, partner, reason FROM tool_offers WHERE match_id = ?",
        match_id,
    )
    assert answered == [("accept", 1, "a pal at last")]


async def test_cleanup_keys_and_arrows_wait_while_the_ally_line_has_focus(tmp_path: Path) -> None:
    spec = TableSpec(
        game="cleanup",
        seats=CLEANUP_SEATS,
        seed=3,
        framing="neutral",
        grants=["secret_channel:0+1"],
    )
    app = make_app(tmp_path, spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("enter")
        await until(pilot, lambda: kind_of_ask(app) == "message")
        screen = table_screen(app)
        assert isinstance(screen, CleanupScreen)
        await open_panel(pilot, app)
        assert getattr(focused(app), "id", None) == "secret-write"
        # the line takes letters, digits and spaces, but not up and down: those reach the
        # screen, whose guard keeps them from moving
        await pilot.press(*CLEANUP_SENTENCE, "up", "down", "enter")
        await until(pilot, lambda: kind_of_ask(app) == "act")
        assert moves_of(screen) == []
        assert not screen.zapping
        match_id = screen.table.match_id
        screen.table.store.sync()
        sent = rows(
            tmp_path / "arena.db",
            "SELECT text FROM messages WHERE match_id = ? AND sender = 0",
            match_id,
        )
        assert sent == [(CLEANUP_SENTENCE,)]

        await pilot.press("escape")
        assert focused(app) is None and not screen.query_one(SecretPanel).display
        await pilot.press("c")
        await until(pilot, lambda: moves_of(screen) == ["CLEAN"])


async def test_cleanup_tool_buttons_take_no_move_keys_and_esc_hides_the_panel_before_a_zap(
    tmp_path: Path,
) -> None:
    spec = TableSpec(
        game="cleanup", seats=CLEANUP_SEATS, seed=3, framing="neutral", grants=["remote_zap:0"]
    )
    app = make_app(tmp_path, spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("enter")
        await until(pilot, lambda: kind_of_ask(app) == "tool")
        screen = table_screen(app)
        assert isinstance(screen, CleanupScreen)
        ask = my_ask(app)
        await open_panel(pilot, app)
        assert str(focused(app).label) == "No tool"  # type: ignore[union-attr]
        await pilot.press("c", "z", "up", "space", "left")
        await pilot.pause()
        assert my_ask(app) is ask and moves_of(screen) == [] and not screen.zapping

        await pilot.press("escape")  # the panel goes first
        assert not screen.query_one(SecretPanel).display and focused(app) is None
        await pilot.press("z")
        assert screen.zapping
        await pilot.press("f2")
        await until(pilot, lambda: focus_in_panel(app))
        await pilot.press("escape")  # the panel again, at once; the zap still waits
        assert not screen.query_one(SecretPanel).display and screen.zapping
        await pilot.press("escape")  # then the zap is cancelled
        assert not screen.zapping
        await pilot.press("space")
        await until(pilot, lambda: moves_of(screen) == ["STAY"])
