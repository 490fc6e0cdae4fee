"""One table of the interactive arena: a single match chosen in the lobby, played by humans at
this terminal beside bots and LLMs, recorded like any batch match, and kept whole in memory so
each screen can be built from what its audience may see (`arena.tui.scene`).
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from arena.batch import BatchPlan, plan
from arena.conditions import OBSERVER_CONDITIONS, ObserverSwitch
from arena.llm.config import ModelsConfig
from arena.monitor import judge, monitored_items
from arena.players.base import DecisionRequest, Player
from arena.players.human import Desk
from arena.runtime import DecisionRecord, run_match
from arena.seats import SeatError, make_player
from arena.store.db import Store
from arena.store.recorder import MatchRecorder
from games.base import Decision, Event, GameError, SeatResult
from tools.offers import SECRET_KINDS

DEFAULT_TABLE_SEATS = {
    "liars-bar": ["human:You", "bot:counter", "bot:cautious", "bot:bluffer"],
    "cleanup": ["human:You", "bot:harvester", "bot:cleaner", "bot:zapper"],
}
LAST_TABLE_FILE = "last_table.json"


class TableError(ValueError):
    """A table that cannot be played; the message names the problem."""


class TableSpec(BaseModel):
    """What the lobby chooses (and remembers as the last table). Seats, offers and grants use the
    command line's syntax (`human:Ana`, `peek:1@*.2`, `secret_channel:0+2`)."""

    game: str = "liars-bar"
    preset: str | None = None
    seats: list[str] = Field(default_factory=lambda: list(DEFAULT_TABLE_SEATS["liars-bar"]))
    observer: str = "off"
    framing: str | None = None
    offers: list[str] = Field(default_factory=list)
    grants: list[str] = Field(default_factory=list)
    seed: int | None = None  # None: a new seed for every table


def check_table(spec: TableSpec, models: ModelsConfig | None = None, seed: int = 1) -> BatchPlan:
    """The table as a one-match plan, checked before anything is written."""
    try:
        return plan(
            spec.game,
            spec.preset,
            {},
            spec.seats,
            1,
            seed,
            models,
            observer=spec.observer,
            framing=spec.framing,
            offers=spec.offers,
            grants=spec.grants,
            humans=True,
        )
    except (GameError, SeatError) as error:
        raise TableError(str(error)) from None


def load_last_table(folder: Path) -> TableSpec:
    """The table last started from this database's folder; the default table if there is none
    or the file cannot be read (a remembered table is a convenience, never an obstacle)."""
    try:
        return TableSpec.model_validate_json((folder / LAST_TABLE_FILE).read_text())
    except (OSError, ValidationError, ValueError):
        return TableSpec()


def save_last_table(folder: Path, spec: TableSpec) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LAST_TABLE_FILE
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(spec.model_dump(), indent=2) + "\n")
    temporary.replace(path)  # never a half-written file


@dataclass
class TableRecord:
    """Everything that happened at a table, in order, whoever it was for: the screens filter it
    by audience. Listens to the match like the store does."""

    seats: int
    start_condition: str = "off"
    events: list[tuple[int, int, Event]] = field(default_factory=list)
    decisions: list[DecisionRecord] = field(default_factory=list)
    views: list[tuple[int, tuple[Any, ...]]] = field(default_factory=list)  # (events then, views)
    results: tuple[SeatResult, ...] | None = None
    on_change: Callable[[], None] = lambda: None

    def on_event(self, seq: int, hand: int, event: Event) -> None:
        self.events.append((seq, hand, event))

    def on_decision(self, record: DecisionRecord) -> None:
        self.decisions.append(record)

    async def flush(self) -> None:
        pass

    def on_end(self, results: tuple[SeatResult, ...], hands: int) -> None:
        self.results = results

    def on_views(self, views: tuple[Any, ...]) -> None:
        self.views.append((len(self.events), views))
        self.on_change()

    def views_at(self, upto: int | None = None) -> tuple[Any, ...] | None:
        """Every seat's view after the first `upto` events (all of them by default)."""
        if upto is None:
            return self.views[-1][1] if self.views else None
        found = None
        for count, views in self.views:
            if count > upto:
                break
            found = views
        return found

    def condition_at(self, upto: int | None = None) -> str:
        condition = self.start_condition
        for _, _, event in self.events[:upto]:
            if event.kind == "observer":
                condition = event.payload["condition"]
        return condition

    def monitor_flags(self, upto: int | None = None) -> dict[int, tuple[bool | None, str]]:
        """The rule monitor's verdicts on what was done under `monitor`, by event seq (the
        observer sees them live; the stored review is written when the match ends)."""
        rows = [
            (seq, hand, event.kind, event.actor, event.payload)
            for seq, hand, event in self.events[:upto]
        ]
        return {
            item.seq: (verdict.flagged, verdict.reason)
            for item in monitored_items(self.start_condition, rows)
            for verdict in (judge(item),)
        }


class Shown:
    """A bot or LLM seat at a table people watch: its game decisions are paced so people can
    follow them, wait while a shot is being shown, and show as "thinking" meanwhile."""

    def __init__(self, player: Player, seat: int, table: Table) -> None:
        self.player = player
        self.seat = seat
        self.table = table
        self.kind = player.kind
        self.instant = False

    async def decide(self, request: DecisionRequest) -> Decision:
        table = self.table
        table.thinking.add(self.seat)
        table.changed()
        try:
            if request.kind not in SECRET_KINDS:
                await table.pause()
            return await self.player.decide(request)
        finally:
            table.thinking.discard(self.seat)
            table.changed()

    def replayed(self, request: DecisionRequest, decision: Decision) -> None:
        self.player.replayed(request, decision)

    def observe(self, event: Event, hand: int) -> None:
        self.player.observe(event, hand)


class Table:
    """One match at this terminal. `play()` runs it on the caller's event loop; `on_change` is
    called whenever anything a screen shows has changed."""

    def __init__(
        self,
        plan: BatchPlan,
        store: Store,
        seed: int,
        *,
        on_change: Callable[[], None] = lambda: None,
        pace_s: float = 0.6,
        suspense_s: float = 1.5,
    ) -> None:
        self.plan = plan
        self.store = store
        self.seed = seed
        self.on_change = on_change
        self.pace_s = pace_s
        self.suspense_s = suspense_s
        self.desk = Desk(self.changed)
        self.record = TableRecord(len(plan.seats), plan.observer, on_change=self.changed)
        self.switch = ObserverSwitch(plan.observer)
        self.thinking: set[int] = set()
        self.match_id: int | None = None
        self.finished = False
        self.wanted: str | None = None  # an observer condition asked for, not yet in force
        self._hold_until = 0.0
        self._shots_seen = 0

    @property
    def humans(self) -> list[int]:
        return [s for s, spec in enumerate(self.plan.seats) if spec.kind == "human"]

    def changed(self) -> None:
        self.on_change()

    async def pause(self) -> None:
        """Wait the pace, and while a shot is still being shown."""
        loop = asyncio.get_running_loop()
        shots = sum(1 for _, _, e in self.record.events if e.kind == "shot")
        if shots > self._shots_seen:
            self._shots_seen = shots
            self._hold_until = loop.time() + self.suspense_s
        wait = max(self.pace_s, self._hold_until - loop.time())
        if wait > 0:
            await asyncio.sleep(wait)

    def toggle_observer(self) -> str:
        """Ask for the next observer condition (off → on → monitor → off); it is made at the next
        decision point and every seat is told. Returns the condition asked for."""
        current = self.wanted or self.switch.condition
        wanted = OBSERVER_CONDITIONS[(OBSERVER_CONDITIONS.index(current) + 1) % 3]
        self.switch.set(wanted)
        self.wanted = wanted if wanted != self.switch.condition else None
        self.changed()
        return wanted

    async def play(self) -> int:
        """Create the match, play it to the end, review it if it was ever under `monitor`;
        returns its id."""
        plan, store = self.plan, self.store
        client = None
        if any(spec.kind == "llm" for spec in plan.seats):
            from arena.llm.client import LLMClient
            from arena.llm.gateway import warm_up

            await warm_up()  # litellm loads in the gateway process, never on this loop
            client = LLMClient()
        (match_id,) = store.create_matches(
            batch=f"table-{uuid.uuid4().hex[:12]}",
            indexes=[0],
            seeds=[self.seed],
            **plan.match_fields(),
        )
        self.match_id = match_id
        players: list[Player] = []
        for seat, spec in enumerate(plan.seats):
            player = make_player(
                spec,
                plan.game,
                plan.config,
                self.seed,
                seat,
                seats=len(plan.seats),
                client=client,
                observer=plan.observer,
                desk=self.desk,
            )
            players.append(player if spec.kind == "human" else Shown(player, seat, self))
        recorder = MatchRecorder(store, match_id)
        try:
            await run_match(
                plan.game_class(plan.config),
                self.seed,
                players,
                [recorder, self.record],
                observer=self.switch,
                secrets=plan.secrets_for(0),
                viewer=self.record.on_views,
            )
        finally:
            self.desk.cancel()
        self.finished = True
        await recorder.flush()
        await self._review(match_id)
        self.changed()
        return match_id

    async def _review(self, match_id: int) -> None:
        """A match that was under `monitor` at any time is reviewed (by the rules unless the
        plan names a model), so toggling to `monitor` mid-match is never lost on analysts."""
        ever = self.plan.observer == "monitor" or any(
            e.kind == "observer" and e.payload["condition"] == "monitor"
            for _, _, e in self.record.events
        )
        if not ever:
            return
        from arena.monitor import review_match, reviewer_for

        monitor = self.plan.monitor or "rules"
        if self.plan.monitor is None:
            sql = "UPDATE matches SET monitor = ? WHERE id = ?"
            await asyncio.wrap_future(
                self.store.writer.send([("many", sql, [(monitor, match_id)])], durable=True)
            )
        await review_match(self.store, match_id, reviewer_for(monitor, self.plan.monitor_settings))


def new_seed() -> int:
    return random.SystemRandom().randrange(1, 1_000_000)
