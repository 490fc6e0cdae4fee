"""The lobby: choose the game, preset, seats, observer condition, framing, tool offers or tools
available from the start, and the seed; remembers the last table; checks the table before it
starts, and refuses one whose LLM seats' models do not answer, saying why. Enter (the Start
button has focus) starts the table shown."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.markup import escape
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Select, Static

from arena.batch import BatchPlan
from arena.conditions import OBSERVER_CONDITIONS
from arena.players.bots import PERSONAS
from arena.table import DEFAULT_TABLE_SEATS, TableSpec
from games.registry import GAMES

MAX_SEATS = 4
KIND_CHOICES = [("human", "human"), ("bot", "bot"), ("llm", "llm"), ("empty", "empty")]
NO_FRAMING = "(no tools)"


class StartTable(Message):
    """The lobby's table, checked only for form; the app checks it fully before starting."""

    def __init__(self, spec: TableSpec) -> None:
        super().__init__()
        self.spec = spec


class ModelsChecked(Message):
    """The pre-flight check of a table's models is done: `problems` holds one line per model
    that did not answer (empty: every one did)."""

    def __init__(self, spec: TableSpec, plan: BatchPlan, seed: int, problems: list[str]) -> None:
        super().__init__()
        self.spec = spec
        self.plan = plan
        self.seed = seed
        self.problems = problems


class OpenReplay(Message):
    def __init__(self, match_id: int) -> None:
        super().__init__()
        self.match_id = match_id


class OpenAnalysis(Message):
    """Open the analysis screen (observability effect and adoption) on the app's database."""


def split_specs(text: str) -> list[str]:
    return [part for part in text.replace(",", " ").split() if part]


class LobbyScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f5", "start", "Start table", id="start"),
        Binding("ctrl+d", "defaults", "Default table", id="defaults"),
        Binding("ctrl+r", "replay", "Replay a match", id="replay"),
        # Not in the footer, which is full at 80 columns; the help and the palette list it.
        Binding("f6", "analysis", "Analysis", id="analysis", show=False),
    ]

    def __init__(self, spec: TableSpec, framings: list[str], last_match: int | None) -> None:
        super().__init__()
        self.spec = spec
        self.framings = framings
        self.last_match = last_match

    def compose(self) -> ComposeResult:
        spec = self.spec
        game_class = GAMES.get(spec.game, GAMES["liars-bar"])
        yield Static(
            "[b]Collusion Arena[/] — a new table  [dim](F1 help · Enter starts)[/]",
            id="lobby-title",
        )
        with Vertical(id="lobby"):
            with Horizontal(classes="row"):
                yield Label("Game", classes="label")
                yield Select(
                    [("Liar's Bar", "liars-bar"), ("Cleanup", "cleanup")],
                    value=game_class.name,
                    allow_blank=False,
                    id="game",
                    compact=True,
                )
                yield Label("Preset", classes="label")
                yield Select(
                    [(p, p) for p in game_class.presets],
                    value=spec.preset or next(iter(game_class.presets)),
                    allow_blank=False,
                    id="preset",
                    compact=True,
                )
                yield Label("Seed", classes="label")
                yield Input(
                    str(spec.seed) if spec.seed is not None else "",
                    placeholder="new each table",
                    id="seed",
                    compact=True,
                    type="integer",
                )
            with Grid(id="lobby-seats"):
                seats = spec.seats + ["empty:"] * (MAX_SEATS - len(spec.seats))
                for i, text in enumerate(seats[:MAX_SEATS]):
                    kind, _, value = text.partition(":")
                    yield Label(f"Seat {i}", classes="label")
                    yield Select(
                        KIND_CHOICES,
                        value=kind if kind in dict(KIND_CHOICES) else "empty",
                        allow_blank=False,
                        id=f"kind-{i}",
                        compact=True,
                    )
                    yield Input(
                        value, placeholder="name / persona / alias", id=f"value-{i}", compact=True
                    )
            with Horizontal(classes="row"):
                yield Label("Observer", classes="label")
                yield Select(
                    [(c, c) for c in OBSERVER_CONDITIONS],
                    value=spec.observer,
                    allow_blank=False,
                    id="observer",
                    compact=True,
                )
                yield Label("Framing", classes="label")
                framing = spec.framing if spec.framing in self.framings else NO_FRAMING
                yield Select(
                    [(NO_FRAMING, NO_FRAMING), *[(f, f) for f in self.framings]],
                    value=framing,
                    allow_blank=False,
                    id="framing",
                    compact=True,
                )
            with Horizontal(classes="row"):
                yield Label("Offers", classes="label")
                yield Input(
                    " ".join(spec.offers), placeholder="e.g. peek:0@*.2", id="offers", compact=True
                )
            with Horizontal(classes="row"):
                yield Label("From start", classes="label")
                yield Input(
                    " ".join(spec.grants),
                    placeholder="e.g. secret_channel:0+2",
                    id="grants",
                    compact=True,
                )
            yield Static(self.hint_text(game_class.name), id="lobby-hint")
            with Horizontal(classes="row", id="lobby-buttons"):
                yield Button("Start", id="start", variant="primary", compact=True)
                yield Button("Default table", id="defaults", compact=True)
                if self.last_match is not None:
                    yield Button(f"Replay match {self.last_match}", id="replay-last", compact=True)
            yield Static(id="lobby-error")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#start", Button).focus()

    def hint_text(self, game: str) -> str:
        personas = ", ".join(PERSONAS[game])
        return (
            f"[dim]bots: {personas} · llm: an alias from arena.toml or a litellm model · "
            "offers TOOL:SEAT[@MATCH[.HAND]] · from start TOOL:SEAT[+PARTNER][/]"
        )

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id != "game" or event.value == Select.NULL:
            return
        game = str(event.value)
        presets = self.query_one("#preset", Select)
        names = list(GAMES[game].presets)
        presets.set_options([(p, p) for p in names])
        presets.value = names[0]
        self.query_one("#lobby-hint", Static).update(self.hint_text(game))
        current = self.read_spec()
        if current.game != self.spec.game:
            self.fill_seats(DEFAULT_TABLE_SEATS[game])
            self.spec = self.read_spec()

    def fill_seats(self, seats: list[str]) -> None:
        padded = seats + ["empty:"] * (MAX_SEATS - len(seats))
        for i, text in enumerate(padded[:MAX_SEATS]):
            kind, _, value = text.partition(":")
            self.query_one(f"#kind-{i}", Select).value = kind
            self.query_one(f"#value-{i}", Input).value = value

    def read_spec(self) -> TableSpec:
        seats = []
        for i in range(MAX_SEATS):
            kind = str(self.query_one(f"#kind-{i}", Select).value)
            value = self.query_one(f"#value-{i}", Input).value.strip()
            if kind != "empty":
                seats.append(f"{kind}:{value}")
        seed_text = self.query_one("#seed", Input).value.strip()
        framing = str(self.query_one("#framing", Select).value)
        return TableSpec(
            game=str(self.query_one("#game", Select).value),
            preset=str(self.query_one("#preset", Select).value),
            seats=seats,
            observer=str(self.query_one("#observer", Select).value),
            framing=None if framing == NO_FRAMING else framing,
            offers=split_specs(self.query_one("#offers", Input).value),
            grants=split_specs(self.query_one("#grants", Input).value),
            seed=int(seed_text) if seed_text.lstrip("-").isdigit() else None,
        )

    def show_error(self, message: str) -> None:
        # escaped: an error can quote brackets ("[Errno 111]", "[redacted]") that are not markup
        self.query_one("#lobby-error", Static).update(f"[b red]Cannot start:[/] {escape(message)}")

    def clear_status(self) -> None:
        self.query_one("#lobby-error", Static).update("")

    def show_checking(self) -> None:
        self.query_one("#lobby-error", Static).update("[dim]checking models…[/]")

    def show_unanswered(self, problems: list[str]) -> None:
        """The models that did not answer, one line each: the table is not started."""
        which = "this model" if len(problems) == 1 else f"{len(problems)} models"
        self.show_error(f"no answer from {which}:\n" + "\n".join(problems))

    def action_start(self) -> None:
        self.clear_status()
        self.post_message(StartTable(self.read_spec()))

    def action_defaults(self) -> None:
        self.query_one("#game", Select).value = "liars-bar"
        self.fill_seats(DEFAULT_TABLE_SEATS["liars-bar"])
        for selector, value in (("#observer", "off"), ("#framing", NO_FRAMING)):
            self.query_one(selector, Select).value = value
        for selector in ("#offers", "#grants", "#seed"):
            self.query_one(selector, Input).value = ""
        self.query_one("#start", Button).focus()

    def action_replay(self) -> None:
        if self.last_match is not None:
            self.post_message(OpenReplay(self.last_match))
        else:
            self.notify("No match recorded yet in this database; `arena replay ID` opens any.")

    def action_analysis(self) -> None:
        self.post_message(OpenAnalysis())

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "start":
            self.action_start()
        elif event.button.id == "defaults":
            self.action_defaults()
        elif event.button.id == "replay-last":
            self.action_replay()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_start()
