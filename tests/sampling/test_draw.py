"""The draw: per-city sizes, exact inclusion probabilities, take_all, reproducibility (issue 13, outcomes 2–3, 8)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.sampling.draw import (
    ALGORITHM_VERSION,
    DrawShort,
    SeedInvalid,
    SizeUnknown,
    city_size,
    draw,
    frame_probabilities,
    generator,
    inclusion,
    parse_seed,
    sizes,
)

from .conftest import frame_of, sampling


@pytest.mark.parametrize("ratio, population, n", [
    (0.2, 1, 1), (0.2, 2, 1), (0.2, 4, 1), (0.2, 5, 1), (0.2, 6, 2), (0.2, 100, 20), (0.2, 101, 21),
    (0.3, 10, 3), (0.3, 11, 4), (1.0, 3, 3), (0.2, 0, 0),
])
def test_a_city_inspects_the_ceiling_of_its_share_and_at_least_one(ratio, population, n):
    assert city_size(ratio, population) == n


def test_sizes_add_the_weights_of_the_rules_met_and_may_grow_with_the_subsidy():
    frame = frame_of(["甲"] * 4, high=(1, 3), complaint=(2, 3), subsidy=[10.0, 40.0, 20.0, 50.0],
                     rules=sampling(weights=(2.0, 0.5)))
    assert sizes(frame).tolist() == [1.0, 3.0, 1.5, 3.5]
    frame = frame_of(["甲"] * 4, high=(1, 3), complaint=(2, 3), subsidy=[10.0, 40.0, 20.0, 50.0],
                     rules=sampling(weights=(2.0, 0.5), proportional=True))
    assert sizes(frame).tolist() == [10.0, 120.0, 30.0, 175.0]


def test_a_draw_by_subsidy_refuses_a_project_without_one():
    frame = frame_of(["甲"] * 2, subsidy=[10.0, None], rules=sampling(proportional=True))
    with pytest.raises(SizeUnknown) as info:
        sizes(frame)
    assert info.value.code == "size_unknown" and "V-001" in str(info.value)


def test_a_size_that_is_no_finite_number_is_refused_not_drawn_as_nothing():
    """A weight past the model's bound (built without its validation) overflowed to inf: π became 0 or
    nan and a city of 10 drew none, silently. The draw refuses it by voucher instead."""
    rules = sampling(ratio=0.2)
    huge = rules.model_copy(update={"priority_rules": (rules.priority_rules[0].model_copy(update={"weight": 1e308}),
                                                       rules.priority_rules[1])})
    frame = frame_of(["甲"] * 10, high=(2, 5), subsidy=[40.0] * 10, rules=huge)
    with pytest.raises(SizeUnknown) as info:
        draw(frame, 1)
    assert info.value.code == "size_not_finite" and "V-002、V-005" in str(info.value)
    frame = frame_of(["甲"] * 10, high=(2, 5), subsidy=[40.0] * 10, rules=sampling(weights=(1000.0, 1000.0)))
    assert (draw(frame, 1).cities["drawn"] >= 2).all()  # the largest weight the model takes still draws the minimum


def test_a_draw_short_of_a_city_s_minimum_is_refused(monkeypatch):
    import lib.sampling.draw as module

    frame = frame_of(["甲"] * 10 + ["乙"] * 3)
    monkeypatch.setattr(module, "frame_probabilities", lambda f: np.zeros(len(f.rows)))  # whatever made every π 0
    with pytest.raises(DrawShort) as info:
        draw(frame, 1)
    assert info.value.code == "draw_short" and "甲" in str(info.value) and "乙" in str(info.value)


def test_inclusion_probabilities_by_hand():
    # 2 places among sizes 1, 2, 3, 4 (W = 10): π = 2w/10
    assert inclusion(np.array([1.0, 2.0, 3.0, 4.0]), 2) == pytest.approx([0.2, 0.4, 0.6, 0.8])
    # 2 places among 1, 1, 2, 4: 4 would get 2·4/8 = 1, so it is certain; 1 place for 1, 1, 2 (W = 4)
    assert inclusion(np.array([1.0, 1.0, 2.0, 4.0]), 2).tolist() == [0.25, 0.25, 0.5, 1.0]
    # 3 places among 1, 1, 1, 9, 9: both 9s certain (3·9/21 > 1), then 1 place among three 1s
    assert inclusion(np.array([1.0, 1.0, 1.0, 9.0, 9.0]), 3) == pytest.approx([1 / 3, 1 / 3, 1 / 3, 1, 1])
    assert inclusion(np.array([1.0, 5.0]), 2).tolist() == [1.0, 1.0]


class _Stub:
    """A bit generator whose words are given: first the keys of the random order, then u's word."""

    def __init__(self, keys, u):
        self.keys, self.u = keys, u

    def random_raw(self, size=None):
        return np.array(self.keys, dtype=np.uint64) if size is not None else np.uint64(int(self.u * 2**53) << 11)


def test_randomised_systematic_selection_by_hand():
    from lib.sampling.draw import systematic

    # π 0.2, 0.4, 0.6, 0.8 (2 places); keys 3, 1, 4, 2 order the units 1, 3, 0, 2: cumulated 0.4, 1.2, 1.4, 2.0.
    # u = 0.5: the points 0.5 and 1.5 fall on units 3 (0.4–1.2) and 2 (1.4–2.0).
    assert systematic(np.array([0.2, 0.4, 0.6, 0.8]), _Stub([3, 1, 4, 2], 0.5)).tolist() == [2, 3]
    # u = 0.1: 0.1 falls on unit 1 (0–0.4), 1.1 on unit 3 (0.4–1.2)
    assert systematic(np.array([0.2, 0.4, 0.6, 0.8]), _Stub([3, 1, 4, 2], 0.1)).tolist() == [1, 3]


def test_systematic_selection_draws_each_unit_with_its_probability():
    from lib.sampling.draw import systematic

    pi = np.array([0.1, 0.25, 0.3, 0.35, 0.5, 0.5, 0.9, 0.1])  # sums to 3
    bits = generator(7, "ab" * 32)
    runs = 20_000
    counts = np.zeros(len(pi))
    for _ in range(runs):
        picked = systematic(pi, bits)
        assert len(picked) == 3 and len(set(picked.tolist())) == 3
        counts[picked] += 1
    assert np.abs(counts / runs - pi).max() < 4.5 * np.sqrt(0.25 / runs)


def test_the_same_frame_and_seed_give_the_same_sample_and_another_seed_another():
    frame = frame_of(["甲"] * 30 + ["乙"] * 20, high=(1, 4, 22, 40), complaint=(7,), rules=sampling(take_all=True))
    first, again, other = draw(frame, 20200922), draw(frame, 20200922), draw(frame, 20200923)
    assert first.drawn.equals(again.drawn)
    assert (first.seed, first.fingerprint, first.algorithm_version) == (20200922, frame.fingerprint, ALGORITHM_VERSION)
    assert first.drawn["voucher"].tolist() != other.drawn["voucher"].tolist()
    assert len(first.drawn) == len(other.drawn) == 6 + 4


def test_the_sample_follows_the_fingerprint_not_the_row_order():
    frame = frame_of(["甲"] * 30, high=(3,))
    shuffled = type(frame).of(frame.rows.sample(frac=1, random_state=3), frame.sampling)
    assert shuffled.fingerprint == frame.fingerprint
    assert draw(shuffled, 5).drawn.equals(draw(frame, 5).drawn)


def test_take_all_rows_are_drawn_and_the_city_grows_when_they_are_more():
    # 甲: 10 projects, n = 2, 3 complaints: all 3 drawn, nothing by chance; 乙: 10, 1 complaint + 1 by chance
    frame = frame_of(["甲"] * 10 + ["乙"] * 10, complaint=(0, 1, 2, 15), rules=sampling(take_all=True))
    sample = draw(frame, 1)
    by_city = sample.cities.set_index("city")
    assert by_city.loc["甲", ["population", "minimum", "drawn"]].tolist() == [10, 2, 3]
    assert by_city.loc["乙", ["minimum", "drawn"]].tolist() == [2, 2]
    forced = sample.drawn[sample.drawn["selection"] == "take_all"]
    assert sorted(forced["voucher"]) == ["V-000", "V-001", "V-002", "V-015"]
    assert forced["probability"].tolist() == [1.0] * 4 and all("complaint" in r for r in forced["rules"])
    [chance] = sample.drawn[sample.drawn["selection"] == "random"].itertuples()
    assert chance.city == "乙" and chance.probability == pytest.approx(1 / 9)


def test_a_drawn_project_names_the_rules_that_raised_it_and_a_rule_of_weight_zero_raises_nothing():
    frame = frame_of(["甲"] * 5, high=(0, 1, 2, 3, 4), complaint=(0, 1, 2, 3, 4), rules=sampling(weights=(0.0, 1.0)))
    assert set(draw(frame, 3).drawn["rules"]) == {("complaint",)}


CITY_SIZES = st.lists(st.one_of(st.sampled_from([1, 2, 4]), st.integers(1, 25)), min_size=1, max_size=6)


@settings(max_examples=60, deadline=None)
@given(sizes_=CITY_SIZES, ratio=st.floats(0.2, 1.0), seed=st.integers(0, 2**64), take_all=st.booleans(),
       proportional=st.booleans(), data=st.data())
def test_every_city_gets_at_least_its_minimum_and_every_take_all_row(sizes_, ratio, seed, take_all, proportional, data):
    cities = [f"市{c}" for c, n in enumerate(sizes_) for _ in range(n)]
    n = len(cities)
    flags = st.lists(st.booleans(), min_size=n, max_size=n)
    high = [i for i, f in enumerate(data.draw(flags)) if f]
    complaint = [i for i, f in enumerate(data.draw(flags)) if f]
    subsidy = data.draw(st.lists(st.floats(0.01, 500).map(lambda v: round(v, 2)).filter(lambda v: v > 0), min_size=n, max_size=n))
    frame = frame_of(cities, high=high, complaint=complaint, subsidy=subsidy,
                     rules=sampling(ratio, weights=(data.draw(st.floats(0, 5)), 1.0), take_all=take_all, proportional=proportional))
    sample = draw(frame, seed)
    drawn = sample.drawn
    assert drawn["voucher"].is_unique
    forced = set(frame.rows["voucher"][frame.rows["complaint"]]) if take_all else set()
    assert forced <= set(drawn["voucher"])
    for c, size in enumerate(sizes_):
        mine = drawn[drawn["city"] == f"市{c}"]
        forced_here = sum(1 for v in forced if frame.rows.set_index("voucher").at[v, "city"] == f"市{c}")
        assert len(mine) == max(city_size(ratio, size), forced_here) >= 1
    assert ((drawn["probability"] > 0) & (drawn["probability"] <= 1)).all()
    pi = frame_probabilities(frame)
    for c in range(len(sizes_)):  # a city's probabilities add up to its sample size
        here = (frame.rows["city"] == f"市{c}").to_numpy()
        assert pi[here].sum() == pytest.approx(len(drawn[drawn["city"] == f"市{c}"]))


@pytest.mark.slow  # 3,000 whole draws: about 10 s on a shared machine; the systematic step alone is checked above, fast
def test_drawn_frequencies_over_many_seeds_match_the_recorded_probabilities():
    frame = frame_of(["甲"] * 12 + ["乙"] * 8, high=(1, 3, 5, 13, 14), complaint=(2,),
                     subsidy=[float(5 + 3 * i) for i in range(20)],
                     rules=sampling(0.3, weights=(2.0, 1.0), take_all=True, proportional=True))
    pi = frame_probabilities(frame)
    runs = 3_000
    counts = np.zeros(len(pi))
    position = {v: i for i, v in enumerate(frame.rows["voucher"])}
    for seed in range(runs):
        drawn = draw(frame, seed).drawn
        positions = [position[v] for v in drawn["voucher"]]
        assert np.allclose(drawn["probability"].to_numpy(), pi[positions], rtol=0, atol=1e-12)
        counts[positions] += 1
    sigma = np.sqrt(pi * (1 - pi) / runs)
    assert (np.abs(counts / runs - pi) <= 4.5 * sigma + 1e-9).all()
    assert 0 < pi.min() and pi.max() == 1.0 and len(set(np.round(pi, 6))) > 5  # a frame worth the test


@pytest.mark.parametrize("text, code", [("", "seed_empty"), ("   ", "seed_empty"), (None, "seed_empty"),
                                        ("abc", "seed_not_number"), ("12.5", "seed_not_number"), ("1e5", "seed_not_number"),
                                        ("-3", "seed_negative"), ("1" * 41, "seed_too_long"),
                                        # attack K7: digits NFKC would make of other characters are no published number
                                        ("①②③", "seed_not_number"), ("²", "seed_not_number"), ("12³", "seed_not_number"),
                                        ("٣", "seed_not_number"), ("ⅻ", "seed_not_number")])
def test_a_bad_seed_is_refused_with_its_code(text, code):
    with pytest.raises(SeedInvalid) as info:
        parse_seed(text)
    assert info.value.code == code


def test_a_seed_is_any_whole_number_from_zero():
    assert [parse_seed(t) for t in ("0", "007", " 123456789012345678901234567890 ")] == [0, 7, 123456789012345678901234567890]
    assert [parse_seed(t) for t in ("１２３", "\u3000２０２０0922\u00a0")] == [123, 20200922]  # full-width digits, any blanks around
    assert [parse_seed(t) for t in ("-0", "－０", "-000")] == [0, 0, 0]  # attack K7: minus zero is zero, not a negative seed


def test_the_worked_example_of_the_method_page():
    """docs/sampling.md §5, step by step: the page an auditor follows must be what the program does."""
    import pandas as pd

    from lib.forms.spec import PriorityRule, Sampling
    from lib.sampling.frame import Frame, canonical_text

    rules = Sampling(ratio=0.5, priority_rules=[
        PriorityRule(key="never_checked", name="未实地检查", weight=1, when="not checked_on_site"),
        PriorityRule(key="high_subsidy", name="奖补金额较高", weight=4, when="subsidy >= 30"),
        PriorityRule(key="complaint", name="有投诉举报", weight=1, take_all=True, when="complaints > 0")])
    frame = Frame.of(pd.DataFrame({
        "voucher": [f"A-000{i}" for i in range(1, 7)], "city": ["甲市"] * 6,
        "provider": ["服务商甲", "服务商甲", "服务商乙", "服务商乙", "服务商丙", "服务商丙"],
        "firm": [f"企业{c}" for c in "ABCDEF"], "subsidy": [10, 12.5, 8, 45, 20, 15],
        "never_checked": [False, True, True, True, False, False], "high_subsidy": [False, False, False, True, False, False],
        "complaint": [False] * 5 + [True]}), rules)
    page = (Path(__file__).resolve().parents[2] / "docs" / "sampling.md").read_text(encoding="utf-8")
    assert canonical_text(frame).splitlines()[1] == "A-0001\t甲市\t服务商甲\t企业A\t10.00\t0\t0\t0"
    assert frame.fingerprint == "ae907104bf85febf0f2c46024e3b971bbdf25d821264131fd2166ebb990f481a" and frame.fingerprint in page
    assert sizes(frame).tolist() == [1, 2, 2, 6, 1, 2]
    assert frame_probabilities(frame) == pytest.approx([1 / 6, 1 / 3, 1 / 3, 1, 1 / 6, 1])
    bits = generator(20200922, frame.fingerprint)
    words = [int(w) for w in bits.random_raw(4)] + [int(bits.random_raw())]
    assert words == [603016155938250909, 12952121544365411310, 4971596602917355272, 10122228598987892073, 13358654269812585528]
    assert all(f"`{w}`" in page for w in words)
    drawn = draw(frame, 20200922).drawn
    assert list(zip(drawn["voucher"], drawn["selection"])) == [("A-0002", "random"), ("A-0004", "certain"), ("A-0006", "take_all")]
    assert drawn["rules"].tolist() == [("never_checked",), ("never_checked", "high_subsidy"), ("complaint",)]
