"""A third campaign that renames every role and the city bureau's name: tests/campaigns/other with its
roles (服务商 → 供应商, 牵头单位 → 主持单位, 地市工信部门 → 市经信局, 省厅 → 厅本级) and its ``city_unit``
(市工业和信息化局 → 市经济和信息化局) renamed in every one of its YAML files, written to tmp_path. No
code knows these words: the board's headers, tabs' data and late list, and reconciliation against a
register imported under the renamed header, must speak them, with hand-worked expectations."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from lib.campaign.board.figures import compute_board
from lib.campaign.register import reconcile as rc
from lib.campaign.register import store as reg
from lib.campaign.register import upload
from lib.campaign.register.kinds import register_kinds
from lib.campaign.schedule import Calendar
from lib.demo.register import PROVINCE
from lib.forms.loader import load_catalog
from lib.forms.types import credit_code_check_char
from lib.store.factory import open_store

from .conftest import frame, row

OTHER = Path(__file__).resolve().parents[1] / "campaigns" / "other"
#: Old word -> new word, applied to the text of every YAML file (longest first, so no word is renamed twice).
RENAMES = {"地市工信部门": "市经信局", "市工业和信息化局": "市经济和信息化局", "牵头单位": "主持单位", "服务商": "供应商", "省厅": "厅本级"}
OLD_WORDS = tuple(RENAMES)
AS_OF = dt.date(2021, 9, 25)  # the projects' and reports' deadline is 9-18, the checks' 9-21


def renamed_campaign(into: Path) -> Path:
    """tests/campaigns/other with the role names and the bureau's name renamed, written under ``into``."""
    into.mkdir(parents=True, exist_ok=True)
    for path in OTHER.glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        for old, new in RENAMES.items():
            text = text.replace(old, new)
        (into / path.name).write_text(text, encoding="utf-8")
    return into


@pytest.fixture(scope="module")
def third(tmp_path_factory):
    where = renamed_campaign(tmp_path_factory.mktemp("third") / "campaign")
    yield load_catalog(where)
    shutil.rmtree(where, ignore_errors=True)


def code(n: int) -> str:
    body = f"9144010{n}MA59ABCDE"
    return body + credit_code_check_char(body)


def imported_register(third, tmp_path) -> pd.DataFrame:
    """Three vouchers imported from an Excel file headed as the renamed campaign heads them (供应商)."""
    kind = register_kinds(third.campaign)["vouchers"]
    headers = [kind.column(m).header for m in ("voucher", "firm", "firm_code", "provider", "city", "year", "subsidy", "state")]
    assert "供应商" in headers
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for entry in (["Q-000001", "甲厂", code(1), "云商甲", "广州", 2020, 10, "已兑现"],
                  ["Q-000002", "乙厂", code(2), "云商甲", "广州", 2020, 20, "已兑现"],
                  ["Q-000003", "丙厂", code(3), "云商乙", "佛山", 2020, 5, "已兑现"]):
        sheet.append(entry)
    book.save(tmp_path / "清单.xlsx")
    parsed = upload.parse_upload(kind, (tmp_path / "清单.xlsx").read_bytes(), file_name="清单.xlsx")
    assert not parsed.problems, parsed.problems
    store = open_store("local", data_dir=tmp_path / "data", background=False)
    try:
        reg.import_register(store, parsed, PROVINCE, file_name="清单.xlsx")
        return reg.current_register(store.snapshot(kind.sheet_id), store.snapshot(reg.IMPORTS_SHEET.form_id), kind)
    finally:
        store.close()


def filing(coupon, vendor, grant, day, **kw) -> dict:
    return row(owner={"云商甲": "v1", "云商乙": "v2"}[vendor], org=vendor, created=day, coupon_code=coupon, vendor_name=vendor,
               enterprise_city="广州", enterprise_name="某厂", enterprise_uscc=code(1), grant_wan=grant, use_state="在用", **kw)


@pytest.fixture
def board(third, tmp_path):
    register = imported_register(third, tmp_path)
    projects = pd.DataFrame([{"project": "陶瓷平台", "lead_unit": "主持甲", "lead_unit_code": "L1", "city": "广州", "programme": "省级示范"}])
    frames = {
        "cloud_projects": frame(filing("Q-000001", "云商甲", 10.0, "2021-09-10"), filing("Q-000002", "云商甲", 25.0, "2021-09-20")),
        "bench_reports": frame(),
        "city_inspections": frame(),
    }
    return compute_board(frames, register, projects, Calendar.from_specs(third.campaign, third.forms()), AS_OF)


def test_the_late_list_names_the_renamed_roles_and_bureaus(board):
    rows = {(r["单位"], r["事项"]): (r["角色"], r["逾期天数"]) for r in board.late.to_dict("records")}
    assert rows == {
        ("云商乙", "未报送 1 项"): ("供应商", 7),  # Q-3 never filed: 9-25 minus 9-18
        ("云商甲", "逾期报送 1 项"): ("供应商", 2),  # Q-2 filed on 9-20
        ("广州市经济和信息化局", "未报送 2 项"): ("市经信局", 4),  # unchecked: 9-25 minus 9-21
        ("佛山市经济和信息化局", "未报送 1 项"): ("市经信局", 4),
        ("主持甲", "未报送 1 项"): ("主持单位", 7),
    }


def test_the_boards_tables_are_headed_with_the_renamed_roles(board):
    assert board.providers.set_index("供应商")[["台账项目", "已报送", "未报送"]].to_dict("index") == {
        "云商甲": {"台账项目": 2, "已报送": 2, "未报送": 0}, "云商乙": {"台账项目": 1, "已报送": 0, "未报送": 1}}
    assert board.usage_by_provider.set_index(["供应商", "使用状态"])["项目数"][("云商甲", "在用")] == 2
    assert sorted(board.project_rows["供应商"]) == ["云商甲", "云商甲"]
    assert "主持单位" in board.spending.columns


def test_reconciliation_is_headed_with_the_renamed_role(board):
    issues = board.issues
    assert {"供应商", "台账供应商", "填报供应商"} <= set(issues.columns)
    got = sorted(zip(issues["问题类型"], issues["服务券编号"], issues["供应商"], issues["台账奖补金额"], strict=True))
    assert got == sorted([(rc.NOT_REPORTED, "Q-000003", "云商乙", 5.0), (rc.AMOUNT, "Q-000002", "云商甲", 20.0),
                          (rc.FIRM, "Q-000002", "云商甲", 20.0)])  # Q-000002 was filed with Q-000001's firm code
    assert board.issues_by_provider.set_index("供应商")["合计"].to_dict() == {"云商甲": 2, "云商乙": 1}


def test_no_old_role_word_is_left_on_the_board(board):
    """Not a header, not a cell: every role word the board shows is the renamed campaign's."""
    shown = []
    for name in ("progress", "units", "providers", "late", "usage_by_city", "usage_by_provider", "project_rows", "conclusions",
                 "check_rows", "spending", "spending_bins", "issues", "issues_by_provider", "issues_by_city", "phases"):
        table = getattr(board, name)
        shown += [str(c) for c in table.columns] + [str(v) for v in table.astype(str).to_numpy().ravel()]
    text = "\n".join(shown)
    assert [w for w in OLD_WORDS if w in text] == []


@pytest.mark.parametrize("pattern", ["市经济和信息化局", "{city}", "{city}局{city}"])
def test_a_bureau_name_must_name_its_city_once(pattern):
    """Without ``{city}`` every city's checks would be one unit on the late list."""
    import yaml
    from pydantic import ValidationError

    from lib.forms.spec import CampaignSpec

    data = yaml.safe_load((OTHER / "campaign.yaml").read_text(encoding="utf-8"))
    assert CampaignSpec.model_validate(data).city_unit == "{city}市工业和信息化局"
    with pytest.raises(ValidationError) as err:
        CampaignSpec.model_validate({**data, "city_unit": pattern})
    assert [e["type"] for e in err.value.errors()] == ["city_unit_pattern"]
