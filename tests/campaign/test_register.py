"""Register import of the shipped (2020) campaign: valid files, files with bad rows (Chinese problems
by Excel row and column, nothing written), out-of-scope entries, re-import, and the demo register.
The second campaign's register is tested in test_register_other.py."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from lib.campaign.register import kinds, upload
from lib.campaign.register import store as reg
from lib.demo.register import PROVINCE, register_frames, seed_register
from lib.forms import load_catalog
from lib.store.factory import open_store

ROOT = Path(__file__).resolve().parents[2]
CATALOG = load_catalog(ROOT / "forms")
VOUCHERS, PROJECTS = (kinds.register_kinds(CATALOG.campaign)[k] for k in ("vouchers", "projects"))
HEADERS = ["服务券编号", "企业名称", "统一社会信用代码", "服务商", "地市", "年度", "奖补金额（万元）", "兑现状态"]
GOOD = ["SYQ-2019-4401-00001", "广州甲五金有限公司", "91440101MA59ABCDEM", "广州云智信息科技有限公司", "广州", 2019, 12.5, "已兑现"]


def workbook(path: Path, rows: list[list], title_rows: int = 0) -> bytes:
    """A real .xlsx written with openpyxl (not our own writer), as a person's Excel would hold it."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "兑现清单"
    for _ in range(title_rows):
        sheet.append(["2018-2019年服务券兑现清单"])
    sheet.append(HEADERS)
    for r in rows:
        sheet.append(r)
    book.save(path)
    return path.read_bytes()


def variant(**changes) -> list:
    row = list(GOOD)
    for header, value in changes.items():
        row[HEADERS.index(header)] = value
    return row


@pytest.fixture
def store(tmp_path):
    opened = open_store("local", data_dir=tmp_path / "data", background=False)
    yield opened
    opened.close()


def test_valid_file_gives_typed_rows(tmp_path):
    data = workbook(tmp_path / "ok.xlsx", [GOOD, variant(服务券编号="syq-2018-4406-00002", 年度="2018年", **{"奖补金额（万元）": "3"})], title_rows=2)
    parsed = upload.parse_upload(VOUCHERS, data)
    assert parsed.ok and parsed.header_row == 3 and parsed.sheet_name == "兑现清单"
    first, second = parsed.rows
    assert first["subsidy"] == 12.5 and first["year"] == "2019" and first["source_row"] == 4
    assert second["voucher"] == "SYQ-2018-4406-00002" and second["year"] == "2018" and second["subsidy"] == 3.0
    assert set(first) == {"voucher", "firm", "firm_code", "provider", "city", "year", "subsidy", "state", "source_row"}


def test_out_of_scope_states_are_excluded(tmp_path):
    rows = [GOOD, variant(服务券编号="SYQ-2019-4401-00002", 兑现状态="未兑现", 统一社会信用代码=""),
            variant(服务券编号="SYQ-2019-4401-00003", 兑现状态="兑现不通过"), variant(服务券编号="X", 兑现状态="取消申报")]
    parsed = upload.parse_upload(VOUCHERS, workbook(tmp_path / "a.xlsx", rows))
    assert parsed.ok and len(parsed.rows) == 1
    assert parsed.excluded == {"未兑现": 1, "兑现不通过": 1, "取消申报": 1}


def test_an_upload_with_every_entry_out_of_scope_is_refused_and_would_not_empty_the_register(tmp_path, store):
    rows = [variant(兑现状态="取消申报"), variant(服务券编号="SYQ-2019-4401-00002", 兑现状态="未兑现")]
    parsed = upload.parse_upload(VOUCHERS, workbook(tmp_path / "a.xlsx", rows))
    [problem] = parsed.problems
    assert not parsed.ok and problem.code == "none_in_scope" and "取消申报 1 行" in str(problem)
    with pytest.raises(reg.RegisterImportError) as raised:
        reg.import_register(store, parsed, PROVINCE, file_name="a.xlsx")
    assert raised.value.code == "register_empty"
    assert store.records(VOUCHERS.sheet_id) == [] and store.records(reg.IMPORTS_SHEET.form_id) == []


@pytest.mark.parametrize(
    "changes, code, column",
    [
        ({"统一社会信用代码": "91440101MA59ABCDE1"}, "bad_credit_code", "统一社会信用代码"),
        ({"统一社会信用代码": 914401011234567890}, "numeric_code", "统一社会信用代码"),
        ({"服务券编号": "券 1"}, "bad_voucher", "服务券编号"),
        ({"地市": "香港"}, "bad_city", "地市"),
        ({"年度": 2017}, "bad_year", "年度"),
        ({"奖补金额（万元）": -1}, "bad_amount", "奖补金额（万元）"),
        ({"奖补金额（万元）": "十万"}, "bad_amount", "奖补金额（万元）"),
        ({"企业名称": None}, "required", "企业名称"),
        ({"兑现状态": "已核销"}, "bad_choice", "兑现状态"),
    ],
)
def test_bad_cell_is_named_by_excel_row_and_column(tmp_path, changes, code, column):
    data = workbook(tmp_path / "bad.xlsx", [GOOD, variant(**{"服务券编号": "SYQ-2019-4401-00009", **changes})])
    parsed = upload.parse_upload(VOUCHERS, data)
    assert not parsed.ok
    [problem] = parsed.problems
    assert (problem.code, problem.row, problem.column) == (code, 3, column)
    assert str(problem).startswith("第 3 行：") and f"「{column}」" in str(problem)


@pytest.mark.parametrize("year", ["２０１９", "2019 年", "２０１９年", " 2019年 ", 2019.0])
def test_a_year_is_read_as_the_forms_read_it(tmp_path, year):
    """Full-width digits and a spaced 年 are the year the forms would read (NFKC), not a problem."""
    parsed = upload.parse_upload(VOUCHERS, workbook(tmp_path / "y.xlsx", [variant(年度=year)]))
    assert parsed.ok, parsed.problems
    assert [r["year"] for r in parsed.rows] == ["2019"]


@pytest.mark.parametrize("year", ["20 19", "２０２０", "١٢٣"])
def test_a_year_not_declared_is_refused_however_written(tmp_path, year):
    parsed = upload.parse_upload(VOUCHERS, workbook(tmp_path / "y.xlsx", [variant(年度=year)]))
    assert [(p.code, p.row, p.column) for p in parsed.problems] == [("bad_year", 2, "年度")]


def test_bad_file_writes_nothing(tmp_path, store):
    data = workbook(tmp_path / "bad.xlsx", [GOOD, GOOD, variant(服务券编号="SYQ-2019-4401-00002", 地市="深圳"), variant(服务券编号="B", 年度=2020)])
    parsed = upload.parse_upload(VOUCHERS, data)
    messages = [str(p) for p in parsed.problems]
    assert messages[0] == "第 3 行：「服务券编号」「SYQ-2019-4401-00001」与第 2 行重复"
    assert any(m.startswith("第 5 行：「服务券编号」") for m in messages) and "第 5 行：「年度」应为 2018 或 2019，实际为「2020」" in messages
    # Shenzhen is outside the scheme: excluded and listed by its Excel row, not a problem of the file
    assert parsed.excluded == {"深圳（不在奖补范围）": 1} and len(parsed.problems) == 3
    assert [(e.row, e.entry) for e in parsed.excluded_rows] == [(4, "SYQ-2019-4401-00002")]
    with pytest.raises(reg.RegisterImportError) as raised:
        reg.import_register(store, parsed, PROVINCE, file_name="bad.xlsx")
    assert raised.value.code == "register_invalid"
    assert store.records(VOUCHERS.sheet_id) == [] and store.records(reg.IMPORTS_SHEET.form_id) == []


def test_missing_columns_and_unreadable_files_are_one_clear_problem(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["服务券编号", "企业名称", "地市"])
    book.save(tmp_path / "short.xlsx")
    parsed = upload.parse_upload(VOUCHERS, (tmp_path / "short.xlsx").read_bytes())
    assert parsed.problems[0].code == "no_header" and "「统一社会信用代码」" in str(parsed.problems[0])
    assert upload.parse_upload(VOUCHERS, b"not a workbook").problems[0].code == "unreadable"


def test_reimport_replaces_the_register(tmp_path, store):
    first = upload.parse_upload(VOUCHERS, workbook(tmp_path / "1.xlsx", [GOOD, variant(服务券编号="SYQ-2019-4401-00002")]))
    one = reg.import_register(store, first, PROVINCE, file_name="1.xlsx")
    second = upload.parse_upload(VOUCHERS, workbook(tmp_path / "2.xlsx", [variant(服务券编号="SYQ-2019-4401-00003")]))
    two = reg.import_register(store, second, PROVINCE, file_name="2.xlsx")
    assert (one.rows, one.replaced, two.rows, two.replaced) == (2, 0, 1, 1)
    imports = store.snapshot(reg.IMPORTS_SHEET.form_id)
    assert dict(zip(imports["import_id"], imports["_status"], strict=True)) == {one.import_id: "已替换", two.import_id: "有效"}
    current = reg.current_register(store.snapshot(VOUCHERS.sheet_id), imports, VOUCHERS)
    assert current["voucher"].tolist() == ["SYQ-2019-4401-00003"]
    records = store.records(VOUCHERS.sheet_id)
    assert len(records) == 3 and {r.owner for r in records} == {"province"}  # nothing deleted


def test_projects_register(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["项目名称", "牵头单位", "统一社会信用代码", "地市", "项目类别", "年度", "项目状态"])
    sheet.append(["陶瓷平台", "佛山甲陶瓷股份有限公司", "91440101MA59ABCDEM", "佛山", "省级标杆示范", 2018, "在建"])
    sheet.append(["家电工厂", "佛山乙家电集团有限公司", "91440101MA59ABCDEM", "佛山", "省级标杆示范", 2019, "已验收"])
    sheet.append(["五金平台", "广州丙五金有限公司", "91440101MA59ABCDEM", "广州", "国家级", 2019, "到期未验收"])
    book.save(tmp_path / "p.xlsx")
    parsed = upload.parse_upload(PROJECTS, (tmp_path / "p.xlsx").read_bytes())
    assert parsed.excluded == {"已验收": 1}
    assert [(p.row, p.column, p.code) for p in parsed.problems] == [(4, "项目类别", "bad_choice")]


def test_demo_register_has_the_deliberate_gaps_and_imports_cleanly(store):
    catalog = CATALOG
    from lib.demo.seed import generate

    demo = generate(catalog, rows=200, seed=3)
    vouchers, projects = register_frames(demo, tuple(catalog.campaign.cities), 3)
    reported = {r.values["voucher_no"] for r in demo["att1"]}
    listed = set(vouchers["服务券编号"])
    assert reported - listed, "some reported projects are missing from the register"
    in_scope = vouchers[vouchers["兑现状态"] == "已兑现"]
    assert set(in_scope["服务券编号"]) - reported, "some register entries were never reported"
    assert set(vouchers["兑现状态"]) >= {"已兑现"} and len(set(vouchers["兑现状态"])) > 1
    assert register_frames(demo, tuple(catalog.campaign.cities), 3)[0].equals(vouchers)  # deterministic

    v, p = seed_register(store, catalog, rows=200, seed=3)
    assert v.rows == len(in_scope) and p.rows == (projects["项目状态"] != "已验收").sum()
    # a first start stopped after the register seeds again: the lists in force are left as they are
    assert seed_register(store, catalog, rows=200, seed=3) == (None, None)
    assert len(store.records(reg.IMPORTS_SHEET.form_id)) == 2


# --- hostile uploads: refused with a Chinese message, nothing written -------------------------------


def nothing_written(store) -> bool:
    return all(store.records(sheet) == [] for sheet in (VOUCHERS.sheet_id, reg.IMPORTS_SHEET.form_id))


def hostile_register(*rows: list, stray: str | None = None, sheet: str = "兑现清单") -> bytes:
    """A register written part by part; ``stray`` adds one more cell (a reference) to the header row."""
    from tests.io.xlsx_parts import Sheet, cell, table, xlsx

    body = table([HEADERS, *rows])
    if stray:
        body = body.replace('<row r="1">', f'<row r="1">{cell(stray, "x")}', 1)
    return xlsx([Sheet(sheet, body)])


@pytest.mark.parametrize("stray, code", [("XFD1", "cell_out_of_range"), ("A1048576", "cell_out_of_range")])
def test_a_register_with_a_stray_far_cell_is_refused_before_it_is_read(tmp_path, store, stray, code):
    data = hostile_register(*[variant(服务券编号=f"SYQ-2019-4401-{i:05d}") for i in range(2000)], stray=stray)
    (tmp_path / "stray.xlsx").write_bytes(data)
    parsed = upload.parse_upload(VOUCHERS, (tmp_path / "stray.xlsx").read_bytes(), file_name="stray.xlsx")
    [problem] = parsed.problems
    assert problem.code == code and f"单元格 {stray}" in problem.message and "「兑现清单」" in problem.message
    with pytest.raises(reg.RegisterImportError) as raised:
        reg.import_register(store, parsed, PROVINCE, file_name="stray.xlsx")
    assert raised.value.code == "register_invalid"
    assert nothing_written(store)


@pytest.mark.parametrize("value, kind, shown", [
    ("1E+30", "n", "1e+30"), ("9" * 5000, "n", "inf"), ("NaN", "n", "nan"), ("inf", "n", "inf"), ("1E+30", None, "1E+30"),
    ("9" * 5000, None, "9999999999"),
])
def test_huge_or_non_finite_amounts_are_named_by_sheet_row_and_column(store, value, kind, shown):
    from tests.io.xlsx_parts import Sheet, cell, table, xlsx

    body = table([HEADERS, GOOD, variant(服务券编号="SYQ-2019-4401-00002")])
    body = body.replace(cell("G3", 12.5), cell("G3", value, kind) if kind else cell("G3", value))
    parsed = upload.parse_upload(VOUCHERS, xlsx([Sheet("兑现清单", body)]))
    [problem] = parsed.problems
    assert (problem.code, problem.row, problem.column) == ("bad_number", 3, "奖补金额（万元）")
    assert str(problem).startswith("第 3 行：工作表「兑现清单」中「奖补金额（万元）」的数值「") and shown in str(problem)
    with pytest.raises(reg.RegisterImportError) as raised:
        reg.import_register(store, parsed, PROVINCE, file_name="x.xlsx")
    assert raised.value.code == "register_invalid"
    assert nothing_written(store)


def test_a_huge_number_in_a_text_column_is_refused_too():
    from tests.io.xlsx_parts import Sheet, cell, table, xlsx

    body = table([HEADERS, GOOD]).replace(cell("B2", GOOD[1]), cell("B2", "1E+30", "n"))
    [problem] = upload.parse_upload(VOUCHERS, xlsx([Sheet("S", body)])).problems
    assert (problem.code, problem.column) == ("bad_number", "企业名称")


def test_control_characters_in_a_cell_are_refused_by_row_and_column(store):
    """Excel writes a control character as _x0007_; the store could not hold it, so the upload is refused."""
    parsed = upload.parse_upload(VOUCHERS, hostile_register(variant(企业名称="广州甲_x0007_公司")))
    [problem] = parsed.problems
    assert (problem.code, problem.row, problem.column) == ("bad_value", 2, "企业名称") and "控制字符" in problem.message
    assert nothing_written(store)


@pytest.mark.parametrize("name, why", [("清单\x07.xlsx", "控制字符"), ("长" * 300 + ".xlsx", "超过 255 个字符")])
def test_file_names_are_checked_before_anything_is_written(tmp_path, store, name, why):
    data = workbook(tmp_path / "ok.xlsx", [GOOD])
    refused = upload.parse_upload(VOUCHERS, data, file_name=name)
    assert refused.problems[0].code == "bad_file_name" and why in str(refused.problems[0])
    parsed = upload.parse_upload(VOUCHERS, data, file_name="ok.xlsx")
    with pytest.raises(reg.RegisterImportError) as raised:  # the import checks again: it is the write boundary
        reg.import_register(store, parsed, PROVINCE, file_name=name)
    assert (raised.value.code, raised.value.problems[0].code) == ("register_invalid", "bad_file_name")
    assert nothing_written(store)


def test_a_value_the_store_refuses_stops_the_import_before_the_first_write(tmp_path, store):
    parsed = upload.parse_upload(VOUCHERS, workbook(tmp_path / "ok.xlsx", [GOOD, variant(服务券编号="SYQ-2019-4401-00002")]))
    parsed.rows[1]["firm"] = "甲\x00公司"  # as a caller other than parse_upload might hand it over
    with pytest.raises(reg.RegisterImportError) as raised:
        reg.import_register(store, parsed, PROVINCE, file_name="ok.xlsx")
    assert (raised.value.code, raised.value.problems[0].code, raised.value.problems[0].row) == ("register_invalid", "bad_value", 3)
    assert nothing_written(store)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
@pytest.mark.parametrize("fmt", ["xlsx", "ods", "xls"])
def test_a_register_saved_by_libreoffice_passes_the_bounds(tmp_path, fmt):
    """The bounds refuse hostile files, not what real spreadsheet software writes."""
    source = tmp_path / "清单.xlsx"
    workbook(source, [GOOD, variant(服务券编号="SYQ-2019-4401-00002", 兑现状态="取消申报")], title_rows=1)
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
                    "--convert-to", fmt, "--outdir", str(tmp_path / "out"), str(source)],
                   check=True, capture_output=True, timeout=120)
    parsed = upload.parse_upload(VOUCHERS, (tmp_path / "out" / f"清单.{fmt}").read_bytes(),
                              file_name=f"清单.{fmt}")
    assert parsed.ok and [r["voucher"] for r in parsed.rows] == ["SYQ-2019-4401-00001"]
    assert parsed.excluded == {"取消申报": 1} and parsed.rows[0]["subsidy"] == 12.5


def test_problems_past_the_first_500_are_counted_not_listed(tmp_path):
    rows = [variant(服务券编号=f"SYQ-2019-4401-{i:05d}", 地市="香港", 年度=2017) for i in range(300)]
    parsed = upload.parse_upload(VOUCHERS, workbook(tmp_path / "bad.xlsx", rows))
    assert parsed.problem_count == 600 and len(parsed.problems) == 500 and parsed.unlisted == 100
    frame = parsed.problems_frame()
    assert len(frame) == 501 and frame["问题"].iloc[-1] == "另有 100 处未列出，请先处理以上各处"


def test_rows_and_import_record_are_one_batch_a_crash_keeps_neither(tmp_path, store):
    parsed = upload.parse_upload(VOUCHERS, workbook(tmp_path / "1.xlsx", [GOOD, variant(服务券编号="SYQ-2019-4401-00002")]))
    reg.import_register(store, parsed, PROVINCE, file_name="1.xlsx")
    log = store.log_path
    store.close()
    data = log.read_bytes()
    last = data.rstrip(b"\n").rfind(b"\n") + 1
    assert b'"form":"register_vouchers"' in data[last:] and b'"form":"register_imports"' in data[last:]
    log.write_bytes(data[: last + (len(data) - last) // 2])  # the import's line cut short, as a crash leaves it
    reopened = open_store("local", data_dir=tmp_path / "data", background=False)
    try:
        assert nothing_written(reopened)  # neither rows without their record nor a record without rows
        again = reg.import_register(reopened, parsed, PROVINCE, file_name="1.xlsx")  # and the import can be redone
        assert again.rows == 2 and len(reopened.records(VOUCHERS.sheet_id)) == 2
    finally:
        reopened.close()


def test_the_register_in_force_is_not_imported_a_second_time(tmp_path, store):
    rows = [GOOD, variant(服务券编号="SYQ-2019-4401-00002")]
    first = upload.parse_upload(VOUCHERS, workbook(tmp_path / "1.xlsx", rows))
    done = reg.import_register(store, first, PROVINCE, file_name="1.xlsx")
    # The same entries again: the same file (a second click), or another file laid out differently.
    same = upload.parse_upload(VOUCHERS, workbook(tmp_path / "copy.xlsx", rows, title_rows=2))
    for parsed, name in ((first, "1.xlsx"), (same, "copy.xlsx")):
        with pytest.raises(reg.RegisterImportError) as refused:
            reg.import_register(store, parsed, PROVINCE, file_name=name)
        [problem] = refused.value.problems
        assert refused.value.code == "register_unchanged" and problem.code == "same_as_current" and done.import_id in str(problem) and "未重复导入" in str(problem)
    assert len(store.records(VOUCHERS.sheet_id)) == 2 and len(store.records(reg.IMPORTS_SHEET.form_id)) == 1
    other = upload.parse_upload(VOUCHERS, workbook(tmp_path / "2.xlsx", rows[:1]))
    assert reg.import_register(store, other, PROVINCE, file_name="2.xlsx").replaced == 1
    back = reg.import_register(store, first, PROVINCE, file_name="1.xlsx")  # no longer in force: may come back
    assert back.replaced == 1 and len(store.records(reg.IMPORTS_SHEET.form_id)) == 3


def test_a_register_stored_under_the_old_column_keys_reads_as_none_until_imported_again(tmp_path, store):
    """Before issue 12 the rows were keyed by the 2020 form's field keys (voucher_no ...): such a batch in
    force cannot be read by meaning, so it is reported as outdated and counts as no register (never
    as entries with blank vouchers); importing the same file again replaces it."""
    from lib.store.base import Column, SheetSpec

    old = SheetSpec(VOUCHERS.sheet_id, VOUCHERS.title, (Column("voucher_no", "服务券编号"), Column("import_id", "导入批次")))
    store.ensure_sheet(old)
    store.ensure_sheet(reg.IMPORTS_SHEET)
    store.append_batch([(old.form_id, {"voucher_no": "SYQ-2019-4401-00001", "import_id": "vouchers-old"}, reg.ROW_STATUS),
                        (reg.IMPORTS_SHEET.form_id, {"kind": "vouchers", "import_id": "vouchers-old", "rows": 1,
                                                     "content_hash": "old"}, reg.IMPORT_ACTIVE)], actor=PROVINCE)

    def in_force():
        rows, imports = store.snapshot(VOUCHERS.sheet_id), store.snapshot(reg.IMPORTS_SHEET.form_id)
        return reg.outdated(rows, imports, VOUCHERS), reg.current_register(rows, imports, VOUCHERS)

    outdated, current = in_force()
    assert outdated and current.empty and list(current.columns) == reg.register_columns(VOUCHERS)
    parsed = upload.parse_upload(VOUCHERS, workbook(tmp_path / "1.xlsx", [GOOD]))
    assert reg.import_register(store, parsed, PROVINCE, file_name="1.xlsx").replaced == 1
    outdated, current = in_force()
    assert not outdated and current["voucher"].tolist() == ["SYQ-2019-4401-00001"]
