"""The replay screen: step forward and back through a saved match in the observer's view (every
hand, bullet, private message, tool use and monitor verdict)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from arena.replay import Replay
from arena.tui.cleanup import CleanupBoard
from arena.tui.liars_bar import LiarsBarBoard
from arena.tui.scene import GAME_TITLES, Scene, build_scene


class ReplayScreen(Screen[None]):
    AUTO_FOCUS = ""  # the arrows step the replay, not the log
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("right,n", "step(1)", "Next event", id="next"),
        Binding("left,b", "step(-1)", "Back", id="back"),
        Binding("pagedown,N", "hand(1)", "Next hand", id="next_hand"),
        Binding("pageup,B", "hand(-1)", "Hand back", id="hand_back"),
        Binding("home", "jump(0)", "Start", id="start"),
        Binding("end", "jump(-1)", "End", id="end"),
        Binding("escape", "close", "Close replay", id="close_replay"),
    ]

    def __init__(self, replay: Replay) -> None:
        super().__init__()
        self.replay = replay
        self.total = len(replay.record.events)
        self.position = self.total  # events shown; the replay opens at the end

    def compose(self) -> ComposeResult:
        yield Static(id="status")
        with Horizontal(id="main"), Vertical(id="play"):
            if self.replay.game == "liars-bar":
                yield LiarsBarBoard(len(self.replay.seats))
            else:
                yield CleanupBoard()
            yield Static(id="prompt")
            yield VerticalScroll(Static(id="log"), id="log-scroll")
        yield Footer()

    def on_mount(self) -> None:
        self.redraw()

    def scene(self) -> Scene:
        replay = self.replay
        return build_scene(
            replay.record,
            replay.seats,
            replay.game,
            replay.preset,
            None,
            upto=self.position,
            over=False,
            seed=replay.seed,
            match_id=replay.match_id,
        )

    def redraw(self) -> None:
        replay = self.replay
        scene = self.scene()
        title = GAME_TITLES.get(replay.game, replay.game)
        self.query_one("#status", Static).update(
            f"[b]Replay[/] #{replay.match_id} · {title} · seed {replay.seed} │ "
            f"[b reverse] OBSERVER [/] │ observer [b]{scene.condition.upper()}[/] │ "
            f"event {self.position} of {self.total}"
        )
        if replay.game == "liars-bar":
            self.query_one(LiarsBarBoard).show(scene, 0.0)
        else:
            self.query_one(CleanupBoard).show(scene, 0.0)
        note = f"[yellow]{replay.note}[/]  " if replay.note else ""
        self.query_one("#prompt", Static).update(
            f"{note}[dim]← → step · PgUp PgDn hand · Home End · Esc closes[/]"
        )
        self.query_one("#log", Static).update("\n".join(line.text for line in scene.log[-200:]))
        self.query_one("#log-scroll", VerticalScroll).scroll_end(animate=False)

    def action_step(self, delta: int) -> None:
        self.position = max(0, min(self.total, self.position + delta))
        self.redraw()

    def action_hand(self, delta: int) -> None:
        events = self.replay.record.events
        starts = [i + 1 for i, (_, _, e) in enumerate(events) if e.kind == "hand_start"]
        if delta > 0:
            later = [s for s in starts if s > self.position]
            self.position = later[0] if later else self.total
        else:
            earlier = [s for s in starts if s < self.position]
            self.position = earlier[-1] if earlier else 0
        self.redraw()

    def action_jump(self, where: int) -> None:
        self.position = self.total if where < 0 else 0
        self.redraw()

    def action_close(self) -> None:
        self.app.pop_screen()
