"""Estimates from a drawn sample (issue 13, outcome 7's estimator; outcome 8: unbiased in simulation) and
the 95% interval's coverage (attack K12: the normal interval covered ~72% on a small design; attack M5:
Hájek's ratio was biased and its interval covered ~67% on a design proportional to the subsidy; attack M6:
a class with nothing inspected dropped out of the estimate)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lib.forms.spec import PriorityRule, Sampling
from lib.sampling.draw import draw, frame_probabilities
from lib.sampling.estimate import (
    EstimateInputInvalid,
    beta_quantile,
    inspected_probabilities,
    kish,
    korn_graubard,
    missing_classes,
    ratio,
    share,
    t_quantile,
)
from lib.sampling.frame import Frame


def test_a_share_by_hand():
    # 5 projects: 甲's 4, two drawn by chance (π 0.5), one failed; 乙's 1, drawn with certainty, failed.
    # 乙 is known: 1 failed of 1. The other 4: Horvitz–Thompson (1/0.5) ÷ 4 = 0.5 → (1 + 4·0.5) ÷ 5 = 0.6.
    # Its variance: z = y/π ÷ 4 = 0.5, 0 (c = 0.5 each, centre 0.25): v = 2·(0.5·0.0625 + 0.5·0.0625) = 0.125;
    # 乙 adds none. The chance part's interval (2 units, df 1, Kish's size of weights 2, 2: 2) carried as 4/5.
    est = share([True, False, True], [0.5, 0.5, 1.0], ["甲", "甲", "乙"], 5)
    assert est.value == pytest.approx(0.6) and est.standard_error == pytest.approx(4 / 5 * np.sqrt(0.125)) and est.n == 3
    low, high = korn_graubard(0.5, 0.125, 2, 1, 2.0)
    assert (est.low, est.high) == pytest.approx(((1 + 4 * low) / 5, (1 + 4 * high) / 5))
    assert 0.2 < est.low < est.value < est.high < 1  # never below the failed one known for certain


def test_a_census_is_exact_and_a_city_drawn_whole_adds_no_width():
    """Attack M13: every drawn project π = 1 and inspected gave 20% with "95% 置信区间 2.5%–55.6%"."""
    census = share([True, True] + [False] * 8, [1.0] * 10, ["甲"] * 5 + ["乙"] * 5, 10)
    assert (census.value, census.low, census.high, census.standard_error) == (0.2, 0.2, 0.2, 0.0) and census.exact
    amount = ratio([3.0, 0.0], [3.0, 7.0], [1.0, 1.0], ["甲", "乙"], 10.0)
    assert (amount.value, amount.low, amount.high) == (0.3, 0.3, 0.3)
    # 甲 by chance (4 of 8 projects drawn, π 0.5); 乙 a city of 5 drawn whole, none failed. 乙 is known
    # exactly: the interval is 甲's share's, carried as 8/13 — no width of 乙's own.
    flags, pi, cities = [True, False, False, False], [0.5] * 4, ["甲"] * 4
    alone = share(flags, pi, cities, 8)
    both = share(flags + [False] * 5, pi + [1.0] * 5, cities + ["乙"] * 5, 13)
    assert both.value == pytest.approx(alone.value * 8 / 13)
    assert (both.low, both.high) == pytest.approx((alone.low * 8 / 13, alone.high * 8 / 13))
    assert not both.exact and not alone.exact


def test_a_share_needs_someone_to_stand_for_every_part_of_the_population():
    # 3 projects known with certainty of a population of 10: the other 7 have nobody inspected by chance.
    with pytest.raises(EstimateInputInvalid) as info:
        share([True, False, False], [1.0] * 3, ["甲"] * 3, 10)
    assert info.value.code == "estimate_incomplete"
    with pytest.raises(EstimateInputInvalid) as info:
        share([True, False, False], [0.5] * 3, ["甲"] * 3, 2)  # fewer projects than inspected
    assert info.value.code == "estimate_input_invalid"
    with pytest.raises(EstimateInputInvalid) as info:  # drawn by chance, but none has a subsidy to weigh
        ratio([0.0, 0.0], [0.0, 0.0], [0.5, 0.5], ["甲", "甲"], 40.0)
    assert info.value.code == "no_whole"


def test_korn_graubard_is_clopper_pearson_on_the_effective_sample_size():
    # v = p(1−p)/n_eff with n_eff = 20, df = n − 1 (t ratio 1): exactly Clopper–Pearson's 6 of 20.
    low, high = korn_graubard(0.3, 0.3 * 0.7 / 20, 30, 29)
    assert (low, high) == pytest.approx((beta_quantile(0.025, 6, 15), beta_quantile(0.975, 7, 14)))
    assert (round(low, 4), round(high, 4)) == (0.1189, 0.5428)  # R: binom.test(6, 20)$conf.int
    # Fewer degrees of freedom than units shrink n_eff by (t_{n−1}/t_df)²: a wider interval.
    narrow, wide = korn_graubard(0.3, 0.01, 30, 29), korn_graubard(0.3, 0.01, 30, 5)
    assert wide[0] < narrow[0] and wide[1] > narrow[1]
    # n_eff is never taken above the n units inspected, however small the variance.
    assert korn_graubard(0.3, 1e-9, 10, 9) == pytest.approx(korn_graubard(0.3, 0.0, 10, 9))
    # nor above Kish's effective size of unequally weighted units: none failed of 60 weighing 1 … 500
    # says as much as none of 4 equal ones.
    assert korn_graubard(0.0, 0.0, 60, 50, 4.0) == pytest.approx(korn_graubard(0.0, 0.0, 4, 3))
    assert kish(np.array([1.0] * 4)) == 4 and kish(np.array([1.0] * 59 + [500.0])) < 1.5


def test_the_quantiles_match_published_tables():
    assert [round(t_quantile(0.975, df), 3) for df in (1, 2, 5, 30)] == [12.706, 4.303, 2.571, 2.042]
    assert round(beta_quantile(0.025, 3, 8), 5) == 0.06674


def test_no_failed_project_inspected_is_an_interval_above_zero_not_a_point():
    est = share([False] * 6, [0.2] * 6, ["甲"] * 3 + ["乙"] * 3, 30)
    assert est.value == 0 and est.low == 0 and est.high == pytest.approx(1 - 0.025 ** (1 / 6))


def test_a_subsidy_share_scaled_by_the_known_total():
    # The frame's subsidy is 500; inspected: 20 failed (π 0.5), 30 passed (π 0.5), 10 failed (certain).
    # The certain 10 are known; the other 490 at the ratio of the rest, (20/0.5) ÷ (20/0.5 + 30/0.5) = 0.4.
    est = ratio([20.0, 0.0, 10.0], [20.0, 30.0, 10.0], [0.5, 0.5, 1.0], ["甲", "甲", "乙"], 500.0)
    assert est.value == pytest.approx((10 + 490 * 0.4) / 500)
    amount = est.scaled(500)
    assert amount.value == pytest.approx(500 * est.value) and (amount.low, amount.high) == pytest.approx((500 * est.low, 500 * est.high))


@pytest.mark.parametrize("args", [([1.0], [1.0], [0.0], ["甲"]), ([1.0], [1.0], [1.5], ["甲"]),
                                  ([1.0, 2.0], [1.0, 2.0], [0.5], ["甲"]), ([3.0], [2.0], [0.5], ["甲"]),
                                  ([-1.0], [2.0], [0.5], ["甲"]), ([], [], [], [])])
def test_bad_input_is_refused_with_a_code(args):
    with pytest.raises(EstimateInputInvalid) as info:
        ratio(*args, 100.0)
    assert info.value.code == "estimate_input_invalid"


def _campaign_like(projects: int, cities: int, ratio_: float = 0.2, *, proportional: bool = False,
                   fails=None) -> tuple[Frame, dict, dict]:
    """Attack K12's design: lognormal subsidies, a weight-3 rule on subsidy ≥ 15, a take_all rule on
    every 37th project; failure 40% among the high-subsidy projects, 10% among the rest (seeded) — or
    ``fails(rng, subsidy)``; drawn proportionally to the subsidy when ``proportional`` (attack M5)."""
    rng = np.random.default_rng(3)
    vouchers = [f"V{i:05d}" for i in range(projects)]
    subsidy = np.round(rng.lognormal(2, 1, projects), 2)
    failed = fails(rng, subsidy) if fails else rng.random(projects) < np.where(subsidy >= 15, 0.4, 0.1)
    rules = Sampling(ratio=ratio_, proportional_to_subsidy=proportional, priority_rules=[
        PriorityRule(key="high_subsidy", name="高额", weight=3, when="subsidy >= 15"),
        PriorityRule(key="complaint", name="投诉", when="complaints > 0", take_all=True)])
    frame = Frame.of(pd.DataFrame({
        "voucher": vouchers, "city": [f"市{i % cities}" for i in range(projects)], "provider": "服务商", "firm": "企业",
        "subsidy": subsidy, "high_subsidy": subsidy >= 15, "complaint": [i % 37 == 0 for i in range(projects)]}), rules)
    return frame, dict(zip(vouchers, failed)), dict(zip(vouchers, subsidy))


def _truth(frame: Frame, failed: dict, amount: dict) -> tuple[float, float, int, float]:
    """The failed share and failed subsidy of the projects a draw can pick (π > 0), their number and subsidy."""
    reachable = [v for v, p in zip(frame.rows["voucher"], frame_probabilities(frame)) if p > 0]
    total = float(sum(amount[v] for v in reachable))
    return (sum(failed[v] for v in reachable) / len(reachable), sum(amount[v] for v in reachable if failed[v]),
            len(reachable), total)


def _estimates(frame: Frame, failed: dict, amount: dict, runs: int, inspect=None):
    """Per seed: the failed share's and the failed subsidy's estimates from the drawn projects
    ``inspect(drawn, seed)`` says are inspected (all when None), π adjusted as the board adjusts it."""
    _, _, population, total = _truth(frame, failed, amount)
    shares, amounts = [], []
    for seed in range(runs):
        drawn = draw(frame, seed).drawn
        done = np.ones(len(drawn), dtype=bool) if inspect is None else inspect(drawn, seed)
        pi = inspected_probabilities(drawn["probability"], drawn["city"], done)[done]
        part = drawn[done]
        flags = [failed[v] for v in part["voucher"]]
        subsidy = [amount[v] for v in part["voucher"]]
        shares.append(share(flags, pi, part["city"], population))
        amounts.append(ratio([a * f for a, f in zip(subsidy, flags)], subsidy, pi, part["city"], total).scaled(total))
    return shares, amounts


def _on_the_truth(frame: Frame, failed: dict, amount: dict, shares, amounts, runs: int, level: float = 0.9) -> None:
    """The mean estimate is the truth within 4 simulation standard errors, the estimates vary, and the
    interval covers the truth in at least ``level`` of draws, never with zero width."""
    true_share, true_amount, _, _ = _truth(frame, failed, amount)
    for estimates, truth in ((shares, true_share), (amounts, true_amount)):
        values = np.array([e.value for e in estimates])
        assert values.std() > 0  # the sample varies: the test is not trivially true
        assert abs(values.mean() - truth) < 4 * values.std() / np.sqrt(runs), (values.mean(), truth)
        coverage = np.mean([e.low <= truth <= e.high for e in estimates])
        assert coverage >= level, coverage
        assert all(e.low < e.high for e in estimates)  # never a zero-width interval (K12 saw 0.8% of draws)


@pytest.mark.parametrize("projects, cities, runs", [(120, 6, 600), (1000, 21, 150)])
def test_unbiased_in_simulation_and_the_interval_holds_its_level(projects, cities, runs):
    """Over many seeded draws the mean estimate is the frame's truth within its simulation error (the
    Horvitz–Thompson share is unbiased, the subsidy's ratio to first order), and the 95% interval covers
    the truth in at least 90% of draws — on attack K12's campaign-like design (120 projects, 6 cities,
    ratio 0.2, 12.5% failed: about 4 inspected per city) and on a larger one."""
    frame, failed, amount = _campaign_like(projects, cities)
    shares, amounts = _estimates(frame, failed, amount, runs)
    _on_the_truth(frame, failed, amount, shares, amounts, runs)


def test_drawn_proportionally_to_the_subsidy_the_share_is_unbiased_and_its_interval_holds():
    """Attack M5: 300 projects in 21 cities drawn proportionally to the subsidy (π from 0.002 to 1), the
    failures among the small projects (35% below 5 万元, 2% above). Hájek's ratio averaged 12% below the
    truth and its interval covered ~67% of draws (most samples find no failed project among units that
    weigh up to 500); the Horvitz–Thompson share with the known N is centred on the truth and the
    interval, never narrower than Kish's effective size allows, covers it."""
    frame, failed, amount = _campaign_like(300, 21, proportional=True,
                                           fails=lambda rng, sub: rng.random(len(sub)) < np.where(sub < 5, 0.35, 0.02))
    pi = frame_probabilities(frame)
    assert pi[pi > 0].min() < 0.005 and (pi == 1).any()  # the design is as unequal as the attack's
    shares, amounts = _estimates(frame, failed, amount, 400)
    _on_the_truth(frame, failed, amount, shares, amounts, 400)


def test_the_normal_interval_this_replaces_fell_short_on_the_small_design():
    """The reason for the method: on the small design a normal interval R ± 1.96·se on the same estimates
    covers the failed share well under 90% of draws (K12 measured ~72%)."""
    frame, failed, amount = _campaign_like(120, 6)
    truth = _truth(frame, failed, amount)[0]
    shares, _ = _estimates(frame, failed, amount, 300)
    assert np.mean([abs(e.value - truth) <= 1.959964 * e.standard_error for e in shares]) < 0.85


def test_inspected_probabilities_by_hand():
    # 甲: four by chance (π 0.5), two inspected → π × 2/4; one certain, inspected → 1. 乙: one certain, inspected.
    got = inspected_probabilities([0.5, 0.5, 0.5, 0.5, 1.0, 1.0], ["甲"] * 5 + ["乙"], [True, False, False, True, True, True])
    assert got.tolist() == [0.25, 0.25, 0.25, 0.25, 1.0, 1.0]
    assert inspected_probabilities([0.5, 1.0], ["甲", "乙"], [True, True]).tolist() == [0.5, 1.0]  # all inspected: π itself


def test_a_class_with_nothing_inspected_is_named_and_never_dropped_silently():
    """Attack M6: a class (city × drawn with certainty or by chance) with drawn projects and none
    inspected weighed 0, and the rest stood for the province."""
    pi, cities = [0.5, 0.5, 1.0, 0.5, 1.0], ["甲", "甲", "甲", "乙", "乙"]
    assert missing_classes(pi, cities, [True, False, True, False, True]) == [("乙", False)]
    assert missing_classes(pi, cities, [False, False, False, True, False]) == [("乙", True), ("甲", True), ("甲", False)]  # cities by code point
    assert missing_classes(pi, cities, [True, False, True, True, True]) == []
    with pytest.raises(EstimateInputInvalid) as info:
        inspected_probabilities(pi, cities, [True, False, True, False, True])
    assert info.value.code == "estimate_incomplete" and "乙的随机抽中项目" in str(info.value)


def _one_of_each_class(drawn: pd.DataFrame, seed: int, chance_only: bool = False) -> np.ndarray:
    """One drawn project of each class (city × drawn with certainty or by chance), picked at random
    (seeded): what the groups have inspected at the least once no class is missing. Not the first in the
    frame's order: the frame's failures are fixed, and its first projects are not a random pick of them."""
    certain = drawn["probability"] >= 1
    shuffled = drawn.assign(certain=certain).iloc[np.random.default_rng(20_000 + seed).permutation(len(drawn))]
    picked = np.zeros(len(drawn), dtype=bool)
    picked[drawn.index.get_indexer(shuffled.drop_duplicates(["city", "certain"]).index)] = True
    return picked & ~certain.to_numpy() if chance_only else picked


def _complained_of_fail_often(rng, subsidy):
    """Attack M6's design: the complained-of (take_all) projects fail 70%, the others 8%."""
    return rng.random(len(subsidy)) < np.where(np.arange(len(subsidy)) % 37 == 0, 0.7, 0.08)


def test_the_complained_of_projects_inspected_first_give_no_estimate_until_each_class_has_one():
    """Attack M6: the groups visit the take_all projects first; with only those inspected the board showed
    75% failed for a true 7.5%, its interval never covering the truth. Now every seed names each city's
    chance-drawn class as missing; with one chance-drawn project per city inspected too, the estimates are
    centred on the truth and cover it."""
    frame, failed, amount = _campaign_like(120, 6, fails=_complained_of_fail_often)
    for seed in range(50):
        drawn = draw(frame, seed).drawn
        certain = (drawn["probability"] >= 1).to_numpy()
        assert certain.any()
        # (city, drawn with certainty): every city's chance-drawn class, and no certain one
        assert missing_classes(drawn["probability"], drawn["city"], certain) == \
            [(c, False) for c in sorted(set(drawn.loc[~certain, "city"]))]
        with pytest.raises(EstimateInputInvalid) as info:
            inspected_probabilities(drawn["probability"], drawn["city"], certain)
        assert info.value.code == "estimate_incomplete"

    def certain_and_one_by_chance(drawn: pd.DataFrame, seed: int) -> np.ndarray:
        return (drawn["probability"] >= 1).to_numpy() | _one_of_each_class(drawn, seed, chance_only=True)

    shares, amounts = _estimates(frame, failed, amount, 300, certain_and_one_by_chance)
    _on_the_truth(frame, failed, amount, shares, amounts, 300)


@pytest.mark.parametrize("projects, cities, runs", [(120, 6, 300), (1000, 21, 100)])
def test_mid_inspection_the_estimates_stay_on_the_truth(projects, cities, runs):
    """While inspections are going (one drawn project of each class inspected, every other drawn project
    inspected or not at random, seeded), the estimates from the inspected part, their π
    adjusted by ``inspected_probabilities``, are still centred on the truth and the interval still covers
    it in at least 90% of draws — the inspected are not read as if the rest were zeros, nor a city half
    done as weighing half."""
    frame, failed, amount = _campaign_like(projects, cities)

    def half(drawn: pd.DataFrame, seed: int) -> np.ndarray:
        return _one_of_each_class(drawn, seed) | (np.random.default_rng(10_000 + seed).random(len(drawn)) < 0.5)

    shares, amounts = _estimates(frame, failed, amount, runs, half)
    _on_the_truth(frame, failed, amount, shares, amounts, runs)
