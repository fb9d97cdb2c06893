"""Horvitz–Thompson estimates from a drawn sample (issue 13, outcome 7's estimator, outcome 8's test)."""

from __future__ import annotations

import numpy as np
import pytest

from lib.sampling.draw import draw
from lib.sampling.estimate import EstimateInputInvalid, share, total

from .conftest import frame_of, sampling


def test_a_total_by_hand():
    # 甲: two projects drawn by chance (π 0.5): z = 20 and 0, c = 0.5 each, centre 10: v = 2·(0.5·100 + 0.5·100) = 200.
    # 乙: one drawn with certainty: z = 5, no variance. 丙: one by chance, π 0.25, y 1: z = 4, v = 0.75·16 = 12.
    est = total([10.0, 0.0, 5.0, 1.0], [0.5, 0.5, 1.0, 0.25], ["甲", "甲", "乙", "丙"])
    assert est.value == 29.0 and est.standard_error == pytest.approx(np.sqrt(212))
    assert (est.low, est.high) == pytest.approx((29 - 1.959964 * np.sqrt(212), 29 + 1.959964 * np.sqrt(212)))
    assert est.n == 4


def test_a_share_is_the_total_over_the_frame_and_stays_within_zero_and_one():
    est = share([True, False, True], [0.5, 0.5, 1.0], ["甲", "甲", "乙"], population=10)
    assert est.value == pytest.approx(0.3) and 0 <= est.low <= est.value <= est.high <= 1


@pytest.mark.parametrize("args", [([1.0], [0.0], ["甲"]), ([1.0], [1.5], ["甲"]), ([1.0, 2.0], [0.5], ["甲"])])
def test_bad_input_is_refused_with_a_code(args):
    with pytest.raises(EstimateInputInvalid) as info:
        total(*args)
    assert info.value.code == "estimate_input_invalid"


def test_the_estimates_are_unbiased_in_simulation():
    """Over many draws the mean estimate is the frame's true total (and share) within its simulation error."""
    cities = ["甲"] * 12 + ["乙"] * 8
    subsidy = [float(5 + 3 * i) for i in range(20)]
    frame = frame_of(cities, high=(1, 3, 5, 13, 14), complaint=(2,), subsidy=subsidy,
                     rules=sampling(0.3, weights=(2.0, 1.0), take_all=True, proportional=True))
    failed = {v: i % 3 == 0 for i, v in enumerate(frame.rows["voucher"])}  # the project's (unknown) truth
    amount = dict(zip(frame.rows["voucher"], frame.rows["subsidy"]))
    true_total = sum(amount[v] for v, f in failed.items() if f)
    true_share = sum(failed.values()) / len(failed)
    totals, shares, covered = [], [], 0
    runs = 800
    for seed in range(runs):
        drawn = draw(frame, seed).drawn
        flags = [failed[v] for v in drawn["voucher"]]
        est = total([amount[v] * f for v, f in zip(drawn["voucher"], flags)], drawn["probability"], drawn["city"])
        totals.append(est.value)
        covered += est.low <= true_total <= est.high
        shares.append(share(flags, drawn["probability"], drawn["city"], population=len(failed)).value)
    totals, shares = np.array(totals), np.array(shares)
    assert abs(totals.mean() - true_total) < 4 * totals.std() / np.sqrt(runs)
    assert abs(shares.mean() - true_share) < 4 * shares.std() / np.sqrt(runs)
    assert totals.std() > 0  # the sample varies: the test is not trivially true
    assert covered / runs > 0.8  # the interval is a usable 95% interval on a small frame
