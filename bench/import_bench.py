"""Figures for the bulk import (prints numbers; never pass/fail; target: 10,000 rows checked and stored in ≤ 10 s).

    .venv/bin/python bench/import_bench.py [--rows 10000]

The shipped 附件1 template filled with valid projects (each with one or two contacts on the contacts
sheet), then ``plan_import`` and ``apply_import`` as one provider on a local store in a temporary
folder. Printed: rows, file size, read s (bounded reading in a subprocess, up to the first progress
call), check s (every row through the policy and the form engine, and matching the filer's rows),
write s (one ``write_batch``), total; then the same for the same file imported again (what a filer's
export of last time does: every row matched to its filed row, as an update or 不变), and the machine's
load average (a shared machine's figures vary with it: ``cpu s`` is this process's CPU time for the check
and the write, which the load does not stretch).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import xlsxwriter  # noqa: E402

from lib.core.records import Actor  # noqa: E402
from lib.core.values import LIST_SEPARATOR  # noqa: E402
from lib.forms import load_catalog  # noqa: E402
from lib.forms.columns import sheet_spec  # noqa: E402
from lib.forms.types import credit_code_check_char  # noqa: E402
from lib.office.bulk import apply_import, plan_import  # noqa: E402
from lib.office.template import cell_fields, header, sheet_names, table_fields  # noqa: E402
from lib.store.factory import open_store  # noqa: E402

CATALOG = load_catalog(ROOT / "forms")
FORM = CATALOG.form(CATALOG.bindings.of("projects").form)
TODAY = dt.date(2020, 9, 10)


def code(n: int) -> str:
    body = f"91440100MA{n:07d}"
    return body + credit_code_check_char(body)


ACTOR = Actor("provider_bench", "provider", "广州云智信息科技有限公司", "广州", code(9_999_999))


def answers(i: int) -> dict:
    status = ("正常使用", "使用率较低", "闲置", "停用")[i % 4]
    return {
        "subsidy_year": ("2018", "2019")[i % 2], "client_city": ("广州", "佛山", "东莞", "汕头")[i % 4],
        "client_district": "南海区", "client_name": f"测试制造{i}有限公司", "client_credit_code": code(i),
        "voucher_no": f"SYQ-{i:08d}", "project_name": f"设备上云项目{i}", "project_type": "工业设备上云",
        "business_area": "生产管控", "implementation_content": "设备联网，部署生产管理系统", "contract_date": dt.datetime(2019, 5, 6),
        "contract_amount": 20.0 + i % 50, "paid_amount": 19.0 + i % 50, "subsidy_amount": 6.0,
        "acceptance_date": dt.datetime(2019, 8, 1), "usage_status": status, "monthly_active_users": 3 if i % 4 >= 2 else 40,
        "reason": None if status == "正常使用" else "企业业务调整", "followup_date": dt.datetime(2020, 9, 1),
        "followup_services": LIST_SEPARATOR.join(["培训辅导", "项目维保"][: i % 3]) or None,
    }


def filled(rows: int) -> bytes:
    """The template's sheets and headers with ``rows`` projects typed in (xlsxwriter: the file is made fast)."""
    main, tables = sheet_names(FORM)
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False})
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    ws = book.add_worksheet(main)
    fields = cell_fields(FORM.all_fields(), FORM, ACTOR)
    for c, f in enumerate(fields):
        ws.write_string(0, c, header(f))
    for r in range(rows):
        values = answers(r)
        for c, f in enumerate(fields):
            value = values.get(f.key)
            if isinstance(value, dt.datetime):
                ws.write_datetime(r + 1, c, value, date)
            elif value is not None:
                ws.write(r + 1, c, value)
    [contacts] = table_fields(FORM)
    sheet = book.add_worksheet(tables[contacts.key])
    for c, h in enumerate(["行号", *(header(f) for f in contacts.fields)]):
        sheet.write_string(0, c, h)
    at = 1
    for r in range(rows):
        for k in range(1 + r % 2):
            sheet.write_row(at, 0, [r + 2, f"联系人{k}", "经理", "13800138000"])
            at += 1
    book.close()
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    rows = parser.parse_args().rows
    data = filled(rows)
    with tempfile.TemporaryDirectory() as folder:
        store = open_store("local", data_dir=Path(folder), background=False)
        store.ensure_sheet(sheet_spec(FORM))
        print(f"rows {rows}  file {len(data) / 1e6:.1f} MB  load average {os.getloadavg()[0]:.1f}")
        for run in ("first import", "re-import"):
            marks: list[float] = []
            cpu = time.process_time()
            start = time.perf_counter()
            plan = plan_import(store, CATALOG, FORM, data, ACTOR, draft=False, today=TODAY,
                               progress=lambda done, total, marks=marks: marks.append(time.perf_counter()) if done == 0 else None)
            planned = time.perf_counter()
            if plan.creates or plan.updates:
                assert plan.ok, plan.table().head(10).to_string()
                result = apply_import(store, FORM, plan, ACTOR)
                done = f"created {len(result.created)}, updated {len(result.updated)}"
            else:
                done = f"unchanged {len(plan.unchanged)}"
            written = time.perf_counter()
            print(f"{run}: read s {marks[0] - start:.2f}  check s {planned - marks[0]:.2f}  write s {written - planned:.2f}  "
                  f"total {written - start:.2f}  cpu s {time.process_time() - cpu:.2f}  ({done}; target ≤ 10 s)")
        store.close()


if __name__ == "__main__":
    main()
