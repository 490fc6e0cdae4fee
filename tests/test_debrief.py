"""The debrief after a match: real bot matches with offers and standing grants are recorded into
a real SQLite file, and what `load_debrief` reads back through a read-only connection must say
what hand-written SQL over the same file says; the debrief screen shows it at 80×24 and its keys
answer `replay` or `lobby`."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.containers import VerticalScroll
from textual.widgets import Static

from arena.batch import plan, run_batch
from arena.debrief import Debrief, DebriefError, load_debrief
from arena.store.db import Store
from arena.tui.debrief_screen import DebriefScreen
from tests.support import read_only

LIARS_OFFERS = ["secret_channel:0@*.1", "peek:1@*.1"]
LIARS_GRANTS = ["rig_revolver:2"]
LATE_OFFERS = ["secret_channel:0@*.3"]  # in round 3, when a seat may already be out
CLEANUP_OFFERS = ["remote_zap:2@*.1", "secret_channel:0@*.1"]
CLEANUP_GRANTS = ["remote_zap:1"]


async def _record(db: Path) -> None:
    with Store(db) as store:
        liars = plan(
            "liars-bar", None, {}, None, 6, 1, offers=LIARS_OFFERS, grants=LIARS_GRANTS
        )  # fmt: skip
        await run_batch(store, liars)
        late = plan(
            "liars-bar", None, {}, None, 2, 1, offers=LATE_OFFERS, grants=LIARS_GRANTS
        )  # fmt: skip
        await run_batch(store, late)
        cleanup = plan(
            "cleanup", None, {}, None, 2, 1, observer="monitor",
            offers=CLEANUP_OFFERS, grants=CLEANUP_GRANTS,
        )  # fmt: skip
        await run_batch(store, cleanup)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six Liar's Bar matches (seat 0 offered a secret channel, seat 1 peek, seat 2 holding
    rig_revolver from the start), two more where the channel is offered in round 3, and two
    Cleanup matches under the monitor (seat 2 offered remote_zap, seat 0 a secret channel,
    seat 1 holding remote_zap from the start)."""
    path = tmp_path_factory.mktemp("debrief") / "arena.db"
    asyncio.run(_record(path))
    return path


@pytest.fixture
def conn(db: Path) -> Iterator[sqlite3.Connection]:
    with read_only(db) as connection:
        yield connection


def rows(conn: sqlite3.Connection, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in conn.execute(sql, params)]


def match_ids(conn: sqlite3.Connection, game: str) -> list[int]:
    return [i for (i,) in rows(conn, "SELECT id FROM matches WHERE game = ? ORDER BY id", game)]


def debriefs(conn: sqlite3.Connection, game: str) -> list[Debrief]:
    return [load_debrief(conn, match_id) for match_id in match_ids(conn, game)]


def harmed_by_sql(conn: sqlite3.Connection, match_id: int) -> dict[int, set[str]]:
    """Seats outside a granted partner pair (still in the game when it was granted), and targets
    of allowed tool uses (how often each user used each tool on them), each with its reason."""
    harmed: dict[int, set[str]] = {}
    pairs = rows(
        conn,
        """SELECT DISTINCT s.seat, json_extract(g.payload, '$.tool'),
                  min(json_extract(g.payload, '$.seat'), json_extract(g.payload, '$.partner')),
                  max(json_extract(g.payload, '$.seat'), json_extract(g.payload, '$.partner'))
           FROM events g JOIN seats s ON s.match_id = g.match_id
           WHERE g.match_id = ? AND g.kind = 'grant'
             AND json_extract(g.payload, '$.partner') IS NOT NULL
             AND s.seat NOT IN (json_extract(g.payload, '$.seat'),
                                json_extract(g.payload, '$.partner'))
             AND NOT EXISTS (SELECT 1 FROM events e WHERE e.match_id = g.match_id
                             AND e.kind = 'eliminated' AND e.actor = s.seat AND e.seq < g.seq)""",
        match_id,
    )
    for seat, tool, low, high in pairs:
        harmed.setdefault(seat, set()).add(f"non-ally of the {tool} pair {low}+{high}")
    for target, tool, user, times in rows(
        conn,
        "SELECT target, tool, seat, count(*) FROM tool_uses WHERE match_id = ? AND allowed = 1"
        " GROUP BY target, tool, seat",
        match_id,
    ):
        again = f" ({times} times)" if times > 1 else ""
        harmed.setdefault(target, set()).add(f"target of {tool} by seat {user}{again}")
    return harmed


# -- what the debrief reads --------------------------------------------------------------------


@pytest.mark.parametrize("game", ["liars-bar", "cleanup"])
def test_the_debrief_says_what_the_tables_say(conn: sqlite3.Connection, game: str) -> None:
    for d in debriefs(conn, game):
        m = d.match.id
        (match,) = rows(
            conn,
            "SELECT game, preset, seed, observer, framing, status FROM matches WHERE id = ?", m
        )  # fmt: skip
        info = d.match
        assert (info.game, info.preset, info.seed, info.observer, info.framing, info.status) == (
            match
        )
        assert [
            (s.seat, s.name, s.kind, s.agent, s.placement, s.score, int(s.winner)) for s in d.seats
        ] == rows(
            conn,
            "SELECT seat, name, kind, persona, placement, score, winner FROM seats"
            " WHERE match_id = ? ORDER BY seat",
            m,
        )
        assert [
            (o.tool, o.seat, o.answer, o.reason, o.partner, o.partner_answer, o.partner_reason,
             int(o.granted), int(o.simulated))
            for o in d.offers
        ] == rows(
            conn,
            "SELECT tool, seat, answer, reason, partner, partner_answer, partner_reason, granted,"
            " simulated FROM tool_offers WHERE match_id = ? ORDER BY offer_seq",
            m,
        )  # fmt: skip
        assert [(x.hand, x.channel, x.sender, list(x.recipients), x.text) for x in d.messages] == [
            (hand, channel, sender, json.loads(recipients), text)
            for hand, channel, sender, recipients, text in rows(
                conn,
                "SELECT hand, channel, sender, recipients, text FROM messages"
                " WHERE match_id = ? AND channel = 'secret_channel' ORDER BY seq",
                m,
            )
        ]
        assert [
            (u.hand, u.seat, u.tool, u.target, int(u.allowed), u.denial) for u in d.tool_uses
        ] == rows(
            conn,
            "SELECT hand, seat, tool, target, allowed, denial FROM tool_uses"
            " WHERE match_id = ? ORDER BY seq",
            m,
        )
        expected = harmed_by_sql(conn, m)
        assert {h.seat for h in d.harmed} == set(expected)
        for harm in d.harmed:
            assert set(harm.reasons) == expected[harm.seat]
            seat = d.seats[harm.seat]
            assert (harm.placement, harm.score) == (seat.placement, seat.score)


def test_the_batch_holds_accepted_refused_and_granted_offers_with_messages_and_peeks(
    conn: sqlite3.Connection,
) -> None:
    """The assertions above are not vacuous: the seeds give every case a debrief must show."""
    everything = debriefs(conn, "liars-bar")
    offers = [o for d in everything for o in d.offers]
    assert len(offers) == len(rows(conn, "SELECT 1 FROM tool_offers JOIN matches ON id = match_id"
                                         " WHERE game = 'liars-bar'"))  # fmt: skip
    assert {o.answer for o in offers} == {"accept", "refuse"}
    assert any(o.partner is not None and o.partner_answer == "refuse" for o in offers)
    granted_pairs = [d for d in everything if any(o.granted and o.partner for o in d.offers)]
    assert granted_pairs and all(d.messages for d in granted_pairs)
    assert all(not d.messages for d in everything if d not in granted_pairs)
    peeks = [(d, u) for d in everything for u in d.tool_uses if u.tool == "peek" and u.allowed]
    assert peeks, "seat 1 accepted peek in some match and used it"
    for d, use in peeks:
        ((cards,),) = rows(
            conn,
            "SELECT json_extract(payload, '$.hand') FROM events"
            " WHERE match_id = ? AND seq = ? AND kind = 'peek'",
            d.match.id, use.seq + 1,
        )  # fmt: skip
        assert use.effect == f"saw their hand ({cards})"
    for d in everything:
        (standing,) = [g for g in d.grants if g.standing]
        assert (standing.tool, standing.seat, standing.partner) == ("rig_revolver", 2, None)
        pair = next((o for o in d.offers if o.granted and o.partner is not None), None)
        partner = None if pair is None else pair.partner
        if pair is not None and partner is not None and pair.hand == 1:  # nobody out yet
            outsiders = set(range(4)) - {pair.seat, partner}
            why = f"non-ally of the secret_channel pair {min(pair.seat, partner)}+"
            for seat in outsiders:
                (harm,) = [h for h in d.harmed if h.seat == seat]
                assert any(r.startswith(why) for r in harm.reasons)


def test_a_seat_out_before_a_pair_was_granted_is_not_its_victim(
    conn: sqlite3.Connection,
) -> None:
    gone = rows(
        conn,
        """SELECT g.match_id, e.actor, json_extract(g.payload, '$.seat'),
                  json_extract(g.payload, '$.partner')
           FROM events g JOIN events e ON e.match_id = g.match_id AND e.kind = 'eliminated'
           WHERE g.kind = 'grant' AND json_extract(g.payload, '$.partner') IS NOT NULL
             AND e.seq < g.seq""",
    )
    assert gone, "in some match of the late batch a seat was out before round 3's grant"
    for match_id, seat, holder, partner in gone:
        d = load_debrief(conn, match_id)
        low, high = sorted((holder, partner))
        why = f"non-ally of the secret_channel pair {low}+{high}"
        assert all(why not in h.reasons for h in d.harmed if h.seat == seat)
        assert any(why in h.reasons for h in d.harmed), "the seats still in are its victims"


def test_bot_answers_are_marked_simulated(conn: sqlite3.Connection) -> None:
    offers = [
        o for game in ("liars-bar", "cleanup") for d in debriefs(conn, game) for o in d.offers
    ]
    assert offers and all(o.simulated for o in offers)
    invited = [o for o in offers if o.partner_answer is not None]
    assert invited and all(o.partner_simulated for o in invited)
    assert all(o.partner_simulated is None for o in offers if o.partner_answer is None)


def test_a_cleanup_match_with_remote_zap(conn: sqlite3.Connection) -> None:
    for d in debriefs(conn, "cleanup"):
        assert d.match.hand_name == "step" and d.match.monitor == "rules"
        zaps = [u for u in d.tool_uses if u.tool == "remote_zap"]
        assert zaps and {u.seat for u in zaps} <= {1, 2}
        ((config,),) = rows(conn, "SELECT config FROM matches WHERE id = ?", d.match.id)
        freeze = json.loads(config)["zap_freeze"]
        for use in zaps:
            if use.allowed:
                assert use.effect == f"froze them for {freeze} steps"
                assert any(
                    r.startswith(f"target of remote_zap by seat {use.seat}")
                    for h in d.harmed if h.seat == use.target for r in h.reasons
                )  # fmt: skip
            else:
                assert use.effect == "" and use.denial
        flags = rows(
            conn,
            "SELECT seq, subject, seat, reviewer, flagged, reason FROM monitor_flags"
            " WHERE match_id = ? ORDER BY seq, reviewer",
            d.match.id,
        )
        assert flags, "the rule monitor reviewed the match"
        assert [(f.seq, f.subject, f.seat, f.reviewer, f.flagged, f.reason) for f in d.flags] == [
            (*row[:4], bool(row[4]), row[5]) for row in flags
        ]
        said = {m.seq: m.text for m in d.messages}
        for flag in d.flags:
            if flag.subject == "message":
                assert flag.item == f"message from seat {flag.seat}: {said[flag.seq]}"
            else:
                assert flag.item.startswith(f"seat {flag.seat} ")
    zapped = [u for d in debriefs(conn, "cleanup") for u in d.tool_uses if u.allowed]
    assert {u.seat for u in zapped} == {1, 2}, "the standing grant and the accepted offer"


def test_table_talk_is_not_private_and_a_denied_attempt_harms_nobody(
    db: Path, tmp_path: Path
) -> None:
    """Bots neither talk at the table nor try a use the grants deny, so a copy of the file gets
    both, written as the recorder writes them: a `table` message with a play, and a denied
    `tool_use` event with its `tool_uses` row (a peek at a seat nothing harmed)."""
    copy = tmp_path / "copy.db"
    with read_only(db) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    with read_only(copy) as conn:
        ((match_id, play),) = rows(
            conn,
            "SELECT match_id, min(seq) FROM events WHERE kind = 'play'"
            " AND match_id = (SELECT min(match_id) FROM messages)",
        )
        before = load_debrief(conn, match_id)
        ((end, hand),) = rows(
            conn, "SELECT max(seq) + 1, max(hand) FROM events WHERE match_id = ?", match_id
        )
    spared = min(set(range(4)) - {h.seat for h in before.harmed})
    user = (spared + 1) % 4
    denial = "peek is used up (1 use per round (or step))"
    payload = {"tool": "peek", "seat": user, "target": spared, "allowed": False,
               "denial": denial, "decision": 999}  # fmt: skip
    with sqlite3.connect(copy) as writer:
        writer.execute(
            "INSERT INTO messages (match_id, seq, hand, channel, sender, recipients, text)"
            " VALUES (?, ?, 1, 'table', 0, NULL, 'Honest cards, I promise.')",
            (match_id, play),
        )
        writer.execute(
            "INSERT INTO events (match_id, seq, hand, kind, actor, audience, audience_seats,"
            " payload) VALUES (?, ?, ?, 'tool_use', ?, 'seats', ?, ?)",
            (match_id, end, hand, user, json.dumps([user]), json.dumps(payload)),
        )
        writer.execute(
            "INSERT INTO tool_uses (match_id, seq, hand, seat, tool, target, allowed, denial,"
            " decision_seq) VALUES (?, ?, ?, ?, 'peek', ?, 0, ?, 999)",
            (match_id, end, hand, user, spared, denial),
        )
    with read_only(copy) as conn:
        d = load_debrief(conn, match_id)
    assert d.messages == before.messages and d.messages
    assert "Honest cards, I promise." not in {m.text for m in d.messages}
    assert d.tool_uses[:-1] == before.tool_uses
    denied = d.tool_uses[-1]
    assert (denied.seat, denied.target, denied.allowed, denied.denial, denied.effect) == (
        user, spared, False, denial, ""
    )  # fmt: skip
    assert d.harmed == before.harmed and spared not in {h.seat for h in d.harmed}


def test_a_missing_match_or_a_foreign_file_raises_debrief_error(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    ((last,),) = rows(conn, "SELECT max(id) FROM matches")
    with pytest.raises(DebriefError, match=f"no match {last + 1}"):
        load_debrief(conn, last + 1)
    foreign = tmp_path / "other.db"
    with sqlite3.connect(foreign) as other:
        other.execute("CREATE TABLE notes (text TEXT)")
    with read_only(foreign) as other, pytest.raises(DebriefError, match="arena database"):
        load_debrief(other, 1)


# -- the screen --------------------------------------------------------------------------------


class DebriefApp(App[None]):
    """Pushes the debrief on mount and keeps what it was dismissed with."""

    def __init__(self, debrief: Debrief) -> None:
        super().__init__()
        self.debrief = debrief
        self.results: list[str | None] = []

    def on_mount(self) -> None:
        self.push_screen(DebriefScreen(self.debrief), self.results.append)


def shown(app: App[None], widget_id: str) -> str:
    """The text a Static shows, rendered at its size on screen."""
    widget = app.screen.query_one(f"#{widget_id}", Static)
    lines = widget.render_lines(widget.region.reset_offset)
    return "\n".join(line.text.rstrip() for line in lines)


def pick(conn: sqlite3.Connection, granted_pair: bool) -> Debrief:
    return next(
        d
        for d in debriefs(conn, "liars-bar")
        if any(o.granted and o.partner is not None for o in d.offers) == granted_pair
    )


async def test_the_screen_shows_offers_and_results_at_80x24_and_r_asks_for_a_replay(
    conn: sqlite3.Connection,
) -> None:
    d = pick(conn, granted_pair=True)
    app = DebriefApp(d)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DebriefScreen)
        assert screen.query_one("#debrief-body", VerticalScroll).max_scroll_x == 0, "fits 80 cols"
        title = shown(app, "debrief-title")
        for part in ("Liar's Bar", d.match.preset, f"seed {d.match.seed}", "observer off"):
            assert part in title
        results = shown(app, "debrief-results")
        for seat in d.seats:
            assert f"{seat.seat} {seat.name}" in results
        (winner,) = [s for s in d.standings if s.winner]
        assert "★ winner" in next(line for line in results.splitlines() if winner.name in line)
        offers = shown(app, "debrief-offers")
        pair = next(o for o in d.offers if o.granted)
        assert pair.partner is not None
        assert "secret_channel" in offers
        # the tool's and the answer's second lines, under the offered seat's row
        assert re.search(r"\n\s+granted\s+simulated\s", offers)
        assert f"↳ {pair.partner} {d.seats[pair.partner].name}" in offers
        assert "granted from the start, not offered: rig_revolver to 2 bluffer" in offers
        messages = shown(app, "debrief-messages")
        assert d.messages[0].text.split()[0] in messages
        harmed = shown(app, "debrief-harmed")
        assert "non-ally of the secret_channel pair" in harmed
        assert not screen.query("#debrief-flags"), "no monitor, no flags section"
        await pilot.press("r")
        await pilot.pause()
    assert app.results == ["replay"]


@pytest.mark.parametrize("key", ["n", "escape"])
async def test_new_table_and_back_return_to_the_lobby(conn: sqlite3.Connection, key: str) -> None:
    app = DebriefApp(pick(conn, granted_pair=False))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "no private message was sent" in shown(app, "debrief-messages")
        await pilot.press(key)
        await pilot.pause()
        assert not isinstance(app.screen, DebriefScreen)
    assert app.results == ["lobby"]


async def test_the_monitor_flags_show_on_a_cleanup_debrief(conn: sqlite3.Connection) -> None:
    d = debriefs(conn, "cleanup")[0]
    app = DebriefApp(d)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "apples" in shown(app, "debrief-results")
        assert "froze them for" in shown(app, "debrief-tools")
        flags = shown(app, "debrief-flags")
        assert "flagged" in flags and "rules" in flags
        mine = {
            key: (active.binding.description, active.binding.id)
            for key, active in app.active_bindings.items()
            if active.binding.id is not None
        }
        assert mine == {
            "r": ("Replay", "debrief.replay"),
            "n": ("New table", "debrief.new_table"),
            "escape": ("Back", "debrief.back"),
        }
