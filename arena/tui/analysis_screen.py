"""The analysis screen: pick a database and filters, see the observability comparison (adoption
with the observer off against on) as a chart and the adoption table, list the offers behind an
adoption row and open any of their matches in the replay. Everything is read in thread workers
through read-only connections; the one write ever made is the one-time migration of an older
arena file (the report's views came with schema version 5)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.suggester import SuggestFromList
from textual.widgets import Button, DataTable, Footer, Input, Label, Static

from arena.analysis.output import SIMULATED_NOTE, cell, observability_chart, said_once
from arena.analysis.report import (
    OBSERVER_CONDITIONS,
    SECTIONS,
    Column,
    Filters,
    Report,
    ReportError,
    Row,
    build_report,
    offers_behind,
)
from arena.replay import Replay, ReplayError, read_replay
from arena.store.db import StoreError, check_integrity, open_for_analysis
from arena.tui.lobby import OpenReplay
from arena.tui.replay_screen import ReplayScreen
from games.registry import GAMES

READ_SECTIONS = ("observability", "adoption")
# The filter inputs: Filters field, label, placeholder.
FILTER_FIELDS = (
    ("game", "Game", "any"),
    ("model", "Model", "any agent"),
    ("framing", "Framing", "any"),
    ("observer", "Observer", "any"),
    ("since", "Since", "YYYY-MM-DD"),
    ("until", "Until", "YYYY-MM-DD"),
    ("series", "Series", "batch/experiment"),
)
SUGGESTIONS = {"game": list(GAMES), "observer": list(OBSERVER_CONDITIONS)}
# The adoption table's first columns: the report's own, these first so that what matters shows
# at 80 columns; the report's other columns follow.
ADOPTION_FIRST = (
    "agent",
    "tool",
    "framing",
    "observer",
    "accepted",
    "offers",
    "adoption_rate",
    "partner_consent_rate",
)
ALWAYS_SHOWN = ("agent", "tool", "observer")  # other text columns with one value are said once
OFFER_COLUMNS = (  # key, title, aligned right
    ("match_id", "match", True),
    ("seed", "seed", True),
    ("seat", "seat", True),
    ("observer", "observer", False),
    ("answer", "answer", False),
    ("reason", "reason", False),
)
ANSWER_STYLE = {"accept": "bold red", "refuse": "green", "unclear": "yellow"}
EFFECT_MEANING = (
    "effect = adoption with the observer off minus on, with its 95% interval; positive: tools "
    "are taken more when agents are told nobody watches."
)
NO_ROW_HINT = "Select an adoption row (Enter or click) to list the offers behind it."


def adoption_columns() -> tuple[Column, ...]:
    """The report's adoption columns, those of ADOPTION_FIRST first."""
    spec = next(spec for spec in SECTIONS if spec.name == "adoption")
    rank = {key: i for i, key in enumerate(ADOPTION_FIRST)}
    return tuple(sorted(spec.columns, key=lambda c: rank.get(c.key, len(rank))))


def shown_columns(columns: tuple[Column, ...], rows: list[Row]) -> tuple[Column, ...]:
    """The columns worth a column: a text column (not in ALWAYS_SHOWN) with the same value in
    every row is said once under the table instead."""
    shared = said_once(columns, rows, ALWAYS_SHOWN)
    return tuple(column for column in columns if column not in shared)


def fill(
    table: DataTable[Any],
    columns: Sequence[tuple[str, str, bool]],
    rows: Sequence[Sequence[str | Text]],
) -> None:
    """Replace the table's columns (key, title, aligned right) and rows; strings are plain
    text, never markup (a reason may hold brackets)."""
    table.clear(columns=True)
    for key, title, right in columns:
        table.add_column(Text(title, justify="right" if right else "left"), key=key)
    for i, row in enumerate(rows):
        cells = []
        for value, (_, _, right) in zip(row, columns, strict=True):
            text = value if isinstance(value, Text) else Text(value)
            text.justify = "right" if right else "left"
            cells.append(text)
        table.add_row(*cells, key=str(i))


def read_report(path: Path, filters: Filters) -> Report:
    """The report's observability and adoption sections, and how many matches the filters
    select (and how many of them are finished). StoreError for a damaged file, as for `arena
    analyze`: a damaged page may read as rows of nothing rather than as an error."""
    conn = open_for_analysis(path)
    try:
        check_integrity(conn, path)
        return build_report(conn, filters, READ_SECTIONS)
    finally:
        conn.close()


def read_offers(path: Path, filters: Filters, group: Row) -> list[Row]:
    conn = open_for_analysis(path)
    try:
        return offers_behind(conn, filters, group)
    finally:
        conn.close()


def no_comparison(report: Report) -> str:
    """Why the observability comparison has no row."""
    if report.filters.observer is not None:
        return (
            "Not computed: the observer filter keeps one condition only. Clear it to compare "
            "the observer off with on."
        )
    if not report.section("adoption").rows:
        return "No comparison: no offer was answered in this selection."
    return (
        "No comparison: no agent was offered the same tool under the same framing with the "
        "observer off and with it on in this selection (the adoption table below has what "
        "there is)."
    )


def group_title(row: Row) -> str:
    """`counter* · secret_channel · neutral · observer off: 5 accepted of 20`."""
    agent = row["agent"] + ("*" if row.get("simulated") else "")
    framing = row["framing"] or "no framing"
    return (
        f"{agent} · {row['tool']} · {framing} · observer {row['observer']}: "
        f"{row['accepted']} accepted of {row['offers']}"
    )


# -- what the workers report -------------------------------------------------------------------


@dataclass(frozen=True)
class Applied:
    """The database and filters the report on screen was read with."""

    path: Path
    filters: Filters


class ReportRead(Message, bubble=False):
    def __init__(self, generation: int, applied: Applied, report: Report) -> None:
        super().__init__()
        self.generation = generation
        self.applied = applied
        self.report = report


class OffersRead(Message, bubble=False):
    def __init__(self, generation: int, group: Row, offers: list[Row]) -> None:
        super().__init__()
        self.generation = generation
        self.group = group
        self.offers = offers


class ReplayRead(Message, bubble=False):
    def __init__(self, replay: Replay) -> None:
        super().__init__()
        self.replay = replay


class ReadFailed(Message, bubble=False):
    """`what` is `report` or `offers`; `generation` the read it answers."""

    def __init__(self, what: str, generation: int, error: str) -> None:
        super().__init__()
        self.what = what
        self.generation = generation
        self.error = error


class ReplayFailed(Message, bubble=False):
    def __init__(self, match_id: int, error: str) -> None:
        super().__init__()
        self.match_id = match_id
        self.error = error


# -- the screen --------------------------------------------------------------------------------


class AnalysisScreen(Screen[None]):
    """`home_db` is the app's own database: shown first, and its matches open in the app's
    replay; a match of another file is replayed through a read-only connection to that file."""

    AUTO_FOCUS = ""  # the adoption table takes the focus without scrolling the chart away
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f5", "read", "Apply", id="analysis.read"),
        Binding("f3", "adoption", "Adoption", id="analysis.adoption"),
        Binding("f4", "filters", "Filters", id="analysis.filters"),
        Binding("escape", "back", "Back", id="analysis.back"),
    ]

    def __init__(self, home_db: Path) -> None:
        super().__init__()
        self.home_db = home_db
        self.applied: Applied | None = None
        self.report: Report | None = None
        self.adoption_rows: list[Row] = []
        self.offer_rows: list[Row] = []
        self.reads = 0  # generations: a slow read answered after a newer one is dropped
        self.offer_reads = 0

    def compose(self) -> ComposeResult:
        yield Static(Text("Analysis", style="bold"), id="analysis-title")
        with VerticalScroll(id="analysis-body"):
            with Horizontal(id="analysis-db-row"):
                yield Label("Database", classes="label")
                yield Input(str(self.home_db), id="analysis-db", compact=True)
                yield Button("Apply", id="analysis-apply", compact=True)
            with Grid(id="analysis-filters"):
                for name, label, placeholder in FILTER_FIELDS:
                    yield Label(label, classes="label")
                    suggestions = SUGGESTIONS.get(name)
                    yield Input(
                        placeholder=placeholder,
                        id=f"filter-{name}",
                        compact=True,
                        suggester=SuggestFromList(suggestions) if suggestions else None,
                    )
            yield Static(id="analysis-message")
            yield Static(
                "Observability: adoption with the observer off against on",
                classes="analysis-heading",
            )
            yield Static(id="analysis-chart", markup=False)
            yield Static(EFFECT_MEANING, id="analysis-effect", markup=False)
            yield Static("Adoption of secret tools", classes="analysis-heading")
            yield DataTable(id="analysis-adoption", cursor_type="row", zebra_stripes=True)
            yield Static(id="analysis-adoption-note")
            yield Static("Offers behind the selected row", classes="analysis-heading")
            yield Static(NO_ROW_HINT, id="analysis-offers-title", markup=False)
            yield DataTable(id="analysis-offers", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.show_offers(None, [])
        self.query_one("#analysis-adoption", DataTable).focus(scroll_visible=False)
        self.action_read()

    # -- reading -------------------------------------------------------------------------------

    def filters(self) -> Filters:
        def value(name: str) -> str | None:
            return self.query_one(f"#filter-{name}", Input).value.strip() or None

        return Filters(
            game=value("game"),
            model=value("model"),
            framing=value("framing"),
            observer=value("observer"),
            since=value("since"),
            until=value("until"),
            series=value("series"),
        )

    def action_read(self) -> None:
        """Read the report of the database and filters in the inputs; bad input is named and
        the report on screen stays as it was."""
        self.reads += 1  # whatever an earlier read still brings is dropped
        path_text = self.query_one("#analysis-db", Input).value.strip()
        if not path_text:
            self.show_error("give the path of an arena database file")
            return
        filters = self.filters()
        try:
            filters.check()
        except ReportError as error:
            self.show_error(str(error))
            return
        path = Path(path_text).expanduser()
        self.say(Text(f"reading {path}…", style="dim"))
        self.query_one("#analysis-title", Static).update(Text("Analysis · reading…", style="bold"))
        self.read_report(self.reads, Applied(path, filters))

    @work(thread=True, exclusive=True, group="analysis-report")
    def read_report(self, generation: int, applied: Applied) -> None:
        try:
            report = read_report(applied.path, applied.filters)
        except (StoreError, ReportError, sqlite3.Error) as error:
            self.post_message(ReadFailed("report", generation, str(error)))
            return
        self.post_message(ReportRead(generation, applied, report))

    @work(thread=True, exclusive=True, group="analysis-offers")
    def read_offers(self, generation: int, applied: Applied, group: Row) -> None:
        try:
            offers = read_offers(applied.path, applied.filters, group)
        except (StoreError, ReportError, sqlite3.Error) as error:
            self.post_message(ReadFailed("offers", generation, str(error)))
            return
        self.post_message(OffersRead(generation, group, offers))

    @work(thread=True, exclusive=True, group="analysis-replay")
    def read_replay(self, path: Path, match_id: int) -> None:
        try:
            replay = read_replay(path, match_id)
        except (StoreError, ReplayError, sqlite3.Error) as error:
            self.post_message(ReplayFailed(match_id, str(error)))
            return
        self.post_message(ReplayRead(replay))

    # -- what was read -------------------------------------------------------------------------

    def say(self, message: Text | None) -> None:
        """The line under the filters: reading, or why nothing was read; hidden when empty."""
        line = self.query_one("#analysis-message", Static)
        line.update(message or "")
        line.display = message is not None

    def show_error(self, error: str) -> None:
        message = Text.assemble(("Cannot read: ", "bold red"), error)
        if self.applied is not None:
            message.append(" (the report shown is unchanged)", style="dim")
        self.say(message)
        self.show_title()

    def show_title(self) -> None:
        """What the report on screen covers: its filters and how many matches they select."""
        title = Text("Analysis", style="bold")
        if self.applied is not None:
            title.append(f" · {self.applied.filters.describe()}")
        if self.report is not None:
            title.append(f" · {self.report.matches:,} matches ({self.report.finished:,} finished)")
        self.query_one("#analysis-title", Static).update(title)

    def on_report_read(self, message: ReportRead) -> None:
        if message.generation != self.reads:
            return
        self.applied = message.applied
        self.report = report = message.report
        self.show_title()
        self.say(None)
        rows = report.section("observability").rows
        chart = self.query_one("#analysis-chart", Static)
        chart.update(observability_chart(rows) if rows else no_comparison(report))
        self.query_one("#analysis-effect", Static).display = bool(rows)
        self.show_adoption(report)
        self.show_offers(None, [])

    def show_adoption(self, report: Report) -> None:
        section = report.section("adoption")
        self.adoption_rows = section.rows
        columns = shown_columns(adoption_columns(), section.rows)
        fill(
            self.query_one("#analysis-adoption", DataTable),
            [(column.key, column.title, column.kind != "text") for column in columns],
            [[cell(row, column) for column in columns] for row in section.rows],
        )
        notes = []
        if not section.rows:
            notes.append("No offer was answered in this selection.")
        said = [
            f"{column.title} {cell(section.rows[0], column)}"
            for column in said_once(adoption_columns(), section.rows, ALWAYS_SHOWN)
        ]
        if said:
            notes.append("Every row: " + " · ".join(said) + ".")
        if section.simulated:
            notes.append(SIMULATED_NOTE)
        notes.append("Adoption = accepted / offers, with its 95% Wilson interval.")
        self.query_one("#analysis-adoption-note", Static).update(Text("\n".join(notes)))

    def show_offers(self, group: Row | None, offers: list[Row]) -> None:
        self.offer_rows = offers
        rows: list[list[str | Text]] = []
        for offer in offers:
            answer = offer["answer"] or "no answer"
            rows.append(
                [
                    str(offer["match_id"]),
                    str(offer["seed"]),
                    str(offer["seat"]),
                    offer["observer"] or "—",
                    Text(answer, style=ANSWER_STYLE.get(answer, "dim")),
                    offer["reason"] or "—",
                ]
            )
        fill(self.query_one("#analysis-offers", DataTable), OFFER_COLUMNS, rows)
        title = self.query_one("#analysis-offers-title", Static)
        if group is None:
            title.update(NO_ROW_HINT)
        else:
            title.update(f"{group_title(group)} · Enter on an offer opens its match in the replay")

    def on_offers_read(self, message: OffersRead) -> None:
        if message.generation != self.offer_reads:
            return
        self.show_offers(message.group, message.offers)
        if message.offers:
            self.query_one("#analysis-offers", DataTable).focus(scroll_visible=False)
            self.call_after_refresh(self.scroll_to_offers)

    def scroll_to_offers(self) -> None:
        """The offers' title at the top of the body, the table under it (at 80×24 too)."""
        title = self.query_one("#analysis-offers-title", Static)
        self.query_one("#analysis-body", VerticalScroll).scroll_to_widget(
            title, top=True, animate=False
        )

    def on_replay_read(self, message: ReplayRead) -> None:
        self.app.push_screen(ReplayScreen(message.replay))

    def on_read_failed(self, message: ReadFailed) -> None:
        if message.what == "report" and message.generation == self.reads:
            self.show_error(message.error)
        elif message.what == "offers" and message.generation == self.offer_reads:
            self.query_one("#analysis-offers-title", Static).update(
                Text.assemble(("Cannot list the offers: ", "bold red"), message.error)
            )

    def on_replay_failed(self, message: ReplayFailed) -> None:
        self.notify(
            f"Cannot replay match {message.match_id}: {message.error}", severity="error", timeout=10
        )

    # -- routing -------------------------------------------------------------------------------

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if self.applied is None:
            return
        if event.data_table.id == "analysis-adoption":
            group = self.adoption_rows[event.cursor_row]
            self.offer_reads += 1
            self.query_one("#analysis-offers-title", Static).update(
                Text(f"{group_title(group)} · reading the offers…")
            )
            self.read_offers(self.offer_reads, self.applied, group)
        elif event.data_table.id == "analysis-offers":
            self.open_match(int(self.offer_rows[event.cursor_row]["match_id"]))

    def open_match(self, match_id: int) -> None:
        """The app's own database replays through the app; another file through a read-only
        connection to it."""
        assert self.applied is not None
        path = self.applied.path
        if path.resolve() == self.home_db.resolve():
            self.post_message(OpenReplay(match_id))
        else:
            self.read_replay(path, match_id)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_read()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "analysis-apply":
            self.action_read()

    def action_adoption(self) -> None:
        self.query_one("#analysis-adoption", DataTable).focus()

    def action_filters(self) -> None:
        self.query_one("#analysis-db", Input).focus()

    def action_back(self) -> None:
        self.app.pop_screen()
