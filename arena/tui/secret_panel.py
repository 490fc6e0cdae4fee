"""The hidden secret panel: offers to answer, the private channel, hints, and tool buttons, for
the seat this screen belongs to and nobody else. Closed by default; the screen opens and hides it.

It only renders a scene and says what the human chose, as messages; the screen passes answers to
the desk. In the observer's view it lists every secret event, read-only. Opened, it takes the
keyboard (`focus_first`), and the screen's table keys wait while anything in it has focus, so a
private message never makes a move.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Input, Static

from arena.players.human import Ask
from arena.tui.scene import Scene
from tools.catalogue import CATALOGUE
from tools.offers import ACCEPT, REFUSE, read_answer, read_tool

SHOWN_LINES = 40


class SecretAnswer(Message):
    """The human answered a secret ask (`kind`) with `action`, giving `reason`."""

    def __init__(self, kind: str, action: str, reason: str) -> None:
        super().__init__()
        self.kind = kind
        self.action = action
        self.reason = reason


class SecretWrite(Message):
    """The human wrote a private message."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


def _seat_name(scene: Scene, seat: int) -> str:
    return scene.seats[seat].name if 0 <= seat < len(scene.seats) else f"seat {seat}"


class SecretPanel(Vertical):
    """What waits for the seat in secret, and what it was told in secret."""

    def __init__(self) -> None:
        super().__init__(id="secret")
        self.ask: Ask | None = None
        self.perspective: int | None = -1
        self.first_control: Widget | None = None  # of the ask shown, if it has controls

    def compose(self) -> ComposeResult:
        yield Static(id="secret-title")
        yield Vertical(id="secret-ask")
        yield Static(id="secret-channel-title")
        yield Input(
            placeholder="write to your ally, Enter sends",
            id="secret-write",
            max_length=200,
            compact=True,
        )
        yield VerticalScroll(Static(id="secret-lines"), id="secret-scroll")

    def show(self, scene: Scene) -> None:
        observer = scene.perspective is None
        title = "[b]Secret[/] — only you see this · Esc hides"
        if observer:
            title = "[b]Every secret[/] — observer view"
        self.query_one("#secret-title", Static).update(title)
        write = self.query_one("#secret-write", Input)
        write.display = bool(scene.partners) and not observer
        channel = ""
        if scene.partners and not observer:
            allies = ", ".join(_seat_name(scene, s) for s in scene.partners)
            queued = f" · {len(scene.outbox)} queued" if scene.outbox else ""
            channel = f"Channel with [b]{allies}[/]{queued}"
        self.query_one("#secret-channel-title", Static).update(channel)
        lines = scene.secret[-SHOWN_LINES:]
        body = "\n".join(line.text for line in lines) or "[dim]nothing secret yet[/]"
        self.query_one("#secret-lines", Static).update(body)
        self.query_one("#secret-scroll", VerticalScroll).scroll_end(animate=False)
        ask = scene.ask if scene.ask is not None and scene.ask.secret else None
        if ask is not self.ask or scene.perspective != self.perspective:
            self.ask = ask
            self.perspective = scene.perspective
            self._show_ask(scene, ask)

    def focus_first(self) -> None:
        """Give the keyboard to the panel's first control: the reason line of an offer (Enter
        there goes on to the answers), the first tool button, else the line to the ally; with
        nothing to answer or write, the secret lines themselves, which the arrows scroll. So
        something in the panel always has focus while it is open."""
        self.app.call_later(self._focus_first)  # once the controls just mounted are there

    def _focus_first(self) -> None:
        if not self.display:
            return  # hidden meanwhile: Esc right after F2
        write = self.query_one("#secret-write", Input)
        if self.first_control is not None:
            first: Widget = self.first_control
        elif write.display:
            first = write
        else:
            first = self.query_one("#secret-scroll", VerticalScroll)
        self.screen.set_focus(first, scroll_visible=False)

    def _show_ask(self, scene: Scene, ask: Ask | None) -> None:
        holder = self.query_one("#secret-ask", Vertical)
        # Its controls are about to go; had one of them the keyboard, the panel keeps it (Textual
        # would hand it to a neighbour, which may be a table control).
        refocus = holder.has_focus_within
        holder.remove_children()
        self.first_control = None
        if ask is None:
            if refocus:
                self.focus_first()
            return
        request = ask.request
        kind = request.kind
        widgets: list[Widget] = []
        if kind in ("offer", "invite"):
            view = request.view
            tool = CATALOGUE[view.tool]
            if kind == "offer":
                head = f"[b reverse] OFFER [/] You are offered [b]{tool.id}[/]."
            else:
                who = _seat_name(scene, view.inviter)
                head = f"[b reverse] INVITATION [/] {who} asks you to share [b]{tool.id}[/]."
            widgets.append(Static(f"{head}\n{tool.description}\n[i]{tool.unfairness}[/]"))
            reason = Input(placeholder="your reason (optional)", id="secret-reason", compact=True)
            widgets.append(reason)
            self.first_control = reason
            buttons = []
            for i, action in enumerate(request.legal):
                answer, partner = read_answer(action)
                if answer == ACCEPT:
                    label = (
                        "Accept" if partner is None else f"Accept with {_seat_name(scene, partner)}"
                    )
                    buttons.append(Button(label, id=f"ans-{i}", variant="success", compact=True))
                elif answer == REFUSE:
                    buttons.append(Button("Refuse", id=f"ans-{i}", variant="error", compact=True))
            widgets.append(Vertical(*buttons, classes="answers"))
        elif kind == "tool":
            widgets.append(Static("[b reverse] TOOLS [/] Use one before your move, or just move."))
            buttons = [Button("No tool", id="ans-0", compact=True)]
            self.first_control = buttons[0]
            for i, action in enumerate(request.legal):
                picked = read_tool(action)
                if picked is not None:
                    tool_id, target = picked
                    label = f"{tool_id.replace('_', ' ')} {_seat_name(scene, target)}"
                    buttons.append(Button(label, id=f"ans-{i}", variant="warning", compact=True))
            widgets.append(
                Vertical(
                    *[
                        Horizontal(*buttons[j : j + 2], classes="answers")
                        for j in range(0, len(buttons), 2)
                    ]
                )
            )
        elif kind == "message":
            ally = _seat_name(scene, request.view.partner)
            widgets.append(
                Static(f"[b reverse] CHANNEL [/] Write to {ally} now, or make your move.")
            )
        holder.mount_all(widgets)
        if refocus:
            self.focus_first()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if self.ask is None or not (event.button.id or "").startswith("ans-"):
            return
        event.stop()
        action = self.ask.request.legal[int((event.button.id or "ans-0")[4:])]
        reasons = self.query("#secret-reason")
        reason = reasons.first(Input).value if reasons else ""
        self.post_message(SecretAnswer(self.ask.request.kind, action, reason))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "secret-reason":
            event.stop()
            self.screen.focus_next()  # the first answer
        elif event.input.id == "secret-write":
            event.stop()
            text = event.value.strip()
            if text:
                self.post_message(SecretWrite(text))
            event.input.value = ""
