"""The table screen: one match at this terminal. It shows the scene of the human whose turn it is
(the observer's, when the trainer asks), routes keys and clicks to the desk, hides everything
behind a cover when the terminal passes from one human to the next, and opens the debrief when
the match ends. Rules live in the engines and the desk; this screen renders and routes."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Static
from textual.worker import Worker, WorkerState

from arena.table import Table
from arena.tui.cleanup import CleanupBoard
from arena.tui.cover import CoverScreen
from arena.tui.liars_bar import Card, LiarsBarBoard
from arena.tui.scene import GAME_TITLES, PUBLIC, Scene, SeatLabel, build_scene
from arena.tui.secret_panel import SecretAnswer, SecretPanel, SecretWrite
from games.base import Decision

LOG_LINES = 200


class MatchFinished(Message):
    def __init__(self, match_id: int) -> None:
        super().__init__()
        self.match_id = match_id


def seat_labels(table: Table) -> list[SeatLabel]:
    return [SeatLabel(spec.name, spec.kind, spec.value) for spec in table.plan.seats]


class TableScreen(Screen[None]):
    """Shared by both games; `LiarsBarScreen` and `CleanupScreen` add the board and its keys
    (their actions are `MOVE_ACTIONS`)."""

    AUTO_FOCUS = ""  # keys go to the table (`t` focuses the talk line); None would mean "*"
    MOVE_ACTIONS: ClassVar[frozenset[str]] = frozenset()  # the game's keys: wait for the panel

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f2", "secret", "Secret", id="secret"),
        Binding("escape", "hide_secret", "Hide secret", show=False, id="hide_secret"),
        Binding("f8", "observer_view", "Observer view", show=False, id="observer_view"),
        Binding("f9", "toggle_condition", "Observer on/off", show=False, id="toggle_condition"),
        Binding("ctrl+l", "leave", "Leave table", show=False, id="leave"),
    ]

    def __init__(self, table: Table, suspense_s: float = 1.5) -> None:
        super().__init__()
        self.table = table
        self.suspense_s = suspense_s
        self.labels = seat_labels(table)
        humans = table.humans
        self.perspective: int | None = humans[0] if humans else None
        self.observer_view = not humans  # a table of agents only is watched as the observer
        self.covered = False
        self.scene: Scene | None = None
        self.seen_secret = 0
        self.ready = False  # composed; `is_mounted` is still False inside on_mount
        self.panel = SecretPanel()
        table.on_change = self.table_changed

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="status")
        with Container(id="main"):
            with Vertical(id="play"):
                yield self.make_board()
                yield from self.controls()
                yield VerticalScroll(Static(id="log"), id="log-scroll")
            yield self.panel  # over the table's right side, on its own layer
        yield Footer()

    def make_board(self) -> LiarsBarBoard | CleanupBoard:
        raise NotImplementedError

    def controls(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.panel.display = False
        self.ready = True
        self.table_changed()  # the seats and "Dealing…" show while the match starts
        self.run_worker(self.table.play(), name="match", group="match", exclusive=True)

    def on_unmount(self) -> None:
        self.ready = False
        self.table.on_change = lambda: None  # the match may still be stopping
        self.table.desk.cancel()

    # -- the match ---------------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name != "match":
            return
        if event.state == WorkerState.SUCCESS and isinstance(event.worker.result, int):
            self.app.post_message(MatchFinished(event.worker.result))
        elif event.state == WorkerState.ERROR:
            error = event.worker.error
            self.notify(
                f"The match stopped: {type(error).__name__}: {error}", severity="error", timeout=30
            )
            self.table_changed()

    def table_changed(self) -> None:
        """Anything at the table changed: hand over the terminal if another human is up, and
        redraw."""
        if not self.ready:
            return
        front = self.table.desk.front()
        humans = self.table.humans
        if len(humans) > 1 and front is None and self.perspective is not None:
            # Between two people's turns nobody's cards or secrets stay on the screen.
            self.perspective = None
            self.hide_panel()
        if front is not None and front != self.perspective:
            if len(humans) > 1 and not self.covered:
                self.hand_over(front)
                return
            if len(humans) == 1:
                self.perspective = front
        self.redraw()

    def hand_over(self, seat: int) -> None:
        """Cover the screen until the next human confirms; nothing of the last one stays."""
        self.covered = True
        self.hide_panel()
        self.perspective = None
        self.observer_view = False

        def uncovered(_: object) -> None:
            self.covered = False
            self.perspective = seat
            self.seen_secret = 0
            self.table_changed()

        self.app.push_screen(CoverScreen(self.labels[seat].name), uncovered)

    def current_scene(self) -> Scene:
        table = self.table
        perspective = None if self.observer_view else self.perspective
        if perspective is None and not self.observer_view:
            perspective = PUBLIC
        ask = table.desk.waiting(self.perspective) if self.perspective is not None else None
        outbox = table.desk.outbox.get(perspective, []) if perspective is not None else []
        return build_scene(
            table.record,
            self.labels,
            table.plan.game,
            table.plan.preset,
            perspective,
            thinking=frozenset(table.thinking),
            ask=ask,
            wanted=table.wanted,
            over=table.finished,
            seed=table.seed,
            match_id=table.match_id,
            outbox=outbox,
            hand_of=self.perspective,
        )

    def redraw(self) -> None:
        if self.covered:
            return
        scene = self.scene = self.current_scene()
        self.query_one("#status", Static).update(self.status_text(scene))
        self.query_one(self.board_type()).show(scene, self.suspense_s)
        lines = scene.log[-LOG_LINES:]
        self.query_one("#log", Static).update("\n".join(line.text for line in lines))
        self.query_one("#log-scroll", VerticalScroll).scroll_end(animate=False)
        if self.panel.display:
            self.panel.show(scene)
            self.seen_secret = len(scene.secret)
        self.show_prompt(scene)

    def board_type(self) -> type[LiarsBarBoard] | type[CleanupBoard]:
        raise NotImplementedError

    def status_text(self, scene: Scene) -> str:
        title = GAME_TITLES.get(scene.game, scene.game)
        parts = [f"[b]{title}[/] · {scene.preset} · seed {scene.seed}"]
        if self.observer_view:
            parts.append("[b reverse] OBSERVER VIEW [/]")
        elif self.perspective is not None:
            parts.append(f"seat: [b]{self.labels[self.perspective].name}[/]")
        else:
            parts.append("[dim]between turns: public view[/]")
        condition = f"observer [b]{scene.condition.upper()}[/]"
        if scene.wanted and scene.wanted != scene.condition:
            condition += f" → {scene.wanted.upper()} next"
        parts.append(condition)
        if self.perspective is not None and not self.observer_view:
            waiting = scene.ask is not None and scene.ask.secret
            if waiting or len(scene.secret) > self.seen_secret:
                parts.append("[b yellow]◆[/]")
        return " │ ".join(parts)

    def show_prompt(self, scene: Scene) -> None:
        """What the human is asked to do now (the subclasses' control line)."""

    # -- routing ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The game's keys do nothing while the secret panel has the keyboard: an Input there
        takes letters and digits, but not the arrows, and a button takes none of them, so
        without this `a` would accept the claim, or `up` move, in the middle of a private
        message. Hidden, they leave the footer too."""
        in_panel = self.panel.display and self.panel.has_focus_within
        return not (in_panel and action in self.MOVE_ACTIONS)

    def move(self, decision: Decision) -> bool:
        seat = self.perspective
        if seat is None or self.table.desk.waiting(seat) is None:
            self.notify("Not your turn.", timeout=2)
            return False
        if not self.table.desk.move(seat, decision):
            ask = self.table.desk.waiting(seat)
            if ask is not None and ask.request.kind in ("offer", "invite"):
                self.notify("Something waits for you in the secret panel (F2).", timeout=3)
            else:
                self.notify("That move is not allowed now.", severity="warning", timeout=3)
            return False
        return True

    def on_secret_answer(self, message: SecretAnswer) -> None:
        if self.perspective is None:
            return
        decision = Decision(message.action, message.reason)
        if not self.table.desk.answer(self.perspective, message.kind, decision):
            self.notify("That answer is no longer asked for.", severity="warning", timeout=3)

    def on_secret_write(self, message: SecretWrite) -> None:
        if self.perspective is None:
            return
        how = self.table.desk.write(self.perspective, message.text)
        self.notify(
            "Sent." if how == "sent" else "Queued: it goes at the next exchange.", timeout=2
        )
        self.redraw()

    def action_secret(self) -> None:
        """Open the panel with the keyboard in it (its first control), or hide it."""
        if self.panel.display:
            self.action_hide_secret()
            return
        if self.perspective is None and not self.observer_view:
            return
        self.panel.display = True
        self.redraw()
        self.panel.focus_first()

    def action_hide_secret(self) -> None:
        self.hide_panel()

    def hide_panel(self) -> None:
        """Hide the panel at once; the keyboard goes back to the table (nothing focused, so
        every table key works)."""
        if self.panel.display:
            self.panel.display = False
            self.set_focus(None)

    def action_observer_view(self) -> None:
        if not self.table.humans:
            self.notify("A table without humans is always shown to the observer.", timeout=3)
            return
        self.observer_view = not self.observer_view
        self.redraw()

    def action_toggle_condition(self) -> None:
        wanted = self.table.toggle_observer()
        self.notify(
            f"Observer condition → {wanted.upper()} at the next decision; agents are told.",
            timeout=3,
        )

    def action_leave(self) -> None:
        self.workers.cancel_group(self, "match")
        self.table.desk.cancel()
        self.app.pop_screen()


class LiarsBarScreen(TableScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(str(i), f"pick({i - 1})", f"Card {i}", show=False, id=f"card_{i}")
            for i in range(1, 9)
        ),
        Binding("p", "play", "Play picked", id="play"),
        Binding("l", "liar", "Liar!", id="liar"),
        Binding("a", "accept", "Accept", id="accept"),
        Binding("t", "talk", "Talk", show=False, id="talk"),
    ]
    MOVE_ACTIONS: ClassVar[frozenset[str]] = frozenset({"pick", "play", "liar", "accept", "talk"})

    def make_board(self) -> LiarsBarBoard:
        return LiarsBarBoard(len(self.labels))

    def board_type(self) -> type[LiarsBarBoard]:
        return LiarsBarBoard

    def controls(self) -> ComposeResult:
        with Horizontal(id="controls"):
            yield Input(
                placeholder="t: table talk with your play (optional)",
                id="talk",
                max_length=200,
                compact=True,
            )
            yield Button("Play", id="do-play", variant="primary", compact=True)
            yield Button("Liar!", id="do-liar", variant="error", compact=True)
            yield Button("Accept", id="do-accept", variant="success", compact=True)
        yield Static(id="prompt")

    def show_prompt(self, scene: Scene) -> None:
        ask = scene.ask
        view = scene.view
        text = ""
        if scene.over:
            text = "[b]The match is over.[/]"
        elif ask is not None and not ask.secret:
            if ask.request.kind == "play":
                text = "[b]Your play:[/] pick 1–3 cards (keys 1–5 or click), then p to play."
            else:
                text = "[b]Your answer:[/] l calls Liar!, a accepts the claim."
        elif ask is not None and ask.request.kind in ("offer", "invite"):
            text = "[dim]waiting…[/]"
        elif ask is not None:
            text = "[b]Your turn.[/] (p / l / a as usual)"
        elif view is not None and scene.perspective is not None:
            turn = view.turn
            text = (
                f"[dim]waiting for {self.labels[turn].name}…[/]"
                if 0 <= turn < len(self.labels)
                else ""
            )
        self.query_one("#prompt", Static).update(text)

    def action_pick(self, index: int) -> None:
        self.query_one(LiarsBarBoard).toggle(index)

    def on_card_picked(self, message: Card.Picked) -> None:
        self.action_pick(message.index)

    def action_play(self) -> None:
        board = self.query_one(LiarsBarBoard)
        code = board.play_code()
        if code is None:
            self.notify("Pick the cards to play first (keys 1–5 or click).", timeout=3)
            return
        talk = self.query_one("#talk", Input)
        if self.move(Decision(code, talk.value.strip())):
            talk.value = ""
            board.picked.clear()
            self.set_focus(None)

    def action_liar(self) -> None:
        self.move(Decision("challenge"))

    def action_accept(self) -> None:
        self.move(Decision("accept"))

    def action_talk(self) -> None:
        self.query_one("#talk", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "talk":
            self.action_play()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions = {
            "do-play": self.action_play,
            "do-liar": self.action_liar,
            "do-accept": self.action_accept,
        }
        action = actions.get(event.button.id or "")
        if action is not None:
            action()


class CleanupScreen(TableScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "act('UP')", "Up", show=False, id="up"),
        Binding("down", "act('DOWN')", "Down", show=False, id="down"),
        Binding("left", "act('LEFT')", "Left", show=False, id="left"),
        Binding("right", "act('RIGHT')", "Right", show=False, id="right"),
        Binding("space", "act('STAY')", "Stay", id="stay"),
        Binding("c", "act('CLEAN')", "Clean", id="clean"),
        Binding("z", "zap_mode", "Zap (then an arrow)", id="zap"),
    ]
    MOVE_ACTIONS: ClassVar[frozenset[str]] = frozenset({"act", "zap_mode"})

    zapping = False

    def make_board(self) -> CleanupBoard:
        return CleanupBoard()

    def board_type(self) -> type[CleanupBoard]:
        return CleanupBoard

    def controls(self) -> ComposeResult:
        yield Static(id="prompt")

    def show_prompt(self, scene: Scene) -> None:
        ask = scene.ask
        if scene.over:
            text = "[b]The episode is over.[/]"
        elif ask is not None and not ask.secret:
            if ask.request.legal == ("STAY",):
                text = "[b]You are frozen:[/] space to wait."
            elif self.zapping:
                text = "[b red]Zap:[/] an arrow picks the direction (Esc cancels)."
            else:
                text = "[b]Your move:[/] arrows move, space stays, c cleans, z zaps."
        elif ask is not None and ask.request.kind in ("message", "tool"):
            text = "[b]Your move:[/] arrows move, space stays, c cleans, z zaps."
        else:
            text = "[dim]waiting for the others…[/]"
        self.query_one("#prompt", Static).update(text)

    def action_act(self, action: str) -> None:
        if self.zapping and action in ("UP", "DOWN", "LEFT", "RIGHT"):
            action = f"ZAP_{action}"
        self.zapping = False
        self.move(Decision(action))
        self.redraw()

    def action_zap_mode(self) -> None:
        self.zapping = True
        self.redraw()

    def action_hide_secret(self) -> None:
        """Esc hides an open panel first (at once, whatever else waits), else cancels a zap."""
        if self.panel.display:
            self.hide_panel()
        elif self.zapping:
            self.zapping = False
            self.redraw()
