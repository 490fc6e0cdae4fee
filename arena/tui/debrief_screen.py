"""The debrief after a match: final results, who was offered which secret tool and how they and
their partners answered, the private messages, the tool uses, who was harmed and the monitor's
flags. It renders a `Debrief` (`arena.debrief`) and reads nothing itself; a key asks for a replay.
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from arena.debrief import Debrief, OfferInfo, SeatInfo

ANSWER_STYLE = {"accept": "bold red", "refuse": "green", "unclear": "yellow"}
# The sections in screen order: widget id suffix and heading.
SECTIONS = (
    ("results", "Final results"),
    ("offers", "Offers"),
    ("messages", "Private messages"),
    ("tools", "Tool uses"),
    ("harmed", "Who was harmed"),
    ("flags", "Monitor flags"),
)


def title_text(d: Debrief) -> Text:
    """One line (wrapped at need): game, preset, seed and the observer condition."""
    m = d.match
    text = Text()
    text.append(f"Match {m.id} debrief", style="bold")
    text.append(f" · {m.title} {m.preset} · seed {m.seed} · observer {m.observer}")
    for change in m.observer_changes:
        text.append(f" → {change.condition} ({m.hand_name} {change.hand})")
    if m.framing is not None:
        text.append(f" · framing {m.framing}")
    if m.status != "finished":
        text.append(" · unfinished", style="bold yellow")
    return text


def dim(line: str) -> Text:
    return Text(line, style="dim")


def _table(*headers: str, wide: tuple[str, ...]) -> Table:
    """A borderless table that fits the screen: the `wide` columns share the room left; every
    column folds what does not fit."""
    table = Table(box=None, expand=True, pad_edge=False, show_edge=False, header_style="bold")
    for header in headers:
        if header in wide:
            table.add_column(header, ratio=1, overflow="fold")
        else:
            table.add_column(header, overflow="fold")
    return table


def _add_row(table: Table, *cells: RenderableType) -> None:
    """Add a row; strings are plain text (a reason or message may hold `[`, never markup)."""
    table.add_row(*(Text(c) if isinstance(c, str) else c for c in cells))


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _who(seat: SeatInfo) -> str:
    return seat.kind if seat.agent == seat.kind else f"{seat.kind} · {seat.agent}"


def results_table(d: Debrief) -> RenderableType:
    if not d.seats:
        return dim("no seats recorded")
    points = _points_header(d)
    table = _table("place", "seat", "plays as", *points, "", wide=("plays as",))
    for seat in d.standings:
        _add_row(
            table,
            _number(seat.placement),
            d.name(seat.seat),
            _who(seat),
            *([_number(seat.score)] if points else []),
            Text("★ winner", style="bold yellow") if seat.winner else "",
        )
    return table


def _points_header(d: Debrief) -> tuple[str, ...]:
    """The score column's header, or none when the preset keeps no score (classic)."""
    if all(seat.score is None for seat in d.seats):
        return ()
    return ("apples",) if d.match.game == "cleanup" else ("points",)


def _answer(answer: str | None, simulated: bool | None) -> Text:
    text = Text(answer or "no answer", style=ANSWER_STYLE.get(answer or "", "dim"))
    if simulated:
        text.append("\nsimulated", style="dim italic")
    return text


def _offer_rows(d: Debrief, offer: OfferInfo) -> list[tuple[RenderableType, ...]]:
    """The offered seat's row, then the invited partner's row if there is a partner."""
    tool = Text(offer.tool)
    tool.append(
        "\ngranted" if offer.granted else "\nnot granted",
        style="bold red" if offer.granted else "dim",
    )
    rows: list[tuple[RenderableType, ...]] = [
        (
            str(offer.hand),
            d.name(offer.seat),
            tool,
            _answer(offer.answer, offer.simulated),
            offer.reason or dim("(no reason given)"),
        )
    ]
    if offer.partner is not None:
        rows.append(
            (
                "",
                f"↳ {d.name(offer.partner)}",
                dim("invited"),
                _answer(offer.partner_answer, offer.partner_simulated),
                offer.partner_reason or dim("(no reason given)"),
            )
        )
    return rows


def offers_body(d: Debrief) -> RenderableType:
    standing = [g for g in d.grants if g.standing]
    parts: list[RenderableType] = []
    if d.offers:
        table = _table(d.match.hand_name, "seat", "tool", "answer", "reason", wide=("reason",))
        for offer in d.offers:
            for row in _offer_rows(d, offer):
                _add_row(table, *row)
        parts.append(table)
    else:
        parts.append(dim("no tool was offered"))
    for grant in standing:
        holders = d.name(grant.seat)
        if grant.partner is not None:
            holders += f" + {d.name(grant.partner)}"
        parts.append(Text(f"granted from the start, not offered: {grant.tool} to {holders}"))
    return Group(*parts)


def messages_body(d: Debrief) -> RenderableType:
    if not d.messages:
        return dim("no private message was sent")
    table = _table(d.match.hand_name, "from", "to", "message", wide=("message",))
    for message in d.messages:
        _add_row(
            table,
            str(message.hand),
            d.name(message.sender),
            ", ".join(d.name(r) for r in message.recipients),
            message.text,
        )
    return table


def tools_body(d: Debrief) -> RenderableType:
    if not d.tool_uses:
        return dim("no tool was used")
    table = _table(d.match.hand_name, "user", "tool", "target", "result", wide=("result",))
    for use in d.tool_uses:
        result = (
            Text(use.effect, style="red")
            if use.allowed
            else Text(f"denied: {use.denial}", style="dim")
        )
        _add_row(table, str(use.hand), d.name(use.seat), use.tool, d.name(use.target), result)
    return table


def harmed_body(d: Debrief) -> RenderableType:
    if not d.harmed:
        return dim("nobody: no pair was granted and no tool was used on anyone")
    points = _points_header(d)
    table = _table("seat", "place", *points, "why", wide=("why",))
    for harm in d.harmed:
        _add_row(
            table,
            d.name(harm.seat),
            _number(harm.placement),
            *([_number(harm.score)] if points else []),
            "\n".join(harm.reasons),
        )
    return table


def flags_body(d: Debrief) -> RenderableType | None:
    """None when the match had no monitor and no flags: the section is left out."""
    if not d.flags:
        if d.match.monitor is None:
            return None
        return dim(f"not reviewed yet (monitor: {d.match.monitor})")
    table = _table("item", "verdict", "reason", wide=("item", "reason"))
    for flag in d.flags:
        if flag.flagged is None:
            verdict = Text("no verdict", style="yellow")
        else:
            verdict = Text(*(("flagged", "bold red") if flag.flagged else ("cleared", "green")))
        verdict.append(f"\n{flag.reviewer}", style="dim")
        _add_row(table, flag.item, verdict, flag.reason)
    return table


def section_bodies(d: Debrief) -> dict[str, RenderableType]:
    """Each section's body by id suffix, in screen order; sections left out are absent."""
    bodies: dict[str, RenderableType | None] = {
        "results": results_table(d),
        "offers": offers_body(d),
        "messages": messages_body(d),
        "tools": tools_body(d),
        "harmed": harmed_body(d),
        "flags": flags_body(d),
    }
    return {key: body for key, body in bodies.items() if body is not None}


class DebriefScreen(Screen[str]):
    """Dismissed with `replay` (replay this match) or `lobby` (a new table, or back)."""

    DEFAULT_CSS = """
    DebriefScreen #debrief-title {
        height: auto;
        padding: 0 1;
        background: $panel;
    }
    DebriefScreen #debrief-body {
        height: 1fr;
    }
    DebriefScreen .debrief-heading {
        padding: 0 1;
        margin-top: 1;
        text-style: bold;
        color: $accent;
    }
    DebriefScreen .debrief-section {
        padding: 0 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "replay", "Replay", id="debrief.replay"),
        Binding("n", "new_table", "New table", id="debrief.new_table"),
        Binding("escape", "back", "Back", id="debrief.back"),
    ]

    def __init__(self, debrief: Debrief) -> None:
        super().__init__()
        self.debrief = debrief

    def compose(self) -> ComposeResult:
        yield Static(title_text(self.debrief), id="debrief-title")
        bodies = section_bodies(self.debrief)
        with VerticalScroll(id="debrief-body"):
            for key, heading in SECTIONS:
                if key in bodies:
                    yield Static(heading, classes="debrief-heading", markup=False)
                    yield Static(bodies[key], id=f"debrief-{key}", classes="debrief-section")
        yield Footer()

    def action_replay(self) -> None:
        self.dismiss("replay")

    def action_new_table(self) -> None:
        self.dismiss("lobby")

    def action_back(self) -> None:
        self.dismiss("lobby")
