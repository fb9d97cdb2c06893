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
from lib.forms.display import value_text
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
    assert _states(store, PROVINCE, after)["佛山"] == archive.LATE  # forwarded, and the province sees it was late


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


# --- attack 15 part B: what the archive must survive ----------------------------------------------


def _forms_copy(tmp_path, **edits):
    """A copy of the shipped forms with ``{file: [(old, new), ...]}`` text replacements, read."""
    import shutil

    folder = tmp_path / "forms"
    shutil.copytree(ROOT / "forms", folder)
    for file, pairs in edits.items():
        path = folder / f"{file}.yaml"
        content = path.read_text(encoding="utf-8")
        for old, new in pairs:
            assert old in content
            content = content.replace(old, new)
        path.write_text(content, encoding="utf-8")
    return load_catalog(folder)


def _add(store, catalog, values, actor, **changes):
    form = catalog.form(catalog.bindings.of("benchmarks").form)
    store.ensure_sheet(sheet_spec(form))
    v = dict(values, **{"city": actor.city, **changes}, lead_unit_name=actor.org, lead_unit_credit_code=actor.org_code)
    return store.append(form.id, v, actor=actor, status=SUBMITTED, form_version=form.version)


def test_a_summary_field_labelled_like_a_summary_column_keeps_its_answers(store, tmp_path):
    """B1: a city field labelled 地市 and a field labelled 状态 in the summary crashed the zip and hid answers."""
    catalog = _forms_copy(tmp_path, att2=[("summary: [project_name, programme, project_year]", "summary: [project_name, city, programme]"),
                                          ("        label: 项目所在地市\n        type: city", "        label: 地市\n        type: city"),
                                          ("label: 支持渠道", "label: 状态")])
    _, values = _values(catalog)
    filed = [_add(store, catalog, values[0], LEAD, project_name="甲"), _add(store, catalog, values[1], LEAD, project_name="乙")]
    _, data = archive.archive_zip(store, catalog, GZ, "广州")
    z = _zip(data)
    (sheet,) = read_workbook(z.read(next(n for n in z.namelist() if n.endswith(".xlsx"))))
    header, *rows = sheet.rows
    assert header == ["序号", "文件名", "项目名称", "地市", "状态", "地市（2）", "填报单位", "记录编号", "状态（2）", "更新时间"]
    form = catalog.form("att2")
    programme = next(f for f in form.all_fields() if f.key == "programme")
    assert [r[4] for r in rows] == [value_text(programme, r.values["programme"]) for r in filed]  # the field's answer, not 已提交
    assert [r[8] for r in rows] == [SUBMITTED] * 2 and [r[3] for r in rows] == ["广州"] * 2


def test_the_documents_are_rendered_with_the_campaigns_cities(store, tmp_path):
    """B4: a field relevant on outside_scheme(city) is in the archive's document as on the form page."""
    catalog = _forms_copy(tmp_path, att2=[("      - key: programme\n", "      - key: outside_note\n        label: 非试点地市说明\n"
                                           "        type: text\n        relevant: \"outside_scheme(city)\"\n      - key: programme\n")])
    _, values = _values(catalog)
    lead = Actor("lead_sz", "lead_unit", "深圳丙公司", "深圳", org_code="91440300MA59ABCDEX")
    _add(store, catalog, dict(values[0], outside_note="深圳已另行说明"), lead, project_name="深圳项目", city="深圳")
    z = _zip(archive.archive_zip(store, catalog, PROVINCE, "深圳")[1])
    document = docx.Document(io.BytesIO(z.read("深圳项目.docx")))
    assert "深圳已另行说明" in {c.text for t in document.tables for row in t.rows for c in row.cells}


def test_city_names_with_path_characters_stay_inside_their_folders(store, tmp_path):
    """B2: a city of campaign.yaml named with path characters names a safe folder and zip."""
    extra = "".join(f"  - {{name: {e}}}\n" for e in ('"../../逃逸"', '"a/b"', '"CON"', '"Ａ"', '"A"'))
    catalog = _forms_copy(tmp_path, campaign=[('  - {name: 广州, code: "4401"}\n', '  - {name: 广州, code: "4401"}\n' + extra)])
    _, values = _values(SHIPPED)  # the shipped cities' answers: the demo's lexicon knows no such city
    for i, city in enumerate(["../../逃逸", "a/b", "CON", "Ａ", "A"]):
        _add(store, catalog, values[i], Actor(f"l{i}", "lead_unit", f"单位{i}", city, org_code="91440101MA59ABCDEX"),
             project_name=f"项目{i}", city=city)
    names = _zip(archive.all_archives_zip(store, catalog, PROVINCE)[1]).namelist()
    assert all(n.count("/") == 1 and not {":", "\\", ".."} & set(n.split("/")[0].split()) for n in names)
    folders = {n.split("/")[0] for n in names}
    assert {"附件2汇总-.._.._逃逸", "附件2汇总-a_b", "附件2汇总-CON", "附件2汇总-Ａ", "附件2汇总-A（2）"} <= folders
    assert archive.archive_zip(store, catalog, PROVINCE, "a/b")[0] == "附件2汇总-a_b.zip"
    assert "项目1.docx" in _zip(archive.archive_zip(store, catalog, PROVINCE, "a/b")[1]).namelist()


def test_a_report_of_no_campaign_city_is_in_the_provinces_zip(store, reports):
    """B5: a filed report whose city is none of the campaign's is under 未注明地市, not dropped."""
    form, values = _values(SHIPPED)
    stray = _add(store, SHIPPED, values[7], LEAD, project_name="改名前的项目", city="广州市")
    assert [r.id for r in archive.unplaced_reports(store, SHIPPED, PROVINCE)] == [stray.id]
    names = _zip(archive.all_archives_zip(store, SHIPPED, PROVINCE)[1]).namelist()
    assert "附件2汇总-未注明地市/改名前的项目.docx" in names and f"附件2汇总-未注明地市/{form.short_title}汇总表.xlsx" in names
    with pytest.raises(Forbidden):
        archive.unplaced_reports(store, SHIPPED, GZ)


def test_device_names_and_unicode_twins_are_made_distinct():
    """B7: Windows' device names with blanks before the extension or superscript digits; NFC/NFD twins."""
    assert [archive.safe_name(n) for n in ("CON .1", "COM¹", "lpt²", "CONIN$", "conout$.x", "com0")] == \
        ["_CON .1", "_COM¹", "_lpt²", "_CONIN$", "_conout$.x", "_com0"]
    assert archive.safe_name("CONSOLE") == "CONSOLE"
    assert archive.unique_names(["café", "cafe\u0301", "Ａ", "a"]) == ["café", "cafe\u0301（2）", "Ａ", "a（2）"]
    assert archive.safe_name("cafe\u0301") == "café"


def test_the_board_of_a_past_day_does_not_count_a_later_confirmation(store, reports):
    """B3: as of a day before the confirmation the city is not forwarded; a confirmation after the deadline is LATE."""
    today = dt.date.today()  # the store stamps the real clock; the board's day is compared with it
    archive.forward(store, SHIPPED, GZ, "广州", today=DUE + dt.timedelta(days=3))
    before = archive.states(store, SHIPPED, ["广州"], today - dt.timedelta(days=1), as_of=True)
    assert before[0].state == archive.OVERDUE and before[0].at is None
    (on,) = archive.states(store, SHIPPED, ["广州"], today, as_of=True)
    assert on.state == archive.LATE and on.by == GZ.account and on.sent
    archive.recall(store, SHIPPED, GZ, "广州", today=DUE)  # the clock moved back: allowed up to the deadline
    assert archive.states(store, SHIPPED, ["广州"], today, as_of=True)[0].state == archive.OVERDUE
    assert archive.states(store, SHIPPED, ["广州"], DUE)[0].state == archive.NOT_FORWARDED


def test_a_stale_recall_is_refused_naming_who_changed_the_confirmation(store, reports):
    """B6: 撤回 carries the revision the page saw."""
    seen = archive.forward(store, SHIPPED, GZ, "广州", note="第一次", today=DUE)
    other = Actor("city_gz2", "city", "广州市工业和信息化局", "广州")
    archive.recall(store, SHIPPED, other, "广州", today=DUE)
    archive.forward(store, SHIPPED, other, "广州", note="第二次", today=DUE)
    with pytest.raises(archive.ArchiveError) as stale:
        archive.recall(store, SHIPPED, GZ, "广州", today=DUE, base_rev=seen.rev)
    assert stale.value.code == "archive_changed" and other.account in str(stale.value)
    (row,) = store.records(archive.FORWARDS.form_id)
    assert row.status == archive.FORWARDED and row.values["note"] == "第二次"
    assert archive.recall(store, SHIPPED, GZ, "广州", today=DUE, base_rev=row.rev).status == archive.RECALLED


def test_reports_changed_after_the_confirmation_are_counted(store, reports):
    """B10: a report filed, corrected or withdrawn after the confirmation is counted on the overview."""
    form, filed, _ = reports
    archive.forward(store, SHIPPED, GZ, "广州", today=DUE)
    assert archive.overview(store, SHIPPED, PROVINCE, DUE).set_index("地市").loc["广州", archive.CHANGED] == 0
    _, values = _values(SHIPPED)
    _add(store, SHIPPED, values[7], LEAD, project_name="迟到的项目")
    store.update(form.id, filed[0].id, base_rev=filed[0].rev, actor=LEAD, values={"project_name": "改过的名称"})
    store.update(form.id, filed[1].id, base_rev=filed[1].rev, actor=LEAD, status=WITHDRAWN)
    (mine,) = archive.forwardings(store, SHIPPED, GZ, DUE)
    assert mine.changed == 3
    assert archive.overview(store, SHIPPED, PROVINCE, DUE).set_index("地市").loc["广州", archive.CHANGED] == 3


def test_a_row_no_forwarding_wrote_does_not_shadow_a_citys_confirmation(store, reports):
    """B12 (the defence the archive can hold itself): a row in a status forward/recall never writes is passed over."""
    archive.forward(store, SHIPPED, GZ, "广州", today=DUE)
    store.append(archive.FORWARDS.form_id, {"city": "广州", "note": "某表单的行"}, actor=LEAD, status=SUBMITTED)
    assert _states(store, PROVINCE, DUE)["广州"] == archive.FORWARDED
