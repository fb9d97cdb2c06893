"""The 双随机 inspector draw with 回避 (issue 13, outcome 4): no rule is ever broken, every sampled city
gets one full group whenever that is possible, the same seed gives the same groups, and an impossible
pool is refused naming the city."""

from __future__ import annotations

import datetime as dt
import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.core.text import comparable
from lib.sampling.inspectors import (
    ALGORITHM_VERSION,
    HEALTH_DAYS,
    Inspector,
    InspectorDrawError,
    draw_groups,
    refusal,
)

DAY = dt.date(2026, 9, 22)
FRESH = DAY - dt.timedelta(days=3)
CITIES = ("潮州", "汕头", "揭阳", "梅州", "河源", "韶关")
#: Organisation names as people type them: the same names with other brackets, widths and blanks.
NAMES = ("甲云科技（集团）有限公司", "乙数据有限公司", "丙制造厂", "丁软件公司", "ＡＢＣ云服务")
TYPED = ("甲云科技 (集团)有限公司", "乙数据有限公司", "丙制造厂 ", "丁软件公司", "abc云服务")


def may_go(person: Inspector, city: str, parties: list[str], day: dt.date) -> bool:
    """The 回避 rules restated independently of the module, as the notice puts them."""
    if comparable(city) in {comparable(person.city), comparable(person.org_city)}:
        return False
    declared = {comparable(n) for n in (*person.conflicts, person.org) if n}
    if declared & {comparable(p) for p in parties}:
        return False
    on = person.health_declared_on
    return on is not None and dt.timedelta(0) <= day - on < dt.timedelta(days=HEALTH_DAYS)


def feasible(pool: list[Inspector], sample: dict[str, list[str]], size: int, day: dt.date) -> bool:
    """Hall's condition over every set of cities, by brute force: each set needs size × its cities
    inspectors who may go to one of them."""
    allowed = {c: {i.account for i in pool if may_go(i, c, p, day)} for c, p in sample.items()}
    return all(len(set().union(*(allowed[c] for c in subset))) >= size * len(subset)
               for r in range(1, len(sample) + 1) for subset in itertools.combinations(sample, r))


def check(got, pool: list[Inspector], sample: dict[str, list[str]], size: int, day: dt.date) -> None:
    """Every sampled city has exactly one group of ``size`` distinct inspectors, nobody is in two, and
    nobody is where a rule forbids."""
    by_account = {i.account: i for i in pool}
    assert [g.city for g in got.groups] == sorted(sample)
    members = [a for g in got.groups for a in g.members]
    assert len(members) == len(set(members)) == size * len(sample)
    for group in got.groups:
        assert len(group.members) == size
        assert all(may_go(by_account[a], group.city, sample[group.city], day) for a in group.members)


people = st.builds(
    Inspector,
    account=st.sampled_from([f"i{n:02d}" for n in range(40)]),
    city=st.sampled_from(("", *CITIES)),
    org=st.sampled_from(("省检查组", "", *NAMES)),
    org_city=st.sampled_from(("", *CITIES)),
    conflicts=st.lists(st.sampled_from(TYPED), max_size=2).map(tuple),
    # mostly current, as in a kept pool, with the edges of the window and no declaration among them
    health_declared_on=st.one_of(st.integers(0, HEALTH_DAYS - 1), st.integers(-2, HEALTH_DAYS + 2), st.none()).map(
        lambda d: None if d is None else DAY - dt.timedelta(days=d)),
)
pools = st.lists(people, min_size=3, max_size=30, unique_by=lambda i: i.account)
samples = st.dictionaries(st.sampled_from(CITIES), st.lists(st.sampled_from(NAMES), max_size=3), min_size=1, max_size=5)


@settings(max_examples=300, deadline=None)
@given(pool=pools, sample=samples, size=st.integers(1, 3), seed=st.integers(0, 2**32))
def test_no_rule_is_ever_broken_and_a_draw_succeeds_exactly_when_one_is_possible(pool, sample, size, seed):
    try:
        got = draw_groups(pool, sample, size, seed=seed, day=DAY)
    except InspectorDrawError as err:
        assert not feasible(pool, sample, size, DAY)
        assert err.code in ("inspectors_short", "inspectors_short_together") and err.cities
        # the cities named are a set that really cannot be served (Hall's condition fails for them)
        assert not feasible(pool, {c: sample[c] for c in err.cities}, size, DAY)
        assert all(f"「{c}」" in str(err) for c in err.cities)
        return
    assert feasible(pool, sample, size, DAY)
    check(got, pool, sample, size, DAY)
    assert (got.seed, got.day, got.group_size, got.algorithm) == (seed, DAY, size, ALGORITHM_VERSION)


def roomy(n: int = 30) -> tuple[list[Inspector], dict[str, list[str]]]:
    pool = [Inspector(f"i{k:02d}", city=CITIES[k % 6], org=f"单位{k}", conflicts=(TYPED[k % 5],) if k % 4 == 0 else (),
                      health_declared_on=FRESH) for k in range(n)]
    return pool, {c: [NAMES[k % 5]] for k, c in enumerate(CITIES[:4])}


def test_the_same_seed_gives_the_same_groups_whatever_the_order_of_the_inputs():
    pool, sample = roomy()
    first = draw_groups(pool, sample, 3, seed=20260922, day=DAY)
    shuffled = random.Random(1).sample(pool, len(pool))
    again = draw_groups(shuffled, dict(reversed(list(sample.items()))), 3, seed=20260922, day=DAY)
    assert again == first
    check(first, pool, sample, 3, DAY)


def test_another_seed_gives_other_groups_and_every_eligible_inspector_can_be_drawn():
    pool, sample = roomy()
    draws = [draw_groups(pool, sample, 3, seed=s, day=DAY) for s in range(200)]
    assert len({d.groups for d in draws}) > 150
    for city, parties in sample.items():
        eligible = {i.account for i in pool if may_go(i, city, parties, DAY)}
        assert {a for d in draws for a in d.members(city)} == eligible
    assert len({d.inputs_sha256 for d in draws}) == 1


def test_the_inputs_digest_changes_with_the_pool():
    pool, sample = roomy()
    before = draw_groups(pool, sample, 3, seed=5, day=DAY).inputs_sha256
    pool[0] = Inspector(pool[0].account, city=pool[0].city, conflicts=("戊公司",), health_declared_on=FRESH)
    assert draw_groups(pool, sample, 3, seed=5, day=DAY).inputs_sha256 != before


def test_a_city_short_of_inspectors_is_named_with_why():
    """The notice's example: 潮州 needs 3 and may receive 1 (two live there, one declared a conflict with
    a sampled provider, two declared their health too long ago)."""
    day = DAY
    pool = [
        Inspector("ok", city="广州", health_declared_on=FRESH),
        Inspector("home", city="潮州", health_declared_on=FRESH),
        Inspector("org", city="广州", org_city="潮州", health_declared_on=FRESH),
        Inspector("conflict", city="广州", conflicts=("甲云科技 (集团)有限公司",), health_declared_on=FRESH),
        Inspector("stale1", city="广州", health_declared_on=day - dt.timedelta(days=HEALTH_DAYS)),
        Inspector("stale2", city="广州", health_declared_on=day - dt.timedelta(days=40)),
    ]
    with pytest.raises(InspectorDrawError) as err:
        draw_groups(pool, {"潮州": ["甲云科技（集团）有限公司"]}, 3, seed=1, day=day)
    assert err.value.code == "inspectors_short" and err.value.cities == ("潮州",)
    assert "「潮州」" in str(err.value)
    assert [refusal(i, "潮州", ["甲云科技（集团）有限公司"], day) for i in pool] == [
        None, "本市", "本市", "利益冲突", "健康申报过期", "健康申报过期"]


def test_cities_that_share_too_few_inspectors_are_named_together():
    # 汕头 and 揭阳 may each receive the same two inspectors: enough for one group of 2, not for both;
    # 潮州's two may go nowhere else
    pool = [Inspector(f"i{k}", city="潮州", health_declared_on=FRESH) for k in range(2)]
    pool += [Inspector(f"g{k}", city="汕头", org_city="揭阳", health_declared_on=FRESH) for k in range(2)]
    sample = {"汕头": [], "揭阳": [], "潮州": []}
    with pytest.raises(InspectorDrawError) as err:
        draw_groups(pool, sample, 2, seed=3, day=DAY)
    assert err.value.code == "inspectors_short_together"
    assert set(err.value.cities) == {"汕头", "揭阳"}
    assert not feasible(pool, {c: [] for c in err.value.cities}, 2, DAY)


def test_a_conflict_is_found_however_the_name_is_typed_and_so_is_the_own_organisation():
    me = Inspector("i", city="广州", org="ＡＢＣ云服务", conflicts=("乙 数据有限公司",), health_declared_on=FRESH)
    assert refusal(me, "汕头", ["乙数据有限公司"], DAY) == "利益冲突"
    assert refusal(me, "汕头", ["abc云服务"], DAY) == "利益冲突"  # its own organisation is in the sample
    assert refusal(me, "汕头", ["丙制造厂"], DAY) is None


@pytest.mark.parametrize(("days_before", "reason"), [
    (0, None), (HEALTH_DAYS - 1, None), (HEALTH_DAYS, "健康申报过期"), (-1, "健康申报日期晚于抽取日"), (None, "未作健康申报"),
])
def test_a_health_declaration_is_current_for_the_fourteen_days_up_to_the_draw_day(days_before, reason):
    on = None if days_before is None else DAY - dt.timedelta(days=days_before)
    assert refusal(Inspector("i", city="广州", health_declared_on=on), "汕头", [], DAY) == reason


@pytest.mark.parametrize(("size", "seed", "sample", "code"), [
    (0, 1, {"汕头": []}, "bad_group_size"),
    (True, 1, {"汕头": []}, "bad_group_size"),
    (2.0, 1, {"汕头": []}, "bad_group_size"),
    (2, -1, {"汕头": []}, "bad_inspector_seed"),
    (2, "7", {"汕头": []}, "bad_inspector_seed"),
    (2, 1, {}, "no_sampled_city"),
])
def test_bad_arguments_are_refused_with_a_code(size, seed, sample, code):
    pool, _ = roomy()
    with pytest.raises(InspectorDrawError) as err:
        draw_groups(pool, sample, size, seed=seed, day=DAY)
    assert err.value.code == code


def province(tight_size: int) -> tuple[list[Inspector], dict[str, list[str]], int]:
    """200 inspectors and 21 cities, as the province has them: homes and organisations spread over
    the cities, a quarter with conflicts, a tenth with a stale declaration."""
    rng = random.Random(13)
    cities = [f"市{k:02d}" for k in range(21)]
    sample = {c: [f"{c}服务商{j}" for j in range(rng.randint(3, 30))] for c in cities}
    firms = [p for parties in sample.values() for p in parties]
    pool = [Inspector(f"ins{n:03d}", city=rng.choice(cities), org=f"单位{n % 37}", org_city=rng.choice(cities),
                      conflicts=tuple(rng.sample(firms, rng.randint(1, 5))) if rng.random() < 0.25 else (),
                      health_declared_on=DAY - dt.timedelta(days=rng.randint(15, 40) if rng.random() < 0.1 else rng.randint(0, 13)))
            for n in range(200)]
    return pool, sample, tight_size


@pytest.mark.parametrize("size", [3, 8])
def test_two_hundred_inspectors_over_twenty_one_cities_are_assigned(size):
    """The realistic size, and one where the groups take almost every eligible inspector (long paths):
    the search is complete, so it ends with a valid assignment (pytest's timeout bounds it)."""
    pool, sample, size = province(size)
    got = draw_groups(pool, sample, size, seed=2026, day=DAY)
    check(got, pool, sample, size, DAY)


def test_a_province_pool_too_small_for_its_groups_is_refused_naming_cities():
    pool, sample, size = province(10)  # 210 places for 200 people
    with pytest.raises(InspectorDrawError) as err:
        draw_groups(pool, sample, size, seed=2026, day=DAY)
    assert err.value.code in ("inspectors_short", "inspectors_short_together") and err.value.cities


def _by_hand(people: list[Inspector], cities: list[str], size: int, seed: int, digest: str) -> dict[str, tuple[str, ...]]:
    """docs/sampling.md's inspector draw followed by hand for a pool where no place needs an augmenting
    path: PCG64(SeedSequence([seed, digest])) words; cities sorted by their word, then each city's
    inspectors (account order, those it may receive) by theirs; each place takes the first still free."""
    import numpy as np

    bits = np.random.PCG64(np.random.SeedSequence([seed, int(digest, 16)]))
    words = [int(w) for w in bits.random_raw(len(cities))]
    order = sorted(range(len(cities)), key=lambda k: (words[k], k))
    prefs = {}
    for k in order:
        allowed = [p.account for p in sorted(people, key=lambda p: p.account) if p.city != cities[k]]
        w = [int(x) for x in bits.random_raw(len(allowed))]
        prefs[k] = [allowed[i] for i in sorted(range(len(allowed)), key=lambda i: (w[i], i))]
    taken: set[str] = set()
    groups = {}
    for k in order:
        mine = [a for a in prefs[k] if a not in taken][:size]
        taken |= set(mine)
        groups[cities[k]] = tuple(sorted(mine))
    return groups


@pytest.mark.parametrize("seed", [0, 7, 20200922, 10**30 + 1])
def test_the_inspector_draw_is_the_documented_method_on_random_raw_words_alone(seed, monkeypatch):
    """Attack K18: Generator.permutation/shuffle keep no stream across numpy versions; the draw reads only
    PCG64.random_raw words (as the project draw does), so an auditor repeats it from the record."""
    import numpy as np

    def refuse(*args, **kwargs):
        raise AssertionError("the inspector draw must not use numpy's Generator methods")

    monkeypatch.setattr(np.random, "default_rng", refuse)  # the only way to a Generator (its type is immutable)
    people = [Inspector(f"p{n:02d}", city=CITIES[n % 3], health_declared_on=FRESH) for n in range(30)]
    got = draw_groups(people, {c: [] for c in CITIES[:3]}, 2, seed, DAY)
    assert ALGORITHM_VERSION == "inspectors-kuhn-3" and got.algorithm == ALGORITHM_VERSION
    assert {g.city: g.members for g in got.groups} == _by_hand(people, sorted(CITIES[:3]), 2, seed, got.inputs_sha256)
