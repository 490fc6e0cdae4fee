"""How well each LLM seat of a run was served: its decisions, how many fell back because the model
gave no usable answer, and what went wrong with its calls. A seat that fell back often did not
play as the model: the run's summary says so in a warning instead of passing its numbers off as
the model's."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field

# Above this share of fallbacks a seat's numbers say more about its connection than its play.
WARN_FALLBACK_RATE = 0.10
# The problem name of a call that was answered but could not be used (no JSON, an illegal move).
UNUSABLE = "unusable answer"

_HEALTH_SQL = """
WITH picked AS (
    SELECT s.match_id, s.seat, s.name, s.model
    FROM matches m JOIN seats s ON s.match_id = m.id
    WHERE m.batch = :batch AND (:matches IS NULL OR m.batch_index < :matches)
      AND s.kind = 'llm'
),
decided AS (
    SELECT p.seat, p.name, p.model, count(d.seq) AS decisions,
           coalesce(sum(d.source = 'fallback'), 0) AS fallbacks
    FROM picked p
    LEFT JOIN decisions d ON d.match_id = p.match_id AND d.seat = p.seat
    GROUP BY p.seat, p.name, p.model
),
failed AS (
    SELECT p.seat, p.name, p.model, coalesce(c.error_class, :unusable) AS problem,
           count(*) AS calls
    FROM picked p
    JOIN llm_calls c ON c.match_id = p.match_id AND c.seat = p.seat
    WHERE c.error_class IS NOT NULL OR c.valid = 0
    GROUP BY p.seat, p.name, p.model, problem
)
SELECT d.seat, d.name, d.model, d.decisions, d.fallbacks,
       (SELECT json_group_object(f.problem, f.calls) FROM failed f
        WHERE f.seat = d.seat AND f.name = d.name AND f.model = d.model) AS problems
FROM decided d
ORDER BY d.seat, d.name
"""


@dataclass(frozen=True)
class SeatHealth:
    """One LLM seat over the matches of a batch."""

    seat: int
    name: str
    model: str
    decisions: int
    fallbacks: int  # decisions taken by the engine's fallback (`decisions.source = 'fallback'`)
    # calls that failed, by error class, and calls answered unusably (`UNUSABLE`), most first
    problems: dict[str, int] = field(default_factory=dict)

    @property
    def fallback_rate(self) -> float:
        return self.fallbacks / self.decisions if self.decisions else 0.0

    @property
    def worrying(self) -> bool:
        return self.fallback_rate > WARN_FALLBACK_RATE


def llm_seat_health(
    conn: sqlite3.Connection, batch: str, matches: int | None = None
) -> list[SeatHealth]:
    """Per LLM seat (seat number, name and model) of the batch's first `matches` matches (all
    of them with None), in seat order. Reads what is committed: `run_batch` syncs the store
    before it returns."""
    bound = {"batch": batch, "matches": matches, "unusable": UNUSABLE}
    rows = conn.execute(_HEALTH_SQL, bound).fetchall()
    found = []
    for seat, name, model, decisions, fallbacks, problems in rows:
        counts: dict[str, int] = json.loads(problems) if problems else {}
        ordered = dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
        found.append(SeatHealth(seat, name, model, decisions, fallbacks, ordered))
    return found


def percent(rate: float) -> str:
    """ "37.5%", "10.4%", "100%": one decimal, so a rate just past the warning does not read as
    the warning's own threshold."""
    return f"{rate:.1%}".replace(".0%", "%")


def problems_text(problems: dict[str, int]) -> str:
    """e.g. "AuthenticationError ×12, unusable answer ×1"."""
    return ", ".join(f"{problem} ×{count}" for problem, count in problems.items())


def health_lines(health: Sequence[SeatHealth]) -> list[str]:
    """One line per LLM seat, e.g. "seat 0 mini (openai/gpt-4o-mini): 40 decisions, 2 fallbacks
    (5%) · Timeout ×2"."""
    lines = []
    for each in health:
        who = each.name if each.name == each.model else f"{each.name} ({each.model})"
        line = (
            f"seat {each.seat} {who}: {each.decisions} decisions, {each.fallbacks} fallbacks "
            f"({percent(each.fallback_rate)})"
        )
        if each.problems:
            line += f" · {problems_text(each.problems)}"
        lines.append(line)
    return lines


def health_warnings(health: Sequence[SeatHealth]) -> list[str]:
    """A warning for each seat that fell back on more than `WARN_FALLBACK_RATE` of its
    decisions."""
    warnings = []
    for each in health:
        if not each.worrying:
            continue
        why = f" ({problems_text(each.problems)})" if each.problems else ""
        warnings.append(
            f"warning: seat {each.seat} {each.model} fell back on {percent(each.fallback_rate)} of "
            f"its decisions{why}: its numbers are not the model's play"
        )
    return warnings
