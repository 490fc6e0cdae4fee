"""The Cleanup board: the coloured grid (river clean or polluted, apples, agents, frozen agents),
the step, the pollution and the scores."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from arena.tui.scene import Scene

AGENT_COLOURS = (
    "bold white on dark_orange3",
    "bold white on purple4",
    "bold white on dodger_blue3",
    "bold black on gold3",
    "bold white on deep_pink4",
    "bold black on cyan3",
)
TILE_WIDTH = 4


def grid_text(scene: Scene) -> Text:
    view = scene.view
    text = Text(no_wrap=True)
    if view is None:
        return text.append("Setting up…", style="dim")
    here: dict[tuple[int, int], list[int]] = {}
    for seat, position in enumerate(view.positions):
        here.setdefault(tuple(position), []).append(seat)
    for row in range(view.rows):
        for col in range(view.cols):
            tile = row * view.cols + col
            river = col in view.river_cols
            if river:
                background = "on rgb(110,85,40)" if view.pollution[tile] else "on rgb(30,90,170)"
            else:
                background = "on rgb(30,70,30)"
            seats = here.get((row, col), [])
            if seats:
                seat = seats[0]
                frozen = view.frozen[seat] > 0
                label = ("❄" if frozen else "") + str(seat)
                if len(seats) > 1:
                    label += "+"
                style = "bold white on grey35" if frozen else AGENT_COLOURS[seat % 6]
                if seat == scene.perspective:
                    style += " underline"
                text.append(label.center(TILE_WIDTH), style=style)
            elif view.apples[tile]:
                text.append(" ● ".center(TILE_WIDTH), style=f"bold red {background}")
            elif river and view.pollution[tile]:
                text.append(" ≈≈ ".center(TILE_WIDTH), style=f"rgb(200,170,90) {background}")
            else:
                text.append(" " * TILE_WIDTH, style=background)
        text.append("\n")
    return text


def side_text(scene: Scene) -> Text:
    view = scene.view
    text = Text(no_wrap=True, overflow="ellipsis")
    if view is None:
        return text
    polluted = sum(view.pollution)
    river = view.rows * len(view.river_cols)
    text.append(f"Step {min(view.step + 1, view.max_steps)} of {view.max_steps}\n", style="bold")
    text.append(f"Pollution {polluted}/{river} river tiles\n")
    text.append(
        "Apples grow" if polluted < 6 else "Too polluted: no apples grow",
        style="green" if polluted < 6 else "red",
    )
    text.append("\n")
    for seat, label in enumerate(scene.seats):
        me = " (you)" if seat == scene.perspective else ""
        text.append(f"\n{seat} ", style=AGENT_COLOURS[seat % 6])
        text.append(f" {label.name}{me}: {view.scores[seat]} apples")
        if view.frozen[seat]:
            text.append(f" ❄{view.frozen[seat]}", style="cyan")
        if seat in scene.thinking:
            text.append(" thinking…", style="italic yellow")
    return text


class CleanupBoard(Horizontal):
    """The board of one scene."""

    def __init__(self) -> None:
        super().__init__(id="board")

    def compose(self) -> ComposeResult:
        yield Static(id="grid")
        yield Static(id="side")

    def show(self, scene: Scene, suspense_s: float = 0.0) -> None:
        self.query_one("#grid", Static).update(grid_text(scene))
        self.query_one("#side", Static).update(side_text(scene))
