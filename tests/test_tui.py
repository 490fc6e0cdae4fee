"""The Textual arena driven by its pilot: whole matches as a human, the secret panel, the observer,
the hot seat, replay; asserted on the screen and on what was stored."""

from __future__ import annotations

import html
import json
import re
import sqlite3
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from arena.table import TableSpec, save_last_table
from arena.tui.app import ArenaApp
from arena.tui.cover import CoverScreen
from arena.tui.secret_panel import SecretPanel
from arena.tui.table_screen import TableScreen
from games.cleanup.engine import ACTIONS
from tests.support import until


def make_app(tmp_path: Path, spec: TableSpec) -> ArenaApp:
    save_last_table(tmp_path, spec)
    return ArenaApp(tmp_path / "arena.db", pace_s=0, suspense_s=0)


def screen_name(app: ArenaApp) -> str:
    return type(app.screen).__name__


def table_screen(app: ArenaApp) -> TableScreen:
    for screen in app.screen_stack:
        if isinstance(screen, TableScreen):
            return screen
    raise AssertionError("no table screen")


def screen_text(app: ArenaApp) -> str:
    """What the terminal shows, as plain text rows (from the screenshot Textual exports)."""
    svg = app.export_screenshot()
    cells: dict[float, list[tuple[float, str]]] = {}
    for found in re.finditer(r'<text [^>]*?x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', svg):
        cells.setdefault(float(found[2]), []).append((float(found[1]), html.unescape(found[3])))
    lines = ("".join(t for _, t in sorted(row)) for _, row in sorted(cells.items()))
    return "\n".join(lines).replace("\xa0", " ")


def text_of(app: ArenaApp, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


def my_ask(app: ArenaApp, seat: int = 0) -> Any:
    screen = app.screen
    if not isinstance(screen, TableScreen):
        return None
    return screen.table.desk.waiting(seat)


async def next_ask(pilot: Pilot[Any], app: ArenaApp) -> Any:
    """The human's next decision, or None once the debrief shows."""
    await until(pilot, lambda: my_ask(app) is not None or screen_name(app) == "DebriefScreen")
    return my_ask(app)


def rows(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


async def test_a_whole_liars_bar_match_as_a_human_against_bots(tmp_path: Path) -> None:
    app = make_app(tmp_path, TableSpec(seed=7))
    moves: list[str] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert screen_name(app) == "LobbyScreen"
        await pilot.press("enter")  # one key starts the default table
        await until(pilot, lambda: isinstance(app.screen, TableScreen))
        assert "seat: You" in text_of(app, "#status")
        while screen_name(app) != "DebriefScreen":
            ask = await next_ask(pilot, app)
            if ask is None:
                continue
            if ask.request.kind == "play":
                await pilot.press("1", "2", "p")  # two cards, as Queens or whatever is the target
            else:
                await pilot.press("l" if len(moves) % 3 == 0 else "a")
            moves.append(ask.request.kind)
            await until(pilot, lambda a=ask: my_ask(app) is not a)
        await until(pilot, lambda: "debrief" in screen_text(app))  # drawn, not only pushed
        shown = screen_text(app)
        assert "You" in shown and "winner" in shown
        match_id = table_screen(app).table.match_id
    db = tmp_path / "arena.db"
    ((status, result),) = rows(db, "SELECT status, result FROM matches WHERE id = ?", match_id)
    assert status == "finished" and json.loads(result)["winners"]
    assert rows(db, "SELECT kind, name FROM seats WHERE match_id = ? AND seat = 0", match_id) == [
        ("human", "You")
    ]
    stored = rows(
        db,
        "SELECT kind, source FROM decisions WHERE match_id = ? AND seat = 0 ORDER BY seq",
        match_id,
    )
    assert [kind for kind, _ in stored] == moves
    assert {source for _, source in stored} == {"player"}  # every move was the human's own
    plays = rows(
        db,
        "SELECT action FROM decisions WHERE match_id = ? AND seat = 0 AND kind = 'play'",
        match_id,
    )
    assert plays and all(action.startswith("play:") for (action,) in plays)


async def test_a_cleanup_episode_played_with_the_arrows_and_keys(tmp_path: Path) -> None:
    spec = TableSpec(
        game="cleanup",
        seats=["human:You", "bot:harvester", "bot:cleaner", "bot:zapper"],
        seed=3,
    )
    app = make_app(tmp_path, spec)
    keys = ["right", "down", "c", "space", "left", "up"]
    pressed: list[str] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TableScreen))
        assert "Step 1 of 30" in text_of(app, "#side")
        while screen_name(app) != "DebriefScreen":
            ask = await next_ask(pilot, app)
            if ask is None:
                continue
            key = keys[len(pressed) % len(keys)]
            if ask.request.legal == ("STAY",):
                key = "space"
            await pilot.press(key)
            pressed.append(key)
            await until(pilot, lambda a=ask: my_ask(app) is not a)
        match_id = table_screen(app).table.match_id
    db = tmp_path / "arena.db"
    actions = [
        action
        for (action,) in rows(
            db,
            "SELECT action FROM decisions WHERE match_id = ? AND seat = 0 ORDER BY seq",
            match_id,
        )
    ]
    wanted = {"right": "RIGHT", "down": "DOWN", "c": "CLEAN", "space": "STAY", "left": "LEFT",
              "up": "UP"}  # fmt: skip
    assert len(actions) == 30  # one decision a step, the step resolved when all had chosen
    assert actions == [wanted[k] for k in pressed]
    assert set(actions) <= set(ACTIONS)
    ((hands,),) = rows(db, "SELECT hands FROM matches WHERE id = ?", match_id)
    assert hands == 30


async def test_accepting_an_offer_in_the_hidden_panel_and_chatting_with_the_partner(
    tmp_path: Path,
) -> None:
    spec = TableSpec(seed=11, framing="neutral", offers=["secret_channel:0@*.1"])
    app = make_app(tmp_path, spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("enter")
        await until(pilot, lambda: my_ask(app) is not None)
        screen = table_screen(app)
        panel = screen.query_one(SecretPanel)
        assert not panel.display  # closed by default
        assert "◆" in text_of(app, "#status")  # the cue, and nothing more
        assert "secret_channel" not in text_of(app, "#log")
        await pilot.press("f2")
        assert panel.display
        assert "OFFER" in str(panel.query_one("#secret-ask").children[0].render())
        app.screen.query_one("#secret-reason").value = "why not"  # type: ignore[attr-defined]
        await pilot.click("#ans-2")  # accept:1, the counter bot
        await until(pilot, lambda: 1 in screen.current_scene().partners)
        await pilot.click("#secret-write")
        await pilot.press(*"meet me", "enter")
        await pilot.press("escape")  # hides the panel at once
        assert not panel.display

        # play on until our line has gone out and the bot ally has written
        def both_wrote() -> bool:
            lines = [line.text for line in screen.current_scene().secret if "✉" in line.text]
            return any("meet me" in t for t in lines) and any(
                "counter" in t.split("→")[0] for t in lines
            )

        while not both_wrote():
            await until(pilot, lambda: my_ask(app) is not None or both_wrote())
            ask = my_ask(app)
            if ask is None:
                continue
            if ask.request.kind == "play" or (ask.secret and ask.request.view.game.phase == "play"):
                await pilot.press("1", "p")
            else:
                await pilot.press("a")
            await until(pilot, lambda a=ask: my_ask(app) is not a or both_wrote())
        match_id = screen.table.match_id
        sent = [line.text for line in screen.current_scene().secret if "✉" in line.text]
        await until(pilot, lambda: my_ask(app) is not None)  # the rows so far are flushed
        screen.table.store.sync()
    db = tmp_path / "arena.db"
    ((answer, partner, reason, partner_answer, granted),) = rows(
        db,
        "SELECT answer, partner, reason, partner_answer, granted FROM tool_offers"
        " WHERE match_id = ?",
        match_id,
    )
    assert (answer, partner, reason, partner_answer, granted) == (
        "accept",
        1,
        "why not",
        "accept",
        1,
    )
    messages = rows(
        db,
        "SELECT sender, recipients, text FROM messages WHERE match_id = ? AND channel != 'table'",
        match_id,
    )
    assert (0, "[1]", "meet me") in messages
    assert any(sender == 1 for sender, _, _ in messages)  # the ally wrote back
    assert any("meet me" in line for line in sent)
    assert len(sent) == len(messages)  # the panel showed every message of the channel


async def test_the_observer_view_shows_every_hand_and_the_toggle_is_stored(tmp_path: Path) -> None:
    app = make_app(tmp_path, TableSpec(seed=5))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("enter")
        await until(pilot, lambda: my_ask(app) is not None)
        screen = table_screen(app)
        views = screen.table.record.views_at()
        assert views is not None
        others = [str(app.screen.query_one(f"#seat-{s}").render()) for s in (1, 2, 3)]
        assert not any("bullet" in text for text in others)
        assert not any(views[s].hand in text for s, text in zip((1, 2, 3), others, strict=True))
        await pilot.press("f8")
        assert "OBSERVER VIEW" in text_of(app, "#status")
        for seat in (1, 2, 3):
            shown = str(app.screen.query_one(f"#seat-{seat}").render())
            assert f"{views[seat].hand} bullet" in shown
        assert "Live rounds are in chambers" in text_of(app, "#log")
        await pilot.press("f9")  # off -> on, made at the next decision point
        assert "→ ON next" in text_of(app, "#status")
        await pilot.press("f8")
        assert "OBSERVER VIEW" not in text_of(app, "#status")
        ask = my_ask(app)
        await pilot.press("1", "p") if ask.request.kind == "play" else await pilot.press("a")
        await until(pilot, lambda: "observer ON" in text_of(app, "#status"))
        match_id = screen.table.match_id
        screen.table.store.sync()
    toggles = rows(
        tmp_path / "arena.db",
        "SELECT json_extract(payload, '$.condition') FROM events"
        " WHERE match_id = ? AND kind = 'observer'",
        match_id,
    )
    assert toggles == [("on",)]


async def test_the_hot_seat_cover_hides_the_last_hand_until_the_next_human_confirms(
    tmp_path: Path,
) -> None:
    spec = TableSpec(seats=["human:Ana", "bot:counter", "human:Ben"], seed=3)  # Ana starts
    app = make_app(tmp_path, spec)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, (TableScreen, CoverScreen)))
        if isinstance(app.screen, CoverScreen):
            await pilot.press("enter")
        screen = table_screen(app)
        first = screen.perspective
        assert first is not None
        await until(pilot, lambda: my_ask(app, first) is not None)
        assert screen.query_one("#hand").children  # the first human sees their cards
        # make moves until the terminal passes to the other human
        other = 2 if first == 0 else 0
        other_name = spec.seats[other].split(":")[1]
        screen.table.pace_s = 0.3  # the bot between the two people is watched
        between = 0
        while True:
            if isinstance(app.screen, CoverScreen):
                await pilot.pause()  # composed
                if other_name in str(app.screen.query_one("#cover-text").render()):
                    break
                await pilot.press("enter")  # the same person again
                continue
            ask = my_ask(app, first)
            if ask is not None:
                await pilot.press(*(("1", "p") if ask.request.kind == "play" else ("a",)))
                await until(
                    pilot,
                    lambda: bool(screen.table.thinking) or isinstance(app.screen, CoverScreen),
                )
                if screen.table.thinking and not isinstance(app.screen, CoverScreen):
                    # between turns: the public table, nobody's cards
                    assert "between turns" in text_of(app, "#status")
                    assert not screen.query_one("#hand").query(".card")
                    between += 1
            await pilot.pause(0.01)
        assert between > 0  # the bot sits between the two people
        cover_text = str(app.screen.query_one("#cover-text").render())
        assert other_name in cover_text
        shown = screen_text(app)
        assert "Pass the keyboard" in shown
        assert "╭───╮" not in shown and "cards " not in shown  # nothing of the table shows
        assert screen.perspective is None and not screen.query_one(SecretPanel).display
        await pilot.press("enter")
        await until(pilot, lambda: screen.perspective == other)
        scene = screen.current_scene()
        assert scene.views[first] is None and scene.views[other] is not None
        assert f"seat: {spec.seats[other].split(':')[1]}" in text_of(app, "#status")


async def test_replay_steps_back_and_forth_through_a_saved_match(tmp_path: Path) -> None:
    spec = TableSpec(seats=["bot:counter", "bot:cautious", "bot:bluffer"], seed=4,
                     framing="neutral", grants=["peek:0"])  # fmt: skip
    app = make_app(tmp_path, spec)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await until(pilot, lambda: screen_name(app) == "DebriefScreen")
        await pilot.press("r")
        await until(pilot, lambda: screen_name(app) == "ReplayScreen")
        replay = app.screen
        total = replay.total  # type: ignore[attr-defined]
        match_id = replay.replay.match_id  # type: ignore[attr-defined]
        assert f"event {total} of {total}" in text_of(app, "#status")
        await pilot.press("home")
        assert f"event 0 of {total}" in text_of(app, "#status")
        await pilot.press("right", "right", "right")
        assert f"event 3 of {total}" in text_of(app, "#status")
        await pilot.press("left")
        assert f"event 2 of {total}" in text_of(app, "#status")
        await pilot.press("end")
        assert "Game over" in text_of(app, "#log")
        assert "Peek:" in text_of(app, "#log")  # the observer sees the secret tool's effect
    stored = rows(tmp_path / "arena.db", "SELECT count(*) FROM events WHERE match_id = ?", match_id)
    assert stored == [(total,)]


async def test_the_table_shows_its_seats_before_the_first_decision_and_help_lists_keys(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path, TableSpec(seats=["human:Ana", "bot:counter"], seed=1))
    app.pace_s = 5.0  # the bot's first move is far off
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TableScreen))
        await pilot.pause()
        assert "seat: Ana" in text_of(app, "#status")
        assert "counter" in str(app.screen.query_one("#seat-1").render())
        await pilot.press("f1")
        shown = screen_text(app)
        for words in ("Play picked", "Liar!", "Secret", "Observer view", "Observer on/off"):
            assert words in shown, words
        await pilot.press("ctrl+q")  # quits from the help screen too
    assert app.return_code == 0


async def test_a_tool_button_in_the_panel_uses_the_tool_before_the_move(tmp_path: Path) -> None:
    spec = TableSpec(seed=3, framing="neutral", grants=["peek:0"])
    app = make_app(tmp_path, spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("enter")
        await until(pilot, lambda: getattr(my_ask(app), "request", None) is not None)
        screen = table_screen(app)
        await until(pilot, lambda: my_ask(app).request.kind == "tool")
        await pilot.press("f2")
        await pilot.pause()
        buttons = {str(b.label): b.id for b in app.screen.query("#secret-ask Button")}
        assert "No tool" in buttons and "peek cautious" in buttons
        await pilot.click(f"#{buttons['peek cautious']}")
        await until(
            pilot, lambda: any("Peek:" in line.text for line in screen.current_scene().secret)
        )
        peeked = next(line.text for line in screen.current_scene().secret if "Peek:" in line.text)
        assert screen.table.record.views_at()[2].hand in peeked  # cautious's cards, as they are
        await until(pilot, lambda: my_ask(app) is not None and my_ask(app).request.kind != "tool")
        screen.table.store.sync()
        match_id = screen.table.match_id
    uses = rows(
        tmp_path / "arena.db",
        "SELECT seat, tool, target, allowed FROM tool_uses WHERE match_id = ?",
        match_id,
    )
    assert uses == [(0, "peek", 2, 1)]


async def test_the_lobby_names_a_bad_table_and_starts_nothing(tmp_path: Path) -> None:
    app = make_app(tmp_path, TableSpec(seats=["human:You", "bot:nobody"], seed=1))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        assert screen_name(app) == "LobbyScreen"
        error = text_of(app, "#lobby-error")
        assert "Cannot start" in error and "nobody" in error
    assert not (tmp_path / "arena.db").exists()  # nothing was written
