"""Files for the import tests: the shipped campaign and the other one, accounts, a local store, and the
template filled with openpyxl as a person fills it in Excel."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import openpyxl

from lib.core.records import Actor
from lib.core.values import LIST_SEPARATOR, NO, YES
from lib.forms import FormSpec, load_catalog
from lib.forms.columns import sheet_spec
from lib.forms.types import credit_code_check_char
from lib.office.template import cell_fields, header, sheet_names, table_fields, template_xlsx
from lib.store.factory import open_store

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = load_catalog(ROOT / "forms")
OTHER = load_catalog(ROOT / "tests" / "campaigns" / "other")
PROJECTS = SHIPPED.form(SHIPPED.bindings.of("projects").form)
CHECKS = SHIPPED.form(SHIPPED.bindings.of("checks").form)
TODAY = dt.date(2020, 9, 10)


def credit_code(n: int, area: str = "440100") -> str:
    body = f"91{area}MA{n:07d}"
    return body + credit_code_check_char(body)


PROVIDER = Actor("provider_a", "provider", "广州云智信息科技有限公司", "广州", credit_code(9001))
OTHER_PROVIDER = Actor("provider_b", "provider", "佛山数联科技有限公司", "佛山", credit_code(9002, "440600"))
CITY = Actor("city_gz", "city", "广州市工业和信息化局", "广州")


def new_store(folder: Path, *forms: FormSpec):
    store = open_store("local", data_dir=folder, background=False)
    for form in forms:
        store.ensure_sheet(sheet_spec(form))
    return store


def project(i: int, **changes: Any) -> dict[str, Any]:
    """A valid 附件1 project as the web form gives its answers (the provider's own fields left to the account)."""
    answers = {
        "subsidy_year": "2019", "client_city": "广州", "client_district": "天河区", "client_name": f"广州制造{i}有限公司",
        "client_credit_code": credit_code(i), "voucher_no": f"SYQ-2019-{i:06d}", "project_name": f"设备上云项目{i}",
        "project_type": "工业设备上云", "business_area": "生产管控", "implementation_content": "设备联网，部署生产管理系统",
        "contract_date": dt.date(2019, 5, 6), "contract_amount": 20.0, "paid_amount": 19.0, "subsidy_amount": 6.0,
        "acceptance_date": dt.date(2019, 8, 1), "usage_status": "正常使用", "monthly_active_users": 35,
        "followup_date": dt.date(2020, 9, 1), "followup_services": ["培训辅导", "项目维保"],
        "contacts": [{"contact_name": "张三", "contact_title": "经理", "contact_phone": "13800138000"}],
    }
    answers.update(changes)
    return answers


def cell(spec, value: Any) -> Any:
    """An answer as a person types it into the template's cell."""
    if value is None:
        return None
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, list):
        return LIST_SEPARATOR.join(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day)
    return value


def fill(form: FormSpec, campaign, rows: list[dict[str, Any]], *, actor: Actor | None = None,
         raw: dict[int, dict[str, Any]] | None = None) -> bytes:
    """The template of ``form`` with ``rows`` (answers by key) typed in, tables on their sheets by 行号;
    ``raw``: {row index: {header: cell}} typed over the answers (a value as the person typed it)."""
    book = openpyxl.load_workbook(io.BytesIO(template_xlsx(form, campaign, actor=actor)))
    main, tables = sheet_names(form)
    ws = book[main]
    heads = [c.value for c in ws[1]]
    by_header = {header(f): f for f in cell_fields(form.all_fields())}
    for n, answers in enumerate(rows):
        typed = (raw or {}).get(n, {})
        ws.append([typed[h] if h in typed else cell(by_header[h], answers.get(by_header[h].key)) for h in heads])
        for table in table_fields(form):
            sheet = book[tables[table.key]]
            sub = [c.value for c in sheet[1]][1:]
            subs = {header(f): f for f in table.fields}
            for item in answers.get(table.key) or []:
                sheet.append([n + 2, *[cell(subs[h], item.get(subs[h].key)) for h in sub]])
    return saved(book)


def saved(book) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def workbook(*lines: list) -> bytes:
    """One sheet holding ``lines`` as its rows."""
    book = openpyxl.Workbook()
    for line in lines:
        book.active.append(line)
    return saved(book)
