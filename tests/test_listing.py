"""lib.listing: the one rule for the columns that tell rows apart, and the Excel export of one's rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from lib import listing
from lib.core.records import Record
from lib.forms import load_catalog
from lib.office.excel import read_workbook

ROOT = Path(__file__).resolve().parents[1]


def _record(form_id: str, row_id: str, values: dict, status: str = "已提交", org: str = "云智科技") -> Record:
    at = dt.datetime(2020, 9, 18, 10, 30)
    return Record(form_id, row_id, 2, status, 1, "alice", org, "广州", at, at, "alice", values)


def test_review_and_my_list_share_the_identifying_columns():
    catalog = load_catalog(ROOT / "forms")
    for form in catalog.forms():
        record = _record(form.id, "r1", {f.key: f"值{i}" for i, f in enumerate(form.summary_fields())})
        mine, reviewer = listing.table(form, [record])[0], listing.table(form, [record], filer=True)[0]
        labels = [f.label for f in form.summary_fields()]
        assert list(mine)[: len(labels)] == labels == list(reviewer)[: len(labels)]
        assert [mine[k] for k in labels] == [reviewer[k] for k in labels] == [f"值{i}" for i in range(len(labels))]
        assert reviewer["填报单位"] == "云智科技" and "填报单位" not in mine
        assert mine["更新时间"] == "2020-09-18 10:30:00"  # a datetime as everywhere: with seconds


def test_export_has_every_field_typed_where_excel_can_use_it():
    form = load_catalog(ROOT / "forms").form("att1")
    rows = [
        _record("att1", "r1", {"client_name": "甲厂", "project_name": "上云项目", "voucher_no": "SYQ-1",
                               "contract_amount": 20.5, "contract_date": dt.date(2019, 4, 12), "followup_services": ["培训辅导", "项目维保"],
                               "contacts": [{"contact_name": "陈伟", "contact_title": "经理", "contact_phone": "13800138000"}]}),
        _record("att1", "r2", {"client_name": "乙厂"}, status="退回修改"),
    ]
    [sheet] = read_workbook(listing.export_workbook(form, rows, {"r2": "请补充金额"}))
    header, *body = sheet.rows
    assert header[:3] == ["企业名称", "项目名称", "服务券编号"]
    first, second = (dict(zip(header, row)) for row in body)
    assert first["记录编号"] == "r1" and first["合同金额（万元）"] == 20.5
    assert first["合同签订日期"] in (dt.date(2019, 4, 12), dt.datetime(2019, 4, 12))
    assert first["跟踪服务内容"] == "培训辅导；项目维保"
    assert "陈伟" in first["企业联系人"] and "13800138000" in first["企业联系人"]
    assert second["项目名称"] is None and second["退回原因"] == "请补充金额"


def test_filters_by_city_filer_and_choice():
    form = load_catalog(ROOT / "forms").form("att1")
    a = _record("att1", "a", {"client_city": "广州", "project_type": "工业设备上云"})
    b = _record("att1", "b", {"client_city": "佛山", "project_type": "业务系统上云"}, org="另一家")
    assert listing.filter_rows(form, [a, b], city="佛山") == [b]
    assert listing.filter_rows(form, [a, b], org="云智科技") == [a]
    assert listing.filter_rows(form, [a, b], choices={"project_type": "业务系统上云"}) == [b]
    assert listing.filter_rows(form, [a, b], choices={"project_type": ""}) == [a, b]
    assert "project_type" in [f.key for f in listing.select_fields(form)]


def test_export_money_columns_read_two_decimals_in_every_row():
    """A money column is declared as money: 3 and 12.5 both read with two decimals (3.00, 12.50), not
    3 / 12.50 as a column guessed value by value would (attack finding F23)."""
    import io

    from openpyxl import load_workbook

    form = load_catalog(ROOT / "forms").form("att1")
    rows = [_record("att1", f"r{i}", {"client_name": "甲厂", "contract_amount": amount}) for i, amount in enumerate((3.0, 12.5, 10))]
    sheet = load_workbook(io.BytesIO(listing.export_workbook(form, rows))).active
    header = [cell.value for cell in sheet[1]]
    column = header.index("合同金额（万元）") + 1
    cells = [sheet.cell(row, column) for row in (2, 3, 4)]
    assert [(c.value, c.number_format) for c in cells] == [(3, "0.00"), (12.5, "0.00"), (10, "0.00")]


def test_facets_are_worked_out_once_for_the_same_rows_and_again_after_a_change(monkeypatch):
    """Issue 17: 审核's city and filer options walked a province's whole queue on every run."""
    from dataclasses import replace

    from lib.auth import policy

    form = load_catalog(ROOT / "forms").form("att1")
    rows = [_record("att1", f"r{i}", {}, org=f"单位{i % 3}") for i in range(6)]
    walked = []
    real = listing.place
    monkeypatch.setattr(listing, "place", lambda *a: walked.append(1) or real(*a))
    first = listing.facets(form, rows)
    assert first.orgs == ("单位0", "单位1", "单位2") and first.cities == {policy.row_city(form, rows[0])}
    assert listing.facets(form, list(rows)) is first and len(walked) == len(rows)  # a new list of the same rows
    changed = [*rows[:-1], replace(rows[-1], org="单位9", city="佛山")]
    again = listing.facets(form, changed)
    assert len(walked) == 2 * len(rows) and again.orgs[-1] == "单位9" and "佛山" in again.cities


def test_search_texts_are_worked_out_once_for_the_same_rows(monkeypatch):
    """Issue 17: each run with a search typed turned every row of a province's queue into text again."""
    from dataclasses import replace

    form = load_catalog(ROOT / "forms").form("att1")
    rows = [_record("att1", f"r{i}", {"client_name": f"甲{i}厂"}) for i in range(5)]
    made = []
    real = listing._summary
    monkeypatch.setattr(listing, "_summary", lambda specs, r: made.append(r.id) or real(specs, r))
    assert [r.id for r in listing.search(form, rows, "甲1厂")] == ["r1"]
    assert [r.id for r in listing.search(form, list(rows), "R2")] == ["r2"] and len(made) == len(rows)
    changed = [*rows[:-1], replace(rows[-1], values={"client_name": "乙厂"})]
    assert [r.id for r in listing.search(form, changed, "乙")] == ["r4"] and len(made) == 2 * len(rows)
