"""AppTest of the 附件格式 downloads: 我的填报's 导出（附件格式） (the filer's own filed rows, one sheet) and
审核's 按地市导出（附件格式） (every filed row the reviewer reads, a sheet per city); the download's bytes
re-read."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from lib.core.records import Actor
from lib.demo.seed import generate
from lib.forms.columns import sheet_spec
from lib.office import official
from lib.office.excel import read_workbook

from .conftest import sign_in

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def downloads(monkeypatch):
    """The data callables of the deferred download buttons, by the file id each button carries: what a
    click would run (AppTest's runtime is gone once a run ends, and with it the registered callables)."""
    made: dict[str, object] = {}
    real = MediaFileManager.add_deferred

    def keep(self, data_callable, *args, **kwargs):
        file_id = real(self, data_callable, *args, **kwargs)
        made[file_id] = data_callable
        return file_id

    monkeypatch.setattr(MediaFileManager, "add_deferred", keep)
    return made


def clicked(at: AppTest, downloads: dict, label: str) -> bytes:
    [button] = [b for b in at.get("download_button") if b.proto.label == label]
    assert not button.proto.disabled
    return downloads[button.proto.deferred_file_id]()


def test_my_submissions_exports_the_filers_filed_rows_in_the_attachments_layout(app_env, catalog, reopen, downloads):
    form = catalog.form("att1")
    rows = generate(catalog, rows=60, seed=5)["att1"]
    mine = rows[0].actor
    own = [r.values for r in rows if r.actor == mine][:3]
    store = reopen()
    store.ensure_sheet(sheet_spec(form))
    filed = [store.append("att1", v, actor=mine, status="已提交") for v in own[:2]]
    store.append("att1", own[2], actor=mine, status="草稿")
    other = next(r for r in rows if r.actor.account != mine.account)
    store.append("att1", other.values, actor=other.actor, status="已提交")

    at = AppTest.from_file(str(ROOT / "pages" / "my_submissions.py"), default_timeout=60)
    sign_in(at, mine)
    at.run()
    assert not at.exception
    assert any("导出 2 条" in c.value for c in at.caption)
    [sheet] = read_workbook(clicked(at, downloads, "导出（附件格式）"))
    assert sheet.rows[0][0] == form.title and sheet.rows[1][0].startswith(f"填报单位：{mine.org}")
    header = sheet.rows[2]
    body = sheet.rows[official.HEAD_ROWS:-2]
    assert [r[0] for r in body] == [1, 2]  # the draft and the other provider's row are not in it
    assert [r[header.index("服务券编号")] for r in body] == [r.values["voucher_no"] for r in filed]
    assert sheet.rows[-1][0] == catalog.campaign.office.signature


def test_the_province_exports_a_forms_filed_rows_a_sheet_per_city_from_the_review_page(app_env, catalog, reopen, downloads):
    form = catalog.form("att1")
    rows = generate(catalog, rows=40, seed=3)["att1"]
    store = reopen()
    store.ensure_sheet(sheet_spec(form))
    for r in rows:
        store.append("att1", r.values, actor=r.actor, status="已提交")
    store.append("att1", rows[0].values | {"client_city": "广州"}, actor=rows[0].actor, status="草稿")
    province = Actor("prov", "province", org="广东省工业和信息化厅")

    at = AppTest.from_file(str(ROOT / "pages" / "review.py"), default_timeout=60)
    sign_in(at, province)
    at.run()
    assert not at.exception
    sheets = read_workbook(clicked(at, downloads, "按地市导出（附件格式）"))
    cities = [c for c in catalog.campaign.cities if any(r.values["client_city"] == c for r in rows)]
    assert [s.name for s in sheets] == cities
    city_column = sheets[0].rows[2].index("企业所在地市")
    for sheet in sheets:
        body = sheet.rows[official.HEAD_ROWS:-2]
        assert {r[city_column] for r in body} == {sheet.name}
        assert len(body) == sum(r.values["client_city"] == sheet.name for r in rows)  # the draft is not there
