"""The Liar's Bar table: seats around it, the pile and the last claim, the moment of the shot,
and the hand of the seat this screen belongs to as cards to pick."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Static

from arena.tui.scene import SUITS, Scene

CARD_STYLE = {"Q": "bold magenta", "K": "bold blue", "A": "bold red", "J": "bold yellow"}


class Card(Static):
    """One card of the hand; a click or its number key picks it."""

    class Picked(Message):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, index: int, rank: str, picked: bool) -> None:
        super().__init__(classes="card")
        self.index = index
        self.rank = rank
        self.border_title = str(index + 1)
        self.set_class(picked, "picked")

    def render(self) -> Text:
        return Text(self.rank, style=CARD_STYLE.get(self.rank, "bold"), justify="center")

    def on_click(self) -> None:
        self.post_message(self.Picked(self.index))


def seat_box(scene: Scene, seat: int) -> Text:
    """One seat's box: who, cards, pulls, state; the observer also sees hand and bullet."""
    view = scene.view
    label = scene.seats[seat]
    text = Text(no_wrap=True, overflow="ellipsis")
    me = seat == scene.perspective
    text.append(label.name + (" (you)" if me else ""), style="bold")
    if view is None:
        return text
    alive = view.alive[seat]
    text.append(f"\ncards {view.cards_left[seat]}  pulls {view.pulls[seat]}")
    if view.points is not None:
        text.append(f"  pts {view.points[seat]}")
    if not alive:
        text.append("\n✝ out", style="bold red")
    elif seat in scene.thinking:
        text.append("\nthinking…", style="italic yellow")
    elif view.turn == seat and view.phase != "over":
        text.append("\n▶ " + ("to play" if view.phase == "play" else "to answer"), style="bold")
    else:
        text.append("\n")
    if scene.perspective is None:
        seen = scene.views[seat]
        text.append("\n")
        if seen is not None and alive:
            text.append(f"{seen.hand or '—'} ", style="cyan")
        if scene.chambers is not None:
            text.append(f"bullet {scene.chambers[seat] + 1}", style="red")
    return text


def centre_text(scene: Scene, suspense: bool) -> Text:
    view = scene.view
    text = Text()
    if view is None:
        return text.append("Dealing…", style="dim")
    text.append(f"Round {view.round}  ·  target ")
    text.append(SUITS[view.target] + "s", style=CARD_STYLE.get(view.target, "bold"))
    text.append(f"  ·  pile {view.pile} card{'s' if view.pile != 1 else ''}")
    claim = view.claim
    if claim is not None:
        who = "you" if claim.seat == scene.perspective else scene.seats[claim.seat].name
        text.append(f"\nLast claim: {who} played {claim.count} as {SUITS[view.target]}s")
        if claim.talk:
            text.append(f' — "{claim.talk}"', style="italic")
    elif scene.last_shot is not None and not suspense:
        text.append("\n")
        text.append(Text.from_markup(scene.last_shot.text))
    if suspense and scene.last_shot is not None:
        shooter = scene.last_shot.text.split(" pull")[0]
        text.append("\n")
        text.append(Text.from_markup(f"{shooter} raise the revolver… [blink]…[/]"))
    return text


class LiarsBarBoard(Vertical):
    """The table of one scene; the screen feeds it scenes and reads the picked cards."""

    def __init__(self, seats: int) -> None:
        super().__init__(id="board")
        self.n = seats
        self.picked: set[int] = set()
        self.hand = ""
        self._last_shot = -1
        self.suspense = False
        self.scene: Scene | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="seats"):
            for seat in range(self.n):
                yield Static(id=f"seat-{seat}", classes="seat")
        yield Static(id="centre")
        yield Horizontal(id="hand")

    def show(self, scene: Scene, suspense_s: float) -> None:
        self.scene = scene
        if scene.last_shot is not None and scene.last_shot.seq != self._last_shot:
            fresh = self._last_shot >= 0 or scene.last_shot.seq > 0
            self._last_shot = scene.last_shot.seq
            if fresh and suspense_s > 0 and not scene.over:
                self.suspense = True
                self.set_timer(suspense_s, self._end_suspense)
        for seat in range(self.n):
            box = self.query_one(f"#seat-{seat}", Static)
            box.update(seat_box(scene, seat))
            label = scene.seats[seat]
            box.border_title = (
                label.kind if label.kind == "human" else f"{label.kind}·{label.agent}"
            )
            view = scene.view
            box.set_class(view is not None and not view.alive[seat], "out")
            box.set_class(seat == scene.perspective, "mine")
            box.set_class(view is not None and view.turn == seat and not scene.over, "turn")
        self.query_one("#centre", Static).update(centre_text(scene, self.suspense))
        hand = self._hand_of(scene)
        if hand != self.hand:
            self.hand = hand
            self.picked.clear()
            self._show_hand()

    def _hand_of(self, scene: Scene) -> str:
        if scene.hand_of is None:
            return ""
        view = scene.views[scene.hand_of]
        return "" if view is None else str(view.hand)

    def _end_suspense(self) -> None:
        self.suspense = False
        if self.scene is not None:
            self.query_one("#centre", Static).update(centre_text(self.scene, False))

    def _show_hand(self) -> None:
        holder = self.query_one("#hand", Horizontal)
        holder.remove_children()
        if not self.hand:
            holder.mount(
                Static(
                    "[dim]no cards in your hand[/]"
                    if self.scene and self.scene.perspective is not None
                    else "",
                    classes="nohand",
                )
            )
            return
        holder.mount_all(Card(i, rank, i in self.picked) for i, rank in enumerate(self.hand))

    def toggle(self, index: int) -> None:
        if not 0 <= index < len(self.hand):
            return
        self.picked ^= {index}
        for card in self.query(Card):
            card.set_class(card.index in self.picked, "picked")

    def play_code(self) -> str | None:
        """The action code of the picked cards (`play:QQJ`, ranks in the order Q K A J)."""
        if not self.picked:
            return None
        cards = [self.hand[i] for i in self.picked]
        order = "QKAJ"
        return "play:" + "".join(sorted(cards, key=order.index))


def scene_has_hand(scene: Scene | None) -> bool:
    return scene is not None and scene.hand_of is not None
