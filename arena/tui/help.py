"""The help screen, generated from the key bindings of the screen it was opened over, so it is
never out of date."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

ABOUT = (
    "Collusion Arena: Liar's Bar and Cleanup for humans, bots and LLM agents. Some seats are "
    "secretly offered unfair tools; F2 opens your secret panel (only for you) and gives it the "
    "keyboard, so the table's keys wait while you write there; Esc hides it at once and gives "
    "the keys back. F8 shows the trainer everything; F9 changes what agents are told about being "
    "observed. In the lobby, F6 opens the analysis (observer off vs on, adoption, the offers "
    "behind them, their replays). Ctrl+P opens the command palette, Ctrl+Q quits."
)


def bindings_table(screen: Screen[object]) -> Table:
    """Every binding active on `screen` (its own, then the app's), with its key and description."""
    table = Table(box=None, show_header=True, header_style="bold", expand=True)
    table.add_column("key", no_wrap=True)
    table.add_column("does")
    seen: set[str] = set()
    for active in screen.active_bindings.values():
        binding = active.binding
        if not binding.description or binding.description in seen:
            continue
        seen.add(binding.description)
        table.add_row(Text(screen.app.get_key_display(binding)), binding.description)
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,q", "close", "Close help", id="close_help"),
        Binding("ctrl+q", "app.quit", "Quit", show=False, id="quit_here"),
    ]

    def __init__(self, over: Screen[object]) -> None:
        super().__init__(id="help")
        self.over = over

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static(f"[b]Help[/]\n{ABOUT}\n", id="help-about")
            yield Static(bindings_table(self.over), id="help-keys")
            yield Static("[dim]Esc closes this help.[/]")

    def action_close(self) -> None:
        self.dismiss(None)
