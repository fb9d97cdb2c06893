"""AppTest of pages/register.py: upload, validate, confirm, replace; refusals for other roles."""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from lib.campaign.register import store as reg
from lib.core.records import Actor
from lib.office.excel import to_xlsx
from lib.ui import state

from .conftest import ROOT, sign_in

PAGE = str(ROOT / "pages" / "register.py")
SHEET = "register_vouchers"
PROVINCE = Actor("province", "province", "广东省工业和信息化厅工业互联网处")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GOOD = {"服务券编号": "SYQ-2019-4401-00001", "企业名称": "广州甲五金有限公司", "统一社会信用代码": "91440101MA59ABCDEM",
        "服务商": "广州云智信息科技有限公司", "地市": "广州", "年度": 2019, "奖补金额（万元）": 12.5, "兑现状态": "已兑现"}


def register_file(*rows: dict) -> bytes:
    return to_xlsx({"服务券兑现清单": pd.DataFrame(list(rows))})


def start(actor: Actor = PROVINCE) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    sign_in(at, actor)
    return at.run()


def upload(at: AppTest, data: bytes, name: str = "清单.xlsx") -> AppTest:
    at.get("file_uploader")[0].upload(name, data, XLSX)
    return at.run()


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def test_valid_register_is_imported_after_confirmation(app_env, reopen):
    at = start()
    assert not at.exception
    at = upload(at, register_file(GOOD, {**GOOD, "服务券编号": "SYQ-2019-4401-00002", "兑现状态": "取消申报"}))
    assert "校验通过" in texts(at.success) and "取消申报 1 行" in texts(at.success)
    assert reopen().records(SHEET) == []  # nothing before confirmation
    at = at.button(key=reg_confirm("vouchers")).click().run()
    assert not at.exception
    assert "已导入 1 条" in texts(at.success)
    stored = reopen().records(SHEET)
    assert [(r.values["voucher"], r.owner) for r in stored] == [("SYQ-2019-4401-00001", "province")]


def reg_confirm(kind: str) -> str:
    return state.register_confirm_key(kind)


def test_bad_rows_are_listed_by_excel_row_and_nothing_is_written(app_env, reopen):
    at = upload(start(), register_file(GOOD, {**GOOD, "服务券编号": "SYQ-2019-4401-00002", "统一社会信用代码": "123", "地市": "香港"}))
    assert "2 处问题，未导入任何数据" in texts(at.error)
    problems = next(d.value for d in at.dataframe if "行号" in d.value.columns)
    assert problems["行号"].tolist() == [3, 3]
    assert set(problems["列"]) == {"统一社会信用代码", "地市"}
    assert not [b for b in at.button if b.key == reg_confirm("vouchers")]
    assert reopen().records(SHEET) == []


@pytest.mark.parametrize("role", ["city", "provider", "lead_unit"])
def test_only_the_province_imports(app_env, role):
    at = start(Actor(f"{role}_x", role, "某单位", "广州"))
    assert "只有省厅可以导入台账" in texts(at.warning)
    assert not at.get("file_uploader")


def test_an_upload_is_read_once_not_on_every_rerun(app_env, reopen, monkeypatch):
    from lib.campaign.register import upload as register_upload

    reads: list[int] = []
    real = register_upload.read_upload
    monkeypatch.setattr(register_upload, "read_upload", lambda data, limits: reads.append(len(data)) or real(data, limits))
    at = upload(start(), register_file(GOOD))
    at = at.run()  # any widget's rerun
    at = at.button(key=reg_confirm("vouchers")).click().run()
    assert "已导入 1 条" in texts(at.success) and len(reads) == 1
    at = upload(at, register_file({**GOOD, "服务券编号": "SYQ-2019-4401-00002"}), name="第二份.xlsx")
    assert len(reads) == 2  # another file is read once too
    assert not at.exception


def test_a_hostile_upload_is_refused_on_the_page_and_the_server_carries_on(app_env, reopen):
    from tests.io.xlsx_parts import Sheet, cell, row, xlsx

    at = upload(start(), xlsx([Sheet("清单", row(1048576, cell("XFD1048576", 1)))]), name="far.xlsx")
    assert not at.exception
    assert "「far.xlsx」有 1 处问题，未导入任何数据" in texts(at.error)
    problems = next(d.value for d in at.dataframe if "问题" in d.value.columns)
    assert "单元格 XFD1048576" in problems["问题"].iloc[0]
    assert not [b for b in at.button if b.key == reg_confirm("vouchers")]
    assert reopen().records(SHEET) == []
    at = upload(at, register_file(GOOD))  # the same session goes on to a good file
    assert "校验通过" in texts(at.success)


def test_the_uploader_caps_the_size_at_the_setting(app_env, monkeypatch):
    monkeypatch.setenv("APP_UPLOAD_MAX_MB", "3")
    at = start()
    assert at.get("file_uploader")[0].proto.max_upload_size_mb == 3


def test_confirming_imports_once_a_rerun_or_another_tab_adds_no_second_copy(app_env, reopen):
    data = register_file(GOOD)
    at = upload(start(), data)
    other_tab = upload(start(), data)  # the same file open in a second tab, validated before the import
    at = at.button(key=reg_confirm("vouchers")).click().run()
    assert "已导入 1 条" in texts(at.success)
    at = at.run()  # any rerun after the import: the file is shown as imported, with no button to import it again
    assert not at.exception and "已导入 1 条" in texts(at.success)
    assert not [b for b in at.button if b.key == reg_confirm("vouchers")]
    other_tab = other_tab.button(key=reg_confirm("vouchers")).click().run()
    assert not other_tab.exception and "内容相同，未重复导入" in texts(other_tab.info)
    store = reopen()
    assert len(store.records(SHEET)) == 1 and len(store.records(reg.IMPORTS_SHEET.form_id)) == 1


def test_an_upload_with_no_entry_in_scope_is_refused_naming_the_file(app_env, reopen):
    cancelled = register_file({**GOOD, "兑现状态": "取消申报"}, {**GOOD, "服务券编号": "SYQ-2019-4401-00002", "兑现状态": "未兑现"})
    at = upload(start(), cancelled, name="全部排除.xlsx")
    assert not at.exception
    assert "「全部排除.xlsx」有 1 处问题，未导入任何数据" in texts(at.error)
    assert [p.code for p in at.session_state[state.register_parsed_key("vouchers")][1].problems] == ["none_in_scope"]
    problems = next(d.value for d in at.dataframe if "问题" in d.value.columns)
    assert "取消申报 1 行" in problems["问题"].iloc[0] and "未兑现 1 行" in problems["问题"].iloc[0]
    assert not [b for b in at.button if b.key == reg_confirm("vouchers")]
    assert reopen().records(SHEET) == []


def test_excluded_entries_are_listed_by_excel_row_with_their_reason(app_env, reopen):
    at = start()
    assert [t.label for t in at.tabs] == ["服务券兑现清单", "标杆示范项目清单", "核对结果"]  # titles from campaign.yaml
    assert "“未兑现、兑现不通过、取消申报”" in texts(at.caption) and "地市为“深圳”" in texts(at.caption)
    at = upload(at, register_file(GOOD, {**GOOD, "服务券编号": "SYQ-2019-4401-00002", "兑现状态": "取消申报"},
                                  {**GOOD, "服务券编号": "SYQ-2019-4401-00003", "地市": "深圳"}))
    assert not at.exception and "取消申报 1 行，深圳（不在奖补范围） 1 行" in texts(at.success)
    excluded = next(d.value for d in at.dataframe if "排除原因" in d.value.columns)
    assert excluded.values.tolist() == [[3, "SYQ-2019-4401-00002", "取消申报"], [4, "SYQ-2019-4401-00003", "深圳（不在奖补范围）"]]


def test_the_page_serves_the_campaign_it_is_given(app_env, monkeypatch, reopen):
    """The second campaign (tests/campaigns/other): its headers (券号), its year 2020, its excluded city."""
    monkeypatch.setenv("APP_FORMS_DIR", str(ROOT / "tests" / "campaigns" / "other"))
    at = start()
    assert not at.exception and "地市为“珠海”" in texts(at.caption) and "深圳" not in texts(at.caption)
    good = {"券号": "Q-2020-0001", **{k: v for k, v in GOOD.items() if k != "服务券编号"}, "年度": 2020}
    at = upload(at, register_file(good, {**good, "券号": "Q-2020-0002", "地市": "珠海"}))
    assert "检查范围内 1 条，按通知排除 珠海（不在奖补范围） 1 行" in texts(at.success)
    at = at.button(key=reg_confirm("vouchers")).click().run()
    assert not at.exception and "已导入 1 条" in texts(at.success)
    assert [r.values["voucher"] for r in reopen().records(SHEET)] == ["Q-2020-0001"]


def test_a_campaign_whose_registers_do_not_fit_its_forms_is_shown_as_broken_not_imported(app_env, monkeypatch, tmp_path):
    import shutil

    broken = tmp_path / "forms"
    shutil.copytree(ROOT / "tests" / "campaigns" / "other", broken)
    text = (broken / "campaign.yaml").read_text(encoding="utf-8")
    (broken / "campaign.yaml").write_text(text.replace('years: ["2020"]', 'years: ["1999"]', 1), encoding="utf-8")
    monkeypatch.setenv("APP_FORMS_DIR", str(broken))
    at = start()
    assert not at.exception and "campaign.yaml" in texts(at.error) and "1999" in texts(at.error)
    assert not at.get("file_uploader")


def test_a_campaign_without_registers_says_so(app_env, monkeypatch, tmp_path):
    import re
    import shutil

    plain = tmp_path / "forms"
    shutil.copytree(ROOT / "tests" / "campaigns" / "other", plain)
    text = (plain / "campaign.yaml").read_text(encoding="utf-8")
    (plain / "campaign.yaml").write_text(re.sub(r"\nregisters:\n(  .*\n|\n)*", "\n", text, count=1), encoding="utf-8")
    monkeypatch.setenv("APP_FORMS_DIR", str(plain))
    at = start()
    assert not at.exception and "未声明台账" in texts(at.info) and not at.get("file_uploader")


def test_the_refusal_names_the_importing_role_as_the_campaign_does(app_env, tmp_path, monkeypatch):
    """A campaign that calls the province 厅本级 is served: the page names that role, not the 2020 word."""
    import shutil

    forms = tmp_path / "forms"
    shutil.copytree(ROOT / "forms", forms)
    campaign = forms / "campaign.yaml"
    text = campaign.read_text(encoding="utf-8")
    assert text.count("province: 省厅\n") == 1
    campaign.write_text(text.replace("province: 省厅\n", "province: 厅本级\n"), encoding="utf-8")
    monkeypatch.setenv("APP_FORMS_DIR", str(forms))
    at = start(Actor("city_x", "city", "某单位", "广州"))
    assert "只有厅本级可以导入台账" in texts(at.warning) and "省厅" not in texts(at.warning)
