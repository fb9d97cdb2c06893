"""The draw: which projects of a frozen frame are inspected, stratified by city, with each one's exact
inclusion probability. Pure: the same frame and seed give the same sample, always (docs/sampling.md).

Per city of N projects: n = max(ceil(ratio × N), 1) (the ratio read as the decimal written in YAML,
so 0.3 × 10 is 3). Every project meeting a ``take_all`` rule is drawn (n grows if they are more). The
other places go to the rest by πps without replacement: a project's size is w = 1 + the weights of the
rules it meets (× its subsidy when ``proportional_to_subsidy``); with m places among sizes summing to
W, π = m·w/W; a project whose π reaches 1 is drawn with certainty and π is worked out again for the
others with the places left, until every π is below 1. The places left are filled by randomised
systematic sampling: the projects in a random order, their π laid end to end on a line, a random
start u in [0, 1), and the projects under u, u+1, u+2 … drawn. Each project is drawn with probability
exactly π.

Randomness: one stream per draw, ``numpy.random.PCG64(SeedSequence([seed, fingerprint as an integer]))``,
read only through ``random_raw`` (64-bit words, the part of numpy whose output is fixed across
versions). Cities are taken in the order of their names (Unicode code points); a city with places to
fill by chance takes one word per candidate (its random order: candidates sorted by their word, ties
by voucher) and then one word for u (the word's top 53 bits ÷ 2^53).

>>> inclusion(np.array([1.0, 1.0, 2.0, 4.0]), 2).tolist()   # 4 would be 2·4/8 = 1: certain; then 1 place for 1, 1, 2
[0.25, 0.25, 0.5, 1.0]
>>> city_size(0.3, 10), city_size(0.2, 1), city_size(0.2, 6)
(3, 1, 2)
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from lib.core.errors import AppError
from lib.sampling.frame import Frame

#: Changes whenever any step above changes what a seed gives; a draw records it, and verify refuses
#: to compare a draw made under another version.
ALGORITHM_VERSION = "1"
#: How a project came into the sample, as the drawn list says it.
SELECTION_WORDS = {"take_all": "规则要求必抽", "certain": "入样概率为 1，必抽", "random": "随机抽中"}
#: Longest seed accepted, in digits: a publicly announced number, not a file pasted in.
MAX_SEED_DIGITS = 40


class SeedInvalid(AppError):
    """A seed that is not a non-negative whole number; nothing was drawn."""

    code = "seed_invalid"


class SizeUnknown(AppError):
    """A draw proportional to the subsidy meets a project with no positive subsidy, or a size measure
    is not a finite number (``size_not_finite``)."""

    code = "size_unknown"


class DrawShort(AppError):
    """A city would get fewer projects than its minimum: the draw is refused, nothing is recorded."""

    code = "draw_short"


#: The full-width digits (and minus) a Chinese input method types, folded to ASCII; no other character
#: is (NFKC would also turn ①②③ or ² into digits: a published number is not written so).
_FULL_WIDTH = str.maketrans("０１２３４５６７８９－", "0123456789-")


def parse_seed(text: str | None) -> int:
    """The seed a person typed: ASCII digits only (full-width digits and surrounding spaces allowed).

    >>> parse_seed(" 83721954 "), parse_seed("０１２"), parse_seed("-0"), parse_seed("－００")
    (83721954, 12, 0, 0)
    >>> [_code(parse_seed, t) for t in ("", "十二", "-5", "3.5", "9" * 41)]
    ['seed_empty', 'seed_not_number', 'seed_negative', 'seed_not_number', 'seed_too_long']
    >>> {_code(parse_seed, t) for t in ("①②③", "²", "٣")}
    {'seed_not_number'}
    """
    text = (text or "").translate(_FULL_WIDTH).strip()
    if not text:
        raise SeedInvalid("随机数种子不能为空：请填写公布的随机数（非负整数），或由系统生成。", code="seed_empty")
    if text.startswith("-") and text[1:].strip().isascii() and text[1:].strip().isdecimal():
        if int(text[1:]) == 0:  # "-0" is zero, not a negative number
            return 0
        raise SeedInvalid(f"随机数种子「{text}」是负数：种子须为非负整数。", code="seed_negative")
    if not (text.isascii() and text.isdecimal()):
        raise SeedInvalid(f"随机数种子「{text[:50]}」不是整数：只能填写数字 0–9。", code="seed_not_number")
    if len(text) > MAX_SEED_DIGITS:
        raise SeedInvalid(f"随机数种子太长（{len(text)} 位）：最多 {MAX_SEED_DIGITS} 位数字。", code="seed_too_long")
    return int(text)


def _code(call, *args) -> str:
    try:
        call(*args)
    except AppError as err:
        return err.code
    return ""


def new_seed() -> int:
    """A seed for the office that has no announced number: 12 random digits, to be shown and recorded."""
    return secrets.randbelow(10**12)


def city_size(ratio: float, population: int) -> int:
    """How many projects a city of ``population`` inspects at least: max(ceil(ratio × N), 1), 0 for none."""
    if population <= 0:
        return 0
    return max(math.ceil(Decimal(repr(ratio)) * population), 1)


def sizes(frame: Frame) -> np.ndarray:
    """Each row's size measure: 1 + the weights of the rules it meets (× subsidy when the campaign says so)."""
    rows, sampling = frame.rows, frame.sampling
    w = np.ones(len(rows))
    for rule in sampling.priority_rules:
        w += rule.weight * rows[rule.key].to_numpy(dtype=bool)
    if sampling.proportional_to_subsidy:
        subsidy = rows["subsidy"].to_numpy(dtype=float)
        bad = ~(subsidy > 0)
        if bad.any():
            shown = "、".join(rows["voucher"][bad].head(5))
            raise SizeUnknown(f"按奖补金额加权抽样，但有 {int(bad.sum())} 个项目没有大于 0 的奖补金额（服务券编号 {shown}），无法抽样。")
        w = w * subsidy
    # The campaign's bounds (a rule's weight, Frame.of's subsidy) keep sizes and their sum finite; a size
    # that is not would make every π 0 or nan and a city draw nothing, so it is refused, never drawn.
    with np.errstate(over="ignore", invalid="ignore"):
        total = w.sum()
    if not np.isfinite(total):
        largest = np.argsort(-np.nan_to_num(w, nan=np.inf), kind="stable")[:5]
        shown = "、".join(rows["voucher"].iloc[largest])
        raise SizeUnknown(f"抽样权重超出可计算的范围（权重最大的项目：服务券编号 {shown}）：请检查优先规则的权重和奖补金额，无法抽样。",
                          code="size_not_finite")
    return w


def inclusion(w: np.ndarray, m: int) -> np.ndarray:
    """π of each unit of sizes ``w`` when ``m`` are drawn: m·w/W, units reaching 1 certain and the
    rest worked out again with the places left."""
    pi = np.zeros(len(w))
    certain = np.zeros(len(w), dtype=bool)
    if m >= len(w):
        return np.ones(len(w))
    while True:
        free = ~certain
        left = m - int(certain.sum())
        p = left * w[free] / w[free].sum() if left > 0 else np.zeros(int(free.sum()))
        reached = p >= 1
        if not reached.any():
            pi[free] = p
            pi[certain] = 1.0
            return pi
        certain[np.flatnonzero(free)[reached]] = True


def _uniform(bits: np.random.PCG64) -> float:
    return float(int(bits.random_raw()) >> 11) / 2.0**53


def random_order(bits: np.random.PCG64, n: int) -> np.ndarray:
    """A random order of positions 0 … n-1: one ``random_raw`` word each, positions sorted by their
    word, ties by position (``Generator.permutation`` is not used: numpy keeps its stream only for the
    bit generator's words, not for the Generator's methods).

    >>> random_order(generator(1, "0"), 4).tolist() == random_order(generator(1, "0"), 4).tolist()
    True
    """
    return np.argsort(bits.random_raw(n), kind="stable")


def systematic(pi: np.ndarray, bits: np.random.PCG64) -> np.ndarray:
    """Positions drawn among units of probabilities ``pi`` (each below 1, summing to a whole number m):
    a random order, then the units under u, u+1, … u+m-1 on the cumulated π."""
    m = round(float(pi.sum()))
    order = random_order(bits, len(pi))
    cum = np.cumsum(pi[order])
    cum[-1] = m  # the float sum is m up to rounding: every point below m falls on a unit
    points = _uniform(bits) + np.arange(m)
    return np.sort(order[np.searchsorted(cum, points, side="right")])


def generator(seed: int, fingerprint: str) -> np.random.PCG64:
    """The draw's random stream, from the seed and the frame's fingerprint."""
    return np.random.PCG64(np.random.SeedSequence([seed, int(fingerprint, 16)]))


@dataclass(frozen=True)
class Sample:
    """A draw's outcome: ``drawn`` (voucher, city, provider, firm, subsidy, probability, selection — a
    key of SELECTION_WORDS —, rules: the keys of the rules that raised it) in frame order, and
    ``cities`` (city, population N, minimum n, drawn)."""

    drawn: pd.DataFrame
    cities: pd.DataFrame
    seed: int
    fingerprint: str
    campaign_version: str
    algorithm_version: str = ALGORITHM_VERSION


def _forced(frame: Frame) -> np.ndarray:
    """Whether each row meets a ``take_all`` rule."""
    forced = np.zeros(len(frame.rows), dtype=bool)
    for rule in frame.sampling.priority_rules:
        if rule.take_all:
            forced |= frame.rows[rule.key].to_numpy(dtype=bool)
    return forced


def _cities(frame: Frame) -> list[tuple[str, np.ndarray]]:
    """(city, its rows' positions), cities in the order of their names."""
    city_of = frame.rows["city"].to_numpy(dtype=object)
    return [(city, np.flatnonzero(city_of == city)) for city in sorted(set(city_of))]


def frame_probabilities(frame: Frame) -> np.ndarray:
    """Every frame row's inclusion probability: 1 for a ``take_all`` row, else its π among its city's
    places left (0 when the take-all rows fill them)."""
    w = sizes(frame)
    forced = _forced(frame)
    pi = np.where(forced, 1.0, 0.0)
    for _, members in _cities(frame):
        rest = members[~forced[members]]
        places = city_size(frame.sampling.ratio, len(members)) - (len(members) - len(rest))
        if places > 0 and len(rest):
            pi[rest] = inclusion(w[rest], places)
    return pi


def draw(frame: Frame, seed: int) -> Sample:
    """The sample ``seed`` gives on ``frame`` (see the module's docstring)."""
    rows, sampling = frame.rows, frame.sampling
    pi = frame_probabilities(frame)
    forced = _forced(frame)
    how = np.where(forced, "take_all", np.where(pi >= 1, "certain", "")).astype(object)
    bits = generator(seed, frame.fingerprint)
    cities = []
    for city, members in _cities(frame):
        chance = members[(pi[members] > 0) & (pi[members] < 1)]
        if len(chance):
            how[chance[systematic(pi[chance], bits)]] = "random"
        cities.append((city, len(members), city_size(sampling.ratio, len(members)), int((how[members] != "").sum())))
    short = [(city, n, drawn) for city, _, n, drawn in cities if drawn < n]
    if short:  # outcome 2 holds for every draw that is returned, whatever the sizes did
        raise DrawShort("抽样结果不足各地市的最低抽查数，未记录：" + "；".join(f"{c}应抽 {n} 个，只抽到 {d} 个" for c, n, d in short))
    picked = np.flatnonzero(how != "")
    raised = [rule for rule in sampling.priority_rules if rule.take_all or rule.weight > 0]
    met = {rule.key: rows[rule.key].to_numpy(dtype=bool) for rule in raised}
    drawn = pd.DataFrame({**{c: rows[c].to_numpy()[picked] for c in ("voucher", "city", "provider", "firm", "subsidy")},
                          "probability": pi[picked], "selection": how[picked],
                          "rules": [tuple(rule.key for rule in raised if met[rule.key][i]) for i in picked]})
    table = pd.DataFrame(cities, columns=["city", "population", "minimum", "drawn"])
    return Sample(drawn, table, seed, frame.fingerprint, frame.campaign_version)
