"""Rows out of the analysis commands: rich tables for the terminal, CSV and JSON (lines) for
other programs. The report's terminal tables show a chosen few columns, formatted; CSV and JSON
carry every column at full precision.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from rich import box
from rich.table import Table

from arena.analysis.report import Column, Report, Row, Section

SIMULATED_NOTE = "* simulated: bots' scripted answers and play, not evidence about a model"


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
        text = str(value)
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


def section_table(section: Section) -> Table:
    """The section's table for the terminal, made to fit 80 columns: text columns that hold one
    value in every row are said once under the title; the others share one column, the agent
    on the first line of each row and the rest on the second; intervals go under their value."""
    texts = [column for column in section.columns if column.kind == "text"]
    shared = [c for c in texts if len({cell(row, c) for row in section.rows}) == 1]
    varying = sorted((c for c in texts if c not in shared), key=lambda c: c.key != "agent")
    said = " · ".join(f"{c.title} {cell(section.rows[0], c)}" for c in shared)
    table = Table(
        title=f"[bold]{section.title}[/]" + (f"\n[dim]{said}[/]" if said else ""),
        title_justify="left",
        caption=SIMULATED_NOTE if section.simulated else None,
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    if varying:
        table.add_column(" · ".join(c.title for c in varying), overflow="fold")
    numbers = [column for column in section.columns if column.kind != "text"]
    for column in numbers:
        table.add_column(column.title, justify="right", overflow="fold")
    for row in section.rows:
        group = []
        if varying:
            first, *rest = (cell(row, c) for c in varying)
            group = [first + ("\n" + " · ".join(rest) if rest else "")]
        table.add_row(*group, *(cell(row, column, "\n") for column in numbers))
    return table


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


def write_csv(out: TextIO, names: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write a header and the rows; return how many rows."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    count = 0
    for row in rows:
        writer.writerow([plain(value) for value in row])
        count += 1
    return count


def write_jsonl(out: TextIO, names: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """One JSON object a line; return how many rows."""
    count = 0
    for row in rows:
        record = {name: plain(value) for name, value in zip(names, row, strict=True)}
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count


def rows_table(names: Sequence[str], rows: Iterable[Sequence[Any]], title: str | None) -> Table:
    table = Table(title=title, title_justify="left")
    for name in names:
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(*("NULL" if value is None else str(plain(value)) for value in row))
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
