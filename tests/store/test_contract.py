"""The contract every Store backend honours, run against each backend ``store_factory`` offers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest

from lib.core.records import Actor
from lib.store.base import SYSTEM_KEYS, Column, ConflictError, InvalidValue, NotFound, RowChange, SheetSpec
from lib.store.factory import BACKENDS
from tests.store.store_cases import CITY, PROVINCE, SPEC

# Every backend passes the same contract.
pytestmark = pytest.mark.parametrize("backend", BACKENDS, indirect=True)

ROW = {
    "project": "白云区某安置房项目",
    "amount": 1234.56,
    "count": 3,
    "visit_date": dt.date(2020, 9, 1),
    "passed": False,
    "issues": ["质量", "安全"],
    "people": [{"name": "张三", "phone": "13800138000"}, {"name": "李四", "phone": None}],
    "remark": None,
}


def test_ensure_sheet_starts_empty_and_is_idempotent(store):
    store.ensure_sheet(SPEC)
    assert store.records("site_check") == []
    frame = store.snapshot("site_check")
    assert list(frame.columns)[: len(SYSTEM_KEYS)] == list(SYSTEM_KEYS)
    assert len(frame) == 0


def test_append_returns_the_durable_record_and_get_finds_it(store):
    rec = store.append("site_check", ROW, actor=CITY, status="已提交", form_version=2)
    assert (rec.rev, rec.status, rec.form_version) == (1, "已提交", 2)
    assert (rec.owner, rec.org, rec.city, rec.updated_by) == ("city_gz", "广州市住建局", "广州", "city_gz")
    assert rec.created_at == rec.updated_at == dt.datetime(2020, 9, 10, 10, 0)
    assert rec.values == ROW
    assert store.get("site_check", rec.id) == rec
    assert rec.id.startswith("sitech-20200910-")


def test_records_are_in_creation_order_with_unique_ids(store, clock):
    ids = []
    for i in range(30):
        clock.tick(seconds=1)
        ids.append(store.append("site_check", {"count": i}, actor=CITY, status="草稿").id)
    assert [r.id for r in store.records("site_check")] == ids
    assert len(set(ids)) == 30


def test_unknown_form_or_row(store):
    with pytest.raises(NotFound):
        store.append("nope", {"a": 1}, actor=CITY, status="草稿")
    with pytest.raises(NotFound):
        store.get("site_check", "sitech-20200910-XXXX")
    with pytest.raises(NotFound):
        store.update("site_check", "sitech-20200910-XXXX", base_rev=1, actor=CITY, values={"count": 1})


def test_update_merges_changed_fields_and_bumps_rev(store, clock):
    rec = store.append("site_check", ROW, actor=CITY, status="已提交")
    clock.tick(minutes=5)
    new = store.update("site_check", rec.id, base_rev=1, actor=PROVINCE, values={"amount": 99.5, "remark": "复核"})
    assert new.rev == 2
    assert new.values == {**ROW, "amount": 99.5, "remark": "复核"}
    assert (new.owner, new.updated_by) == ("city_gz", "prov_admin")
    assert new.created_at == rec.created_at and new.updated_at == dt.datetime(2020, 9, 10, 10, 5)
    assert store.get("site_check", rec.id) == new
    # Nothing changes -> nothing written, same revision.
    assert store.update("site_check", rec.id, base_rev=2, actor=CITY, values={"amount": 99.5}) == new


def test_stale_base_rev_is_refused_with_who_when_and_which_fields(store, clock):
    rec = store.append("site_check", ROW, actor=PROVINCE, status="已提交")
    store.update("site_check", rec.id, base_rev=1, actor=CITY, values={"amount": 2000.0, "remark": "补充"})
    clock.tick(days=1)
    with pytest.raises(ConflictError) as err:
        store.update("site_check", rec.id, base_rev=1, actor=PROVINCE, values={"count": 9})
    assert str(err.value) == "该记录已被 city_gz 于 2020-09-10 10:00 修改（字段：合同金额、备注），请重新载入后再修改。"
    assert err.value.code == "conflict"
    assert err.value.current.rev == 2
    assert store.get("site_check", rec.id).values["count"] == 3  # nothing written


def test_status_change_is_audited(store):
    rec = store.append("site_check", ROW, actor=CITY, status="已提交")
    new = store.update("site_check", rec.id, base_rev=1, actor=PROVINCE, status="已撤回", note="重复填报")
    assert (new.rev, new.status, new.values) == (2, "已撤回", ROW)
    last = store.audit(row_id=rec.id)[-1]
    assert (last.action, last.account, last.rev, last.note) == ("状态变更", "prov_admin", 2, "重复填报")
    assert last.changes == {"_status": ("已提交", "已撤回")}


def test_audit_lists_every_change_old_to_new(store, clock):
    rec = store.append("site_check", {"project": "甲", "count": 1}, actor=CITY, status="草稿")
    clock.tick(minutes=1)
    store.update("site_check", rec.id, base_rev=1, actor=CITY, values={"count": 2, "project": "甲"}, status="已提交")
    store.log_event(PROVINCE, "拒绝访问", form_id="site_check", row_id=rec.id, note="越权查看")
    other = store.append("site_check", {"project": "乙"}, actor=CITY, status="草稿")
    entries = store.audit(row_id=rec.id)
    assert [(e.action, e.rev) for e in entries] == [("新增", 1), ("修改", 2), ("拒绝访问", 0)]
    assert entries[0].changes == {"project": (None, "甲"), "count": (None, 1)}
    assert entries[1].changes == {"count": (1, 2), "_status": ("草稿", "已提交")}
    assert entries[1].at == dt.datetime(2020, 9, 10, 10, 1)
    assert entries[2].note == "越权查看"
    assert [e.row_id for e in store.audit("site_check")] == [rec.id, rec.id, rec.id, other.id]
    assert store.audit("other_form") == []


FIDELITY = {
    "leading zeros": "007",
    "formula": "=1+1",
    "hyperlink": '=HYPERLINK("http://x","y")',
    "phone": "+86 138 0013 8000",
    "minus": "-3",
    "at": "@SUM(A1)",
    "number text": "1e5",
    "int": 42,
    "big int": 12345678901234567890,
    "negative int": -7,
    "float": 0.1,
    "decimal": Decimal("12.30"),
    "date": dt.date(2020, 9, 1),
    "datetime": dt.datetime(2020, 9, 1, 8, 30, 15),
    "true": True,
    "false": False,
    "none": None,
    "empty": "",
    "list": ["质量", "安全", "=x"],
    "empty list": [],
    "table": [{"姓名": "张三", "电话": "007", "日期": dt.date(2020, 1, 2), "人数": 2}, {"姓名": "李四"}],
    "long chinese": "现场检查发现的问题描述。" * 2500,
    "tab newline": "第一行\n第二行\t缩进\r\n第三行",
    "emoji": "完成 ✅ 👍",
    "max length": "字" * 32_767,
}


@pytest.mark.parametrize("name", list(FIDELITY))
def test_values_come_back_with_their_type(store_factory, name):
    store = store_factory()
    store.ensure_sheet(SPEC)
    value = FIDELITY[name]
    rec = store.append("site_check", {"remark": value}, actor=CITY, status="草稿")
    again = store_factory().get("site_check", rec.id)  # reopened from disk
    for got in (rec.values["remark"], again.values["remark"]):
        assert got == value and type(got) is type(value)
    if isinstance(value, list) and value and isinstance(value[0], dict):
        assert type(again.values["remark"][0]["日期"]) is dt.date


BAD_CHARS = [chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)]]


@pytest.mark.parametrize("char", BAD_CHARS, ids=[f"x{ord(c):02x}" for c in BAD_CHARS])
def test_control_characters_are_refused_before_writing(store, char):
    rec = store.append("site_check", ROW, actor=CITY, status="已提交")
    with pytest.raises(InvalidValue) as err:
        store.append("site_check", {"remark": f"前{char}后"}, actor=CITY, status="已提交")
    assert (err.value.code, err.value.field) == ("control_character", "remark")
    # The message names the field by its label and shows which character to delete (the code cannot).
    assert "「备注」" in str(err.value) and f"\\x{ord(char):02x}" in str(err.value)
    with pytest.raises(InvalidValue) as err:
        store.update("site_check", rec.id, base_rev=1, actor=CITY, values={"people": [{"name": f"张{char}"}]})
    assert (err.value.code, err.value.field) == ("control_character", "people")
    assert "「检查人员」" in str(err.value)  # named by its label
    assert len(store.records("site_check")) == 1
    assert len(store.audit()) == 1
    assert store.get("site_check", rec.id).rev == 1


def test_too_long_text_is_refused(store):
    # The message names the field by its label and says how long the text is (the code cannot).
    with pytest.raises(InvalidValue) as err:
        store.append("site_check", {"project": "字" * 32_768}, actor=CITY, status="草稿")
    assert (err.value.code, err.value.field) == ("text_too_long", "project")
    assert "「项目名称」" in str(err.value) and "32768" in str(err.value)
    with pytest.raises(InvalidValue) as err:
        store.append("site_check", {"issues": ["字" * 20_000, "字" * 20_000]}, actor=CITY, status="草稿")
    assert (err.value.code, err.value.field) == ("list_too_long", "issues") and "「问题类型」" in str(err.value)
    with pytest.raises(InvalidValue) as err:  # a key no column declares is named by the key itself
        store.append("site_check", {"unknown_key": "x" * 40_000}, actor=CITY, status="草稿")
    assert (err.value.code, err.value.field) == ("text_too_long", "unknown_key") and "「unknown_key」" in str(err.value)
    assert store.records("site_check") == []


@pytest.mark.parametrize(
    ("values", "field", "code"),
    [({"_id": "x"}, "_id", "reserved_field"), ({"": "x"}, "", "bad_field_name"),
     ({"amount": float("nan")}, "amount", "not_a_number"), ({"amount": Decimal("Infinity")}, "amount", "not_a_number"),
     ({"remark": {1, 2}}, "remark", "unsupported_type"), ({"remark": [1, 2]}, "remark", "unsupported_type"),
     ({"people": [{"$where": "x"}]}, "people", "bad_table_column"),
     ({"people": [{"name": {1}}]}, "people", "unsupported_type")],
)
def test_values_a_sheet_cannot_hold_are_refused(store, values, field, code):
    with pytest.raises(InvalidValue) as err:
        store.append("site_check", values, actor=CITY, status="草稿")
    assert (err.value.code, err.value.field) == (code, field)
    assert store.records("site_check") == []


def test_bulk_append_is_all_or_nothing_on_bad_input(store):
    with pytest.raises(InvalidValue):
        store.append_many("site_check", [{"count": 1}, {"remark": "\x01"}], actor=CITY, status="草稿")
    assert store.records("site_check") == []
    recs = store.append_many("site_check", [{"count": i} for i in range(50)], actor=CITY, status="草稿")
    assert [r.values["count"] for r in store.records("site_check")] == list(range(50))
    assert len({r.id for r in recs}) == 50


NOTE_SPEC = SheetSpec("batch_note", "批次说明", (Column("batch", "批次"), Column("rows", "行数", "integer")))


def test_append_batch_writes_rows_of_several_sheets_as_one_change(store, store_factory):
    store.ensure_sheet(NOTE_SPEC)
    items = [("site_check", {"count": i}, "已导入") for i in range(3)] + [("batch_note", {"batch": "b1", "rows": 3}, "有效")]
    recs = store.append_batch(items, actor=PROVINCE, form_version=2)
    assert [(r.form_id, r.status, r.values) for r in recs] == [(f, s, v) for f, v, s in items]
    assert {r.form_version for r in recs} == {2} and len({r.id for r in recs}) == 4
    assert store.records("site_check") == recs[:3] and store.records("batch_note") == recs[3:]
    assert [a.row_id for a in store.audit()] == [r.id for r in recs]  # each row audited as created
    other = store_factory()  # a reopen, or another app process on the same spreadsheet
    assert other.records("site_check") == recs[:3] and other.records("batch_note") == recs[3:]
    assert store.append_batch([], actor=PROVINCE) == []


@pytest.mark.parametrize(
    "bad, error, code",
    [(("batch_note", {"batch": "\x01", "rows": 1}, "有效"), InvalidValue, "control_character"),  # the last value of another sheet
     (("batch_note", {"batch": "b", "rows": 1}, " "), InvalidValue, "bad_status"),  # a status no cell can show
     (("nope", {"a": 1}, "有效"), NotFound, "not_found")],  # a sheet never declared
)
def test_append_batch_refuses_before_writing_anything(store, bad, error, code):
    store.ensure_sheet(NOTE_SPEC)
    before = store.audit()
    with pytest.raises(error) as err:
        store.append_batch([("site_check", {"count": i}, "已导入") for i in range(20)] + [bad], actor=PROVINCE)
    assert err.value.code == code
    assert store.records("site_check") == [] and store.records("batch_note") == []
    assert store.audit() == before


def test_write_batch_adds_and_changes_rows_as_one_change(store, store_factory):
    a = store.append("site_check", {"count": 1, "project": "甲"}, actor=CITY, status="已提交")
    b = store.append("site_check", {"count": 2}, actor=CITY, status="草稿")
    added, changed = store.write_batch(
        [("site_check", {"count": 3}, "已提交")],
        [RowChange("site_check", a.id, 1, {"count": 10}, "已修改"), RowChange("site_check", b.id, 1, {"count": 2})],
        actor=PROVINCE, form_version=2)
    assert [(r.values, r.status, r.rev, r.form_version) for r in added] == [({"count": 3}, "已提交", 1, 2)]
    assert [(r.id, r.rev, r.status, r.values) for r in changed] == [
        (a.id, 2, "已修改", {"count": 10, "project": "甲"}), (b.id, 1, "草稿", {"count": 2})]  # b: nothing changed, no entry
    assert [(e.row_id, e.rev) for e in store.audit()][-2:] == [(added[0].id, 1), (a.id, 2)]
    other = store_factory()
    assert [(r.id, r.rev) for r in other.records("site_check")] == [(a.id, 2), (b.id, 1), (added[0].id, 1)]
    assert store.write_batch([], [], actor=PROVINCE) == ([], [])


@pytest.mark.parametrize("case", ["stale", "missing", "twice", "bad_value", "bad_append"])
def test_write_batch_refuses_before_writing_anything(store, case):
    a = store.append("site_check", {"count": 1}, actor=CITY, status="已提交")
    store.update("site_check", a.id, base_rev=1, actor=CITY, values={"count": 2})
    b = store.append("site_check", {"count": 5}, actor=CITY, status="已提交")
    changes = [RowChange("site_check", b.id, 1, {"count": 6})]
    appends = [("site_check", {"count": i}, "已导入") for i in range(5)]
    error, code = {
        "stale": (ConflictError, "conflict"), "missing": (NotFound, "not_found"), "twice": (InvalidValue, "row_twice"),
        "bad_value": (InvalidValue, "control_character"), "bad_append": (InvalidValue, "control_character")}[case]
    changes.append({"stale": RowChange("site_check", a.id, 1, {"count": 3}),  # read before the update above
                    "missing": RowChange("site_check", "sitech-nope", 1, {"count": 3}),
                    "twice": RowChange("site_check", b.id, 1, {"count": 7}),
                    "bad_value": RowChange("site_check", a.id, 2, {"project": "\x01"}),
                    "bad_append": RowChange("site_check", a.id, 2, {"count": 3})}[case])
    if case == "bad_append":
        appends.append(("site_check", {"project": "\x02"}, "已导入"))
    before = (store.records("site_check"), store.audit())
    with pytest.raises(error) as err:
        store.write_batch(appends, changes, actor=PROVINCE)
    assert err.value.code == code
    assert (store.records("site_check"), store.audit()) == before


def test_snapshot_is_a_frame_of_latest_versions(store):
    a = store.append("site_check", ROW, actor=CITY, status="已提交")
    store.append("site_check", {**ROW, "count": 5}, actor=CITY, status="草稿")
    store.update("site_check", a.id, base_rev=1, actor=CITY, values={"count": 4})
    frame = store.snapshot("site_check")
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns)[: len(SYSTEM_KEYS)] == list(SYSTEM_KEYS)
    assert list(frame["count"]) == [4, 5] and list(frame["_rev"]) == [2, 1]
    assert frame.loc[0, "visit_date"] == dt.date(2020, 9, 1)
    assert frame.loc[0, "issues"] == ["质量", "安全"]
    assert frame.loc[0, "_created_at"] == pd.Timestamp("2020-09-10 10:00")


def test_snapshot_does_not_change_after_later_writes(store):
    a = store.append("site_check", ROW, actor=CITY, status="已提交")
    before = store.snapshot("site_check")
    store.update("site_check", a.id, base_rev=1, actor=CITY, values={"count": 8})
    store.append("site_check", ROW, actor=CITY, status="已提交")
    assert len(before) == 1 and before.loc[0, "count"] == 3
    after = store.snapshot("site_check")
    after.loc[0, "count"] = -1  # a caller's edit never reaches the store
    assert list(store.snapshot("site_check")["count"]) == [8, 3]


def test_editing_a_snapshots_list_or_table_cell_in_place_never_reaches_the_store(store):
    """Attack Q2: a snapshot's list and table cells were the record's own objects, so a caller's ``append``
    to one changed the row the store held (and the next workbook it wrote), not the log: after a full build
    and after the incremental one alike."""
    a = store.append("site_check", ROW, actor=CITY, status="已提交")
    issues, people = ["质量", "安全"], ROW["people"]
    for _ in range(2):  # the first snapshot is a full build, the second one applies the update to it
        frame = store.snapshot("site_check")
        frame.loc[0, "issues"].append("注入")
        frame.loc[0, "people"][0]["name"] = "王五"
        assert store.get("site_check", a.id).values["issues"] == issues
        assert store.get("site_check", a.id).values["people"] == people
        issues, people = ["安全"], [{"name": "赵六", "phone": None}]
        store.update("site_check", a.id, base_rev=store.get("site_check", a.id).rev, actor=CITY,
                     values={"issues": list(issues), "people": [dict(p) for p in people]})


def test_a_repeated_snapshot_without_changes_builds_nothing(store, monkeypatch):
    """The frame is built once per change: later snapshots reuse it (counted, not timed)."""
    import lib.store.state as state

    store.append_many("site_check", [{**ROW, "count": i} for i in range(300)], actor=CITY, status="已提交")
    builds = []
    monkeypatch.setattr(state, "current_book", lambda *a, real=state.current_book: builds.append(1) or real(*a))
    first = store.snapshot("site_check")
    frames = [store.snapshot("site_check") for _ in range(20)]
    assert len(builds) == 1 and all(len(f) == 300 and f.equals(first) for f in frames)
    store.append("site_check", ROW, actor=CITY, status="已提交")
    assert len(store.snapshot("site_check")) == 301 and len(builds) == 2


def test_reopening_gives_the_same_records_and_audit(store_factory, clock):
    store = store_factory()
    store.ensure_sheet(SPEC)
    a = store.append("site_check", ROW, actor=CITY, status="已提交")
    clock.tick(hours=1)
    store.update("site_check", a.id, base_rev=1, actor=PROVINCE, values={"remark": "已复核"}, status="已审核")
    store.append("site_check", {"project": "乙"}, actor=CITY, status="草稿")
    again = store_factory()
    assert again.records("site_check") == store.records("site_check")
    assert again.audit() == store.audit()
    pd.testing.assert_frame_equal(again.snapshot("site_check"), store.snapshot("site_check"))


def test_a_second_store_on_the_same_place_sees_writes_on_next_read(store_factory):
    first = store_factory()
    first.ensure_sheet(SPEC)
    second = store_factory()
    rec = first.append("site_check", ROW, actor=CITY, status="已提交")
    assert second.get("site_check", rec.id) == rec
    second.update("site_check", rec.id, base_rev=1, actor=PROVINCE, values={"count": 7})
    with pytest.raises(ConflictError):
        first.update("site_check", rec.id, base_rev=1, actor=CITY, values={"count": 8})
    assert first.get("site_check", rec.id).values["count"] == 7


def test_columns_are_added_never_dropped(store):
    store.append("site_check", ROW, actor=CITY, status="已提交")
    store.ensure_sheet(SheetSpec("site_check", "现场检查记录", (Column("project", "工程名称"), Column("new", "新字段"))))
    frame = store.snapshot("site_check")
    assert {"amount", "remark", "new"} <= set(frame.columns)
    assert frame.loc[0, "amount"] == 1234.56


def _filters():
    """Questions ``records_where`` is asked: by value (folded), by the filer, by status, and mixes."""
    return [
        ({"project": ["甲 厂"]}, None),
        ({"project": ["ＡＢＣ", "乙"]}, None),
        ({"_owner": ["p1"], "_org": ["广州 云智"]}, None),
        ({"_city": ["佛山"], "project": ["佛山"]}, None),
        ({"project": [""]}, None),
        ({"count": ["3"]}, None),
        ({"_owner": ["p1"]}, ["已提交", "退回修改"]),
        (None, ["已提交"]),
        (None, []),
        ({}, None),
        ({"nowhere": ["x"]}, None),
    ]


def _expected(store, any_of, statuses):
    """What ``records_where`` must give: the rule of ``matcher`` applied to every row, in creation order."""
    from lib.store.base import matcher

    return [r.id for r in store.records("site_check") if matcher(any_of, statuses)(r)]


def test_records_where_finds_rows_by_folded_value_filer_and_status_and_follows_changes(store_factory, clock):
    store = store_factory()
    store.ensure_sheet(SPEC)
    people = [Actor("p1", "provider", "广州云智", "广州"), Actor("p2", "provider", "广州 云智", "佛山"),
              Actor("p3", "provider", "其他公司", "佛山")]
    rows = [("甲厂", 0), ("ABC", 1), (" 甲 厂 ", 2), ("佛山", 0), (None, 1), ("乙", 2), ("ａｂｃ", 0)]
    made = [store.append("site_check", {"project": p, "count": 3 if i % 2 else 1}, actor=people[who],
                         status="已提交" if i % 3 else "草稿") for i, (p, who) in enumerate(rows)]
    # many rows that few questions find: a backend may answer a few rows found and many found alike
    store.append_many("site_check", [{"project": f"丙{i}"} for i in range(40)], actor=people[2], status="已通过")
    for any_of, statuses in _filters():
        assert [r.id for r in store.records_where("site_check", any_of, statuses=statuses)] == \
            _expected(store, any_of, statuses), (any_of, statuses)
    assert [r.id for r in store.records_where("site_check", {"project": ["甲厂"]})] == [made[0].id, made[2].id]
    assert [r.id for r in store.records_where("site_check", {"_org": ["广州云智"]})] == [
        made[i].id for i, (_, who) in enumerate(rows) if who < 2]
    # the indexes follow changes: a value moves its row, a status change too, a new row joins
    store.update("site_check", made[0].id, base_rev=1, actor=PROVINCE, values={"project": "乙"})
    store.update("site_check", made[5].id, base_rev=1, actor=PROVINCE, status="退回修改", note="补充")
    store.append("site_check", {"project": "甲厂"}, actor=people[0], status="已提交")
    for any_of, statuses in _filters():
        assert [r.id for r in store.records_where("site_check", any_of, statuses=statuses)] == \
            _expected(store, any_of, statuses), (any_of, statuses)
    assert made[0].id not in [r.id for r in store.records_where("site_check", {"project": ["甲厂"]})]
    again = store_factory()  # another process (or a restart): its indexes are built from what it read
    for any_of, statuses in _filters():
        assert [r.id for r in again.records_where("site_check", any_of, statuses=statuses)] == \
            _expected(store, any_of, statuses), (any_of, statuses)
    assert store.records_where("nothing", {"project": ["甲厂"]}) == []


def test_last_moves_gives_the_latest_entry_that_moved_each_row_into_a_status(store_factory, clock):
    store = store_factory()
    store.ensure_sheet(SPEC)
    a = store.append("site_check", ROW, actor=CITY, status="已提交")
    b = store.append("site_check", {"project": "乙"}, actor=CITY, status="退回修改")  # created so: no move
    assert store.last_moves("site_check", "退回修改") == {}
    store.update("site_check", a.id, base_rev=1, actor=PROVINCE, status="退回修改", note="第一次")
    assert {k: e.note for k, e in store.last_moves("site_check", "退回修改").items()} == {a.id: "第一次"}
    clock.tick(hours=1)
    store.update("site_check", a.id, base_rev=2, actor=CITY, values={"count": 4}, status="已重新提交")
    store.update("site_check", a.id, base_rev=3, actor=PROVINCE, status="退回修改", note="第二次")
    store.update("site_check", b.id, base_rev=1, actor=CITY, values={"count": 1})  # no status change
    moves = store.last_moves("site_check", "退回修改")
    assert {k: (e.note, e.rev, e.account) for k, e in moves.items()} == {a.id: ("第二次", 4, "prov_admin")}
    assert moves[a.id] == [e for e in store.audit("site_check", a.id) if e.rev == 4][0]
    assert list(store.last_moves("site_check", "已重新提交")) == [a.id]
    assert store.last_moves("site_check", "已通过") == {} and store.last_moves("nothing", "退回修改") == {}
    assert store_factory().last_moves("site_check", "退回修改") == moves


def test_records_where_follows_a_renamed_field(store):
    a = store.append("site_check", {"project": "甲", "remark": "待查"}, actor=CITY, status="已提交")
    store.append("site_check", {"project": "乙", "remark": "无"}, actor=CITY, status="已提交")
    assert [r.id for r in store.records_where("site_check", {"remark": ["待查"]})] == [a.id]  # the index is built
    store.rename_field("site_check", "remark", "note", actor=PROVINCE)
    assert [r.id for r in store.records_where("site_check", {"note": ["待 查"]})] == [a.id]
    assert store.records_where("site_check", {"remark": ["待查"]}) == []


def test_the_audit_count_follows_every_entry_without_building_them(store):
    """The audit page's table is rebuilt only when this count moves (issue 17)."""
    assert store.audit_count() == len(store.audit())
    store.ensure_sheet(SPEC)
    rec = store.append("site_check", {"project": "甲"}, actor=CITY, status="已提交")
    store.update("site_check", rec.id, base_rev=rec.rev, actor=CITY, values={"project": "乙"})
    before = store.audit_count()
    store.log_event(CITY, "登录")
    getattr(store, "wait_idle", lambda timeout: True)(20)  # Google Sheets delivers an event in the background
    assert store.audit_count() == before + 1 == len(store.audit())


def test_the_audit_since_a_count_is_the_tail_of_the_whole_trail(store):
    """Issue 17: the audit page takes in the entries added since it last read the trail, without building the rest."""
    store.ensure_sheet(SPEC)
    seen = store.audit_count()
    assert store.audit_since(seen) == []
    rec = store.append("site_check", {"project": "甲"}, actor=CITY, status="已提交")
    store.update("site_check", rec.id, base_rev=rec.rev, actor=CITY, values={"project": "乙"})
    assert store.audit_since(seen) == store.audit()[seen:] and len(store.audit_since(seen)) == 2
    assert store.audit_since(0) == store.audit()


def test_a_forms_and_a_rows_audit_are_the_whole_trails_entries_of_them_as_it_grows(store):
    """Issue 17: a form's and a row's audit come from an index kept up to date as the trail grows (the
    board asks for one row's audit per changed row), equal to filtering the whole trail, every time."""
    other = SheetSpec("other_form", "另一表", (Column("project", "项目"),))
    store.ensure_sheet(other)
    rows = []
    for i in range(3):
        rows.append(store.append("site_check", {"project": f"甲{i}"}, actor=CITY, status="已提交"))
        rows.append(store.append("other_form", {"project": f"乙{i}"}, actor=CITY, status="草稿"))
        for form_id, rec in (("site_check", rows[-2]), ("other_form", rows[-1])):
            whole = store.audit()
            assert store.audit(form_id) == [e for e in whole if e.form_id == form_id]
            assert store.audit(form_id, rec.id) == [e for e in whole if e.form_id == form_id and e.row_id == rec.id]
        store.update("site_check", rows[0].id, base_rev=store.get("site_check", rows[0].id).rev, actor=PROVINCE,
                     values={"remark": f"第{i}次"})
    whole = store.audit()
    assert len(store.audit("site_check", rows[0].id)) == 4 == len([e for e in whole if e.row_id == rows[0].id])
    assert store.audit("no_such_form") == [] and store.audit("site_check", "no_such_row") == []
