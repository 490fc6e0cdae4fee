"""The Textual arena: the app that moves between the lobby, a table, the debrief, replays and
the analysis screen.
Screens render and route; the table session (`arena.table`) plays, the store records."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from arena.batch import BatchPlan
from arena.llm.config import ConfigError, ModelsConfig, load_models
from arena.store.db import Store, StoreError
from arena.table import (
    Table,
    TableError,
    TableSpec,
    check_table,
    load_last_table,
    new_seed,
    save_last_table,
)
from arena.tui.help import HelpScreen
from arena.tui.lobby import LobbyScreen, ModelsChecked, OpenAnalysis, OpenReplay, StartTable
from arena.tui.table_screen import CleanupScreen, LiarsBarScreen, MatchFinished, TableScreen


class ArenaApp(App[None]):
    """`replay`: open this match's replay instead of the lobby. `pace_s` and `suspense_s` slow
    the agents down so people can follow them (tests set them to 0)."""

    TITLE = "Collusion Arena"
    CSS_PATH = "arena.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "Help", id="help"),
        Binding("ctrl+q", "quit", "Quit", id="quit"),
    ]

    def __init__(
        self,
        db_path: Path,
        *,
        config: Path | None = None,
        replay: int | None = None,
        pace_s: float = 0.6,
        suspense_s: float = 1.5,
    ) -> None:
        super().__init__()
        self.db_path = db_path
        self.config_path = config
        self.replay_id = replay
        self.pace_s = pace_s
        self.suspense_s = suspense_s
        self._store: Store | None = None
        self.table: Table | None = None
        self.last_match: int | None = None
        self.checking_models = False  # a table's pre-flight check is running

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.db_path)
        return self._store

    def on_mount(self) -> None:
        if self.replay_id is not None:
            self.open_replay(self.replay_id, quit_after=True)
        else:
            self.show_lobby()

    def on_unmount(self) -> None:
        if self._store is not None:
            self._store.close()

    # -- screens -------------------------------------------------------------------------------

    def show_lobby(self) -> None:
        from arena.llm.prompts import framing_names

        while len(self.screen_stack) > 1:
            self.pop_screen()
        spec = load_last_table(self.db_path.parent)
        self.push_screen(LobbyScreen(spec, framing_names(), self.last_match))

    def models(self) -> ModelsConfig:
        return load_models(self.config_path)

    def on_start_table(self, message: StartTable) -> None:
        lobby = self.screen
        spec = message.spec
        seed = spec.seed if spec.seed is not None else new_seed()
        if self.checking_models:
            self.notify("Still checking the models of the last table…")
            return
        try:
            plan = check_table(spec, self.models(), seed)
            store = self.store
        except (TableError, ConfigError, StoreError) as error:
            if isinstance(lobby, LobbyScreen):
                lobby.show_error(str(error))
            else:
                self.notify(str(error), severity="error")
            return
        if any(seat.kind == "llm" for seat in plan.seats) or plan.monitor_settings is not None:
            # litellm loads and the models are asked in a thread, never on this loop
            self.checking_models = True
            if isinstance(lobby, LobbyScreen):
                lobby.show_checking()
            self.run_worker(
                partial(self.check_models, spec, plan, seed), group="models", thread=True
            )
            return
        self.start_table(spec, plan, store, seed)

    def check_models(self, spec: TableSpec, plan: BatchPlan, seed: int) -> None:
        """In a worker thread: ask each model of the table once, and say what came of it."""
        from arena.llm.gateway import GatewayError
        from arena.llm.probe import check_models, models_of

        try:
            problems = [problem.line for problem in check_models(models_of([plan]))]
        except GatewayError as error:  # litellm cannot load: no model can answer
            problems = [str(error)]
        self.post_message(ModelsChecked(spec, plan, seed, problems))

    def on_models_checked(self, message: ModelsChecked) -> None:
        self.checking_models = False
        lobby = self.screen
        if not isinstance(lobby, LobbyScreen):  # left the lobby meanwhile: start nothing
            if message.problems:
                said = "\n".join(message.problems)
                self.notify(f"No answer: {said}", severity="error", timeout=10, markup=False)
            return
        if message.problems:
            lobby.show_unanswered(message.problems)
            return
        lobby.clear_status()
        self.start_table(message.spec, message.plan, self.store, message.seed)

    def start_table(self, spec: TableSpec, plan: BatchPlan, store: Store, seed: int) -> None:
        save_last_table(self.db_path.parent, spec)
        self.table = table = Table(
            plan, store, seed, pace_s=self.pace_s, suspense_s=self.suspense_s
        )
        screen: TableScreen
        if plan.game == "liars-bar":
            screen = LiarsBarScreen(table, self.suspense_s)
        else:
            screen = CleanupScreen(table, self.suspense_s)
        self.push_screen(screen)

    def on_match_finished(self, message: MatchFinished) -> None:
        from arena.debrief import DebriefError, load_debrief
        from arena.tui.debrief_screen import DebriefScreen

        self.last_match = message.match_id
        try:
            debrief = load_debrief(self.store.conn, message.match_id)
        except DebriefError as error:
            self.notify(f"No debrief: {error}", severity="error")
            return

        def chosen(choice: str | None) -> None:
            if choice == "replay":
                self.open_replay(message.match_id)
            elif choice == "lobby":
                self.show_lobby()

        self.push_screen(DebriefScreen(debrief), chosen)

    def on_open_replay(self, message: OpenReplay) -> None:
        self.open_replay(message.match_id)

    def on_open_analysis(self, message: OpenAnalysis) -> None:
        self.open_analysis()

    def open_analysis(self) -> None:
        from arena.tui.analysis_screen import AnalysisScreen

        if not isinstance(self.screen, AnalysisScreen):
            self.push_screen(AnalysisScreen(self.db_path))

    def open_replay(self, match_id: int, quit_after: bool = False) -> None:
        self.run_worker(self._open_replay(match_id, quit_after), group="replay", exclusive=True)

    async def _open_replay(self, match_id: int, quit_after: bool) -> None:
        from arena.replay import ReplayError, load_replay
        from arena.tui.replay_screen import ReplayScreen

        try:
            self.store.sync()
            replay = await load_replay(self.store.conn, match_id)
        except (ReplayError, StoreError) as error:
            self.notify(f"Cannot replay match {match_id}: {error}", severity="error", timeout=10)
            if quit_after:
                self.exit(return_code=2, message=str(error))
            return
        screen = ReplayScreen(replay)
        if quit_after:
            await self.push_screen(screen, lambda _: self.exit())
        else:
            await self.push_screen(screen)

    # -- keys and the command palette ------------------------------------------------------

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help", "Every key of this screen", self.action_help)
        yield SystemCommand("New table", "Back to the lobby", self.show_lobby)
        yield SystemCommand(
            "Analysis",
            "Observer off vs on, adoption, and the offers behind them (any database)",
            self.open_analysis,
        )
        if self.last_match is not None:
            match_id = self.last_match
            yield SystemCommand(
                "Replay last match",
                f"Step through match {match_id}",
                lambda: self.open_replay(match_id),
            )
        if isinstance(screen, TableScreen):
            yield SystemCommand(
                "Secret panel", "Open or hide your secret panel", screen.action_secret
            )
            yield SystemCommand(
                "Observer view", "Show the trainer everything", screen.action_observer_view
            )
            yield SystemCommand(
                "Toggle observer condition",
                "Change what agents are told (off → on → monitor)",
                screen.action_toggle_condition,
            )
