"""The interactive table without a screen: the desk's rules for human decisions, the scene's
audience filter (a property: no seat's scene holds anything outside its audience), the lobby's
remembered table, and a match toggled to `monitor` being reviewed."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arena.batch import plan
from arena.conditions import ObserverSwitch
from arena.players.base import DecisionRequest
from arena.players.bots import PERSONAS, BotPlayer
from arena.players.human import Desk
from arena.runtime import run_match
from arena.secrets import SecretSetup
from arena.store.db import Store
from arena.table import (
    LAST_TABLE_FILE,
    Table,
    TableError,
    TableRecord,
    TableSpec,
    check_table,
    load_last_table,
    save_last_table,
)
from arena.tui.scene import PUBLIC, SeatLabel, build_scene, describe
from games.base import Decision
from games.registry import GAMES
from tools.offers import GrantSpec, MessageView

# -- the desk -----------------------------------------------------------------------------------


def request(
    kind: str, legal: tuple[str, ...], view: object = None, seat: int = 0
) -> DecisionRequest:
    return DecisionRequest(seat, kind, view, legal)


async def test_a_game_decision_waits_for_the_humans_move() -> None:
    desk = Desk()
    asked = asyncio.ensure_future(desk.ask(request("respond", ("accept", "challenge"))))
    await asyncio.sleep(0)
    assert desk.front() == 0 and not asked.done()
    assert not desk.move(0, Decision("play:QQ"))  # not legal now: nothing changes
    assert desk.move(0, Decision("challenge"))
    assert (await asked) == Decision("challenge")
    assert desk.front() is None


async def test_an_offer_must_be_answered_before_any_move() -> None:
    desk = Desk()
    asked = asyncio.ensure_future(desk.ask(request("offer", ("unclear", "refuse", "accept"))))
    await asyncio.sleep(0)
    assert not desk.move(0, Decision("accept"))  # a game move does not answer an offer
    assert not desk.answer(0, "offer", Decision("accept:3"))  # not a legal answer
    assert desk.answer(0, "offer", Decision("refuse", "no thanks"))
    assert (await asked) == Decision("refuse", "no thanks")


async def test_a_move_during_a_tool_ask_means_no_tool_and_is_kept_for_the_game_decision() -> None:
    desk = Desk()
    tool = asyncio.ensure_future(desk.ask(request("tool", ("none", "peek:1"))))
    await asyncio.sleep(0)
    assert desk.move(0, Decision("play:Q", "honest"))
    assert (await tool) == Decision("none")
    played = await desk.ask(request("play", ("play:Q", "play:K")))
    assert played == Decision("play:Q", "honest")  # answered at once, nothing waits
    assert desk.front() is None


async def test_private_lines_go_at_the_next_exchange_and_nobody_waits_off_turn() -> None:
    desk = Desk()
    off_turn = MessageView(partner=1, turn_of=(2,), max_chars=200, game=None)
    on_turn = MessageView(partner=1, turn_of=(0,), max_chars=200, game=None)
    assert await desk.ask(request("message", ("none", "send"), off_turn)) == Decision("none")
    assert desk.write(0, "  spare me  ") == "queued"
    assert await desk.ask(request("message", ("none", "send"), off_turn)) == Decision(
        "send", "spare me"
    )
    waiting = asyncio.ensure_future(desk.ask(request("message", ("none", "send"), on_turn)))
    await asyncio.sleep(0)
    assert not waiting.done()  # on its own turn the human may write now
    assert desk.write(0, "now") == "sent"
    assert (await waiting) == Decision("send", "now")


async def test_closing_the_table_gives_every_waiting_decision_its_fallback() -> None:
    desk = Desk()
    asked = asyncio.ensure_future(desk.ask(request("play", ("play:Q", "play:K"))))
    await asyncio.sleep(0)
    desk.cancel()
    assert (await asked) == Decision("play:Q")


# -- the scene: a seat's screen holds only its audience ------------------------------------------


def record_of(game: str, seed: int, grants: tuple[GrantSpec, ...]) -> TableRecord:
    game_class = GAMES[game]
    config = next(iter(game_class.presets.values()))
    personas = list(PERSONAS[game].values())[:4]
    players = [BotPlayer(personas[s % len(personas)], config, seed, s) for s in range(4)]
    record = TableRecord(4)
    secrets = SecretSetup((), grants, "neutral")
    asyncio.run(
        run_match(
            game_class(config),
            seed,
            players,
            [record],
            observer=ObserverSwitch(),
            secrets=secrets,
            viewer=record.on_views,
        )
    )
    return record


GRANTS = {
    "liars-bar": (
        GrantSpec("secret_channel", 0, 2),
        GrantSpec("peek", 1),
        GrantSpec("alliance_hint", 0, 2),
    ),
    "cleanup": (GrantSpec("secret_channel", 1, 3), GrantSpec("remote_zap", 0)),
}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(GRANTS)), st.integers(0, 10_000), st.data())
def test_no_seat_scene_holds_anything_outside_its_audience(
    game: str, seed: int, data: st.DataObject
) -> None:
    record = record_of(game, seed, GRANTS[game])
    upto = data.draw(st.integers(record.views[0][0], len(record.events)))
    labels = [SeatLabel(f"seat{s}", "bot", "x") for s in range(4)]
    by_seq = {seq: event for seq, _, event in record.events}
    for seat in range(4):
        scene = build_scene(record, labels, game, "p", seat, upto=upto)
        assert all(view is None for s, view in enumerate(scene.views) if s != seat)
        assert scene.chambers is None  # bullets are the observer's
        for line in (*scene.log, *scene.secret):
            assert by_seq[line.seq].audience.includes(seat), line
        assert all(not line.secret for line in scene.log)  # secrets only in the hidden panel
    public = build_scene(record, labels, game, "p", PUBLIC, upto=upto)
    assert not public.secret and public.chambers is None and public.hand_of is None
    assert all(by_seq[line.seq].audience.seats is None for line in public.log)
    assert getattr(public.view, "hand", "") == "" and public.views[1:] == (None,) * 3
    observer = build_scene(record, labels, game, "p", None, upto=upto)
    shown = {line.seq for line in observer.log}
    names = [label.name for label in labels]
    worded = {seq for seq, _, e in record.events[:upto] if describe(e, names) is not None}
    assert shown == worded  # the observer's log misses nothing
    assert all(view is not None for view in observer.views)


def test_the_observer_scene_shows_channels_and_peeks_that_others_do_not() -> None:
    record = record_of("liars-bar", 3, GRANTS["liars-bar"])
    labels = [SeatLabel(f"seat{s}", "bot", "x") for s in range(4)]
    observer = build_scene(record, labels, "liars-bar", "p", None)
    kinds = {record.events[line.seq][2].kind for line in observer.secret}
    assert {"grant", "hint", "message", "peek", "tool_use"} <= kinds
    secret_seqs = {line.seq for line in observer.secret}
    outsider = build_scene(record, labels, "liars-bar", "p", 3)
    assert not {line.seq for line in outsider.secret} & secret_seqs
    ally = build_scene(record, labels, "liars-bar", "p", 2)
    assert ally.partners == (0,)
    assert any("✉" in line.text for line in ally.secret)


# -- the lobby's table --------------------------------------------------------------------------


def test_the_last_table_is_remembered_and_a_broken_file_is_the_default(tmp_path: Path) -> None:
    assert load_last_table(tmp_path) == TableSpec()  # nothing saved yet
    spec = TableSpec(
        game="cleanup",
        seats=["human:Ana", "bot:harvester", "bot:cleaner", "bot:zapper"],
        seed=9,
        observer="on",
    )
    save_last_table(tmp_path, spec)
    assert load_last_table(tmp_path) == spec
    (tmp_path / LAST_TABLE_FILE).write_text("{not json")
    assert load_last_table(tmp_path) == TableSpec()


def test_a_table_is_checked_before_it_starts() -> None:
    assert check_table(TableSpec()).seats[0].kind == "human"
    for bad, words in [
        (TableSpec(seats=["human:You"]), "needs 2–4 seats"),
        (TableSpec(seats=["human:A", "human:A"]), "two human seats"),
        (TableSpec(seats=["human:A", "bot:nobody"]), "no bot persona"),
        (TableSpec(offers=["peek:9"]), "seat 9"),
        (TableSpec(observer="maybe"), "observer"),
    ]:
        try:
            check_table(bad)
        except TableError as error:
            assert words in str(error), (bad, error)
        else:
            raise AssertionError(f"{bad} was accepted")


async def test_a_match_toggled_to_monitor_is_reviewed_when_it_ends(tmp_path: Path) -> None:
    db = tmp_path / "arena.db"
    spec = TableSpec(
        seats=["bot:counter", "bot:cautious", "bot:bluffer"],
        seed=5,
        framing="neutral",
        grants=["secret_channel:0+1", "peek:2"],
    )
    table_plan = check_table(spec, seed=5)
    with Store(db) as store:
        table = Table(table_plan, store, 5, pace_s=0, suspense_s=0)
        table.switch.set("monitor")  # the trainer's key, before the first decision
        match_id = await table.play()
        store.sync()
    with sqlite3.connect(db) as conn:
        ((monitor, monitored_at),) = conn.execute(
            "SELECT monitor, monitored_at FROM matches WHERE id = ?", (match_id,)
        ).fetchall()
        flags = conn.execute(
            "SELECT count(*) FROM monitor_flags WHERE match_id = ?", (match_id,)
        ).fetchone()[0]
        items = conn.execute(
            "SELECT count(*) FROM events WHERE match_id = ? AND kind IN ('message', 'tool_use')",
            (match_id,),
        ).fetchone()[0]
        (observer,) = conn.execute(
            "SELECT payload FROM events WHERE match_id = ? AND kind = 'observer'", (match_id,)
        ).fetchone()
    assert json.loads(observer) == {"condition": "monitor"}
    assert monitor == "rules" and monitored_at is not None
    assert items > 0 and flags == items  # every message and tool use under monitor was judged


def test_a_plain_batch_plan_still_refuses_human_seats() -> None:
    try:
        plan("liars-bar", None, {}, ["human:Ana", "bot:counter"], 1, 1)
    except ValueError as error:
        assert "interactive arena" in str(error)
    else:
        raise AssertionError("a batch seated a human")
