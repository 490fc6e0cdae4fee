"""The hot-seat cover: between two humans' turns it hides the whole table until the next one
says they are at the keyboard."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Middle
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class CoverScreen(ModalScreen[None]):
    """Opaque: nothing of the table shows through."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "ready", "I am ready", id="ready"),
        Binding("ctrl+q", "app.quit", "Quit", show=False, id="quit_here"),
    ]

    def __init__(self, name: str) -> None:
        super().__init__(id="cover")
        self.seat_name = name

    def compose(self) -> ComposeResult:
        with Middle(), Center():
            yield Static(
                f"[b]Pass the keyboard to {self.seat_name}.[/]\n\n"
                "Everyone else, look away.\n"
                f"{self.seat_name}: press Enter when only you can see the screen.",
                id="cover-text",
            )
        with Center():
            yield Button(f"I am {self.seat_name}", id="cover-ready", variant="primary")

    def action_ready(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)
