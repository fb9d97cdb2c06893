"""The items' sheet (整改台账) in campaign.xlsx is a record of what was done: a person's edit of it in the
workbook — a status, a city, a ticked step — is never imported (lib.external_edits locks a sheet that is
no form of the catalog), so an item moves only through the lifecycle, authorised and audited."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl

from lib.core.records import Actor
from lib.external_edits import FormEditRules
from lib.rectification.records import CLOSED, ITEMS, PENDING
from lib.store.local.store import LocalStore

FORMS_DIR = Path(__file__).resolve().parents[2] / "forms"
PROVINCE = Actor("province", "province", "省厅")


def test_an_item_edited_in_the_workbook_is_not_changed(tmp_path):
    with LocalStore(tmp_path / "data", background=False, edit_check=FormEditRules(FORMS_DIR)) as store:
        store.ensure_sheet(ITEMS)
        item = store.append(ITEMS.form_id, {"item_id": "ZG-0001", "category": "usage", "city": "广州", "party": "云智科技有限公司",
                                            "actor_org": "云智科技有限公司", "finding": "停用", "due": dt.date(2020, 10, 31),
                                            "steps": [{"step": "resume_note", "done": False, "text": ""}]},
                            actor=PROVINCE, status=PENDING)
        assert store.flush_workbook()
        labels = {c.key: c.label for c in ITEMS.columns} | {"_status": "状态"}
        wb = openpyxl.load_workbook(store.workbook_path)
        ws = next(ws for ws in wb.worksheets if ws.title == ITEMS.title)
        headers = [c.value for c in ws[1]]
        row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == item.id)
        for key, value in {"_status": CLOSED, "city": "佛山", "finding": "已解决"}.items():
            row[headers.index(labels[key])].value = value
        wb.save(store.workbook_path)
        assert store.flush_workbook()

        assert store.get(ITEMS.form_id, item.id) == item  # not one cell, same status, same revision
        assert not [e for e in store.audit(row_id=item.id) if e.action == "外部编辑"]
        note = store.audit()[-1].note
        assert f"记录保持原样：记录 {item.id}（" in note and ITEMS.form_id in note
