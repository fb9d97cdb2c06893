"""Estimates from the inspected sample: a province-wide share (or a total as a share of a known total)
with a 95% confidence interval that holds its level at a campaign's small samples (the board's
estimates of failed, idle or stopped projects and of the subsidy in failed ones; docs/sampling.md § 7).

Every inspected project i carries its inclusion probability π_i (``lib.sampling.draw``). One drawn with
certainty (π = 1) is known, not estimated: it stands for itself and adds no sampling error. The rest of
the projects the estimate is about (the part not drawn with certainty) is estimated from the projects
drawn by chance, each with the Horvitz–Thompson weight 1/π_i, and the two parts are added:

- a share of projects (``share``; y = 1 when failed): R = (Σ_certain y + Σ_chance y/π) ÷ N, N the known
  number of projects — Horvitz–Thompson with the known N, unbiased whatever the sizes. Hájek's ratio
  Σ y/π ÷ Σ 1/π, used before, is not: with π very unequal inside a city and one or two drawn there, it
  leans to the large projects (−12% on a 300-project, 21-city frame drawn proportionally to the
  subsidy, where failures were among the small ones: attack M5).
- a share of a known total X (``ratio``; y = the subsidy when failed, x = the subsidy):
  R = (Σ_certain y + X_c · R_c) ÷ X, X_c = X − Σ_certain x and R_c = Σ_chance y/π ÷ Σ_chance x/π — the
  ratio estimator with the subsidy as auxiliary (x/π varies little when the draw is proportional to the
  subsidy, and the ratio keeps the amount within the known total).

While inspections are going, the inspected projects stand for the drawn ones of their class (their
city, drawn with certainty or by chance; missing at random): ``inspected_probabilities`` multiplies each
π by the share of its class inspected. A class with drawn projects and none inspected has nobody to
stand for it: ``missing_classes`` names them, and no estimate is made until each has one (attack M6: with
only the complained-of, certain projects inspected, the chance-drawn ones weighed nothing and the board
showed 75% failed for a true 7.5%).

Variance (Taylor linearisation) of the chance part: z_i = y_i/π_i ÷ N_c for a share (N_c = N − the
certain ones), z_i = (y_i − R_c x_i) ÷ Σ_chance x_j/π_j ÷ π_i for a ratio, summed over the cities (the
strata): with c_i = 1 − π_i, Deville's approximation for πps without replacement,
v = n/(n−1) · Σ c_i (z_i − Σc_j z_j / Σc_j)², for a city with n ≥ 2 such projects, and c_i z_i² (the
Poisson-design estimate, on the safe side) for a city with one.

Interval: Korn and Graubard (1998) on the chance part's share R_c — a Clopper–Pearson interval on the
effective sample size n* = R_c(1 − R_c)/v · (t_{n−1} / t_{df})², truncated at the n projects inspected by
chance (n* = n when v = 0, e.g. none of them failed: Clopper–Pearson's on n, never a point at 0), with
df = those projects − the cities they are in — then carried to R as R_c is (R = known + weight · R_c).
With no project drawn by chance (a census: every project certain and inspected) the share is exact and
the interval a point. A normal interval R ± 1.96√v covered the truth in only ~72% of draws on a
120-project, 6-city design with 12.5% failed (attack K12); this one covers ≥ 90% there and on the
proportional design (tests/sampling/test_estimate.py).

>>> est = share([True, False], [0.5, 0.5], ["甲", "甲"], 4)
>>> est.value, est.n, 0 < est.low < 0.5 < est.high < 1
(0.5, 2, True)
>>> none = share([False] * 4, [0.25] * 4, ["甲"] * 4, 16)   # none failed: not "0% ± 0"
>>> none.value, none.low, round(none.high, 4)              # Clopper–Pearson's upper bound on 4: 1 − 0.025^(1/4)
(0.0, 0.0, 0.6024)
>>> census = share([True, False, False, False, False], [1.0] * 5, ["甲"] * 5, 5)
>>> census.value, census.low, census.high, census.exact     # every project inspected: no sampling error
(0.2, 0.2, 0.2, True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from lib.core.errors import AppError

LEVEL = 0.95
METHOD_NOTE = ("入样概率为 1 的项目按实际检查结果计入、不计抽样误差；随机抽中的项目按入样概率加权（Horvitz–Thompson 权数：项目占比"
               "按已知的项目总数，奖补金额按奖补金额比率估计），按地市分层、泰勒线性化计算方差，"
               "95% 置信区间用 Korn–Graubard 方法（按有效样本量的 Clopper–Pearson 区间）；"
               "抽中项目尚未全部检查时，按各市已检查的比例调整入样概率，视已检查项目代表本市同类抽中项目，"
               "某市某类抽中项目一个都未检查时不作全省估计；退回修改的检查记录不计入。")


class EstimateInputInvalid(AppError):
    """Values, probabilities and cities of unequal length, a probability outside (0, 1], a share's part
    that is negative or larger than its whole, a known total smaller than its inspected part, or a part
    of the frame that no inspected project stands for (code ``estimate_incomplete``; ``no_whole``: the
    projects drawn by chance have no whole to weigh, e.g. no subsidy)."""

    code = "estimate_input_invalid"


@dataclass(frozen=True)
class Estimate:
    """An estimated share (0 to 1; a total when scaled, see ``scaled``), its standard error and 95%
    confidence interval; ``n`` the inspected projects it rests on."""

    value: float
    standard_error: float
    low: float
    high: float
    n: int

    @property
    def exact(self) -> bool:
        """No sampling error: every project the estimate is about was inspected with certainty."""
        return self.low == self.high

    def scaled(self, by: float) -> Estimate:
        """The same estimate times ``by`` (a share of a known total as an amount)."""
        return Estimate(self.value * by, self.standard_error * by, self.low * by, self.high * by, self.n)


def _checked(parts: Sequence[float], wholes: Sequence[float], pi: Sequence[float],
             strata: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    y, x = np.asarray(parts, dtype=float), np.asarray(wholes, dtype=float)
    p, h = np.asarray(pi, dtype=float), np.asarray(strata, dtype=object)
    if not (len(y) == len(x) == len(p) == len(h)):
        raise EstimateInputInvalid("估计所需的取值、入样概率和地市个数不一致。")
    if len(p) and not ((p > 0) & (p <= 1)).all():
        raise EstimateInputInvalid("入样概率须大于 0 且不大于 1。")
    if len(y) and not ((y >= 0) & (y <= x)).all():
        raise EstimateInputInvalid("比例估计的部分须不小于 0、不大于整体（如不合格项目的奖补金额不超过其奖补金额）。")
    if not len(p):
        raise EstimateInputInvalid("没有已检查的项目，无法估计。")
    return y, x, p, h


def _variance(z: np.ndarray, p: np.ndarray, h: np.ndarray) -> float:
    v = 0.0
    for city in sorted(set(h.tolist())):  # one order, so the same sample gives the same figure to the last digit
        chance = (h == city) & (p < 1)
        zc, c = z[chance], 1 - p[chance]
        n = len(zc)
        if n == 1:
            v += float(c[0] * zc[0] ** 2)
        elif n >= 2:
            centre = float((c * zc).sum() / c.sum())
            v += n / (n - 1) * float((c * (zc - centre) ** 2).sum())
    return v


def _classes(pi: np.ndarray, strata: np.ndarray) -> list[tuple[str, bool, np.ndarray]]:
    """The drawn projects' classes: (city, drawn with certainty, members), cities in the order of their names."""
    return [(city, certain, (strata == city) & ((pi >= 1) == certain))
            for city in sorted(set(strata.tolist())) for certain in (True, False)
            if ((strata == city) & ((pi >= 1) == certain)).any()]


def missing_classes(pi: Sequence[float], strata: Sequence[str], inspected: Sequence[bool]) -> list[tuple[str, bool]]:
    """The classes (city, drawn with certainty) of a sample with drawn projects and none inspected yet:
    nobody stands for them, so no province-wide estimate can be made until each has one.

    >>> missing_classes([1.0, 0.5, 0.5, 0.5], ["乙", "乙", "甲", "甲"], [True, False, True, False])
    [('乙', False)]
    """
    p, h, done = np.asarray(pi, dtype=float), np.asarray(strata, dtype=object), np.asarray(inspected, dtype=bool)
    return [(city, certain) for city, certain, members in _classes(p, h) if not (members & done).any()]


def inspected_probabilities(pi: Sequence[float], strata: Sequence[str], inspected: Sequence[bool]) -> np.ndarray:
    """The inclusion probabilities of the inspected part of a sample while inspections are going: each
    drawn project's π times the share inspected of its class — its city, drawn with certainty (π = 1)
    or by chance — the usual weighting-class adjustment for projects not (yet) observed, read as
    missing at random within the class. Once every drawn project is inspected it is π itself. A class
    with none inspected cannot be stood for: refused (``estimate_incomplete``; ``missing_classes``).

    >>> inspected_probabilities([0.5, 0.5, 0.5, 0.5, 1.0], ["甲"] * 5, [True, False, False, True, True]).tolist()
    [0.25, 0.25, 0.25, 0.25, 1.0]
    """
    p, h, done = np.asarray(pi, dtype=float), np.asarray(strata, dtype=object), np.asarray(inspected, dtype=bool)
    if missing := missing_classes(p, h, done):
        raise EstimateInputInvalid(f"{missing_text(missing)}尚无检查记录，无法估计。", code="estimate_incomplete")
    out = p.copy()
    for _, _, members in _classes(p, h):
        out[members] *= (members & done).sum() / members.sum()
    return out


def missing_text(missing: Sequence[tuple[str, bool]]) -> str:
    """The classes ``missing_classes`` gives, as a person reads them.

    >>> missing_text([("甲", False), ("乙", False), ("丙", True)])
    '甲、乙的随机抽中项目，丙的必抽项目（入样概率为 1）'
    """
    chance = [city for city, certain in missing if not certain]
    certain = [city for city, c in missing if c]
    parts = ([f"{'、'.join(chance)}的随机抽中项目"] if chance else []) + \
            ([f"{'、'.join(certain)}的必抽项目（入样概率为 1）"] if certain else [])
    return "，".join(parts)


def degrees_of_freedom(pi: Sequence[float], strata: Sequence[str]) -> int:
    """The design's degrees of freedom: projects drawn by chance − the cities they are in (at least 1).

    >>> degrees_of_freedom([0.5, 0.5, 1.0, 0.25], ["甲", "甲", "乙", "丙"])
    1
    """
    p, h = np.asarray(pi, dtype=float), np.asarray(strata, dtype=object)
    chance = p < 1
    return max(int(chance.sum()) - len(set(h[chance].tolist())), 1)


def _combined(known: float, rest: float, whole: float, part: tuple[float, float] | None,
              p: np.ndarray, h: np.ndarray, n: int) -> Estimate:
    """The estimate of (known + rest · R_c) ÷ whole, ``part`` the chance part's (R_c, variance) — None
    when no project was drawn by chance — with its interval carried from R_c's Korn–Graubard interval."""
    if part is None:
        value = known / whole
        return Estimate(value, 0.0, value, value, n)
    r, v, weights = part
    r = min(max(r, 0.0), 1.0)  # a Horvitz–Thompson share can pass 1 in a freak sample; no share does
    chance = p < 1
    low, high = korn_graubard(r, v, int(chance.sum()), degrees_of_freedom(p[chance], h[chance]), kish(weights))
    return Estimate((known + rest * r) / whole, rest * math.sqrt(v) / whole,
                    (known + rest * low) / whole, (known + rest * high) / whole, n)


def _rest(rest: float, whole: float, chance: np.ndarray, what: str) -> float:
    """The part of ``whole`` not drawn with certainty, checked against the sample: none with no project
    drawn by chance (else nobody stands for it), never below 0 (a known total below its inspected part)."""
    if rest < -1e-9 * max(whole, 1.0):
        raise EstimateInputInvalid(f"已知的{what}小于已检查的入样概率为 1 的项目之和。")
    rest = max(rest, 0.0)
    if rest > 1e-9 * max(whole, 1.0) and not chance.any():
        raise EstimateInputInvalid(f"{what}中有非必抽的部分，但没有已检查的随机抽中项目可以代表它。", code="estimate_incomplete")
    return rest if chance.any() else 0.0


def ratio(parts: Sequence[float], wholes: Sequence[float], pi: Sequence[float], strata: Sequence[str],
          total: float) -> Estimate:
    """The frame's Σ parts ÷ its known Σ wholes ``total``, estimated from the inspected projects (one
    value of each per project, with its inclusion probability and its city): the certain ones as they
    are, the rest of the total by the ratio of Horvitz–Thompson sums over those drawn by chance, its
    linearised variance and the Korn–Graubard interval (the module's docstring). ``0 ≤ part ≤ whole``.

    >>> est = ratio([0.0, 30.0, 0.0], [10.0, 30.0, 20.0], [0.5, 0.5, 1.0], ["甲", "甲", "乙"], 100.0)
    >>> round(est.value, 4)   # 乙 (certain) known: 0 of 20; the other 80 at 乙's ratio (30/0.5) ÷ (10/0.5 + 30/0.5) = 0.75
    0.6
    """
    y, x, p, h = _checked(parts, wholes, pi, strata)
    certain, chance = p >= 1, p < 1
    if not total > 0:
        raise EstimateInputInvalid("已知的合计须大于 0。", code="no_whole")
    rest = _rest(total - float(x[certain].sum()), total, chance, "合计")
    part = None
    if chance.any():
        weighed = float((x[chance] / p[chance]).sum())
        if weighed <= 0:
            raise EstimateInputInvalid("随机抽中的已检查项目没有可加权的金额（全部为 0），无法估计。", code="no_whole")
        r = float((y[chance] / p[chance]).sum()) / weighed
        part = (r, _variance((y[chance] - r * x[chance]) / weighed / p[chance], p[chance], h[chance]), x[chance] / p[chance])
    return _combined(float(y[certain].sum()), rest, total, part, p, h, len(p))


def share(flags: Sequence[bool], pi: Sequence[float], strata: Sequence[str], population: float) -> Estimate:
    """The estimated share of the ``population`` projects (the known number the estimate is about) for
    which ``flags`` holds (e.g. failed): the certain ones as they are, the rest by Horvitz–Thompson with
    the known number left (the module's docstring)."""
    y, _, p, h = _checked([1.0 if f else 0.0 for f in flags], [1.0] * len(flags), pi, strata)
    certain, chance = p >= 1, p < 1
    if population < len(p):
        raise EstimateInputInvalid(f"项目总数 {population:g} 少于已检查的项目数 {len(p)}。")
    rest = _rest(population - float(certain.sum()), population, chance, "项目总数")
    part = None
    if chance.any():
        r = float((y[chance] / p[chance]).sum()) / rest
        part = (r, _variance(y[chance] / p[chance] / rest, p[chance], h[chance]), 1 / p[chance])
    return _combined(float(y[certain].sum()), rest, population, part, p, h, len(p))


def kish(weights: np.ndarray) -> float:
    """Kish's effective sample size (Σ w)² ÷ Σ w² of units weighing ``weights`` (n when they weigh alike).

    >>> kish(np.array([1.0, 1.0, 1.0, 1.0])), round(kish(np.array([1.0, 1.0, 1.0, 9.0])), 4)
    (4.0, 1.7143)
    """
    return float(weights.sum() ** 2 / (weights ** 2).sum())


def korn_graubard(value: float, variance: float, n: int, df: int, n_max: float | None = None) -> tuple[float, float]:
    """The Korn–Graubard 95% interval of a share ``value`` with ``variance``, on ``n`` units and ``df``
    degrees of freedom: Clopper–Pearson on the effective sample size, truncated at n — or at ``n_max``,
    Kish's effective size of unequally weighted units, when smaller (the truncation also stands in when
    v = 0, e.g. nothing failed: found among 60 units weighing 1 to 500, a zero says as little as one
    among a handful; attack M5's proportional design covered ~68% without it).

    >>> [round(b, 4) for b in korn_graubard(0.3, 0.0, 10, 9)]   # v = 0: Clopper–Pearson's 3 of 10
    [0.0667, 0.6525]
    >>> round(korn_graubard(0.0, 0.0, 60, 50, 4.0)[1], 4)         # none of 60 found, Kish's size 4: 1 − 0.025^(1/4)
    0.6024
    """
    cap = float(n) if n_max is None else min(float(n), n_max)
    if variance > 0 and 0 < value < 1:
        n_eff = value * (1 - value) / variance
        if n >= 2:
            n_eff *= (t_quantile(0.5 + LEVEL / 2, n - 1) / t_quantile(0.5 + LEVEL / 2, df)) ** 2
        n_eff = min(n_eff, cap)
    else:
        n_eff = cap
    tail = (1 - LEVEL) / 2
    x = n_eff * value
    low = 0.0 if value <= 0 else beta_quantile(tail, x, n_eff - x + 1)
    high = 1.0 if value >= 1 else beta_quantile(1 - tail, x + 1, n_eff - x)
    return low, high


# The beta and t quantiles the interval needs (numpy has neither; scipy is not a dependency): the
# regularised incomplete beta function by its continued fraction (Lentz's method, as in Numerical
# Recipes § 6.4), inverted by bisection — monotone, so 100 halvings leave an error below 1e-15.

def _beta_fraction(a: float, b: float, x: float) -> float:
    tiny = 1e-300
    c, d = 1.0, 1 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1 + numerator * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1) < 1e-15:
            break
    return h


def beta_cdf(x: float, a: float, b: float) -> float:
    """The regularised incomplete beta function I_x(a, b).

    >>> round(beta_cdf(0.3, 2, 3), 6)   # 1 − (1−x)^4 − 4x(1−x)^3 = 0.3483
    0.3483
    """
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1) / (a + b + 2):
        return front * _beta_fraction(a, b, x) / a
    return 1 - front * _beta_fraction(b, a, 1 - x) / b


def _inverse(cdf, q: float, low: float, high: float) -> float:
    for _ in range(100):
        middle = (low + high) / 2
        low, high = (middle, high) if cdf(middle) < q else (low, middle)
    return (low + high) / 2


def beta_quantile(q: float, a: float, b: float) -> float:
    """The ``q`` quantile of the beta distribution (a, b > 0).

    >>> round(beta_quantile(0.975, 1, 10), 6)   # 1 − 0.025^(1/10)
    0.308497
    """
    return _inverse(lambda x: beta_cdf(x, a, b), q, 0.0, 1.0)


@lru_cache(maxsize=256)  # a board asks for the same few degrees of freedom again and again
def t_quantile(q: float, df: float) -> float:
    """The ``q`` quantile of Student's t on ``df`` degrees of freedom (q ≥ 0.5).

    >>> round(t_quantile(0.975, 1), 4), round(t_quantile(0.975, 10), 4)
    (12.7062, 2.2281)
    """
    return _inverse(lambda t: 1 - 0.5 * beta_cdf(df / (df + t * t), df / 2, 0.5), q, 0.0, 1e6)
