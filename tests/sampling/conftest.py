"""Frames built by hand, and a real local store with a voucher register imported and checks filed."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from lib.campaign.register import store as reg
from lib.campaign.register import upload
from lib.campaign.register.kinds import register_kinds
from lib.core.records import Actor
from lib.core.statuses import SUBMITTED
from lib.forms import load_catalog
from lib.forms.columns import sheet_spec
from lib.forms.spec import PriorityRule, Sampling
from lib.forms.types import credit_code_check_char
from lib.office.excel import SheetRows
from lib.sampling.frame import Frame
from lib.store.factory import open_store

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = load_catalog(ROOT / "forms")
OTHER = load_catalog(ROOT / "tests" / "campaigns" / "other")
PROVINCE = Actor("province", "province", "省厅")
CITY = Actor("city_gz", "city", "广州市工业和信息化局", "广州")


def sampling(ratio=0.2, *, weights=(1.0, 1.0), take_all=False, proportional=False) -> Sampling:
    """Two rules: ``high_subsidy`` (subsidy ≥ 30) and ``complaint`` (``take_all`` as given)."""
    return Sampling(ratio=ratio, proportional_to_subsidy=proportional, priority_rules=[
        PriorityRule(key="high_subsidy", name="高额", weight=weights[0], when="subsidy >= 30"),
        PriorityRule(key="complaint", name="投诉", weight=weights[1], take_all=take_all, when="complaints > 0")])


def frame_of(cities: list[str], *, high=(), complaint=(), subsidy=None, rules: Sampling | None = None) -> Frame:
    """A frame of one project per entry of ``cities`` (vouchers V-000, V-001 …); ``high`` and
    ``complaint`` the positions meeting those rules."""
    n = len(cities)
    return Frame.of(pd.DataFrame({
        "voucher": [f"V-{i:03d}" for i in range(n)], "city": cities, "provider": [f"服务商{i % 3}" for i in range(n)],
        "firm": [f"企业{i}" for i in range(n)], "subsidy": subsidy if subsidy is not None else [10.0] * n,
        "high_subsidy": [i in high for i in range(n)], "complaint": [i in complaint for i in range(n)]}), rules or sampling())


def credit_code(n: int) -> str:
    body = f"91440100MA{n:07d}"
    return body + credit_code_check_char(body)


def import_vouchers(store, entries: list[tuple[str, str, str, float]], catalog=SHIPPED) -> None:
    """Import a voucher register of ``entries`` (voucher, city, provider, subsidy), all in scope."""
    kind = register_kinds(catalog.campaign)["vouchers"]
    headers = [kind.column(m).header for m in ("voucher", "firm", "firm_code", "provider", "city", "year", "subsidy", "state")]
    year, state = kind.years[0], kind.in_scope[0]
    rows = [[v, f"企业{v}", credit_code(i), provider, city, year, amount, state]
            for i, (v, city, provider, amount) in enumerate(entries)]
    parsed = upload.parse_register(kind, [SheetRows("S", [headers, *rows])])
    assert not parsed.problems, parsed.problems
    reg.import_register(store, parsed, PROVINCE, file_name="台账.xlsx")


def file_check(store, voucher: str, *, complaint: bool, catalog=SHIPPED, method="on_site") -> None:
    """A filed check of ``voucher`` (its meanings written under the campaign's field keys)."""
    binding = catalog.bindings.of("checks")
    store.ensure_sheet(sheet_spec(catalog.form(binding.form)))
    values = {binding.key("voucher"): voucher, binding.key("provider"): "服务商甲",
              binding.key("method"): binding.word("method", method), binding.key("complaint"): complaint}
    store.append(binding.form, values, actor=CITY, status=SUBMITTED)


ENTRIES = [(f"V-{i:06d}", city, f"服务商{i % 2}", amount)
           for i, (city, amount) in enumerate([("广州", 10.0), ("广州", 40.0), ("广州", 12.0), ("广州", 8.0), ("广州", 5.0),
                                               ("广州", 31.0), ("佛山", 9.0), ("佛山", 50.0), ("汕头", 7.0)])]


@pytest.fixture
def store(tmp_path):
    s = open_store("local", data_dir=tmp_path / "data", background=False)
    yield s
    s.close()


@pytest.fixture
def stocked(store):
    """The store with the register ENTRIES in force and a check of V-000002 recording a complaint."""
    import_vouchers(store, ENTRIES)
    file_check(store, "V-000002", complaint=True)
    return store
