"""A saved match, played again from the database for the replay screen: its stored decisions go
back through the engine and the secret phase, which regenerate every event and every seat's view
(the engine is a deterministic function of config, seed and decisions). The events regenerated
are checked against the stored ones, so a match recorded by different rules says where it
differs instead of showing something that did not happen. Rows that cannot be replayed at all are
a ReplayError with a one-line message, never another exception: `read_replay` lets the command
line say so before any screen opens."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from arena.conditions import OBSERVER_CONDITIONS, ObserverSwitch
from arena.players.base import DecisionRequest
from arena.runtime import ResumeError, StoredProgress, run_match
from arena.secrets import SecretSetup
from arena.store.db import StoreError, open_read_only
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


def read_replay(path: Path, match_id: int) -> Replay:
    """Match `match_id` of the arena file at `path`, replayed through a read-only connection, for
    a caller without a running event loop: the command line before the screen opens, a worker
    thread. ReplayError, with a one-line message, if the file or the match cannot be replayed."""
    try:
        conn = open_read_only(path)
    except StoreError as error:
        raise ReplayError(str(error)) from None
    try:
        return asyncio.run(load_replay(conn, match_id))
    finally:
        conn.close()


async def load_replay(conn: sqlite3.Connection, match_id: int) -> Replay:
    """Replay match `match_id` of the database behind `conn` (read only).

    ReplayError, with a one-line message, for anything that keeps the match from being shown:
    no such match, a game this version lacks, a database that cannot be read, rows that cannot
    be set up again (no seats, decisions of a seat that is not there, a config, offers or grants
    that do not validate, an observer change without a condition), no event at all, or stored
    decisions that do not even start the game. Decisions that stop replaying later leave a
    replay up to that point, with a note saying why."""
    try:
        rows = _read_rows(conn, match_id)
    except sqlite3.Error as error:
        raise ReplayError(f"cannot read match {match_id}: {one_line(error)}") from None
    if rows.game not in GAMES:
        raise ReplayError(f"match {match_id} is a game of {rows.game!r}, which this version lacks")
    seats, n = rows.seats, len(rows.seats)
    if not seats:
        raise ReplayError(f"match {match_id} has no seats in the database")
    stranger = next(
        (seat for seat, _ in rows.decisions if not (isinstance(seat, int) and 0 <= seat < n)),
        None,
    )
    if stranger is not None:
        raise ReplayError(
            f"match {match_id} has decisions of seat {_shown(stranger)}, but the database"
            f" holds {n} seat{'s' if n != 1 else ''} for it"
        )
    if not isinstance(rows.seed, int):
        raise ReplayError(f"match {match_id} has no usable seed ({_shown(rows.seed)})")
    if not rows.kinds:
        raise ReplayError(f"match {match_id} has no events recorded: there is nothing to replay")
    game_class = GAMES[rows.game]
    try:
        game = game_class(game_class.config_model.model_validate(_json(rows.config, "its config")))
        observer = ObserverSwitch(rows.observer)
        secrets = None
        if rows.framing is not None:
            offers = [parse_offer(text, rows.game, n) for text in _texts(rows.offers, "its offers")]
            grants = [parse_grant(text, rows.game, n) for text in _texts(rows.grants, "its grants")]
            secrets = SecretSetup(
                tuple(offers_for(offers, rows.index, rows.seed, n)), tuple(grants), rows.framing
            )
        toggles = [(seq, _condition(seq, payload)) for seq, payload in rows.toggles]
    except (TypeError, ValueError) as error:  # TypeError: a stored value of the wrong type
        raise ReplayError(f"match {match_id} cannot be set up again: {one_line(error)}") from None
    record = TableRecord(n, rows.observer)
    stalled = asyncio.Event()
    players = [_Stored(seat.kind, stalled) for seat in seats]
    play = asyncio.ensure_future(
        run_match(
            game,
            rows.seed,
            players,
            [record],
            StoredProgress(rows.decisions, 0, toggles),
            observer,
            secrets,
            viewer=record.on_views,
        )
    )
    waiting = asyncio.ensure_future(stalled.wait())
    await asyncio.wait({play, waiting}, return_when=asyncio.FIRST_COMPLETED)
    waiting.cancel()
    note = None
    made = rows.software_version
    if not play.done():
        play.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await play
    elif (failure := play.exception()) is not None:
        if not isinstance(failure, ValueError | ResumeError):
            # not a record this version disagrees with: a fault, named in one line here (the
            # chained exception keeps the rest for a developer)
            raise ReplayError(
                f"match {match_id} does not replay: {type(failure).__name__}: {one_line(failure)}"
            ) from failure
        if not record.events:
            raise ReplayError(f"match {match_id} does not replay: {one_line(failure)}")
        note = (
            f"the stored decisions do not replay ({one_line(failure)}); recorded by version {made}"
        )
    kinds = [event.kind for _, _, event in record.events]
    differs = next(
        (i for i, (a, b) in enumerate(zip(kinds, rows.kinds, strict=False)) if a != b), None
    )
    if differs is not None:
        del record.events[differs:]
        record.views[:] = [(count, views) for count, views in record.views if count <= differs]
        note = f"the replay differs from the record at event {differs} (recorded by version {made})"
    elif len(kinds) > len(rows.kinds):
        del record.events[len(rows.kinds) :]
    finished = rows.status == "finished"
    if note is None and not finished:
        note = "this match was not finished: the replay ends where the record does"
    return Replay(match_id, rows.game, rows.preset, rows.seed, seats, record, finished, note)


@dataclass(frozen=True)
class _Rows:
    """What the database holds of one match, as stored (nothing checked yet)."""

    game: str
    preset: str
    seed: int
    config: str
    observer: str
    framing: str | None
    offers: str
    grants: str
    index: int
    status: str
    software_version: str
    seats: tuple[SeatLabel, ...]
    decisions: list[tuple[int, Decision]]
    toggles: list[tuple[int, str]]  # (event seq, payload) of the observer changes
    kinds: list[str]  # of every stored event, in order


def _read_rows(conn: sqlite3.Connection, match_id: int) -> _Rows:
    row = conn.execute(
        "SELECT game, preset, seed, config, observer, framing, offers, grants, batch_index,"
        " status, software_version FROM matches WHERE id = ?",
        (match_id,),
    ).fetchone()
    if row is None:
        raise ReplayError(f"there is no match {match_id} in this database")
    seats = tuple(
        SeatLabel(name, kind, agent)
        for name, kind, agent in conn.execute(
            "SELECT name, kind, coalesce(model, persona, kind) FROM seats WHERE match_id = ?"
            " ORDER BY seat",
            (match_id,),
        )
    )
    decisions = [
        (seat, Decision(action, talk))
        for seat, action, talk in conn.execute(
            "SELECT seat, action, talk FROM decisions WHERE match_id = ? ORDER BY seq", (match_id,)
        )
    ]
    toggles = conn.execute(
        "SELECT seq, payload FROM events WHERE match_id = ? AND kind = 'observer' ORDER BY seq",
        (match_id,),
    ).fetchall()
    kinds = [
        kind
        for (kind,) in conn.execute(
            "SELECT kind FROM events WHERE match_id = ? ORDER BY seq", (match_id,)
        )
    ]
    game, preset, seed, config, observer, framing, offers, grants, index, status, made = row
    return _Rows(
        game,
        preset,
        seed,
        config,
        observer,
        framing,
        offers,
        grants,
        index,
        status,
        made,
        seats,
        decisions,
        toggles,
        kinds,
    )


def one_line(error: BaseException) -> str:
    """An exception's message on one line: pydantic's list every field on lines of their own,
    SQLite's and others' may break lines too."""
    if isinstance(error, ValidationError):
        problems = []
        for problem in error.errors():
            where = ".".join(str(part) for part in problem["loc"])
            problems.append(f"{where}: {problem['msg']}" if where else problem["msg"])
        return "; ".join(problems)
    return " ".join(str(error).split()) or type(error).__name__


def _shown(value: object, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _json(text: str, what: str) -> object:
    """`text` parsed; ValueError naming `what` ("its config") if it is not JSON."""
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        raise ValueError(f"{what} is not JSON: {_shown(text)}") from None


def _texts(text: str, what: str) -> list[str]:
    """`text` as the JSON list of texts it should be (offers, grants)."""
    try:
        found = json.loads(text)
    except (TypeError, ValueError):
        found = None
    if not isinstance(found, list) or not all(isinstance(item, str) for item in found):
        raise ValueError(f"{what} are not a JSON list of texts: {_shown(text)}")
    return found


def _condition(seq: int, payload: str) -> str:
    """The condition an `observer` event changes to."""
    found = _json(payload, f"the payload of event {seq}")
    condition = found.get("condition") if isinstance(found, dict) else None
    if not isinstance(condition, str) or condition not in OBSERVER_CONDITIONS:
        raise ValueError(f"event {seq} changes the observer condition to {_shown(condition)}")
    return condition
