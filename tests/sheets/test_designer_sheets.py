"""The designer on Google Sheets (issue 16, outcomes 1, 4): a publish on one server that renames a field and
removes another is served by a second server within its cache period; every value reads under the new key
on both, the readable sheet keeps the removed field's column headed 已停用, and a second server's draft
started from the old version is told who published since."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lib.core.records import Actor
from lib.core.statuses import SUBMITTED
from lib.designer import impact, publish
from lib.designer.errors import DesignError
from lib.forms import load_catalog, versions
from lib.forms.columns import sheet_spec
from lib.forms.store_source import StoreSource

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[2]
CACHE = 1.0
FAST = {"reads_per_minute": 100_000, "writes_per_minute": 100_000, "cache_seconds": CACHE}
PROVINCE = Actor("province_admin", "province", "省厅", "")
PROVIDER = Actor("provider_1", "provider", "云服务商甲", "广州")


class SteppedClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_rename_and_a_removal_published_on_one_server_reach_the_other(open_store, server, sheet_key, tmp_path):
    server.reads_per_window = server.writes_per_window = 100_000
    made = []
    for name in ("a", "b"):
        forms = tmp_path / f"forms_{name}"
        shutil.copytree(ROOT / "forms", forms)
        clock = SteppedClock()
        store = open_store(name, cache_clock=clock, **FAST)
        catalog = load_catalog(StoreSource(store, forms, tmp_path / f"data_{name}"))
        made.append((store, catalog, clock))
    (a, cat_a, _), (b, cat_b, clock_b) = made
    a.ensure_sheet(sheet_spec(cat_a.form("att1")))
    rows = [a.append("att1", {"remarks": f"备注{i}", "problems_and_measures": f"措施{i}"}, actor=PROVIDER, status=SUBMITTED)
            for i in range(3)]
    text = versions.latest(a, "att1.yaml").values["text"]
    start = text.index("      - key: problems_and_measures\n")
    text = text[:start] + text[text.index("\n  - key: contact", start) + 1:]
    text = text.replace("      - key: remarks\n", "      - key: notes\n        replaces: remarks\n")
    found = impact(a, cat_a, "att1.yaml", text)
    assert sorted((c.kind, c.rows) for c in found.changes) == [("renamed", 3), ("retired", 3)]
    publish(a, cat_a, PROVINCE, "att1.yaml", text, 1, "备注改名，删去措施", confirmed=True)
    assert a.wait_idle(10)

    cat_a.refresh()
    assert cat_a.form("att1").field("notes").replaces == "remarks"
    clock_b.now += CACHE
    cat_b.refresh()
    assert cat_b.form("att1").field("notes").label == cat_a.form("att1").field("notes").label
    for store in (a, b):
        assert [store.get("att1", r.id).values.get("notes") for r in rows] == ["备注0", "备注1", "备注2"]
        assert [store.get("att1", r.id).values.get("problems_and_measures") for r in rows] == ["措施0", "措施1", "措施2"]
    header = server.values(sheet_key, cat_a.form("att1").short_title)[0]
    assert any(h.endswith("（已停用）") for h in header)

    with pytest.raises(DesignError) as err:  # server b's editor still on version 1
        publish(b, cat_b, PROVINCE, "att1.yaml", versions.latest(b, "att1.yaml").values["text"] + "# b\n", 1, confirmed=True)
    assert err.value.code == "design_stale" and "第 2 版" in str(err.value)
