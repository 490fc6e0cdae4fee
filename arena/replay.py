"""A saved match, played again from the database for the replay screen: its stored decisions go
back through the engine and the secret phase, which regenerate every event and every seat's view
(the engine is a deterministic function of config, seed and decisions). The events regenerated
are checked against the stored ones, so a match recorded by different rules says where it
differs instead of showing something that did not happen."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from dataclasses import dataclass

from arena.conditions import ObserverSwitch
from arena.players.base import DecisionRequest
from arena.runtime import ResumeError, StoredProgress, run_match
from arena.secrets import SecretSetup
from arena.table import TableRecord
from arena.tui.scene import SeatLabel
from games.base import Decision, Event
from games.registry import GAMES
from tools.offers import offers_for, parse_grant, parse_offer


class ReplayError(ValueError):
    """A match that cannot be replayed; the message says why."""


@dataclass(frozen=True)
class Replay:
    match_id: int
    game: str
    preset: str
    seed: int
    seats: tuple[SeatLabel, ...]
    record: TableRecord  # every event and view, as the observer saw them
    finished: bool
    note: str | None = None  # why the replay stops early, if it does


class _Stored:
    """A seat whose decisions all come from the database: asked anything more, it stalls."""

    instant = True

    def __init__(self, kind: str, stalled: asyncio.Event) -> None:
        self.kind = kind
        self.stalled = stalled

    async def decide(self, request: DecisionRequest) -> Decision:
        self.stalled.set()
        await asyncio.Event().wait()  # cancelled by load_replay
        raise AssertionError("unreachable")

    def replayed(self, request: DecisionRequest, decision: Decision) -> None:
        pass

    def observe(self, event: Event, hand: int) -> None:
        pass


async def load_replay(conn: sqlite3.Connection, match_id: int) -> Replay:
    """Replay match `match_id` of the database behind `conn` (read only)."""
    row = conn.execute(
        "SELECT game, preset, seed, config, observer, framing, offers, grants, batch_index,"
        " status, software_version FROM matches WHERE id = ?",
        (match_id,),
    ).fetchone()
    if row is None:
        raise ReplayError(f"there is no match {match_id} in this database")
    game_name, preset, seed, config_json, observer, framing, offers, grants, index, status, made = (
        row
    )
    if game_name not in GAMES:
        raise ReplayError(f"match {match_id} is a game of {game_name!r}, which this version lacks")
    seat_rows = conn.execute(
        "SELECT name, kind, coalesce(model, persona, kind) FROM seats WHERE match_id = ?"
        " ORDER BY seat",
        (match_id,),
    ).fetchall()
    seats = tuple(SeatLabel(name, kind, agent) for name, kind, agent in seat_rows)
    n = len(seats)
    game_class = GAMES[game_name]
    try:
        game = game_class(game_class.config_model.model_validate(json.loads(config_json)))
        secrets = None
        if framing is not None:
            offer_specs = [parse_offer(text, game_name, n) for text in json.loads(offers)]
            grant_specs = [parse_grant(text, game_name, n) for text in json.loads(grants)]
            secrets = SecretSetup(
                tuple(offers_for(offer_specs, index, seed, n)), tuple(grant_specs), framing
            )
    except ValueError as error:
        raise ReplayError(f"match {match_id} cannot be set up again: {error}") from None
    decisions = [
        (seat, Decision(action, talk))
        for seat, action, talk in conn.execute(
            "SELECT seat, action, talk FROM decisions WHERE match_id = ? ORDER BY seq", (match_id,)
        )
    ]
    toggles = [
        (seq, condition)
        for seq, condition in conn.execute(
            "SELECT seq, json_extract(payload, '$.condition') FROM events"
            " WHERE match_id = ? AND kind = 'observer' ORDER BY seq",
            (match_id,),
        )
    ]
    stored_kinds = [
        kind
        for (kind,) in conn.execute(
            "SELECT kind FROM events WHERE match_id = ? ORDER BY seq", (match_id,)
        )
    ]
    record = TableRecord(n, observer)
    stalled = asyncio.Event()
    players = [_Stored(seat.kind, stalled) for seat in seats]
    play = asyncio.ensure_future(
        run_match(
            game,
            seed,
            players,
            [record],
            StoredProgress(decisions, 0, toggles),
            ObserverSwitch(observer),
            secrets,
            viewer=record.on_views,
        )
    )
    waiting = asyncio.ensure_future(stalled.wait())
    await asyncio.wait({play, waiting}, return_when=asyncio.FIRST_COMPLETED)
    waiting.cancel()
    note = None
    if not play.done():
        play.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await play
    elif (failure := play.exception()) is not None:
        if not isinstance(failure, ValueError | ResumeError):
            raise failure
        note = f"the stored decisions do not replay ({failure}); recorded by version {made}"
    kinds = [event.kind for _, _, event in record.events]
    differs = next(
        (i for i, (a, b) in enumerate(zip(kinds, stored_kinds, strict=False)) if a != b), None
    )
    if differs is not None:
        del record.events[differs:]
        record.views[:] = [(count, views) for count, views in record.views if count <= differs]
        note = f"the replay differs from the record at event {differs} (recorded by version {made})"
    elif len(kinds) > len(stored_kinds):
        del record.events[len(stored_kinds) :]
    if note is None and status != "finished":
        note = "this match was not finished: the replay ends where the record does"
    return Replay(match_id, game_name, preset, seed, seats, record, status == "finished", note)
