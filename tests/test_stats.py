"""The report's statistics (`arena.analysis.stats`) against published values and invariants.

Published values carry their source in a comment; the rest are properties (hypothesis) and
references computed here independently of the module: exact rational arithmetic for the
exact tests, closed forms, a quadrature of the density and the standard library's NormalDist
for Student's t, and `statistics.stdev` for the standard deviation.
"""

from __future__ import annotations

import math
import statistics
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arena.analysis.stats import (
    Z95,
    Interval,
    MeanSummary,
    fisher_exact,
    mcnemar_exact,
    mean_interval,
    newcombe_difference,
    newcombe_paired_difference,
    sd_from_sums,
    t_quantile,
    welch_difference,
    wilson,
)

FOUR_DECIMALS = 5e-5
FEW = settings(max_examples=40, deadline=None)

counts = st.integers(min_value=0, max_value=60)


@st.composite
def proportions(draw: st.DrawFn, max_n: int = 200) -> tuple[int, int]:
    n = draw(st.integers(min_value=1, max_value=max_n))
    return draw(st.integers(min_value=0, max_value=n)), n


def assert_interval(got: Interval | None, low: float, high: float, tolerance: float) -> None:
    assert got is not None
    assert got.low == pytest.approx(low, abs=tolerance)
    assert got.high == pytest.approx(high, abs=tolerance)


# --- Wilson -----------------------------------------------------------------------------------


# Newcombe 1998, "Two-sided confidence intervals for the single proportion: comparison of seven
# methods", Stat Med 17:857-872, Table I, method 3 (score interval without continuity correction).
@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_matches_newcombe_1998_table(
    successes: int, n: int, low: float, high: float
) -> None:
    assert_interval(wilson(successes, n), low, high, FOUR_DECIMALS)


def test_wilson_is_exactly_zero_and_one_at_the_ends() -> None:
    # At x = 0 the upper limit is z^2 / (n + z^2) (the lower root of the score equation is 0).
    assert wilson(0, 10) == Interval(0.0, Z95**2 / (10 + Z95**2))
    assert wilson(10, 10) == Interval(10 / (10 + Z95**2), 1.0)


def test_wilson_of_no_observations_is_none() -> None:
    assert wilson(0, 0) is None


@FEW
@given(proportions(), st.floats(min_value=0.1, max_value=4.0))
def test_wilson_contains_the_estimate_and_stays_in_the_unit_interval(
    counted: tuple[int, int], z: float
) -> None:
    successes, n = counted
    interval = wilson(successes, n, z)
    assert interval is not None
    assert 0.0 <= interval.low <= successes / n <= interval.high <= 1.0


@FEW
@given(proportions(), st.floats(min_value=0.1, max_value=3.0), st.floats(0.01, 2.0))
def test_wilson_widens_as_z_grows(counted: tuple[int, int], z: float, more: float) -> None:
    successes, n = counted
    narrow = wilson(successes, n, z)
    wide = wilson(successes, n, z + more)
    assert narrow is not None and wide is not None
    assert wide.low <= narrow.low and narrow.high <= wide.high
    assert wide.high - wide.low > narrow.high - narrow.low


# --- Newcombe, independent proportions --------------------------------------------------------


# Newcombe 1998, "Interval estimation for the difference between independent proportions:
# comparison of eleven methods", Stat Med 17:873-890, Table II, method 10, examples (a)-(h).
# Each row was also recomputed here by hand from the method-10 formula with the Wilson limits.
# Example (c), 6/7 - 2/7, gives 0.0582 to 0.8062 by the formula (the figure 0.0342 to 0.8082
# sometimes quoted for it does not follow from method 10).
@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2", "low", "high"),
    [
        (56, 70, 48, 80, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.1705, 0.8090),
        (6, 7, 2, 7, 0.0582, 0.8062),
        (5, 56, 0, 29, -0.0381, 0.1926),
        (0, 10, 0, 20, -0.1611, 0.2775),
        (0, 10, 0, 10, -0.2775, 0.2775),
        (10, 10, 0, 20, 0.6791, 1.0000),
        (10, 10, 0, 10, 0.6075, 1.0000),
    ],
)
def test_newcombe_difference_matches_newcombe_1998_table_ii(
    x1: int, n1: int, x2: int, n2: int, low: float, high: float
) -> None:
    assert_interval(newcombe_difference(x1, n1, x2, n2), low, high, FOUR_DECIMALS)


def test_newcombe_difference_needs_both_groups() -> None:
    assert newcombe_difference(1, 10, 0, 0) is None
    assert newcombe_difference(0, 0, 1, 10) is None


@FEW
@given(proportions(), proportions())
def test_newcombe_difference_contains_the_difference_and_mirrors_when_swapped(
    first: tuple[int, int], second: tuple[int, int]
) -> None:
    (x1, n1), (x2, n2) = first, second
    interval = newcombe_difference(x1, n1, x2, n2)
    swapped = newcombe_difference(x2, n2, x1, n1)
    assert interval is not None and swapped is not None
    assert -1.0 <= interval.low <= x1 / n1 - x2 / n2 <= interval.high <= 1.0
    assert swapped.low == pytest.approx(-interval.high, abs=1e-12)
    assert swapped.high == pytest.approx(-interval.low, abs=1e-12)


@FEW
@given(proportions(), proportions(), st.floats(min_value=0.5, max_value=2.5))
def test_newcombe_difference_widens_as_z_grows(
    first: tuple[int, int], second: tuple[int, int], z: float
) -> None:
    narrow = newcombe_difference(*first, *second, z=z)
    wide = newcombe_difference(*first, *second, z=z + 0.5)
    assert narrow is not None and wide is not None
    assert wide.low <= narrow.low and narrow.high <= wide.high


# --- Newcombe, paired proportions -------------------------------------------------------------


def test_newcombe_paired_matches_fagerland_2014_airway_example() -> None:
    # Fagerland, Lydersen & Laake 2014, "Recommended tests and confidence intervals for paired
    # binomial proportions", Stat Med 33:2850-2875: airway hyper-responsiveness before and after
    # stem cell transplantation (Bentur et al. 2009), both 1, first only 1, second only 7,
    # neither 12 (n = 21). Newcombe's square-and-add interval: -0.507 to -0.026.
    # By hand: ad - bc = 12 - 7 = 5 lies in [0, n/2], so the corrected phi is 0 and the interval
    # is method 10 for 2/21 - 8/21 treated as independent.
    interval = newcombe_paired_difference(1, 1, 7, 12)
    assert_interval(interval, -0.507, -0.026, 5e-4)
    assert interval == newcombe_difference(2, 21, 8, 21)


def test_newcombe_paired_matches_fagerland_2017_cavo_example() -> None:
    # Fagerland, Lydersen & Laake 2017, Statistical Analysis of Contingency Tables, chapter 8:
    # complete response before and after consolidation therapy (Cavo et al. 2012), table
    # [[59, 6], [16, 80]]; the Newcombe square-and-add interval -0.1186 to -0.0046, as printed by
    # the authors' R package contingencytables (its chapter 8 tests). Here ad - bc = 4624 > n/2,
    # so the continuity-corrected phi (4624 - 80.5) / sqrt(65 * 96 * 75 * 86) is used.
    assert_interval(newcombe_paired_difference(59, 6, 16, 80), -0.1186, -0.0046, FOUR_DECIMALS)


def test_newcombe_paired_keeps_a_negative_phi_uncorrected() -> None:
    # By hand: both 1, first only 4, second only 4, neither 1 (n = 10): p1 = p2 = 1/2, ad - bc =
    # -15 < 0, so phi = -15 / sqrt(5 * 5 * 5 * 5) = -0.6. Wilson for 5/10 is 0.5 -+ w with
    # w = z sqrt(z^2 + 10) / (2 (10 + z^2)) = 1.959964 * 3.720411 / 27.682918 = 0.263407, and
    # each limit is -+ sqrt(w^2 + 2 * 0.6 * w^2 + w^2) = -+ w sqrt(3.2) = -+ 0.471197 (with
    # phi = 0 it would be -+ w sqrt(2) = -+ 0.372515).
    assert_interval(newcombe_paired_difference(1, 4, 4, 1), -0.471197, 0.471197, 1e-6)


def test_newcombe_paired_of_no_pairs_is_none() -> None:
    assert newcombe_paired_difference(0, 0, 0, 0) is None


@st.composite
def paired_tables(draw: st.DrawFn) -> tuple[int, int, int, int]:
    table = draw(st.tuples(counts, counts, counts, counts))
    if sum(table) == 0:
        return (0, 1, 0, 0)
    return table


@FEW
@given(paired_tables())
def test_newcombe_paired_contains_the_difference_and_mirrors_when_swapped(
    table: tuple[int, int, int, int],
) -> None:
    both, first_only, second_only, neither = table
    n = sum(table)
    interval = newcombe_paired_difference(both, first_only, second_only, neither)
    swapped = newcombe_paired_difference(both, second_only, first_only, neither)
    assert interval is not None and swapped is not None
    assert -1.0 <= interval.low <= (first_only - second_only) / n <= interval.high <= 1.0
    assert swapped.low == pytest.approx(-interval.high, abs=1e-12)
    assert swapped.high == pytest.approx(-interval.low, abs=1e-12)


# --- Fisher's exact test ----------------------------------------------------------------------


def exact_fisher(a: int, b: int, c: int, d: int) -> Fraction:
    """The two-sided p-value by exact rational arithmetic: the tables with the observed margins
    whose hypergeometric weight C(r1, x) C(r2, c1 - x) is at most the observed one."""
    row1, row2, column1 = a + b, c + d, a + c
    weights = [
        math.comb(row1, x) * math.comb(row2, column1 - x)
        for x in range(max(0, column1 - row2), min(row1, column1) + 1)
    ]
    observed = math.comb(row1, a) * math.comb(row2, c)
    return Fraction(sum(w for w in weights if w <= observed), sum(weights))


def test_fisher_matches_r_tea_tasting_example() -> None:
    # R documentation, fisher.test, "Agresti (1990, p. 61f; 2002, p. 91) Fisher's Tea Drinker":
    # TeaTasting = [[3, 1], [1, 3]]. The documented call is one-sided (alternative = "greater",
    # p = 0.2429 = 17/70); the two-sided p-value is 0.4857 = 34/70: of the five tables with these
    # margins (weights 1, 16, 36, 16, 1 out of 70) all but the middle one count.
    assert fisher_exact(3, 1, 1, 3) == pytest.approx(0.4857, abs=FOUR_DECIMALS)
    assert fisher_exact(3, 1, 1, 3) == pytest.approx(34 / 70, rel=1e-9)


def test_fisher_matches_r_convictions_example() -> None:
    # R documentation, fisher.test, "Fisher (1962, 1970), Criminal convictions of like-sex twins":
    # Convictions = [[2, 15], [10, 3]]; fisher.test(Convictions, conf.int = FALSE) gives
    # p-value = 0.0005367 (the one-sided alternative = "less" gives 0.0004652). Exactly
    # 3571/6653325 by enumeration.
    assert fisher_exact(2, 15, 10, 3) == pytest.approx(0.0005367, abs=5e-8)
    assert fisher_exact(2, 15, 10, 3) == pytest.approx(3571 / 6653325, rel=1e-9)


@pytest.mark.parametrize(
    "table",
    [
        (20_000, 100, 19_900, 200),  # tens of thousands, a p-value near 1e-8
        (30_000, 45, 29_950, 60),
        (450, 520, 500, 470),  # nearly a thousand tables with the same margins
    ],
)
def test_fisher_with_large_counts_matches_exact_rational_arithmetic(
    table: tuple[int, int, int, int],
) -> None:
    assert fisher_exact(*table) == pytest.approx(float(exact_fisher(*table)), rel=1e-8)


@FEW
@given(counts, counts, counts, counts)
def test_fisher_matches_exact_rational_arithmetic(a: int, b: int, c: int, d: int) -> None:
    assert fisher_exact(a, b, c, d) == pytest.approx(float(exact_fisher(a, b, c, d)), rel=1e-9)


@FEW
@given(counts, counts, counts, counts)
def test_fisher_p_is_a_probability_symmetric_in_rows_and_columns(
    a: int, b: int, c: int, d: int
) -> None:
    p = fisher_exact(a, b, c, d)
    assert 0.0 < p <= 1.0
    assert fisher_exact(c, d, a, b) == pytest.approx(p, rel=1e-9)  # rows swapped
    assert fisher_exact(b, a, d, c) == pytest.approx(p, rel=1e-9)  # columns swapped
    assert fisher_exact(a, c, b, d) == pytest.approx(p, rel=1e-9)  # transposed


# --- McNemar's exact test ---------------------------------------------------------------------


def test_mcnemar_matches_fagerland_2013_airway_example() -> None:
    # Fagerland, Lydersen & Laake 2013, "The McNemar test for binary matched-pairs data: mid-p and
    # asymptotic are better than exact conditional", BMC Med Res Methodol 13:91: airway
    # hyper-responsiveness, b = 1, c = 7: exact conditional p = 0.070 (2 * 9/256 = 18/256).
    assert mcnemar_exact(1, 7) == pytest.approx(0.070, abs=5e-4)
    assert mcnemar_exact(1, 7) == pytest.approx(18 / 256, rel=1e-12)


def test_mcnemar_matches_fagerland_2017_cavo_example() -> None:
    # Fagerland, Lydersen & Laake 2017, Statistical Analysis of Contingency Tables, chapter 8,
    # Cavo et al. (2012): b = 6, c = 16, McNemar exact conditional P = 0.052479 (as printed by
    # contingencytables). By hand: 2 * (1 + 22 + 231 + 1540 + 7315 + 26334 + 74613) / 2^22.
    assert mcnemar_exact(6, 16) == pytest.approx(0.052479, abs=5e-7)
    assert mcnemar_exact(6, 16) == pytest.approx(2 * 110_056 / 2**22, rel=1e-12)


def test_mcnemar_without_discordant_pairs_is_one() -> None:
    assert mcnemar_exact(0, 0) == 1.0


@FEW
@given(st.integers(0, 300), st.integers(0, 300))
def test_mcnemar_is_the_doubled_binomial_tail(first_only: int, second_only: int) -> None:
    total = first_only + second_only
    tail = Fraction(
        sum(math.comb(total, k) for k in range(min(first_only, second_only) + 1)), 2**total
    )
    expected = min(Fraction(1), 2 * tail)
    p = mcnemar_exact(first_only, second_only)
    assert p == pytest.approx(float(expected), rel=1e-9)
    assert 0.0 < p <= 1.0
    assert mcnemar_exact(second_only, first_only) == p


@FEW
@given(st.integers(0, 500))
def test_mcnemar_is_one_when_the_discordant_pairs_split_evenly(split: int) -> None:
    assert mcnemar_exact(split, split) == 1.0


# --- Student's t ------------------------------------------------------------------------------


# Any table of Student's t quantiles (three decimals).
@pytest.mark.parametrize(
    ("p", "df", "expected"),
    [
        (0.975, 1, 12.706),
        (0.975, 2, 4.303),
        (0.975, 4, 2.776),
        (0.975, 10, 2.228),
        (0.975, 30, 2.042),
        (0.975, 1000, 1.962),
        (0.95, 5, 2.015),
        (0.995, 1, 63.657),
        (0.025, 10, -2.228),
    ],
)
def test_t_quantile_matches_the_t_table(p: float, df: float, expected: float) -> None:
    assert t_quantile(p, df) == pytest.approx(expected, abs=5e-4)


@FEW
@given(st.floats(min_value=1e-6, max_value=1 - 1e-6))
def test_t_quantile_matches_the_closed_forms_for_one_and_two_df(p: float) -> None:
    # With 1 df, t is Cauchy: F^-1(p) = tan(pi (p - 1/2)). With 2 df, F(t) = 1/2 + t / (2
    # sqrt(2 + t^2)), so F^-1(p) = (2p - 1) / sqrt(2 p (1 - p)).
    assert t_quantile(p, 1) == pytest.approx(math.tan(math.pi * (p - 0.5)), rel=1e-9, abs=1e-12)
    two = (2 * p - 1) / math.sqrt(2 * p * (1 - p))
    assert t_quantile(p, 2) == pytest.approx(two, rel=1e-9, abs=1e-12)


def t_cdf_by_quadrature(t: float, df: int) -> float:
    """F(t) for integer df, by Simpson's rule on t = sqrt(df) tan(theta), where the density
    becomes c * cos(theta)^(df - 1) with c = Gamma((df + 1)/2) / (sqrt(pi) Gamma(df/2))."""
    theta = math.atan(t / math.sqrt(df))
    steps = 2000
    h = theta / steps
    total = 0.0
    for i in range(steps + 1):
        weight = 1 if i in (0, steps) else (4 if i % 2 else 2)
        total += weight * math.cos(i * h) ** (df - 1)
    scale = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(math.pi)
    return 0.5 + scale * total * h / 3


@settings(max_examples=25, deadline=None)
@given(st.floats(min_value=0.001, max_value=0.999), st.integers(min_value=1, max_value=60))
def test_t_quantile_inverts_the_t_distribution_function(p: float, df: int) -> None:
    assert t_cdf_by_quadrature(t_quantile(p, df), df) == pytest.approx(p, abs=1e-9)


@FEW
@given(
    st.floats(min_value=0.001, max_value=0.999),
    st.floats(min_value=0.001, max_value=0.999),
    st.floats(min_value=0.2, max_value=500),
)
def test_t_quantile_is_increasing_in_p_and_antisymmetric(p: float, q: float, df: float) -> None:
    low, high = sorted((p, q))
    if low < high:
        assert t_quantile(low, df) < t_quantile(high, df)
    assert t_quantile(1 - p, df) == pytest.approx(-t_quantile(p, df), rel=1e-9, abs=1e-12)


@FEW
@given(st.floats(min_value=0.3, max_value=1e4), st.floats(min_value=1.01, max_value=100))
def test_t_quantile_decreases_in_df_towards_the_normal_quantile(df: float, factor: float) -> None:
    assert t_quantile(0.975, df) > t_quantile(0.975, df * factor) > Z95


def large_df_expansion(p: float, df: float) -> float:
    """Abramowitz & Stegun 1964, 26.7.5: t_p = z + g1/df + g2/df^2 + g3/df^3 + g4/df^4 around
    the normal quantile z (here from the standard library's NormalDist)."""
    z = statistics.NormalDist().inv_cdf(p)
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4


def test_z95_is_the_normal_quantile() -> None:
    assert statistics.NormalDist().inv_cdf(0.975) == pytest.approx(Z95, rel=1e-15)


@pytest.mark.parametrize("df", [1e3, 1e5, 1e6, 1e7, 1e12])
@pytest.mark.parametrize("p", [1e-9, 0.01, 0.3, 0.975, 0.999999])
def test_t_quantile_follows_the_large_df_expansion(p: float, df: float) -> None:
    assert t_quantile(p, df) == pytest.approx(large_df_expansion(p, df), abs=1e-9)


def test_t_quantile_accepts_fractional_df_between_its_neighbours() -> None:
    assert t_quantile(0.975, 18) < t_quantile(0.975, 17.776) < t_quantile(0.975, 17)


# --- means ------------------------------------------------------------------------------------

# R's `sleep` data (Cushny & Peebles 1905, as in Student 1908): extra hours of sleep with two
# drugs in the same ten patients.
SLEEP_DRUG_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_DRUG_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


def test_welch_matches_r_sleep_example() -> None:
    # R documentation, t.test: t.test(extra ~ group, data = sleep) gives the Welch interval
    # -3.3654832 to 0.2054832 (df = 17.776) for mean(drug 1) - mean(drug 2) = 0.75 - 2.33.
    interval = welch_difference(
        10,
        statistics.fmean(SLEEP_DRUG_1),
        statistics.stdev(SLEEP_DRUG_1),
        10,
        statistics.fmean(SLEEP_DRUG_2),
        statistics.stdev(SLEEP_DRUG_2),
    )
    assert_interval(interval, -3.3654832, 0.2054832, 5e-7)


def test_mean_interval_matches_r_paired_sleep_example() -> None:
    # R documentation, t.test: the paired test on sleep gives the interval -2.4598858 to
    # -0.7001142 for the mean difference -1.58 (df = 9).
    differences = [one - two for one, two in zip(SLEEP_DRUG_1, SLEEP_DRUG_2, strict=True)]
    summary = mean_interval(10, statistics.fmean(differences), statistics.stdev(differences))
    assert summary.n == 10
    assert summary.mean == pytest.approx(-1.58, abs=1e-12)
    assert_interval(summary.interval, -2.4598858, -0.7001142, 5e-7)


def test_mean_interval_by_hand_at_two_df_and_ninety_percent() -> None:
    # n = 3, sd = 1: t(0.95, 2) = 2.919986 (t table), half-width 2.919986 / sqrt(3) = 1.685854.
    summary = mean_interval(3, 10.0, 1.0, level=0.90)
    assert_interval(summary.interval, 10 - 1.685854, 10 + 1.685854, 1e-6)


def test_mean_interval_without_enough_observations_says_so() -> None:
    assert mean_interval(0, 0.0, 0.0) == MeanSummary(0, None, None)
    assert mean_interval(1, 4.5, 0.0) == MeanSummary(1, 4.5, None)
    assert mean_interval(5, 4.5, math.nan) == MeanSummary(5, 4.5, None)
    assert mean_interval(5, 4.5, 0.0) == MeanSummary(5, 4.5, Interval(4.5, 4.5))


def test_welch_with_one_constant_group_uses_the_other_groups_df() -> None:
    # By hand: sd2 = 0 leaves v1 = sd1^2 / n1 only, and the Welch-Satterthwaite df reduces to
    # n1 - 1 = 4: 1 -+ t(0.975, 4) * 2 / sqrt(5) = 1 -+ 2.776445 * 0.894427 = 1 -+ 2.483328.
    assert_interval(welch_difference(5, 1.0, 2.0, 7, 0.0, 0.0), -1.483328, 3.483328, 1e-6)


def test_welch_without_spread_or_without_pairs() -> None:
    assert welch_difference(4, 3.0, 0.0, 6, 1.0, 0.0) == Interval(2.0, 2.0)
    assert welch_difference(1, 3.0, 0.0, 6, 1.0, 1.0) is None
    assert welch_difference(6, 3.0, 1.0, 1, 1.0, 0.0) is None
    assert welch_difference(6, 3.0, math.nan, 6, 1.0, 1.0) is None


@FEW
@given(
    st.integers(2, 50),
    st.floats(-100, 100),
    st.floats(0.01, 50),
    st.integers(2, 50),
    st.floats(-100, 100),
    st.floats(0.01, 50),
)
def test_welch_contains_the_difference_and_mirrors_when_swapped(
    n1: int, mean1: float, sd1: float, n2: int, mean2: float, sd2: float
) -> None:
    interval = welch_difference(n1, mean1, sd1, n2, mean2, sd2)
    swapped = welch_difference(n2, mean2, sd2, n1, mean1, sd1)
    assert interval is not None and swapped is not None
    assert interval.low < mean1 - mean2 < interval.high
    assert swapped.low == pytest.approx(-interval.high, rel=1e-9, abs=1e-9)
    assert swapped.high == pytest.approx(-interval.low, rel=1e-9, abs=1e-9)


# --- standard deviation from sums ---------------------------------------------------------------


def test_sd_from_sums_by_hand() -> None:
    # 2, 4, 4, 4, 5, 5, 7, 9: sum 40, sum of squares 232, (232 - 1600/8) / 7 = 32/7.
    assert sd_from_sums(8, 40.0, 232.0) == pytest.approx(math.sqrt(32 / 7), rel=1e-12)


def test_sd_from_sums_clamps_a_rounding_negative_variance_to_zero() -> None:
    values = [0.1, 0.1, 0.1]
    total, squares = sum(values), sum(v * v for v in values)
    assert squares - total * total / 3 < 0  # the raw formula goes below zero here
    assert sd_from_sums(3, total, squares) == 0.0


def test_sd_from_sums_needs_two_values() -> None:
    assert sd_from_sums(0, 0.0, 0.0) is None
    assert sd_from_sums(1, 3.0, 9.0) is None


@FEW
@given(st.lists(st.floats(min_value=-1e3, max_value=1e3), min_size=2, max_size=50))
def test_sd_from_sums_agrees_with_statistics_stdev(values: list[float]) -> None:
    n = len(values)
    squares = math.fsum(v * v for v in values)
    sd = sd_from_sums(n, math.fsum(values), squares)
    assert sd is not None
    expected = statistics.stdev(values)
    # The sums formula loses about n * eps of the sum of squares to cancellation.
    assert abs(sd * sd - expected * expected) <= 1e-12 * (squares + 1e-300) * n / (n - 1)


# --- input errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: wilson(-1, 5), "successes must be a non-negative count"),
        (lambda: wilson(1, -5), "n must be a non-negative count"),
        (lambda: wilson(6, 5), r"successes \(6\) cannot exceed n \(5\)"),
        (lambda: wilson(1, 5, z=0.0), "z must be a positive finite number"),
        (lambda: newcombe_difference(1, 5, 7, 6), r"successes \(7\) cannot exceed n \(6\)"),
        (lambda: newcombe_paired_difference(1, -1, 0, 0), "first_only must be a non-negative"),
        (lambda: fisher_exact(1, 2, -3, 4), "c must be a non-negative count"),
        (lambda: mcnemar_exact(0, -2), "second_only must be a non-negative count"),
        (lambda: t_quantile(0.0, 5), "p must lie strictly between 0 and 1"),
        (lambda: t_quantile(1.0, 5), "p must lie strictly between 0 and 1"),
        (lambda: t_quantile(math.nan, 5), "p must lie strictly between 0 and 1"),
        (lambda: t_quantile(0.9, 0.0), "df must be a positive finite number"),
        (lambda: t_quantile(0.9, -3.0), "df must be a positive finite number"),
        (lambda: mean_interval(-1, 0.0, 1.0), "n must be a non-negative count"),
        (lambda: mean_interval(5, 0.0, -1.0), "sd must be a finite non-negative"),
        (lambda: mean_interval(5, 0.0, 1.0, level=1.0), "level must lie strictly between"),
        (lambda: welch_difference(5, 0.0, -1.0, 5, 0.0, 1.0), "sd1 must be a finite"),
        (lambda: welch_difference(5, 0.0, 1.0, 5, 0.0, 1.0, level=0.0), "level must lie"),
        (lambda: sd_from_sums(-2, 0.0, 0.0), "n must be a non-negative count"),
        (lambda: sd_from_sums(3, 1.0, -1.0), "total_of_squares must be non-negative"),
    ],
)
def test_bad_arguments_raise_value_error_naming_the_problem(call: object, message: str) -> None:
    assert callable(call)
    with pytest.raises(ValueError, match=message):
        call()
