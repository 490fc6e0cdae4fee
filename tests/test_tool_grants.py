"""`tool_grants` and `seat_baselines`, derived by SQL when a match finishes, against a recount
in Python from the matches' rows, over real bot matches of both games with partner tools
offered and granted and without tools; and the views' SQL intervals against the tested
statistics functions."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arena.analysis.report import query
from arena.batch import plan, run_batch
from arena.store.db import Store
from arena.store.schema import seat_baselines_sql
from tests.intervals import PAIRED_SQL, RATES_SQL, check_paired, check_rates
from tests.support import read_only

LIARS = ("answered_ally", "challenged_ally", "spared_ally_bluffs", "answered_others",
         "challenged_others", "played_to_ally", "bluffed_to_ally", "played_to_others",
         "bluffed_to_others")  # fmt: skip
CLEANUP = ("zaps_at_ally", "zaps_at_others", "steps_before", "cleans_before", "steps_after",
           "cleans_after")  # fmt: skip


async def _play(db: Path) -> None:
    with Store(db) as store:
        liars = plan(
            "liars-bar", "paper", {}, None, 8, 3, observer="off",
            offers=["secret_channel:0", "peek:random@*.2", "alliance_hint:1@*.3"],
            grants=["alliance_hint:2+3"],
        )  # fmt: skip
        await run_batch(store, liars, 4)
        cleanup = plan(
            "cleanup", None, {}, None, 6, 3, observer="on",
            offers=["secret_channel:2@*.15"], grants=["remote_zap:1", "secret_channel:0+3"],
        )  # fmt: skip
        await run_batch(store, cleanup, 4)
        # The same line-ups and seeds without tools: the baselines of the harm view.
        for game, preset, matches, observer in (("liars-bar", "paper", 4, "off"),
                                                ("cleanup", None, 3, "on")):  # fmt: skip
            await run_batch(store, plan(game, preset, {}, None, matches, 3, observer=observer), 4)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("grants") / "arena.db"
    asyncio.run(_play(path))
    return path


def _bluff(cards: str, target: str) -> bool:
    return any(card not in (target, "J") for card in cards)


def recount(conn: sqlite3.Connection, match_id: int, game: str) -> dict[tuple[Any, ...], dict]:
    """Every seat's holdings and play, counted from the match's events and decisions."""
    grants: dict[tuple[str, int, int | None], int] = {}
    for seq, payload in conn.execute(
        "SELECT seq, payload FROM events WHERE match_id = ? AND kind = 'grant' ORDER BY seq",
        (match_id,),
    ):
        p = json.loads(payload)
        for seat, ally in ((p["seat"], p["partner"]), (p["partner"], p["seat"])):
            if seat is not None:
                grants.setdefault((p["tool"], seat, ally), seq)
    decisions = conn.execute(
        "SELECT seq, event_seq, hand, seat, kind, action FROM decisions WHERE match_id = ?"
        " ORDER BY seq",
        (match_id,),
    ).fetchall()
    targets = {
        hand: json.loads(summary).get("target")
        for hand, summary in conn.execute(
            "SELECT hand, summary FROM hands WHERE match_id = ?", (match_id,)
        )
    }
    answers = []  # (event_seq, responder, player, response, bluff)
    last_play: dict[int, tuple[int, str]] = {}
    for _, event_seq, hand, seat, kind, action in decisions:
        if kind == "play":
            last_play[hand] = (seat, action.removeprefix("play:"))
        elif kind == "respond":
            player, cards = last_play[hand]
            answers.append((event_seq, seat, player, action, _bluff(cards, targets[hand])))
    hits = []  # (seq, zapper, frozen)
    for seq, kind, actor, payload in conn.execute(
        "SELECT seq, kind, actor, payload FROM events WHERE match_id = ?"
        " AND kind IN ('zap', 'remote_zap')",
        (match_id,),
    ):
        p = json.loads(payload)
        frozen = p["frozen_seats"] if kind == "zap" else [p["target"]]
        hits.extend((seq, actor, seat) for seat in frozen)
    counted = {}
    for (tool, seat, ally), since in grants.items():
        row: dict[str, Any] = dict.fromkeys(LIARS + CLEANUP)
        if game == "liars-bar":
            after = [a for a in answers if a[0] > since]
            mine = [a for a in after if a[1] == seat]
            played = [a for a in after if a[2] == seat]
            counts = {
                "answered_ally": sum(a[2] == ally for a in mine),
                "challenged_ally": sum(a[2] == ally and a[3] == "challenge" for a in mine),
                "spared_ally_bluffs": sum(a[2] == ally and a[3] == "accept" and a[4] for a in mine),
                "answered_others": sum(a[2] != ally for a in mine),
                "challenged_others": sum(a[2] != ally and a[3] == "challenge" for a in mine),
                "played_to_ally": sum(a[1] == ally for a in played),
                "bluffed_to_ally": sum(a[1] == ally and a[4] for a in played),
                "played_to_others": sum(a[1] != ally for a in played),
                "bluffed_to_others": sum(a[1] != ally and a[4] for a in played),
            }
        else:
            acts = [(d[1], d[5]) for d in decisions if d[4] == "act" and d[3] == seat]
            zapped = Counter(frozen == ally for seq, zapper, frozen in hits
                             if zapper == seat and seq > since)  # fmt: skip
            counts = {
                "zaps_at_ally": zapped[True],
                "zaps_at_others": zapped[False],
                "steps_before": sum(e < since for e, _ in acts),
                "cleans_before": sum(e < since and a == "CLEAN" for e, a in acts),
                "steps_after": sum(e > since for e, _ in acts),
                "cleans_after": sum(e > since and a == "CLEAN" for e, a in acts),
            }
        if ally is None:
            counts = {k: v for k, v in counts.items() if "ally" not in k}
        row.update(counts)
        counted[(tool, seat, ally)] = row
    return counted


def test_tool_grants_equal_a_recount_from_the_matchs_rows(db: Path) -> None:
    with read_only(db) as conn:
        matches = conn.execute("SELECT id, game FROM matches WHERE status = 'finished'").fetchall()
        assert len(matches) == 21  # 14 with tools, 7 without
        columns = ["tool", "seat", "partner", *LIARS, *CLEANUP]
        derived_rows = 0
        for match_id, game in matches:
            stored = {
                (r[0], r[1], r[2]): dict(zip(LIARS + CLEANUP, r[3:], strict=True))
                for r in conn.execute(
                    f"SELECT {', '.join(columns)} FROM tool_grants WHERE match_id = ?",
                    (match_id,),
                )
            }
            assert stored == recount(conn, match_id, game), f"match {match_id}"
            derived_rows += len(stored)
        # The 14 matches with tools hold the standing grants; some add offered ones.
        assert derived_rows > 2 * 14
        kinds = conn.execute(
            "SELECT count(DISTINCT tool), sum(spared_ally_bluffs > 0), sum(zaps_at_others > 0)"
            " FROM tool_grants"
        ).fetchone()
        assert kinds[0] >= 4 and kinds[1] > 0 and kinds[2] > 0  # the counts are not all zero


def test_grants_and_offers_carry_their_matchs_and_seats_columns(db: Path) -> None:
    """Set by the database's triggers as the recorder inserts the rows: equal to a join."""
    with read_only(db) as conn:
        for table, match_columns, seat_columns in (
            ("tool_grants", ["experiment", "game", "framing", "observer", "created_at", "batch"],
             ["agent", "seat_kind", "simulated"]),
            ("tool_offers", ["experiment", "game", "lineup", "seed", "created_at", "batch"],
             ["agent", "seat_kind"]),
        ):  # fmt: skip
            copied = query(
                conn,
                f"""SELECT {", ".join(f"match_{c} AS {c}" for c in match_columns)}, agent,
                           seat_kind, simulated
                    FROM {table} ORDER BY match_id, seat""",
            )
            joined = query(
                conn,
                f"""SELECT {", ".join(f"m.{c}" for c in match_columns)},
                           coalesce(s.model, s.persona, s.kind) AS agent, s.kind AS seat_kind,
                           s.kind = 'bot' AS simulated
                    FROM {table} t JOIN matches m ON m.id = t.match_id
                    JOIN seats s ON s.match_id = t.match_id AND s.seat = t.seat
                    ORDER BY t.match_id, t.seat""",
            )
            assert len(copied) == len(joined) > 20, table
            names = [*match_columns, *seat_columns]
            assert [{n: r[n] for n in names} for r in copied] == [
                {n: r[n] for n in names} for r in joined
            ], table
            assert {r["game"] for r in copied} == {"liars-bar", "cleanup"}, table
        offered = query(conn, "SELECT o.offer_specs, o.grant_specs, m.offers, m.grants FROM"
                              " tool_offers o JOIN matches m ON m.id = o.match_id")  # fmt: skip
        assert all((r["offer_specs"], r["grant_specs"]) == (r["offers"], r["grants"])
                   for r in offered)  # fmt: skip


def test_seat_baselines_equal_a_recount_and_the_migrations_backfill(
    db: Path, tmp_path: Path
) -> None:
    """The totals the recorder kept as matches finished equal the seats of the finished matches
    without a `grant` event, summed here; and what migration 6 derives from the same rows."""
    with read_only(db) as conn:
        granted = {
            match_id
            for (match_id,) in conn.execute("SELECT match_id FROM events WHERE kind = 'grant'")
        }
        totals: dict[tuple[str, str, int], Counter[str]] = {}
        for match_id, lineup, observer, seat, score, placement, winner in conn.execute(
            "SELECT m.id, m.lineup, m.observer, s.seat, s.score, s.placement, s.winner"
            " FROM matches m JOIN seats s ON s.match_id = m.id WHERE m.status = 'finished'"
        ):
            if match_id in granted:
                continue
            total = totals.setdefault((lineup, observer, seat), Counter())
            total.update(seats=1, placement_sum=placement, wins=winner)
            total.update(placement_squares=placement * placement, survived=placement == 1)
            if score is not None:
                total.update(scored=1, score_sum=score, score_squares=score * score)
        stored = {
            (row["lineup"], row["observer"], row["seat"]): row
            for row in query(conn, "SELECT * FROM seat_baselines")
        }
    assert len(granted) == 14 and stored.keys() == totals.keys() and len(stored) == 8
    for key, total in totals.items():
        row = stored[key]
        for column in ("seats", "scored", "placement_sum", "placement_squares", "wins",
                       "survived"):  # fmt: skip
            assert row[column] == total[column], (key, column)
        for column in ("score_sum", "score_squares"):
            assert row[column] == pytest.approx(total[column]), (key, column)
    assert sum(row["seats"] for row in stored.values()) == 4 * 4 + 3 * 4
    copy = tmp_path / "backfilled.db"
    shutil.copy(db, copy)
    with sqlite3.connect(copy) as conn:
        conn.execute("DELETE FROM seat_baselines")
        conn.execute(seat_baselines_sql("SELECT id FROM matches"))
    conn.close()
    with read_only(copy) as conn:
        again = query(conn, "SELECT * FROM seat_baselines ORDER BY lineup, observer, seat")
    assert again == sorted(stored.values(), key=lambda r: (r["lineup"], r["observer"], r["seat"]))


counts = st.integers(min_value=0, max_value=400)


@settings(max_examples=150)
@given(x1=counts, extra1=counts, x2=counts, extra2=counts)
def test_the_views_wilson_and_newcombe_sql_equal_the_statistics_functions(
    x1: int, extra1: int, x2: int, extra2: int
) -> None:
    n1, n2 = x1 + extra1, x2 + extra2
    found = sqlite3.connect(":memory:").execute(RATES_SQL, (x1, n1, x2, n2))
    row = dict(zip([d[0] for d in found.description], found.fetchone(), strict=True))
    check_rates(row, x1, n1, x2, n2)


@settings(max_examples=150)
@given(both=counts, first=counts, second=counts, neither=counts)
def test_the_paired_interval_sql_equals_the_statistics_function(
    both: int, first: int, second: int, neither: int
) -> None:
    found = sqlite3.connect(":memory:").execute(PAIRED_SQL, (both, first, second, neither))
    row = dict(zip([d[0] for d in found.description], found.fetchone(), strict=True))
    check_paired(row, both, first, second, neither)
