"""The views' interval SQL over four parameters, and what its rows must equal: the functions of
`arena.analysis.stats`. The SQLite tests (test_tool_grants) and the DuckDB ones
(test_duckdb_views) run the same statements and checks in their engine."""

from __future__ import annotations

from typing import Any

import pytest

from arena.analysis import stats
from arena.store.views import difference, paired_difference, paired_phi, rate

# Two rates x1/n1 and x2/n2 (columns a, b) and their difference d, each with its interval.
RATES_SQL = (
    f"SELECT *, {difference('d', 'a', 'b')} FROM (SELECT {rate('a', 'x1', 'n1')},"
    f" {rate('b', 'x2', 'n2')} FROM (SELECT ? AS x1, ? AS n1, ? AS x2, ? AS n2))"
)

# The paired difference d of a 2×2 table (both, first only, second only, neither).
PAIRED_SQL = (
    f"SELECT {paired_difference('d', 'p1', 'p2', 'phi')} FROM (SELECT *,"
    f" {rate('p1', 'b + f', 'b + f + s + n')}, {rate('p2', 'b + s', 'b + f + s + n')},"
    f" {paired_phi('b', 'f', 's', 'n')} AS phi FROM (SELECT ? AS b, ? AS f, ? AS s, ? AS n))"
)


def check_rates(row: dict[str, Any], x1: int, n1: int, x2: int, n2: int) -> None:
    """A row of RATES_SQL holds the Wilson intervals and Newcombe's difference interval."""
    for name, x, n in (("a", x1, n1), ("b", x2, n2)):
        interval = stats.wilson(x, n)
        if interval is None:
            assert (row[name], row[f"{name}_low"], row[f"{name}_high"]) == (None, None, None)
        else:
            assert (row[f"{name}_low"], row[f"{name}_high"]) == pytest.approx(
                (interval.low, interval.high), abs=1e-12
            )
    newcombe = stats.newcombe_difference(x1, n1, x2, n2)
    if newcombe is None:
        assert row["d_low"] is None
    else:
        assert (row["d_low"], row["d_high"]) == pytest.approx(
            (newcombe.low, newcombe.high), abs=1e-12
        )


def check_paired(row: dict[str, Any], both: int, first: int, second: int, neither: int) -> None:
    """A row of PAIRED_SQL holds Newcombe's interval for the paired difference."""
    interval = stats.newcombe_paired_difference(both, first, second, neither)
    if interval is None:
        assert row["d_low"] is None
    else:
        assert (row["d_low"], row["d_high"]) == pytest.approx(
            (interval.low, interval.high), abs=1e-12
        )
