"""The register import and reconciliation on the second campaign (tests/campaigns/other: 2021 auditing
2020 projects, its own form ids and field keys, 券号 as the voucher header, 珠海 outside the scheme),
with hand-worked expectations. No code knows this campaign: it is read from its YAML only.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from lib.campaign.bound import meaning_frame
from lib.campaign.register import reconcile as rc
from lib.campaign.register import store as reg
from lib.campaign.register import upload
from lib.campaign.register.kinds import register_kinds, template_frame
from lib.demo.register import PROVINCE
from lib.forms.loader import load_catalog
from lib.forms.types import credit_code_check_char
from lib.office.excel import SheetRows
from lib.store.factory import open_store

OTHER = Path(__file__).resolve().parents[1] / "campaigns" / "other"
CATALOG = load_catalog(OTHER)
VOUCHERS, PROJECTS = (register_kinds(CATALOG.campaign)[k] for k in ("vouchers", "projects"))
HEADERS = ["券号", "企业名称", "统一社会信用代码", "服务商", "地市", "年度", "奖补金额（万元）", "兑现状态"]


def code(n: int) -> str:
    """A valid 统一社会信用代码, distinct for each ``n`` (0-9)."""
    body = f"9144010{n}MA59ABCDE"
    return body + credit_code_check_char(body)


#: The register as the province's file holds it (Excel rows 2-9).
ENTRIES = [
    ["Q-2020-0001", "广州甲公司", code(1), "服务商甲", "广州", 2020, 10, "已兑现"],
    ["Q-2020-0002", "佛山乙公司", code(2), "服务商甲", "佛山", 2020, 5, "已兑现"],
    ["Q-2020-0003", "广州丙公司", code(3), "服务商甲", "广州", "2020年", 8, "已兑现"],
    ["Q-2020-0004", "广州丁公司", code(4), "服务商乙", "广州市", 2020, 6, "已兑现"],
    ["Q-2020-0005", "广州戊公司", code(5), "服务商甲", "广州", 2020, 3, "已兑现"],
    ["Q-2020-0006", "珠海己公司", code(6), "服务商甲", "珠海", 2020, 4, "已兑现"],  # outside this campaign's scheme
    ["Q-2020-0007", "广州庚公司", code(7), "服务商甲", "广州", 2020, 2, "未兑现"],  # not redeemed
    ["Q-2020-0008", "深圳辛公司", code(8), "服务商甲", "深圳", 2020, 7, "已兑现"],  # 深圳 is in this year's scheme
]


def workbook(path: Path, rows: list[list], headers: list[str] = HEADERS) -> bytes:
    """A real .xlsx written with openpyxl, a title row above the headers."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "兑现清单"
    sheet.append(["2020年度服务券兑现清单"])
    sheet.append(headers)
    for r in rows:
        sheet.append(r)
    book.save(path)
    return path.read_bytes()


@pytest.fixture
def store(tmp_path):
    opened = open_store("local", data_dir=tmp_path / "data", background=False)
    yield opened
    opened.close()


def test_the_template_and_the_rules_are_the_campaigns():
    assert list(template_frame(VOUCHERS).columns) == HEADERS
    assert VOUCHERS.years == ("2020",) and VOUCHERS.outside == ("珠海",) and PROJECTS.outside == ()
    assert (VOUCHERS.in_scope, VOUCHERS.out_of_scope) == (("已兑现",), ("未兑现", "兑现不通过", "取消申报"))


def test_a_2020_register_is_imported_with_zhuhai_and_unredeemed_entries_excluded_and_listed(tmp_path, store):
    parsed = upload.parse_upload(VOUCHERS, workbook(tmp_path / "清单.xlsx", ENTRIES), file_name="清单.xlsx")
    assert parsed.ok and parsed.header_row == 2
    assert [(r["voucher"], r["year"], r["city"], r["source_row"]) for r in parsed.rows] == [
        ("Q-2020-0001", "2020", "广州", 3), ("Q-2020-0002", "2020", "佛山", 4), ("Q-2020-0003", "2020", "广州", 5),
        ("Q-2020-0004", "2020", "广州", 6), ("Q-2020-0005", "2020", "广州", 7), ("Q-2020-0008", "2020", "深圳", 10)]
    assert parsed.excluded == {"珠海（不在奖补范围）": 1, "未兑现": 1}
    assert parsed.excluded_frame().values.tolist() == [[8, "Q-2020-0006", "珠海（不在奖补范围）"], [9, "Q-2020-0007", "未兑现"]]
    done = reg.import_register(store, parsed, PROVINCE, file_name="清单.xlsx")
    assert (done.rows, done.excluded) == (6, {"珠海（不在奖补范围）": 1, "未兑现": 1})
    [record] = store.records(reg.IMPORTS_SHEET.form_id)
    assert record.values["excluded_detail"] == "珠海（不在奖补范围） 1 行，未兑现 1 行"
    current = reg.current_register(store.snapshot(VOUCHERS.sheet_id), store.snapshot(reg.IMPORTS_SHEET.form_id), VOUCHERS)
    assert list(current.columns) == ["voucher", "firm", "firm_code", "provider", "city", "year", "subsidy", "state",
                                     "import_id", "source_row"]
    assert current.iloc[3][["voucher", "firm_code", "provider", "city", "subsidy", "state"]].tolist() == [
        "Q-2020-0004", code(4), "服务商乙", "广州", 6.0, "已兑现"]


def test_a_2019_entry_is_refused_by_its_excel_row_and_nothing_is_written(tmp_path, store):
    rows = [*ENTRIES[:2], ["Q-2020-0009", "广州壬公司", code(9), "服务商甲", "广州", 2019, 1, "已兑现"]]
    # the 2020 campaign's header 服务券编号 is one this campaign also accepts for the voucher column
    parsed = upload.parse_upload(VOUCHERS, workbook(tmp_path / "旧.xlsx", rows, ["服务券编号", *HEADERS[1:]]))
    [problem] = parsed.problems
    assert (problem.code, problem.row, problem.column) == ("bad_year", 5, "年度")
    assert str(problem) == "第 5 行：「年度」应为 2020，实际为「2019」"
    with pytest.raises(reg.RegisterImportError) as refused:
        reg.import_register(store, parsed, PROVINCE, file_name="旧.xlsx")
    assert refused.value.code == "register_invalid"
    assert store.records(VOUCHERS.sheet_id) == [] and store.records(reg.IMPORTS_SHEET.form_id) == []


def test_the_projects_register_takes_this_campaigns_programme_words(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["项目名称", "牵头单位名称", "统一社会信用代码", "地市", "支持渠道", "支持年度", "项目建设状态"])
    sheet.append(["陶瓷平台", "佛山甲陶瓷股份有限公司", code(1), "佛山", "省级示范", 2020, "在建"])
    sheet.append(["家电工厂", "珠海乙家电集团有限公司", code(2), "珠海", "部级创新工程", 2020, "到期未验收"])
    sheet.append(["五金平台", "广州丙五金有限公司", code(3), "广州", "省级标杆示范", 2020, "在建"])  # the 2020 campaign's word
    sheet.append(["模具平台", "广州丁模具有限公司", code(4), "广州", "省级示范", 2020, "已验收"])
    book.save(tmp_path / "p.xlsx")
    parsed = upload.parse_upload(PROJECTS, (tmp_path / "p.xlsx").read_bytes())
    assert parsed.excluded == {"已验收": 1} and [e.row for e in parsed.excluded_rows] == [5]
    [problem] = parsed.problems
    assert (problem.code, problem.row, problem.column) == ("bad_choice", 4, "支持渠道")  # as the file heads it
    assert "省级示范、部级创新工程" in problem.message
    # 珠海 is outside the voucher scheme only: its benchmark project is checked and kept (once the file is fixed)
    assert [r["project"] for r in upload.parse_register(PROJECTS, [SheetRows("S", [
        ["项目名称", "牵头单位", "统一社会信用代码", "地市", "项目类别", "年度", "项目状态"],
        ["家电工厂", "珠海乙家电集团有限公司", code(2), "珠海", "部级创新工程", 2020, "到期未验收"]])]).rows] == ["家电工厂"]


def filed(voucher: str, provider: str, firm_code: str, city: str, amount: float, day: int) -> dict:
    """One row of this campaign's projects form (cloud_projects) as its snapshot holds it: its own keys."""
    owner = {"服务商甲": "p1", "服务商乙": "p2"}[provider]
    return {"_id": f"r-{voucher}-{owner}-{day}", "_status": "已提交", "_owner": owner, "_org": provider,
            "_filed_at": pd.Timestamp(2021, 9, day), "coupon_code": voucher, "vendor_name": provider,
            "enterprise_city": city, "enterprise_name": f"{voucher}企业", "enterprise_uscc": firm_code, "grant_wan": amount,
            "use_state": "在用"}


def test_reconciliation_from_the_forms_own_keys_against_the_imported_register(tmp_path, store):
    reg.import_register(store, upload.parse_upload(VOUCHERS, workbook(tmp_path / "清单.xlsx", ENTRIES)), PROVINCE,
                        file_name="清单.xlsx")
    register = reg.current_register(store.snapshot(VOUCHERS.sheet_id), store.snapshot(reg.IMPORTS_SHEET.form_id), VOUCHERS)
    snapshot = pd.DataFrame([
        filed("Q-2020-0001", "服务商甲", code(1), "广州", 12.0, 10),  # the register says 10
        filed("Q-2020-0002", "服务商甲", code(2), "广州", 5.0, 10),  # the register says 佛山
        filed("Q-2020-0003", "服务商甲", code(9), "广州", 8.0, 11),  # the register says another firm
        filed("q-2020-0004 ", "服务商甲", code(4), "广州", 6.0, 11),  # 服务商乙's voucher
        filed("Q-2020-0008", "服务商甲", code(8), "深圳", 7.0, 12),  # all as the register says
        filed("Q-2020-0099", "服务商甲", code(1), "广州", 1.0, 12),  # not in the register
        filed("Q-2020-0006", "服务商甲", code(6), "广州", 4.0, 13),  # excluded at import: not in the register in force
    ])
    reported = meaning_frame(snapshot, CATALOG.bindings.of("projects"))
    issues = rc.reconcile(reported, register)
    shown = ["问题类型", "服务券编号", rc.UNIT, "地市", "台账奖补金额", "填报奖补金额", "台账地市", "填报地市", "填报账号"]
    got = sorted(tuple(None if v != v else v for v in row) for row in issues[shown].values.tolist())
    assert got == sorted([
        (rc.AMOUNT, "Q-2020-0001", "服务商甲", "广州", 10.0, 12.0, "广州", "广州", "p1"),
        (rc.CITY, "Q-2020-0002", "服务商甲", "佛山", 5.0, 5.0, "佛山", "广州", "p1"),
        (rc.FIRM, "Q-2020-0003", "服务商甲", "广州", 8.0, 8.0, "广州", "广州", "p1"),
        (rc.PROVIDER, "Q-2020-0004", "服务商甲", "广州", 6.0, 6.0, "广州", "广州", "p1"),
        (rc.NOT_REPORTED, "Q-2020-0004", "服务商乙", "广州", 6.0, None, "广州", "", ""),
        (rc.NOT_REPORTED, "Q-2020-0005", "服务商甲", "广州", 3.0, None, "广州", "", ""),
        (rc.NOT_IN_REGISTER, "Q-2020-0099", "服务商甲", "广州", None, 1.0, "", "广州", "p1"),
        (rc.NOT_IN_REGISTER, "Q-2020-0006", "服务商甲", "广州", None, 4.0, "", "广州", "p1"),
    ])
    firm = issues[issues["问题类型"] == rc.FIRM].iloc[0]
    assert (firm["台账信用代码"], firm["填报信用代码"]) == (code(3), code(9))
