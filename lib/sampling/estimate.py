"""Horvitz–Thompson estimates from the inspected sample: a province-wide total or share with a 95%
confidence interval (the board's estimates of failed, idle or stopped projects and of the subsidy in
failed ones).

The total of y over the frame is estimated by T = Σ y_i / π_i over the sample (unbiased: each project
is in the sample with probability π_i, ``lib.sampling.draw``). A share of the N projects of the frame
is T / N. The variance is summed over cities (the strata), from the projects drawn by chance (π < 1;
a project drawn with certainty adds none): with z_i = y_i / π_i and c_i = 1 − π_i, Deville's
approximation for πps without replacement, v = n/(n−1) · Σ c_i (z_i − Σc_j z_j / Σc_j)², for a city
with n ≥ 2 such projects, and Σ c_i z_i² (the Poisson-design estimate, on the safe side) for a city with
one. The interval is T ± 1.96·√v (a share's clipped to [0, 1]).

>>> est = total([10.0, 0.0, 5.0], [0.5, 0.5, 1.0], ["甲", "甲", "乙"])
>>> est.value, round(est.standard_error ** 2, 6)  # 甲: z = 20, 0; c = 0.5, 0.5; v = 2·(0.5·10² + 0.5·10²)
(25.0, 200.0)
>>> share([True, False], [0.5, 0.5], ["甲", "甲"], population=4).value
0.5
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lib.core.errors import AppError

Z95 = 1.959963984540054  # the normal distribution's 97.5% point
METHOD_NOTE = ("按各项目的入样概率加权（Horvitz–Thompson 估计），按地市分层计算方差（Deville 近似），"
               "给出 95% 置信区间；抽中概率为 1 的项目不计入抽样误差。")


class EstimateInputInvalid(AppError):
    """Values, probabilities and cities of unequal length, or a probability outside (0, 1]."""

    code = "estimate_input_invalid"


@dataclass(frozen=True)
class Estimate:
    """An estimate, its standard error and its 95% confidence interval; ``n`` projects it rests on."""

    value: float
    standard_error: float
    low: float
    high: float
    n: int


def _checked(values: Sequence[float], pi: Sequence[float], strata: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y, p, h = np.asarray(values, dtype=float), np.asarray(pi, dtype=float), np.asarray(strata, dtype=object)
    if not (len(y) == len(p) == len(h)):
        raise EstimateInputInvalid("估计所需的取值、入样概率和地市个数不一致。")
    if len(p) and not ((p > 0) & (p <= 1)).all():
        raise EstimateInputInvalid("入样概率须大于 0 且不大于 1。")
    return y, p, h


def _variance(z: np.ndarray, p: np.ndarray, h: np.ndarray) -> float:
    v = 0.0
    for city in set(h.tolist()):
        chance = (h == city) & (p < 1)
        zc, c = z[chance], 1 - p[chance]
        n = len(zc)
        if n == 1:
            v += float(c[0] * zc[0] ** 2)
        elif n >= 2:
            centre = float((c * zc).sum() / c.sum())
            v += n / (n - 1) * float((c * (zc - centre) ** 2).sum())
    return v


def total(values: Sequence[float], pi: Sequence[float], strata: Sequence[str]) -> Estimate:
    """The Horvitz–Thompson estimate of the frame's total of ``values`` (one per inspected project,
    with its inclusion probability and its city)."""
    y, p, h = _checked(values, pi, strata)
    z = y / p if len(p) else y
    value = float(z.sum())
    se = math.sqrt(_variance(z, p, h))
    return Estimate(value, se, value - Z95 * se, value + Z95 * se, len(y))


def share(flags: Sequence[bool], pi: Sequence[float], strata: Sequence[str], *, population: int) -> Estimate:
    """The estimated share of the frame's ``population`` projects for which ``flags`` holds (e.g. failed)."""
    if population <= 0:
        raise EstimateInputInvalid("抽样框没有项目，无法估计比例。")
    t = total([1.0 if f else 0.0 for f in flags], pi, strata)
    value, se = t.value / population, t.standard_error / population
    return Estimate(value, se, max(0.0, value - Z95 * se), min(1.0, value + Z95 * se), t.n)
