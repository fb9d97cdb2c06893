"""The demo generator: deterministic, realistic, and every row passes the shipped forms."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from lib.core.records import Actor, Record
from lib.demo import CITY_INFO, generate, seed_store
from lib.forms import check_answers, load_catalog
from lib.forms.columns import sheet_spec
from lib.forms.types import is_credit_code
from lib.store.base import SheetSpec, Store

FORMS = Path(__file__).resolve().parents[2] / "forms"


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(FORMS)


@pytest.fixture(scope="module")
def data(catalog):
    return generate(catalog, rows=2000, seed=2020)


def values(rows) -> list[dict[str, Any]]:
    return [r.values for r in rows]


def assert_all_valid(catalog, form_id, rows):
    form, cities = catalog.form(form_id), catalog.campaign.cities
    for i, row in enumerate(rows):
        outcome = check_answers(form, row.values, cities=cities)
        assert outcome.ok, (form_id, i, [str(p) for p in outcome.problems])
        # The rows are already typed and normalised: checking them changes nothing.
        assert outcome.values == row.values, (form_id, i)


def test_same_seed_same_rows_other_seed_other_rows(catalog, data):
    again = generate(catalog, rows=2000, seed=2020)
    assert again == data
    other = generate(catalog, rows=2000, seed=7)
    assert values(other["att1"])[:50] != values(data["att1"])[:50]


def test_counts(data):
    assert len(data["att1"]) == 2000
    assert len(data["att3"]) == 800
    assert 50 <= len(data["att2"]) <= 70
    providers = {r.values["provider_credit_code"] for r in data["att1"]}
    assert 50 <= len(providers) <= 70


def test_counts_scale_down(catalog):
    small = generate(catalog, rows=40, seed=1)
    assert len(small["att1"]) == 40 and len(small["att3"]) == 16 and len(small["att2"]) >= 5


def test_a_sample_of_the_full_size_passes_the_forms(catalog, data):
    rng = random.Random(0)
    for form_id, rows in data.items():
        assert_all_valid(catalog, form_id, rng.sample(rows, min(300, len(rows))))


def test_every_row_of_a_small_demo_passes_the_forms(catalog):
    for form_id, rows in generate(catalog, rows=300, seed=11).items():
        assert_all_valid(catalog, form_id, rows)


def test_all_cities_present(catalog, data):
    cities = set(catalog.campaign.cities)
    att1_cities = {v["client_city"] for v in values(data["att1"])}
    assert att1_cities == cities - {"深圳"}
    assert {v["city"] for v in values(data["att2"])} == cities
    assert att1_cities | {v["city"] for v in values(data["att2"])} == cities


def test_no_shenzhen_client_firms(data):
    assert not [v for v in values(data["att1"]) if v["client_city"] == "深圳"]
    assert not [v for v in values(data["att3"]) if v["city"] == "深圳"]


def test_usage_status_mix(data):
    mix = Counter(v["usage_status"] for v in values(data["att1"]))
    share = {k: n / 2000 for k, n in mix.items()}
    assert 0.70 <= share["正常使用"] <= 0.80
    assert 0.08 <= share["使用率较低"] <= 0.16
    assert 0.05 <= share["闲置"] <= 0.11
    assert 0.03 <= share["停用"] <= 0.08
    for v in values(data["att1"]):
        assert (v["reason"] is None) == (v["usage_status"] == "正常使用")


def test_amounts_follow_the_scheme(data):
    ratios = []
    for v in values(data["att1"]):
        assert 0 < v["subsidy_amount"] <= v["paid_amount"] <= v["contract_amount"]
        assert v["paid_amount"] * 100 >= v["contract_amount"] * 90 - 1e-6
        for key in ("contract_amount", "paid_amount", "subsidy_amount"):
            assert round(v[key], 2) == v[key]
        ratios.append(v["subsidy_amount"] / v["contract_amount"])
    ratios.sort()
    assert 0.01 <= ratios[len(ratios) // 10] and ratios[-len(ratios) // 10] <= 0.30


def test_dates_follow_the_campaign(data):
    for v in values(data["att1"]):
        assert dt.date(2018, 3, 20) <= v["contract_date"] <= dt.date(2019, 12, 31)
        assert v["acceptance_date"] > v["contract_date"]
        assert dt.date(2020, 9, 7) <= v["followup_date"] <= dt.date(2020, 9, 18)


def test_credit_codes_are_valid_unique_and_local(data):
    providers = {(v["provider_name"], v["provider_credit_code"]) for v in values(data["att1"])}
    assert len({code for _, code in providers}) == len({name for name, _ in providers}) == len(providers)
    for _, code in providers:
        assert is_credit_code(code) and code.startswith("9144")
    for v in values(data["att1"]):
        assert is_credit_code(v["client_credit_code"])
        regions = {c for _, c in CITY_INFO[v["client_city"]].districts}
        assert v["client_credit_code"][2:8] in regions
    provider_city = {r.values["provider_credit_code"]: r.actor.city for r in data["att1"]}
    for code, city in provider_city.items():
        assert code[2:8] in {c for _, c in CITY_INFO[city].districts}


def test_voucher_numbers_are_unique(data):
    vouchers = [v["voucher_no"] for v in values(data["att1"])]
    assert len(set(vouchers)) == len(vouchers)


def test_att3_rows_refer_to_att1_projects_of_the_same_city(data):
    projects: dict[str, list[dict]] = {}
    for v in values(data["att1"]):
        projects.setdefault(v["client_credit_code"], []).append(v)
    for v in values(data["att3"]):
        # A firm may have two voucher projects: match on the voucher when the city gave it.
        candidates = [p for p in projects[v["client_credit_code"]] if v["voucher_no"] in (None, p["voucher_no"])]
        assert any(p["client_city"] == v["city"] and p["subsidy_amount"] == v["subsidy_amount"] for p in candidates)
    conclusions = Counter(v["conclusion"] for v in values(data["att3"]))
    assert conclusions["合格"] > conclusions["基本合格"] > 0 and conclusions["不合格"] > 0
    assert conclusions[None] == sum(1 for v in values(data["att3"]) if v["check_method"] == "未检查") > 0


def test_att2_has_exempt_ministry_projects(data):
    rows = values(data["att2"])
    exempt = [v for v in rows if v["monthly_report_exempt"]]
    assert exempt and all(v["programme"] == "工信部创新发展工程" and v["construction_done"] is None for v in exempt)
    assert any(v["programme"] == "省级标杆示范" for v in rows)


def test_actors_and_statuses(data):
    for form_id, role in (("att1", "provider"), ("att2", "lead_unit"), ("att3", "city")):
        rows = data[form_id]
        assert {r.actor.role for r in rows} == {role}
        statuses = Counter(r.status for r in rows)
        assert set(statuses) <= {"已提交", "草稿"} and statuses["已提交"] > 0.9 * len(rows)
    assert Counter(r.status for r in data["att1"])["草稿"] > 0
    for r in data["att3"]:
        assert r.actor.account == f"city_{CITY_INFO[r.actor.city].account}" and r.actor.city == r.values["city"]
    for r in data["att1"]:
        assert r.actor.account.startswith("provider_") and r.actor.org == r.values["provider_name"]


class MemoryStore(Store):
    """Just enough of the Store interface to see what the seeder writes."""

    def __init__(self):
        self.sheets: dict[str, SheetSpec] = {}
        self.rows: dict[str, list[tuple[dict, Actor, str, int]]] = {}

    def ensure_sheet(self, spec: SheetSpec) -> None:
        self.sheets[spec.form_id] = spec
        self.rows.setdefault(spec.form_id, [])

    def append(self, form_id, values, *, actor, status, form_version=1) -> Record:
        assert form_id in self.sheets, "ensure_sheet must come first"
        assert set(values) <= {c.key for c in self.sheets[form_id].columns}
        self.rows[form_id].append((values, actor, status, form_version))
        now = dt.datetime(2020, 9, 10)
        return Record(form_id, str(len(self.rows[form_id])), 1, status, form_version, actor.account, actor.org, actor.city, now, now, actor.account, values)

    def update(self, *a, **kw):
        raise NotImplementedError

    def get(self, form_id, row_id):
        raise NotImplementedError

    def records(self, form_id):
        return []

    def audit(self, form_id=None, row_id=None):
        return []


def test_seed_store_writes_every_row(catalog):
    store, seen = MemoryStore(), []
    counts = seed_store(store, catalog, rows=60, seed=3, progress=lambda f, text: seen.append((f, text)))
    expected = generate(catalog, rows=60, seed=3)
    assert counts == {k: len(v) for k, v in expected.items()}
    for form_id, rows in expected.items():
        assert store.sheets[form_id] == sheet_spec(catalog.form(form_id))
        written = store.rows[form_id]
        assert Counter((repr(v), a, s) for v, a, s, _ in written) == Counter((repr(r.values), r.actor, r.status) for r in rows)
        assert {ver for *_, ver in written} == {catalog.form(form_id).version}
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert "附件1" in seen[0][1]


def test_seed_store_uses_append_many_when_offered(catalog):
    class BulkStore(MemoryStore):
        calls = 0

        def append_many(self, form_id, rows, *, actor, status, form_version=1):
            BulkStore.calls += 1
            return [self.append(form_id, v, actor=actor, status=status, form_version=form_version) for v in rows]

        def append(self, *a, **kw):
            if not BulkStore.calls:
                raise AssertionError("append called outside append_many")
            return super().append(*a, **kw)

    store = BulkStore()
    counts = seed_store(store, catalog, rows=60, seed=3)
    assert sum(len(v) for v in store.rows.values()) == sum(counts.values())
    assert BulkStore.calls < sum(counts.values())  # batched per filer and status


def test_cli_seeds_a_local_store(tmp_path, monkeypatch):
    from lib.demo.__main__ import main
    from lib.store.factory import open_store

    monkeypatch.chdir(FORMS.parent)
    assert main(["--rows", "30", "--data-dir", str(tmp_path / "demo"), "--seed", "5"]) == 0
    store = open_store("local", data_dir=tmp_path / "demo")
    try:
        assert len(store.records("att1")) == 30
        assert len(store.records("att3")) == 12
        first = store.records("att1")[0]
        assert first.owner.startswith("provider_") and first.status in ("已提交", "草稿")
    finally:
        store.close()


def test_same_rows_in_another_process(catalog):
    # Set iteration order changes with PYTHONHASHSEED; the generator must not depend on it.
    import hashlib
    import os
    import subprocess
    import sys

    script = (
        "import hashlib; from pathlib import Path; from lib.forms import load_catalog; from lib.demo import generate;"
        "print(hashlib.sha1(repr(generate(load_catalog(Path('forms')), rows=200, seed=9)).encode()).hexdigest())"
    )
    here = hashlib.sha1(repr(generate(catalog, rows=200, seed=9)).encode()).hexdigest()
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(FORMS.parent)}
    out = subprocess.run([sys.executable, "-c", script], cwd=FORMS.parent, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == here


def test_twenty_thousand_rows_have_distinct_names_vouchers_and_codes(catalog):
    # Two-character trade names of a busy city run out at a few thousand firms; the generator
    # then adds a third character (and, past that, a number) instead of giving up.
    big = generate(catalog, rows=20_000, seed=2020)
    assert len(big["att1"]) == 20_000 and len(big["att3"]) == 8_000 and len(big["att2"]) == 600
    rows = values(big["att1"])
    assert len({v["voucher_no"] for v in rows}) == len(rows)
    firms: dict[str, set[str]] = {}
    for v in rows:
        firms.setdefault(v["client_credit_code"], set()).add(v["client_name"])
    assert all(len(names) == 1 for names in firms.values())  # one name per firm
    assert len({next(iter(n)) for n in firms.values()}) == len(firms)  # and no two firms share one
    leads = [v["lead_unit_name"] for v in values(big["att2"])]
    assert len(set(leads)) == len(leads)
    rng = random.Random(1)
    for form_id, form_rows in big.items():
        assert_all_valid(catalog, form_id, rng.sample(form_rows, 150))


def test_names_never_run_out_and_stay_deterministic():
    from lib.demo.lexicon import TRADE_EXTRA
    from lib.demo.maker import Maker

    def draw(seed):
        m = Maker(random.Random(seed))
        return [m.unique(lambda extra, m=m: f"广州市{m.rng.choice('甲乙')}{extra}五金有限公司", space="广州市") for _ in range(60)]

    names = draw(4)
    assert len(set(names)) == 60 and draw(4) == names
    assert set(names[:2]) == {"广州市甲五金有限公司", "广州市乙五金有限公司"}  # plain names first
    assert any(n[4] in TRADE_EXTRA and not n[5].isdigit() for n in names)  # then a third character
    assert any(any(c.isdigit() for c in n) for n in names)  # then a number


@pytest.mark.parametrize("seed", [1, 2020])
def test_no_filer_reports_the_same_project_twice(catalog, seed):
    """The forms' ``unique`` groups refuse a second report of a project: the demo never makes one,
    so every demo row can be corrected and resubmitted."""
    data = generate(catalog, rows=2000, seed=seed)
    for form_id, rows in data.items():
        for group in catalog.form(form_id).unique:
            keys = Counter(
                (row.actor.account, *(str(row.values[k]).strip().casefold() for k in group))
                for row in rows if all(row.values.get(k) for k in group)
            )
            assert [k for k, n in keys.items() if n > 1] == [], (form_id, group)
