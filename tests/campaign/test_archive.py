"""The city's archive (lib.campaign.archive): one Word document per filed report of the city and a summary
workbook in one zip, names unique and safe; only the city's bureau and the province get it; the city's
confirmation that it forwarded the archive, withdrawn up to the deadline, overdue on the campaign clock."""

from __future__ import annotations

import datetime as dt
import io
import random
import zipfile
from pathlib import Path

import docx
import pytest

from lib.auth import Forbidden
from lib.auth.policy import page_keys
from lib.campaign import archive
from lib.core.records import Actor
from lib.core.statuses import DRAFT, SUBMITTED, WITHDRAWN
from lib.demo.benchmark import benchmark_reports
from lib.demo.lexicon import CITY_INFO
from lib.demo.maker import Maker
from lib.forms import load_catalog
from lib.forms.columns import sheet_spec
from lib.office.excel import read_workbook
from lib.store.factory import open_store

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = load_catalog(ROOT / "forms")
OTHER = load_catalog(ROOT / "tests" / "campaigns" / "other")
PROVINCE = Actor("province", "province", "省工业和信息化厅")
GZ = Actor("city_gz", "city", "广州市工业和信息化局", "广州")
FS = Actor("city_fs", "city", "佛山市工业和信息化局", "佛山")
LEAD = Actor("lead1", "lead_unit", "广州甲股份有限公司", "广州", org_code="91440101MA59ABCDEX")
LEAD2 = Actor("lead2", "lead_unit", "佛山乙股份有限公司", "佛山", org_code="91440604MA59ABCDEX")
DUE = SHIPPED.campaign.deadlines[SHIPPED.campaign.office.archive.deadline]


def _values(catalog, n=8, seed=3):
    form = catalog.form(catalog.bindings.of("benchmarks").form)
    cities = [CITY_INFO[c] for c in catalog.campaign.cities]
    return form, [r.values for r in benchmark_reports(Maker(random.Random(seed)), form, n, cities)]


@pytest.fixture
def store(tmp_path):
    opened = open_store("local", data_dir=tmp_path / "data", background=False)
    yield opened
    opened.close()


@pytest.fixture
def reports(store):
    """广州: four filed reports (two with one project name, one named like a device and with path
    characters), a draft and a withdrawn one; 佛山: one filed report of another lead unit."""
    form, values = _values(SHIPPED)
    store.ensure_sheet(sheet_spec(form))

    def add(v, actor, status=SUBMITTED, **changes):
        v = dict(v, **changes, city=changes.get("city", actor.city), lead_unit_name=actor.org, lead_unit_credit_code=actor.org_code)
        return store.append(form.id, v, actor=actor, status=status, form_version=form.version)

    filed = [add(values[0], LEAD, project_name="智能工厂改造"), add(values[1], LEAD, project_name="智能工厂改造"),
             add(values[2], LEAD, project_name='设备/联网:"一期"'), add(values[3], LEAD, project_name="con")]
    add(values[4], LEAD, DRAFT, project_name="草稿项目")
    add(values[5], LEAD, WITHDRAWN, project_name="撤回项目")
    other = add(values[6], LEAD2, project_name="佛山项目")
    return form, filed, other


def _zip(data: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(data))


def _denied(store, account):
    return [e for e in store.audit() if e.action == "拒绝访问" and e.account == account]


def test_the_citys_zip_holds_one_document_per_filed_report_and_the_summary(store, reports):
    form, filed, _ = reports
    name, data = archive.archive_zip(store, SHIPPED, GZ, "广州", today=dt.date(2020, 9, 20))
    assert name == "附件2汇总-广州.zip" == SHIPPED.campaign.office.archive.file_name("广州")
    z = _zip(data)
    names = z.namelist()
    docs = [n for n in names if n.endswith(".docx")]
    assert docs == ["智能工厂改造.docx", "智能工厂改造（2）.docx", "设备_联网__一期_.docx", "_con.docx"]
    summary = [n for n in names if n.endswith(".xlsx")]
    assert summary == [f"{form.short_title}汇总表.xlsx"] and len(names) == len(filed) + 1
    for info in z.infolist():  # a Chinese name is flagged UTF-8, so Windows and unzip do not read it in the local code page
        assert (info.flag_bits & 0x800 or info.filename.isascii()) and info.compress_type == zipfile.ZIP_DEFLATED
    assert "智能工厂改造.docx".encode() in data  # stored as UTF-8 bytes
    for doc, record in zip(docs, filed, strict=True):  # each document is its report
        document = docx.Document(io.BytesIO(z.read(doc)))
        cells = {c.text for t in document.tables for row in t.rows for c in row.cells}
        assert record.values["project_name"] in cells and record.id in document.paragraphs[2].text
    (sheet,) = read_workbook(z.read(summary[0]))
    header, *rows = sheet.rows
    assert header[:3] == ["序号", "文件名", "项目名称"]
    assert [r[1] for r in rows] == docs and [r[2] for r in rows] == [r.values["project_name"] for r in filed]
    assert {r[header.index("记录编号")] for r in rows} == {r.id for r in filed}


def test_names_are_unique_as_windows_compares_them_and_never_empty():
    assert archive.unique_names(["Ab", "aB", "ab（2）"]) == ["Ab", "aB（2）", "ab（2）（2）"]
    assert archive.safe_name("\u200b..\u3000") == "" and len(archive.safe_name("名" * 300)) == archive.MAX_NAME
    assert all(c not in archive.safe_name('a/b\\c:d*e?f"g<h>i|j\x00k\u202el\nm') for c in '/\\:*?"<>|\x00\u202e\n')
    assert archive.safe_name("../../etc/passwd") == "_.._etc_passwd"  # no way out of the zip's folder


def test_a_report_without_a_project_is_named_by_its_row_id(store, reports):
    form, filed, _ = reports
    binding = SHIPPED.bindings.of("benchmarks")
    blank = store.update(form.id, filed[0].id, base_rev=filed[0].rev, actor=LEAD, values={"project_name": "  ..  "})
    assert archive.report_name(binding, blank) == blank.id


def test_a_city_cannot_download_another_citys_archive_and_the_refusal_is_audited(store, reports):
    with pytest.raises(Forbidden) as refused:
        archive.archive_zip(store, SHIPPED, GZ, "佛山")
    assert refused.value.code == "forbidden" and "佛山" in str(refused.value)
    assert _denied(store, GZ.account)[-1].note
    for who in (LEAD, Actor("p1", "provider", "某服务商", "广州"), Actor("i1", "inspector", "检查组")):
        with pytest.raises(Forbidden):
            archive.archive_zip(store, SHIPPED, who, "广州")
        assert _denied(store, who.account)
    with pytest.raises(Forbidden):
        archive.all_archives_zip(store, SHIPPED, GZ)


def test_an_unknown_city_is_told_apart(store, reports):
    with pytest.raises(archive.ArchiveError) as refused:
        archive.archive_zip(store, SHIPPED, PROVINCE, "火星")
    assert refused.value.code == "archive_city_unknown"


def test_the_province_gets_every_citys_archive_and_all_in_one_zip_of_folders(store, reports):
    _, filed, other = reports
    _, gz = archive.archive_zip(store, SHIPPED, PROVINCE, "广州")
    _, fs = archive.archive_zip(store, SHIPPED, PROVINCE, "佛山")
    assert len(_zip(gz).namelist()) == len(filed) + 1 and [n for n in _zip(fs).namelist() if n.endswith(".docx")] == ["佛山项目.docx"]
    name, data = archive.all_archives_zip(store, SHIPPED, PROVINCE)
    assert name == "附件2汇总-全部地市.zip"
    everything = _zip(data).namelist()
    assert [n.removeprefix("附件2汇总-广州/") for n in everything if n.startswith("附件2汇总-广州/")] == _zip(gz).namelist()
    assert [n.removeprefix("附件2汇总-佛山/") for n in everything if n.startswith("附件2汇总-佛山/")] == _zip(fs).namelist()
    folders = {n.split("/")[0] for n in everything}
    assert len(folders) == len(SHIPPED.campaign.cities)  # an empty city's folder holds its (empty) summary


def test_a_lead_unit_downloads_its_own_reports_as_word_only(store, reports):
    form, filed, other = reports
    mine = archive.own_reports(store, SHIPPED, LEAD)
    assert {r.id for r in mine} == {r.id for r in store.records(form.id) if r.owner == LEAD.account}
    name, data = archive.report_file(store, SHIPPED, LEAD, filed[2].id)
    assert name == "设备_联网__一期_.docx" and docx.Document(io.BytesIO(data)).paragraphs[1].text == form.title
    with pytest.raises(Forbidden):
        archive.report_file(store, SHIPPED, LEAD, other.id)
    assert _denied(store, LEAD.account)
    with pytest.raises(Forbidden):  # the city reads its city's reports, not another's
        archive.report_file(store, SHIPPED, GZ, other.id)


def _states(store, actor, today):
    return {f.city: f.state for f in archive.forwardings(store, SHIPPED, actor, today)}


def test_forwarding_is_confirmed_withdrawn_before_the_deadline_and_confirmed_again(store, reports):
    before = DUE - dt.timedelta(days=1)
    assert _states(store, PROVINCE, before)["广州"] == archive.NOT_FORWARDED
    assert _states(store, GZ, before) == {"广州": archive.NOT_FORWARDED}  # a city sees its own only
    assert _states(store, LEAD, before) == {}
    first = archive.forward(store, SHIPPED, GZ, "广州", note="已通过政务邮箱报送", today=before)
    assert first.status == archive.FORWARDED
    table = archive.overview(store, SHIPPED, PROVINCE, before).set_index("地市")
    assert table.loc["广州", "报送状态"] == archive.FORWARDED and table.loc["广州", "报送账号"] == GZ.account
    assert table.loc["广州", "备注"] == "已通过政务邮箱报送" and table.loc["广州", "报告数"] == 4 and table.loc["佛山", "报告数"] == 1
    with pytest.raises(archive.ArchiveError) as again:
        archive.forward(store, SHIPPED, GZ, "广州", today=before)
    assert again.value.code == "archive_already_forwarded"
    recalled = archive.recall(store, SHIPPED, GZ, "广州", today=DUE)
    assert recalled.status == archive.RECALLED and _states(store, PROVINCE, DUE)["广州"] == archive.NOT_FORWARDED
    with pytest.raises(archive.ArchiveError) as nothing:
        archive.recall(store, SHIPPED, GZ, "广州", today=DUE)
    assert nothing.value.code == "archive_not_forwarded"
    archive.forward(store, SHIPPED, GZ, "广州", today=DUE)
    rows = store.records(archive.FORWARDS.form_id)
    assert len(rows) == 1 and rows[0].rev == 3  # one row per city, changed in place from its revision
    statuses = [e.changes.get("_status") for e in store.audit(archive.FORWARDS.form_id)]
    assert statuses[1:] == [(archive.FORWARDED, archive.RECALLED), (archive.RECALLED, archive.FORWARDED)]


def test_a_confirmation_stands_after_the_deadline_and_an_unconfirmed_city_is_overdue(store, reports):
    archive.forward(store, SHIPPED, GZ, "广州", today=DUE)
    after = DUE + dt.timedelta(days=1)
    with pytest.raises(archive.ArchiveError) as late:
        archive.recall(store, SHIPPED, GZ, "广州", today=after)
    assert late.value.code == "archive_recall_late"
    states = _states(store, PROVINCE, after)
    assert states["广州"] == archive.FORWARDED and states["佛山"] == archive.OVERDUE
    assert _states(store, PROVINCE, DUE)["佛山"] == archive.NOT_FORWARDED  # due on the day: not yet late
    archive.forward(store, SHIPPED, FS, "佛山", today=after)  # late, but forwarded
    assert _states(store, PROVINCE, after)["佛山"] == archive.FORWARDED


def test_only_the_citys_bureau_confirms_its_forwarding(store, reports):
    for who, city in ((FS, "广州"), (PROVINCE, "广州"), (LEAD, "广州")):
        with pytest.raises(Forbidden):
            archive.forward(store, SHIPPED, who, city, today=DUE)
        assert _denied(store, who.account)
    archive.forward(store, SHIPPED, GZ, "广州", today=DUE)
    with pytest.raises(Forbidden):
        archive.recall(store, SHIPPED, FS, "广州", today=DUE)
    assert [r.status for r in store.records(archive.FORWARDS.form_id)] == [archive.FORWARDED]


@pytest.mark.parametrize("note, code", [("a\u202eb", "bidi_text"), ("字" * (archive.MAX_NOTE + 1), "archive_note_too_long")])
def test_a_bad_note_is_refused_and_nothing_written(store, reports, note, code):
    with pytest.raises(archive.ArchiveError) as refused:
        archive.forward(store, SHIPPED, GZ, "广州", note=note, today=DUE)
    assert refused.value.code == code and "备注" in str(refused.value)
    assert store.records(archive.FORWARDS.form_id) == []


def test_the_other_campaign_names_its_archive_and_deadline_itself(store):
    form, values = _values(OTHER, n=3)
    store.ensure_sheet(sheet_spec(form))
    binding = OTHER.bindings.of("benchmarks")
    city = OTHER.campaign.cities[0]
    lead = Actor("l9", "lead_unit", "某单位", city)
    store.append(form.id, dict(values[0], **{binding.key("city"): city, binding.key("project"): "甲项目"}), actor=lead, status=SUBMITTED)
    bureau = Actor("c9", "city", "某局", city)
    name, data = archive.archive_zip(store, OTHER, bureau, city)
    assert name == f"标杆报告-{city}市.zip" and _zip(data).namelist()[0] == "甲项目.docx"
    due = OTHER.campaign.deadlines["report_archive"]
    assert archive.deadline(OTHER) == due
    assert _states(store, bureau, due + dt.timedelta(days=1)) == {city: archive.OVERDUE}


def test_the_archive_page_is_in_the_navigation_of_those_who_use_it():
    reports = SHIPPED.form(SHIPPED.bindings.of("benchmarks").form)
    forms = SHIPPED.forms()
    for who in (PROVINCE, GZ, LEAD):
        assert "archive" in page_keys(who, forms, reports)
    for who in (Actor("p", "provider", "某服务商"), Actor("i", "inspector", "检查组"), Actor("a", "admin", "管理员")):
        assert "archive" not in page_keys(who, forms, reports)
    assert "archive" not in page_keys(PROVINCE, forms)  # a campaign without an archive
