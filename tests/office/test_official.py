"""Exports in the attachments' layout (lib/office/official.py) re-read with calamine match the store: the
title, the filer line, the headers, 序号 1..n, every filed row's values, the signature line last; one
sheet per city for the province; the other campaign's forms by the same code; LibreOffice opens one."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.core.records import Actor, Record
from lib.core.statuses import DRAFT, RETURNED, SUBMITTED, WITHDRAWN
from lib.core.values import text
from lib.demo.seed import generate
from lib.forms import FieldSpec, FormSpec, load_catalog
from lib.forms.columns import sheet_spec
from lib.forms.display import value_text
from lib.office import official
from lib.office.excel import read_workbook
from lib.store.factory import open_store

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = load_catalog(ROOT / "forms")
OTHER = load_catalog(ROOT / "tests" / "campaigns" / "other")
MADE_ON = dt.date(2020, 9, 18)
PROVINCE = Actor("prov", "province", org="广东省工业和信息化厅")


@pytest.fixture
def store(tmp_path):
    opened = open_store("local", data_dir=tmp_path / "data", background=False)
    yield opened
    opened.close()


def stored(store, form: FormSpec, rows: list[tuple[Actor, dict, str]]) -> list[Record]:
    """``rows`` (filer, values, status) appended to ``form``'s sheet; the records as the store reads them back."""
    store.ensure_sheet(sheet_spec(form))
    for actor, values, status in rows:
        store.append(form.id, values, actor=actor, status=status)
    return store.records(form.id)


def answers(form: FormSpec, i: int, cities: tuple[str, ...], city: str | None = None) -> dict:
    """A value for every field of any form, by its type (the other campaign has no demo generator)."""
    return {f.key: (city if f.type == "city" and city else _answer(f, i, cities)) for f in form.all_fields()}


def _answer(f: FieldSpec, i: int, cities: tuple[str, ...]):
    by_type = {
        "money": 12.5 + i, "percent": 87.25, "decimal": 2.125, "integer": i + 1,
        "date": dt.date(2021, 9, 1) + dt.timedelta(days=i), "boolean": i % 2 == 0, "city": cities[i % len(cities)],
        "select": (f.choices or ("",))[i % len(f.choices or ("",))], "multiselect": list((f.choices or ())[:2]),
        "credit_code": f"91440101MA59ABC{i % 1000:03d}", "phone": "13800138000", "email": "a@example.com",
        "file": [{"sha256": f"{i:064x}", "name": f"现场照片{i}.jpg", "type": "image/jpeg", "size": 9}],
    }
    if f.type == "table":
        return [{s.key: _answer(s, i + k, cities) for s in f.fields or ()} for k in range(2)]
    return by_type.get(f.type, f"{f.label}{i}")


def assert_matches(sheet, form: FormSpec, campaign, records: list[Record], *, filer: str, city: str | None = None) -> None:
    """``sheet`` (re-read with calamine) is ``records`` in the attachment's layout, value for value; a
    sheet of ``city``'s rows names it in the filer line."""
    fields = form.all_fields()
    rows = sheet.rows
    assert rows[0][0] == form.title and set(rows[0][1:]) == {None}  # merged across: the other cells blank
    assert rows[1][0] == official.filer_line(filer, MADE_ON, city=city) == f"填报单位：{filer}　　{f'地市：{city}　　' if city else ''}填报日期：2020-09-18"
    assert rows[2] == ["序号", *(f.label for f in fields)]
    body = rows[official.HEAD_ROWS: official.HEAD_ROWS + len(records)]
    assert [row[0] for row in body] == list(range(1, len(records) + 1))
    for row, record in zip(body, records, strict=True):
        for cell, spec in zip(row[1:], fields, strict=True):
            value = record.values.get(spec.key)
            if spec.kind in ("integer", "number") and value is not None:
                assert isinstance(cell, (int, float)) and cell == float(value), (spec.key, cell, value)
            elif spec.kind == "date" and value is not None:
                assert cell == value, (spec.key, cell, value)
            else:
                assert (cell or "") == value_text(spec, value), (spec.key, cell, value)
    assert set(rows[official.HEAD_ROWS + len(records)]) == {None}  # one blank row
    assert rows[-1][0] == campaign.office.signature and len(rows) == official.HEAD_ROWS + len(records) + 2


def shipped_rows(n: int, seed: int = 7):
    """Demo att1 rows (the shipped campaign's projects form): (filer, values)."""
    return [(r.actor, r.values) for r in generate(SHIPPED, rows=n, seed=seed)["att1"]]


def test_the_filers_own_export_is_its_filed_rows_in_the_attachments_layout(store):
    form = SHIPPED.form("att1")
    rows = shipped_rows(60)
    me = rows[0][0]
    mine = [v for a, v in rows if a == me][:5]
    tricky = mine[0] | {"client_name": "=1+1", "client_district": "0012", "project_name": "+1 项目",
                        "implementation_content": "=HYPERLINK(\"http://x\",\"y\")"}
    records = stored(store, form, [(me, tricky, SUBMITTED), (me, mine[1], DRAFT), (me, mine[2], RETURNED),
                                   (me, mine[3], WITHDRAWN), (me, mine[4], SUBMITTED)])
    filed = [r for r in records if r.status in (SUBMITTED, RETURNED)]
    newest_first = sorted(records, key=lambda r: r.updated_at, reverse=True)  # as 我的填报 passes them

    data = official.own_xlsx(form, SHIPPED.campaign, newest_first, filer=me.org, made_on=MADE_ON)
    [sheet] = read_workbook(data)
    assert sheet.name == form.short_title
    assert_matches(sheet, form, SHIPPED.campaign, filed, filer=me.org)  # drafts and withdrawn rows left out
    first = dict(zip(sheet.rows[2], sheet.rows[3], strict=True))
    assert (first["企业名称"], first["企业所在区县"], first["项目名称"]) == ("=1+1", "0012", "+1 项目")
    assert first["企业统一社会信用代码"] == tricky["client_credit_code"] and len(first["企业统一社会信用代码"]) == 18
    assert "姓名：" in first[form.field("contacts").label]  # a table field as its "列：值" text

    ws = openpyxl.load_workbook(io.BytesIO(data))[sheet.name]
    header = [c.value for c in ws[3]]
    money = ws.cell(4, header.index("合同金额（万元）") + 1)
    when = ws.cell(4, header.index("合同签订日期") + 1)
    typed_text = ws.cell(4, header.index("企业名称") + 1)
    assert (money.data_type, money.number_format) == ("n", "0.00") and when.is_date and when.number_format == "yyyy-mm-dd"
    assert typed_text.data_type == "s" and typed_text.value == "=1+1"  # text, not a formula
    assert ws.print_title_rows == "$3:$3" and ws.page_setup.orientation == "landscape"
    # one page wide (1 is the file format's default, left unwritten), as many long as it takes
    assert (ws.page_setup.fitToWidth or 1, ws.page_setup.fitToHeight, ws.sheet_properties.pageSetUpPr.fitToPage) == (1, 0, True)
    assert "A1" in {str(r).split(":")[0] for r in ws.merged_cells.ranges}
    assert ws.cell(4, 1).border.left.style == "thin" and ws.cell(4, header.index("备注") + 1).border.left.style == "thin"
    assert openpyxl.load_workbook(io.BytesIO(data)).properties.subject == SHIPPED.campaign.notice


def test_the_province_gets_a_sheet_per_city_in_campaign_order_with_only_that_citys_rows(store):
    form = SHIPPED.form("att1")
    rows = shipped_rows(120)
    homeless = Actor("p_x", "provider", org="某服务商")  # no city on the account and none answered
    records = stored(store, form, [(a, v, SUBMITTED) for a, v in rows] + [(rows[0][0], rows[1][1], DRAFT)]
                     + [(homeless, {"client_name": "未填地市的项目"}, SUBMITTED)])
    filer = official.reporter(PROVINCE, SHIPPED.campaign)

    sheets = read_workbook(official.by_city_xlsx(form, SHIPPED.campaign, records, filer=filer, made_on=MADE_ON))
    cities = SHIPPED.campaign.cities
    with_rows = [c for c in cities if any(v["client_city"] == c for _, v in rows)]
    assert [s.name for s in sheets] == [*with_rows, official.NO_CITY] and len(with_rows) > 3
    for sheet in sheets:
        expected = [r for r in records if r.status == SUBMITTED and (r.values.get("client_city") or official.NO_CITY) == sheet.name]
        assert_matches(sheet, form, SHIPPED.campaign, expected, filer="广东省工业和信息化厅", city=sheet.name)
    assert sum(len(s.rows) - official.HEAD_ROWS - 2 for s in sheets) == len(rows) + 1  # every filed row once, no draft


def test_the_reporter_is_the_organisation_else_the_campaigns_name_of_the_role():
    assert official.reporter(PROVINCE, SHIPPED.campaign) == "广东省工业和信息化厅"
    assert official.reporter(Actor("prov2", "province"), OTHER.campaign) == OTHER.campaign.roles["province"]


def test_the_other_campaign_exports_its_city_filed_form_by_the_filers_city(store):
    form = OTHER.form("city_inspections")  # filled by city bureaus: the row's city is its bureau's
    cities = OTHER.campaign.cities
    bureaus = {c: Actor(f"city_{i}", "city", org=f"{c}市工业和信息化局", city=c) for i, c in enumerate(cities[:3])}
    rows = [(bureaus[c], answers(form, i, cities, city=c), SUBMITTED) for i, c in enumerate([*bureaus, *bureaus])]
    records = stored(store, form, rows)

    sheets = read_workbook(official.by_city_xlsx(form, OTHER.campaign, records, filer="省厅", made_on=MADE_ON))
    assert [s.name for s in sheets] == list(bureaus)
    for sheet in sheets:
        assert_matches(sheet, form, OTHER.campaign, [r for r in records if r.city == sheet.name], filer="省厅", city=sheet.name)


def test_every_field_type_round_trips_on_the_other_campaigns_projects_form(store):
    form = OTHER.form("cloud_projects")
    me = Actor("p1", "provider", org="某某云服务有限公司")
    records = stored(store, form, [(me, answers(form, i, OTHER.campaign.cities), SUBMITTED) for i in range(4)])
    [sheet] = read_workbook(official.own_xlsx(form, OTHER.campaign, records, filer=me.org, made_on=MADE_ON))
    assert_matches(sheet, form, OTHER.campaign, records, filer=me.org)


def test_a_file_field_reads_as_its_file_names(store):
    form = SHIPPED.form("inspection")
    me = Actor("g1", "inspector", org="第一检查组")
    records = stored(store, form, [(me, answers(form, 3, SHIPPED.campaign.cities), SUBMITTED)])
    [sheet] = read_workbook(official.own_xlsx(form, SHIPPED.campaign, records, filer=me.org, made_on=MADE_ON))
    files = [f for f in form.all_fields() if f.type == "file"]
    assert files and dict(zip(sheet.rows[2], sheet.rows[3], strict=True))[files[0].label] == "现场照片3.jpg"
    assert_matches(sheet, form, SHIPPED.campaign, records, filer=me.org)


def test_nothing_filed_gives_the_empty_table_with_its_signature():
    form = SHIPPED.form("att1")
    [sheet] = read_workbook(official.by_city_xlsx(form, SHIPPED.campaign, [], filer="省厅", made_on=MADE_ON))
    assert sheet.name == form.short_title
    assert_matches(sheet, form, SHIPPED.campaign, [], filer="省厅")


def test_by_city_keeps_the_given_order_and_puts_rows_of_no_campaign_city_last():
    form = SHIPPED.form("att1")
    at = dt.datetime(2020, 9, 10)

    def row(i: int, city: str, filer_city: str = "") -> Record:
        return Record(form.id, f"r{i}", 1, SUBMITTED, 1, "o", "o", filer_city, at, at, "o", {"client_city": city})

    rows = [row(1, "佛山"), row(2, "广州"), row(3, ""), row(4, "佛山"), row(5, "", filer_city="珠海")]
    grouped = official.by_city(form, rows, SHIPPED.campaign.cities)
    assert {c: [r.id for r in rs] for c, rs in grouped.items()} == {
        "广州": ["r2"], "珠海": ["r5"], "佛山": ["r1", "r4"], official.NO_CITY: ["r3"]}


def test_a_file_name_names_the_form_the_filer_and_the_day():
    form = SHIPPED.form("att1")
    assert official.file_name(form, "广州云智（科技）有限公司", MADE_ON) == f"{form.short_title.replace(' ', '_')}-广州云智（科技）有限公司-2020-09-18.xlsx"


#: What a person may type in a text field: any printable character (the form engine refuses control characters).
TYPED = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(name=TYPED, district=st.from_regex(r"[0-9=+\-@]{1,12}", fullmatch=True),
       amount=st.decimals(min_value="0.01", max_value="10000", places=2, allow_nan=False).map(float),
       day=st.dates(dt.date(2018, 3, 20), dt.date(2020, 9, 18)))
def test_any_typed_answer_reads_back_as_stored(name, district, amount, day):
    """Text stays the text typed (a leading =, +, - or @, zeros in front), money the number, a date the day."""
    form = SHIPPED.form("att1")
    me, values = shipped_rows(5)[0]
    at = dt.datetime(2020, 9, 10)
    record = Record(form.id, "r1", 1, SUBMITTED, 1, me.account, me.org, me.city, at, at, me.account,
                    values | {"client_name": name, "client_district": district, "contract_amount": amount, "contract_date": day})
    [sheet] = read_workbook(official.own_xlsx(form, SHIPPED.campaign, [record], filer=me.org, made_on=MADE_ON))
    assert_matches(sheet, form, SHIPPED.campaign, [record], filer=me.org)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_opens_the_export(tmp_path, store):
    """What LibreOffice reads of the first sheet, as CSV: the layout and the values as text stay."""
    form = SHIPPED.form("att1")
    me, values = shipped_rows(10)[0]
    records = stored(store, form, [(me, values | {"client_district": "0012", "client_name": "=1+1"}, SUBMITTED)])
    source = tmp_path / "附件.xlsx"
    source.write_bytes(official.own_xlsx(form, SHIPPED.campaign, records, filer=me.org, made_on=MADE_ON))
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
                    "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", str(tmp_path / "out"), str(source)],
                   check=True, capture_output=True, timeout=120)
    lines = list(csv.reader((tmp_path / "out" / "附件.csv").read_text(encoding="utf-8").splitlines()))
    assert lines[0][0] == form.title and lines[1][0] == official.filer_line(me.org, MADE_ON)
    assert lines[2] == ["序号", *(f.label for f in form.all_fields())]
    row = dict(zip(lines[2], lines[3], strict=True))
    assert (row["序号"], row["企业名称"], row["企业所在区县"]) == ("1", "=1+1", "0012")
    assert row["合同金额（万元）"] == text(values["contract_amount"], "money")
    assert lines[-1][0] == SHIPPED.campaign.office.signature


def test_a_sheet_named_exactly_like_a_city_holds_that_citys_rows():
    """Attack 15 B2/B11: a city whose name Excel must alter never takes another city's exact name, and
    each sheet prints its city."""
    form = SHIPPED.form("att1")
    at = dt.datetime(2020, 9, 10)
    campaign = SHIPPED.campaign.model_copy(update={"cities": ("x[1]:*?", "x1")})
    records = [Record(form.id, f"r{i}", 1, SUBMITTED, 1, "o", "o", "", at, at, "o", {"client_city": c})
               for i, c in enumerate(["x[1]:*?", "x1"])]
    sheets = read_workbook(official.by_city_xlsx(form, campaign, records, filer="省厅", made_on=MADE_ON))
    assert [s.name for s in sheets] == ["x1~2", "x1"]
    assert [s.rows[1][0] for s in sheets] == [official.filer_line("省厅", MADE_ON, city=c) for c in ("x[1]:*?", "x1")]
    assert "地市：x1　　" in sheets[1].rows[1][0] and sheets[1].rows[official.HEAD_ROWS][0] == 1
