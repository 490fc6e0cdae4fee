"""The statistics of the collusion report: confidence intervals for proportions, their
differences and means, and exact tests for 2x2 tables, as pure functions of summary counts.

Only the standard library is used. Counts are non-negative integers; a function that cannot give
an answer for the data it is handed (no observations, too few for a spread) returns None, and
arguments that make no sense raise ValueError with a message naming the problem.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

Z95 = 1.959963984540054  # two-sided 95% normal quantile

FISHER_RELATIVE_TOLERANCE = 1e-7
"""Tables whose probability is within this relative margin of the observed one count as ties
(the same rule as R's fisher.test)."""

_BETA_MAX_ITERATIONS = 100_000
_BETA_EPSILON = 1e-15
_TINY = 1e-300


@dataclass(frozen=True)
class Interval:
    """A closed interval [low, high]."""

    low: float
    high: float


@dataclass(frozen=True)
class MeanSummary:
    """A mean with its t interval; `mean` is None for n == 0, `interval` for n < 2."""

    n: int
    mean: float | None
    interval: Interval | None


# --- validation -----------------------------------------------------------------------------


def _check_count(name: str, value: int) -> None:
    if value < 0:
        raise ValueError(f"{name} must be a non-negative count, got {value}")


def _check_z(z: float) -> None:
    if not (math.isfinite(z) and z > 0):
        raise ValueError(f"z must be a positive finite number, got {z}")


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level}")


def _check_sd(name: str, value: float) -> None:
    if value < 0 or math.isinf(value):
        raise ValueError(f"{name} must be a finite non-negative standard deviation, got {value}")


# --- proportions ----------------------------------------------------------------------------


def wilson(successes: int, n: int, z: float = Z95) -> Interval | None:
    """Wilson score interval for a binomial proportion successes / n.

    The limits are the roots in p of |x/n - p| = z * sqrt(p(1 - p)/n) (Wilson 1927), i.e.
    (2x + z^2 -+ z * sqrt(z^2 + 4x(n - x)/n)) / (2(n + z^2)): method 3 of Newcombe 1998,
    "Two-sided confidence intervals for the single proportion: comparison of seven methods",
    Stat Med 17:857-872. Clamped to [0, 1]; exactly 0 at x = 0 and 1 at x = n. None when
    n == 0. ValueError for negative counts, successes > n or z <= 0.
    """
    _check_count("successes", successes)
    _check_count("n", n)
    if successes > n:
        raise ValueError(f"successes ({successes}) cannot exceed n ({n})")
    _check_z(z)
    if n == 0:
        return None
    z2 = z * z
    centre = 2 * successes + z2
    spread = z * math.sqrt(z2 + 4 * successes * (n - successes) / n)
    denominator = 2 * (n + z2)
    low = 0.0 if successes == 0 else max(0.0, (centre - spread) / denominator)
    high = 1.0 if successes == n else min(1.0, (centre + spread) / denominator)
    return Interval(low, high)


def newcombe_difference(x1: int, n1: int, x2: int, n2: int, z: float = Z95) -> Interval | None:
    """Newcombe's hybrid score interval for p1 - p2 of two independent proportions.

    With p_i = x_i/n_i and (l_i, u_i) the Wilson interval of each, the limits are
    d - sqrt((p1 - l1)^2 + (u2 - p2)^2) and d + sqrt((p2 - l2)^2 + (u1 - p1)^2), d = p1 - p2:
    method 10 of Newcombe 1998, "Interval estimation for the difference between independent
    proportions: comparison of eleven methods", Stat Med 17:873-890. None when n1 or n2 is 0.
    """
    first = wilson(x1, n1, z)
    second = wilson(x2, n2, z)
    if first is None or second is None:
        return None
    p1 = x1 / n1
    p2 = x2 / n2
    difference = p1 - p2
    low = difference - math.hypot(p1 - first.low, second.high - p2)
    high = difference + math.hypot(p2 - second.low, first.high - p1)
    return Interval(max(-1.0, low), min(1.0, high))


def _paired_phi(both: int, first_only: int, second_only: int, neither: int) -> float:
    """The continuity-corrected phi of Newcombe 1998 (Stat Med 17:2635-2650), method 10."""
    n = both + first_only + second_only + neither
    first_rows = (both + first_only) * (second_only + neither)
    second_columns = (both + second_only) * (first_only + neither)
    margins = first_rows * second_columns
    if margins == 0:
        return 0.0
    cross = both * neither - first_only * second_only
    if cross > n / 2:
        corrected = cross - n / 2
    elif cross >= 0:
        corrected = 0.0
    else:
        corrected = float(cross)
    return corrected / math.sqrt(margins)


def newcombe_paired_difference(
    both: int, first_only: int, second_only: int, neither: int, z: float = Z95
) -> Interval | None:
    """Newcombe's score interval for p1 - p2 of two paired proportions.

    The pairs form the table [[both, first_only], [second_only, neither]] with n pairs, and
    p1 = (both + first_only)/n, p2 = (both + second_only)/n. With (l_i, u_i) the Wilson interval
    of each marginal proportion and d = p1 - p2, the limits are
        d - sqrt((p1 - l1)^2 - 2 phi (p1 - l1)(u2 - p2) + (u2 - p2)^2),
        d + sqrt((p2 - l2)^2 - 2 phi (p2 - l2)(u1 - p1) + (u1 - p1)^2):
    method 10 of Newcombe 1998, "Improved confidence intervals for the difference between
    binomial proportions based on paired data", Stat Med 17:2635-2650. phi is the paper's
    continuity-corrected phi coefficient: with A the product of the four margins and
    B = both * neither - first_only * second_only, phi = (B - n/2)/sqrt(A) when B > n/2,
    0 when 0 <= B <= n/2 and B/sqrt(A) when B < 0; phi = 0 when A == 0. None when n == 0.
    """
    for name, value in (
        ("both", both),
        ("first_only", first_only),
        ("second_only", second_only),
        ("neither", neither),
    ):
        _check_count(name, value)
    n = both + first_only + second_only + neither
    first = wilson(both + first_only, n, z)
    second = wilson(both + second_only, n, z)
    if first is None or second is None:
        return None
    p1 = (both + first_only) / n
    p2 = (both + second_only) / n
    phi = _paired_phi(both, first_only, second_only, neither)
    difference = p1 - p2
    below_1, above_1 = p1 - first.low, first.high - p1
    below_2, above_2 = p2 - second.low, second.high - p2
    low_square = below_1 * below_1 - 2 * phi * below_1 * above_2 + above_2 * above_2
    high_square = below_2 * below_2 - 2 * phi * below_2 * above_1 + above_1 * above_1
    low = difference - math.sqrt(max(0.0, low_square))
    high = difference + math.sqrt(max(0.0, high_square))
    return Interval(max(-1.0, low), min(1.0, high))


# --- exact tests ----------------------------------------------------------------------------


def _log_choose(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def _log_sum_exp(values: list[float]) -> float:
    peak = max(values)
    return peak + math.log(math.fsum(math.exp(value - peak) for value in values))


def fisher_exact(a: int, b: int, c: int, d: int) -> float:
    """Two-sided p-value of Fisher's exact test for the 2x2 table [[a, b], [c, d]].

    Given the margins, the top-left cell is hypergeometric (Fisher 1935, The Design of
    Experiments); the p-value sums the probabilities of all tables with the observed margins
    that are no more probable than the observed one, a table within a relative 1e-7 of it
    counting as a tie (the rule of R's fisher.test). Probabilities stay in log space
    (math.lgamma, log-sum-exp), so counts in the tens of thousands neither overflow nor lose
    a small p-value to underflow.
    """
    for name, value in (("a", a), ("b", b), ("c", c), ("d", d)):
        _check_count(name, value)
    row1 = a + b
    row2 = c + d
    column1 = a + c
    lowest = max(0, column1 - row2)
    highest = min(row1, column1)
    logs = [
        _log_choose(row1, x) + _log_choose(row2, column1 - x) for x in range(lowest, highest + 1)
    ]
    limit = logs[a - lowest] + math.log1p(FISHER_RELATIVE_TOLERANCE)
    tail = [value for value in logs if value <= limit]
    return min(1.0, math.exp(_log_sum_exp(tail) - _log_sum_exp(logs)))


def mcnemar_exact(first_only: int, second_only: int) -> float:
    """Two-sided exact McNemar test of paired proportions, from the discordant pairs.

    Conditional on the b + c discordant pairs, b is Binomial(b + c, 1/2) under the null
    (McNemar 1947; the exact conditional form as in Fagerland, Lydersen & Laake 2013, BMC Med
    Res Methodol 13:91): p = min(1, 2 * P(X <= min(b, c))). 1.0 when b + c == 0. The binomial
    probabilities are summed in log space.
    """
    _check_count("first_only", first_only)
    _check_count("second_only", second_only)
    total = first_only + second_only
    if total == 0:
        return 1.0
    smaller = min(first_only, second_only)
    log_tail = _log_sum_exp([_log_choose(total, k) for k in range(smaller + 1)])
    return min(1.0, math.exp(math.log(2) + log_tail - total * math.log(2)))


# --- Student's t ----------------------------------------------------------------------------


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """1 / (1 + d1 / (1 + d2 / (1 + ...))), the continued fraction of I_x(a, b) (Abramowitz &
    Stegun 1964, 26.5.8), evaluated by the modified Lentz method (Lentz 1976; Thompson &
    Barnett 1986) on its denominator."""
    value = 1.0
    ratio_c = 1.0
    ratio_d = 0.0
    for step in range(1, _BETA_MAX_ITERATIONS):
        m = step // 2
        if step % 2 == 1:
            coefficient = -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1))
        else:
            coefficient = (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m))
        ratio_d = 1.0 + coefficient * ratio_d
        if abs(ratio_d) < _TINY:
            ratio_d = _TINY
        ratio_c = 1.0 + coefficient / ratio_c
        if abs(ratio_c) < _TINY:
            ratio_c = _TINY
        ratio_d = 1.0 / ratio_d
        change = ratio_c * ratio_d
        value *= change
        if abs(change - 1.0) < _BETA_EPSILON:
            return 1.0 / value
    raise ArithmeticError(f"incomplete beta continued fraction did not converge (a={a}, b={b})")


def _regularized_beta(a: float, b: float, x: float, complement: float, log_front: float) -> float:
    """I_x(a, b), the regularized incomplete beta function. `complement` is 1 - x and
    `log_front` is log(x^a (1 - x)^b / B(a, b)), both supplied by the caller, which can compute
    them without the rounding that 1 - x and x^a suffer near the ends (x may even underflow to
    0 while x^a / B(a, b) is still a usable number)."""
    front = math.exp(log_front)
    if x < (a + 1) / (a + b + 2):
        return front * _beta_continued_fraction(a, b, x) / a
    return 1.0 - front * _beta_continued_fraction(b, a, complement) / b


def _log_gamma_half_ratio(a: float) -> float:
    """log(Gamma(a + 1/2) / Gamma(a)). For large a the difference of two lgamma values loses
    digits, so the asymptotic expansion sqrt(a) (1 - 1/(8a) + 1/(128a^2) + 5/(1024a^3)
    - 21/(32768a^4)) is used instead (Abramowitz & Stegun 1964, 6.1.47)."""
    if a < 1000:
        return math.lgamma(a + 0.5) - math.lgamma(a)
    inverse = 1 / a
    series = inverse * (-1 / 8 + inverse * (1 / 128 + inverse * (5 / 1024 - inverse * 21 / 32768)))
    return 0.5 * math.log(a) + math.log1p(series)


_LOG_GAMMA_HALF = 0.5 * math.log(math.pi)  # log Gamma(1/2)
_HUGE_T = 1e150  # beyond this t * t would overflow; df / (df + t^2) is then taken as df / t^2


def _t_mass(t: float, df: float, central: bool) -> float:
    """P(0 < T < t) when `central`, else P(T > t), for t >= 0, each computed directly so that a
    small one keeps its relative precision: P(T > t) = I_x(df/2, 1/2) / 2 and P(0 < T < t) =
    I_{1-x}(1/2, df/2) / 2 with x = df / (df + t^2) (Abramowitz & Stegun 1964, sections 26.5
    and 26.7)."""
    if t == 0:
        return 0.0 if central else 0.5
    a = df / 2
    if t < _HUGE_T:
        square = t * t
        x = df / (df + square)
        y = square / (df + square)
        log_x = -math.log1p(square / df)
        log_y = math.log(y) if y > 0 else -math.inf
    else:
        log_x = math.log(df) - 2 * math.log(t)
        x = math.exp(log_x)
        y = 1.0
        log_y = 0.0
    log_front = _log_gamma_half_ratio(a) - _LOG_GAMMA_HALF + a * log_x + 0.5 * log_y
    if central:
        return 0.5 * _regularized_beta(0.5, a, y, x, log_front)
    return 0.5 * _regularized_beta(a, 0.5, x, y, log_front)


def _t_log_density(t: float, df: float) -> float:
    log_spread = math.log1p(t * t / df) if t < _HUGE_T else 2 * math.log(t) - math.log(df)
    return _log_gamma_half_ratio(df / 2) - 0.5 * math.log(df * math.pi) - (df + 1) / 2 * log_spread


def _solve_increasing(
    shortfall: Callable[[float], float], slope: Callable[[float], float], low: float, high: float
) -> float:
    """The root of an increasing function with shortfall(low) <= 0 <= shortfall(high): Newton
    steps, replaced by bisection whenever one would leave the bracket, to a relative 1e-13."""
    x = (low + high) / 2
    for _ in range(300):
        excess = shortfall(x)
        if excess < 0:
            low = x
        elif excess > 0:
            high = x
        else:
            return x
        rate = slope(x)
        candidate = x - excess / rate if rate > 0 else math.nan
        if not low < candidate < high:
            candidate = (low + high) / 2
        if abs(candidate - x) <= 1e-13 * abs(candidate) or high - low <= 1e-15 * high:
            return candidate
        x = candidate
    return x


def _normal_upper_quantile(tail: float) -> float:
    """z >= 0 with P(Z > z) = tail for a standard normal Z and 0 < tail <= 1/2, solving
    log(erfc(z / sqrt(2)) / 2) = log(tail) (math.erfc keeps its relative precision far out)."""
    target = math.log(tail)

    def log_tail(z: float) -> float:
        value = 0.5 * math.erfc(z / math.sqrt(2))
        return math.log(value) if value > 0 else -math.inf

    def slope(z: float) -> float:
        return math.exp(-z * z / 2 - 0.5 * math.log(2 * math.pi) - log_tail(z))

    return _solve_increasing(lambda z: target - log_tail(z), slope, 0.0, 40.0)


_LARGE_DF = 1e6
"""Beyond this df the quantile comes from the large-df expansion: x = df/(df + t^2) then lies
so close to 1 that its rounding (about 1e-17 * df relative in t) would dominate the
incomplete beta function."""


def t_quantile(p: float, df: float) -> float:
    """The p-quantile of Student's t distribution with df > 0 degrees of freedom.

    The distribution function comes from the regularized incomplete beta function,
    P(T > t) = I_{df/(df+t^2)}(df/2, 1/2) / 2 (Abramowitz & Stegun 1964, sections 26.5, 26.7),
    evaluated by its continued fraction (26.5.8) with the modified Lentz method (Lentz 1976).
    The quantile is found by Newton's method kept inside a bisection bracket, to a relative
    1e-13, solving for the central mass P(0 < T < t) when p is near 1/2 and for the tail
    otherwise, so both keep their precision; it starts from the expansion
    t = z + g1(z)/df + g2(z)/df^2 + g3(z)/df^3 + g4(z)/df^4 around the normal quantile z
    (Abramowitz & Stegun 1964, 26.7.5), which for df > 1e6 is the answer (its next term is
    negligible there). df may be
    fractional (Welch). ValueError when p is outside (0, 1) or df is not a positive finite
    number.
    """
    if not 0 < p < 1:
        raise ValueError(f"p must lie strictly between 0 and 1, got {p}")
    if not (df > 0 and math.isfinite(df)):
        raise ValueError(f"df must be a positive finite number, got {df}")
    if p == 0.5:
        return 0.0
    sign = 1.0 if p > 0.5 else -1.0
    tail = 1 - p if p > 0.5 else p  # both exact in floating point
    z = _normal_upper_quantile(tail)
    z2 = z * z
    g1 = (z2 + 1) * z / 4
    g2 = ((5 * z2 + 16) * z2 + 3) * z / 96
    g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384
    g4 = ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / 92160
    expansion = z + (g1 + (g2 + (g3 + g4 / df) / df) / df) / df
    if df > _LARGE_DF:
        return sign * expansion
    central = 0.5 - tail  # exact when tail >= 1/4, where it is used

    def shortfall(t: float) -> float:
        """How far P(T <= |t|) is below max(p, 1 - p); increasing in t."""
        if tail >= 0.25:
            return _t_mass(t, df, central=True) - central
        return tail - _t_mass(t, df, central=False)

    def density(t: float) -> float:
        return math.exp(_t_log_density(t, df))

    # The expansion is close for all but small df (a relative 1e-10 at df 1000): the root is
    # bracketed by widening a step around it, so Newton's method starts next to the root.
    guess = expansion if expansion > 0 else 1.0
    step = 1e-7 * guess
    if shortfall(guess) < 0:
        low, high = guess, guess + step
        while shortfall(high) < 0:
            low, step = high, step * 16
            high = high + step
            if math.isinf(high):
                return sign * math.inf
    else:
        high, low = guess, max(0.0, guess - step)
        while low > 0 and shortfall(low) > 0:
            high, step = low, step * 16
            low = max(0.0, low - step)
    return sign * _solve_increasing(shortfall, density, low, high)


# --- means ----------------------------------------------------------------------------------


def mean_interval(n: int, mean: float, sd: float, level: float = 0.95) -> MeanSummary:
    """Student's t interval for a mean from summary statistics (Student 1908).

    mean -+ t_{(1+level)/2, n-1} * sd / sqrt(n). For a paired mean difference, pass the
    differences' n, mean and sd. The mean is None when n == 0, the interval None when n < 2 or
    sd is NaN. ValueError for a negative n or sd, or a level outside (0, 1).
    """
    _check_count("n", n)
    _check_level(level)
    if math.isnan(sd):
        return MeanSummary(n, mean if n > 0 else None, None)
    _check_sd("sd", sd)
    if n == 0:
        return MeanSummary(0, None, None)
    if n < 2:
        return MeanSummary(n, mean, None)
    half = t_quantile((1 + level) / 2, n - 1) * sd / math.sqrt(n)
    return MeanSummary(n, mean, Interval(mean - half, mean + half))


def welch_difference(
    n1: int,
    mean1: float,
    sd1: float,
    n2: int,
    mean2: float,
    sd2: float,
    level: float = 0.95,
) -> Interval | None:
    """Welch's interval for mean1 - mean2 of two independent samples with unequal variances.

    diff -+ t_{(1+level)/2, nu} * sqrt(v1 + v2) with v_i = sd_i^2 / n_i and the
    Welch-Satterthwaite degrees of freedom nu = (v1 + v2)^2 / (v1^2/(n1 - 1) + v2^2/(n2 - 1))
    (Welch 1947; Satterthwaite 1946). None when either n < 2 or an sd is NaN; [diff, diff] when
    both standard errors are 0. ValueError for negative counts or sds, or a level outside (0, 1).
    """
    _check_count("n1", n1)
    _check_count("n2", n2)
    _check_level(level)
    if math.isnan(sd1) or math.isnan(sd2):
        return None
    _check_sd("sd1", sd1)
    _check_sd("sd2", sd2)
    if n1 < 2 or n2 < 2:
        return None
    difference = mean1 - mean2
    variance1 = sd1 * sd1 / n1
    variance2 = sd2 * sd2 / n2
    total = variance1 + variance2
    if total == 0:
        return Interval(difference, difference)
    df = total * total / (variance1 * variance1 / (n1 - 1) + variance2 * variance2 / (n2 - 1))
    half = t_quantile((1 + level) / 2, df) * math.sqrt(total)
    return Interval(difference - half, difference + half)


def sd_from_sums(n: int, total: float, total_of_squares: float) -> float | None:
    """Sample standard deviation (n - 1 denominator) from count(x), sum(x) and sum(x*x).

    sqrt((sum(x^2) - sum(x)^2 / n) / (n - 1)), the textbook computing formula (e.g. Welford
    1962 discusses its rounding); a slightly negative variance from rounding is clamped to 0.
    None when n < 2. ValueError for a negative n or sum of squares.
    """
    _check_count("n", n)
    if total_of_squares < 0:
        raise ValueError(f"total_of_squares must be non-negative, got {total_of_squares}")
    if n < 2:
        return None
    variance = (total_of_squares - total * (total / n)) / (n - 1)
    return math.sqrt(max(0.0, variance))
