"""The impact on stored rows (issue 16, outcome 3): counted over every row at once, 20,000 of them too,
each store read once; a city proposing a draft is told about its own city's rows only."""

from __future__ import annotations

import datetime as dt

from lib.core.records import Record
from lib.core.statuses import SUBMITTED
from lib.designer import add_field_yaml, impact, publish
from lib.designer.impact import CHOICE_REMOVED, COLUMN_DROPPED, ID_CHANGED, REQUIRED_ADDED, RETIRED, TYPE_MISFIT, assess
from lib.forms import parse_form
from lib.forms.columns import sheet_spec
from tests.forms.inline import DEMO_HEAD

from .conftest import CITY, PROVINCE, served_text

FORM = DEMO_HEAD + """\
      - {key: kind, label: 类别, type: select, choices: [甲, 乙, 丙]}
      - {key: tags, label: 标签, type: multiselect, choices: [红, 绿]}
      - {key: count, label: 数量, type: text}
      - {key: note, label: 备注, type: textarea}
"""
AT = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


def record(i: int, **values) -> Record:
    return Record("demo", f"R{i:05d}", 1, SUBMITTED, 1, "p", "o", "", AT, AT, "p", values)


def test_twenty_thousand_rows_are_counted_in_one_pass_per_field():
    records = [record(i, kind=["甲", "乙", "丙"][i % 3], tags=["红", "绿"] if i % 2 else ["绿"], count=str(i) if i % 4 else f"{i}个",
                      note="写了" if i % 5 else None) for i in range(20_000)]
    new = parse_form(FORM.replace("choices: [甲, 乙, 丙]", "choices: [甲, 乙]").replace("choices: [红, 绿]", "choices: [绿]")
                     .replace("type: text}", "type: integer}").replace("type: textarea}", "type: textarea, required: true}")
                     .replace("      - {key: note", "      - {key: extra, label: 新项, type: text, required: true}\n      - {key: note"),
                     "demo.yaml")
    found = assess("demo.yaml", parse_form(FORM, "demo.yaml"), new, records)
    counts = {(c.kind, c.key, c.detail): c.rows for c in found.changes}
    assert counts == {
        (CHOICE_REMOVED, "kind", "丙"): 6_666,
        (CHOICE_REMOVED, "tags", "红"): 10_000,
        (TYPE_MISFIT, "count", "的类型由 text 改为 integer"): 5_000,  # "4个" is no integer
        (REQUIRED_ADDED, "extra", ""): 20_000,
        (REQUIRED_ADDED, "note", ""): 4_000,
    }
    assert found.rows == 20_000 and found.needs_confirmation
    assert next(c for c in found.changes if c.kind == TYPE_MISFIT).examples == ("R00000", "R00004", "R00008")


def test_no_change_for_the_rows_is_no_impact():
    form = parse_form(FORM, "demo.yaml")
    found = assess("demo.yaml", form, parse_form(FORM.replace("title: 演示\n", "title: 演示表\n"), "demo.yaml"), [record(1, kind="甲")])
    assert found.changes == () and not found.needs_confirmation and found.lines() == []


def test_a_removed_field_without_values_is_still_said_to_be_retired():
    new = parse_form(FORM.replace("      - {key: note, label: 备注, type: textarea}\n", ""), "demo.yaml")
    found = assess("demo.yaml", parse_form(FORM, "demo.yaml"), new, [record(1)])
    assert [(c.kind, c.key, c.rows) for c in found.changes] == [(RETIRED, "note", 0)]
    assert [f.key for f in found.retired] == ["note"]


class Counting:
    """The store, counting the reads of each form's rows."""

    def __init__(self, store):
        self.store, self.reads = store, []

    def records(self, form_id):
        self.reads.append(form_id)
        return self.store.records(form_id)

    def __getattr__(self, name):
        return getattr(self.store, name)


def test_the_store_is_read_once_per_form(store, catalog):
    for i in range(5):
        store.append("att1", {"client_district": f"区{i}"}, actor=PROVINCE, status=SUBMITTED)
    counting = Counting(store)
    text = add_field_yaml(served_text(store, "att1.yaml"), "contact", {"key": "wechat", "label": "微信号", "type": "text",
                                                                       "required": True})
    assert impact(counting, catalog, "att1.yaml", text).changes[0].rows == 5
    assert counting.reads.count("att1") == 1


def test_a_city_is_told_about_its_own_rows_only(store, catalog):
    text = served_text(store, "att3.yaml")
    publish(store, catalog, PROVINCE, "campaign.yaml", served_text(store, "campaign.yaml") + "\ndesigner:\n  city_drafts: true\n", 1)
    catalog.refresh()
    for city in ("广州", "广州", "佛山"):
        store.append("att3", {"city": city}, actor=PROVINCE, status=SUBMITTED)
    text = add_field_yaml(text, catalog.form("att3").sections[-1].key, {"key": "zz_more", "label": "补充", "type": "text",
                                                                       "required": True})
    assert impact(store, catalog, "att3.yaml", text).changes[0].rows == 3
    assert impact(store, catalog, "att3.yaml", text, actor=PROVINCE).changes[0].rows == 3
    assert impact(store, catalog, "att3.yaml", text, actor=CITY).changes[0].rows == 2


def test_a_form_given_another_id_says_its_rows_stay_behind(store, catalog):
    extra = served_text(store, "complaint.yaml").replace("id: complaint", "id: extra")  # a form no binding names
    publish(store, catalog, PROVINCE, "extra.yaml", extra, 0)
    catalog.refresh()
    store.ensure_sheet(sheet_spec(catalog.form("extra")))
    store.append("extra", {}, actor=PROVINCE, status=SUBMITTED)
    found = impact(store, catalog, "extra.yaml", extra.replace("id: extra", "id: extra_new"))
    assert [(c.kind, c.key, c.detail, c.rows) for c in found.changes] == [(ID_CHANGED, "extra", "extra_new", 1)]
    assert "1 条记录" in found.lines()[0]


def test_a_catalog_reading_a_folder_compares_with_the_folders_form(tmp_path, forms):
    from lib.forms import load_catalog
    from lib.store.factory import open_store

    folder_catalog = load_catalog(forms)  # forms_source: files — the store keeps no version
    store = open_store("local", data_dir=tmp_path / "files_mode", background=False)
    try:
        store.ensure_sheet(sheet_spec(folder_catalog.form("att1")))
        store.append("att1", {"client_district": "天河区"}, actor=PROVINCE, status=SUBMITTED)
        text = add_field_yaml((forms / "att1.yaml").read_text(encoding="utf-8"), "contact",
                              {"key": "wechat", "label": "微信号", "type": "text"})
        assert impact(store, folder_catalog, "att1.yaml", text).changes == ()  # not every required field "added"
    finally:
        store.close()


TABLE = DEMO_HEAD + """\
      - key: people
        label: 人员
        type: table
        fields:
          - {key: name, label: 姓名, type: text}
          - {key: role, label: 角色, type: select, choices: [组长, 组员]}
          - {key: phone, label: 电话, type: text}
"""


def test_a_tables_columns_are_compared_over_its_stored_rows():
    records = [record(1, people=[{"name": "甲", "role": "组长", "phone": "1"}, {"name": "", "role": "组员"}]),
               record(2, people=[{"name": "乙", "role": "组员"}]),
               record(3, people=None)]
    new = parse_form(TABLE.replace("type: text}\n          - {key: role", "type: text, required: true}\n          - {key: role")
                     .replace("choices: [组长, 组员]", "choices: [组长]")
                     .replace("          - {key: phone, label: 电话, type: text}\n", ""), "demo.yaml")
    found = assess("demo.yaml", parse_form(TABLE, "demo.yaml"), new, records)
    assert [(c.kind, c.key, c.rows, c.examples) for c in found.changes] == [
        (REQUIRED_ADDED, "name", 1, ("R00001",)),  # its second person has no name; a record counts once
        (CHOICE_REMOVED, "role", 2, ("R00001", "R00002")),
        (COLUMN_DROPPED, "phone", 1, ("R00001",)),
    ]
    assert "「人员」的「姓名」" in found.lines()[0]
