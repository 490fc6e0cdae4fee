"""Rows out of the analysis commands: rich tables for the terminal, CSV and JSON (lines) for
other programs. The report's terminal tables show a chosen few columns, formatted; CSV and JSON
carry every column at full precision.
"""

from __future__ import annotations

import csv
import json
import math
import re
import textwrap
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from rich.table import Table
from rich.text import Text

from arena.analysis.report import Column, Report, Row, Section

SIMULATED_NOTE = "* simulated: bots' scripted answers and play, not evidence about a model"


# Characters a terminal may act on instead of showing: C0 controls, DEL and the C1 controls
# (0x9b alone starts an escape sequence on some terminals).
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROLS_BUT_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _escaped(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def printable(text: str, lines: bool = False) -> str:
    """`text` safe to print to a terminal: every control character written out as `\\xNN`, so
    stored text (an LLM's answer, a name) cannot move the cursor, recolour or retitle the
    terminal. `lines` keeps newlines and tabs."""
    return (_CONTROLS_BUT_LINES if lines else _CONTROLS).sub(_escaped, text)


def plain(value: Any) -> Any:
    """A value JSON and CSV can hold: bytes as hex, NaN and infinities as null."""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _number(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value)}"
    return f"{value:.3g}" if abs(value) < 0.01 else f"{value:.2f}"


def cell(row: Row, column: Column, sep: str = " ") -> str:
    """One cell of a report table, e.g. `0.62 [0.45, 0.76]`, `+0.13 [-0.02, +0.27]`, `—`
    (`sep` goes between a value and its interval)."""
    value = row.get(column.key)
    if value is None:
        return "—"
    if column.kind == "text":
        text = printable(str(value))
        return text + "*" if column.key == "agent" and row.get("simulated") else text
    if column.kind == "count":
        return f"{value:,}"
    if column.kind == "p":
        return "<0.0001" if value < 1e-4 else f"{value:.4f}"
    if column.kind == "number":
        return _number(float(value))
    sign = "+" if column.kind == "signed" else ""
    text = f"{value:{sign}.2f}"
    bounds = column.interval
    if bounds is not None:
        low, high = row.get(bounds[0]), row.get(bounds[1])
        if low is not None and high is not None:
            text += f"{sep}[{low:{sign}.2f}, {high:{sign}.2f}]"
    return text


def said_once(
    columns: Sequence[Column], rows: Sequence[Row], keep: Iterable[str] = ()
) -> list[Column]:
    """The text columns (but those in `keep`) that hold one value in every row: a table says
    them once, under its title, instead of in a column."""
    return [
        column
        for column in columns
        if rows
        and column.kind == "text"
        and column.key not in keep
        and len({cell(row, column) for row in rows}) == 1
    ]


def section_text(section: Section, width: int = 80) -> str:
    """The section's table as plain text for the terminal, made to fit `width` columns: text
    columns that hold one value in every row are said once under the title; the others share
    one column, the agent on the first line of each row and the rest on the second; intervals
    go under their value. (Plain text because rich's tables took a second for a report of a few
    thousand lines.)"""
    texts = [column for column in section.columns if column.kind == "text"]
    shared = said_once(section.columns, section.rows)
    varying = sorted((c for c in texts if c not in shared), key=lambda c: c.key != "agent")
    numbers = [column for column in section.columns if column.kind != "text"]
    headers = [column.title.replace(" [", "\n[") for column in numbers]
    rows = []
    for row in section.rows:
        cells = [cell(row, column, "\n") for column in numbers]
        if varying:
            first, *rest = (cell(row, c) for c in varying)
            cells.insert(0, first + ("\n" + " · ".join(rest) if rest else ""))
        rows.append(cells)
    if varying:
        headers.insert(0, " · ".join(c.title for c in varying))
    lines = [section.title]
    if shared:
        lines.append(" · ".join(f"{c.title} {cell(section.rows[0], c)}" for c in shared))
    lines += ["", *grid(headers, rows, left=1 if varying else 0, width=width)]
    if section.simulated:
        lines.append(SIMULATED_NOTE)
    return "\n".join(lines)


def grid(headers: list[str], rows: list[list[str]], left: int, width: int) -> list[str]:
    """Lines of a table: the first `left` columns left-aligned and wrapped to fit `width` if
    need be, the others right-aligned; cells and headers may hold several lines."""
    gap = 2

    def natural(texts: Iterable[str]) -> int:
        return max((len(line) for text in texts for line in text.split("\n")), default=0)

    widths = [
        max(natural([header]) if i < left else max(map(len, header.split())), natural(column))
        for i, (header, *column) in enumerate(zip(headers, *rows, strict=True))
    ]
    spare = width - sum(widths) - gap * (len(widths) - 1)
    for i in range(left):  # narrow the text columns, never the numbers
        if spare >= 0:
            break
        cut = min(-spare, widths[i] - 12)
        if cut > 0:
            widths[i] -= cut
            spare += cut

    def lines_of(text: str, at: int) -> list[str]:
        out = []
        for line in text.split("\n"):
            out += textwrap.wrap(line, widths[at], break_on_hyphens=False) or [""]
        return out

    def render(cells: list[str]) -> list[str]:
        split = [lines_of(text, i) for i, text in enumerate(cells)]
        height = max(map(len, split))
        return [
            (" " * gap)
            .join(
                (part[k] if k < len(part) else "").ljust(widths[i])
                if i < left
                else (part[k] if k < len(part) else "").rjust(widths[i])
                for i, part in enumerate(split)
            )
            .rstrip()
            for k in range(height)
        ]

    rule = "─" * (sum(widths) + gap * (len(widths) - 1))
    return [*render(headers), rule, *(line for row in rows for line in render(row)), ""]


def report_json(report: Report) -> dict[str, Any]:
    return {
        "filters": {k: v for k, v in vars(report.filters).items() if v not in (None, ())},
        "sections": {
            section.name: {
                "title": section.title,
                "about": section.about,
                "notes": section.notes,
                "rows": [{k: plain(v) for k, v in row.items()} for row in section.rows],
            }
            for section in report.sections
        },
    }


def columns_of(rows: Sequence[Row]) -> list[str]:
    """Every key of the rows, in first-seen order."""
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    return list(names)


def write_csv(
    out: TextIO, names: Sequence[str], rows: Iterable[Sequence[Any]], terminal: bool = False
) -> int:
    """Write a header and the rows; return how many rows. For a `terminal`, text has its
    control characters written out (`printable`); for a file it is kept as stored."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([printable(name) for name in names] if terminal else names)
    count = 0
    for row in rows:
        values = [plain(value) for value in row]
        if terminal:
            values = [printable(v, lines=True) if isinstance(v, str) else v for v in values]
        writer.writerow(values)
        count += 1
    return count


# JSON escapes C0 controls itself; DEL and C1 controls are escaped too (the same JSON value).
_JSON_CONTROLS = re.compile("[\x7f-\x9f]")


def json_text(value: Any, indent: int | None = None) -> str:
    """`value` as JSON that a terminal shows as text (no raw control character)."""
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    return _JSON_CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def write_jsonl(out: TextIO, names: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """One JSON object a line; return how many rows."""
    count = 0
    for row in rows:
        record = {name: plain(value) for name, value in zip(names, row, strict=True)}
        out.write(json_text(record) + "\n")
        count += 1
    return count


def rows_table(names: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    """The rows as a rich table; cells are shown as they are (no markup), control characters
    written out."""
    table = Table()
    for name in names:
        table.add_column(Text(printable(name)), overflow="fold")
    for row in rows:
        table.add_row(
            *(
                Text("NULL" if value is None else printable(str(plain(value)), lines=True))
                for value in row
            )
        )
    return table


def rate_bar(rate: float, low: float, high: float, width: int = 30) -> str:
    """A rate as a bar of `width` cells: solid up to the interval's low end, shaded to the rate,
    light to the high end."""

    def cells(value: float) -> int:
        return max(0, min(width, round(value * width)))

    solid, point, top = cells(low), cells(rate), cells(high)
    return "█" * solid + "▓" * (point - solid) + "░" * (top - point) + " " * (width - top)


def observability_chart(rows: Sequence[Row]) -> str:
    """The observability comparison as text: per agent and tool, the two adoption rates as bars
    with their intervals, then the effect and its test."""
    lines = []
    for row in rows:
        agent = row["agent"] + ("*" if row.get("simulated") else "")
        lines.append(f"{agent} · {row['tool']} · {row['framing'] or 'no framing'}")
        for condition in ("off", "on"):
            rate = row[f"{condition}_rate"]
            low, high = row[f"{condition}_rate_low"], row[f"{condition}_rate_high"]
            accepted, offers = row[f"{condition}_accepted"], row[f"{condition}_offers"]
            lines.append(
                f"  {condition:<3} {rate_bar(rate, low, high)} {rate:.2f} [{low:.2f}, {high:.2f}]"
                f" {accepted}/{offers}"
            )
        effect = cell(row, Column("shown_effect", "effect [95% CI]", "signed"))
        p = cell(row, Column("p", "p", "p"))
        lines.append(f"      effect {effect} · {row['test']} p = {p} · {row['design']}")
    lines.append("  █ up to the 95% interval's low end, ▓ to the rate, ░ to the high end")
    return "\n".join(lines)
