"""G3: moving the scheme's border (``outside_scheme`` in campaign.yaml) moves the board as it moves
附件1's rule, with the register imported under the old border still in force. Worked by hand."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from lib.campaign.board.figures import compute_board
from lib.campaign.register import store as reg
from lib.campaign.register import upload
from lib.campaign.register.kinds import register_kinds
from lib.demo.register import PROVINCE
from lib.forms import load_catalog
from lib.forms.types import credit_code_check_char
from lib.forms.validate import check_answers
from lib.office.excel import SheetRows
from lib.store.factory import open_store

from .conftest import SHIPPED, calendar_of

ROOT = Path(__file__).resolve().parents[2]
AS_OF = dt.date(2020, 9, 19)  # a day after 附件1's deadline: every entry not filed is overdue by 1 day


def _code(n: int) -> str:
    body = f"9144010{n}MA59ABCDE"
    return body + credit_code_check_char(body)


def _register(kind, entries: list[tuple[str, str]]):
    headers = [kind.column(m).header for m in ("voucher", "firm", "firm_code", "provider", "city", "year", "subsidy", "state")]
    rows = [[v, f"企业{v}", _code(i), "服务商甲", city, 2019, 10, "已兑现"] for i, (v, city) in enumerate(entries)]
    parsed = upload.parse_register(kind, [SheetRows("S", [headers, *rows])])
    assert not parsed.problems, parsed.problems
    return parsed


def _moved(tmp_path) -> object:
    """The shipped forms with 珠海 added to outside_scheme (the edit the office makes in campaign.yaml)."""
    forms = tmp_path / "forms"
    shutil.copytree(ROOT / "forms", forms)
    text = (forms / "campaign.yaml").read_text(encoding="utf-8")
    assert text.count("outside_scheme: [深圳]") == 1
    (forms / "campaign.yaml").write_text(text.replace("outside_scheme: [深圳]", "outside_scheme: [深圳, 珠海]"), encoding="utf-8")
    return load_catalog(forms)


def test_a_city_moved_outside_the_scheme_is_no_longer_expected_from_the_register_in_force(tmp_path):
    """Register: V-000001 in 广州, V-000002 and V-000003 in 珠海, imported while 珠海 was in the scheme;
    nothing filed. As of 9-19 the old border expects the 3 entries (附件1 overdue for each); once 珠海 is
    outside, 附件1 refuses a 珠海 firm and the board expects only V-000001, without a re-import."""
    old_kind = register_kinds(SHIPPED.campaign)["vouchers"]
    s = open_store("local", data_dir=tmp_path / "data", background=False)
    try:
        reg.import_register(s, _register(old_kind, [("V-000001", "广州"), ("V-000002", "珠海"), ("V-000003", "珠海")]),
                            PROVINCE, file_name="台账.xlsx")
        rows, imports = s.snapshot(old_kind.sheet_id), s.snapshot(reg.IMPORTS_SHEET.form_id)
    finally:
        s.close()
    moved = _moved(tmp_path)
    new_kind = register_kinds(moved.campaign)["vouchers"]
    city_key = moved.bindings.of("projects").key("city")

    def city_problems(catalog):
        outcome = check_answers(catalog.form("att1"), {city_key: "珠海"}, cities=catalog.campaign.cities)
        return [p.code for p in outcome.problems if p.field == city_key]

    assert city_problems(SHIPPED) == [] and city_problems(moved) == ["constraint"]  # the form's rule moved at once

    def board(catalog, kind):
        register = reg.current_register(rows, imports, kind)
        cal = calendar_of(catalog)
        return register, compute_board({"att1": None}, register, None, cal, AS_OF)

    before, then = board(SHIPPED, old_kind)
    assert sorted(before["voucher"]) == ["V-000001", "V-000002", "V-000003"]
    # each entry is due twice: 附件1 from the provider (deadline 9-18, overdue) and 附件3 from the city (9-21, not yet)
    assert (then.totals["应报"], then.totals["逾期未报"]) == (3 + 3, 3)
    after, now = board(moved, new_kind)
    assert list(after["voucher"]) == ["V-000001"]
    assert (now.totals["应报"], now.totals["逾期未报"]) == (1 + 1, 1)
    late = {r["单位"]: r["事项"] for r in now.late.to_dict("records") if r["表单"] == moved.form("att1").short_title}
    assert late == {"服务商甲": "未报送 1 项"}
