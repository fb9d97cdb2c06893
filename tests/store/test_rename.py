"""Store.rename_field on every backend: values move to the new key and stay readable, the column keeps
its place, a writer still on the old key lands under the new one, and a rename that would mix two
columns (or names a system column, or the same key) is refused with nothing written."""

from __future__ import annotations

import pytest

from lib.store.base import SYSTEM_KEYS, Column, InvalidValue, NotFound, RowChange, SheetSpec
from lib.store.factory import BACKENDS
from lib.store.state import RENAMED
from tests.store.store_cases import CITY, PROVINCE, SPEC

pytestmark = pytest.mark.parametrize("backend", BACKENDS, indirect=True)

#: The form's next version: ``count`` becomes ``inspectors`` with a new label.
RENAMED_SPEC = SheetSpec(SPEC.form_id, SPEC.title, tuple(
    Column("inspectors", "检查组人数", "integer") if c.key == "count" else c for c in SPEC.columns))


def keys(store) -> list[str]:
    return [c.key for c in store.sheet_spec("site_check").columns]


def renames(store) -> list:
    return [a for a in store.audit("site_check") if a.action == RENAMED]


def test_every_value_moves_to_the_new_key_and_the_rows_keep_their_revision(store, clock):
    a = store.append("site_check", {"project": "甲", "count": 3}, actor=CITY, status="草稿")
    b = store.append("site_check", {"project": "乙", "count": 0}, actor=CITY, status="草稿")
    c = store.append("site_check", {"project": "丙"}, actor=CITY, status="草稿")
    a = store.update("site_check", a.id, base_rev=1, actor=CITY, values={"count": 4})
    clock.tick(minutes=1)
    store.rename_field("site_check", "count", "inspectors", actor=PROVINCE)
    got = {r.id: r for r in store.records("site_check")}
    assert got[a.id].values == {"project": "甲", "inspectors": 4}
    assert got[b.id].values == {"project": "乙", "inspectors": 0}
    assert got[c.id].values == {"project": "丙"}
    assert (got[a.id].rev, got[b.id].rev, got[a.id].updated_at) == (2, 1, a.updated_at)
    assert store.get("site_check", a.id).values["inspectors"] == 4
    frame = store.snapshot("site_check")
    assert "count" not in frame.columns and list(frame["inspectors"][:2]) == [4, 0]
    # The column keeps its place and its label until the new version's sheet is declared.
    assert keys(store).index("inspectors") == [c.key for c in SPEC.columns].index("count")
    assert "count" not in keys(store)
    store.ensure_sheet(RENAMED_SPEC)
    assert [(c.key, c.label) for c in store.sheet_spec("site_check").columns] == [
        (c.key, c.label) for c in RENAMED_SPEC.columns]
    entry, = renames(store)
    assert (entry.account, entry.row_id, entry.rev) == ("prov_admin", "", 0)
    assert "count" in entry.note and "inspectors" in entry.note and "2 条记录" in entry.note
    assert store.renamed_keys("site_check") == {"count": "inspectors"}


def test_a_writer_still_on_the_old_version_lands_under_the_new_key(store_factory, store):
    rec = store.append("site_check", {"project": "甲", "count": 3}, actor=CITY, status="草稿")
    store.rename_field("site_check", "count", "inspectors", actor=PROVINCE)
    old = store.append("site_check", {"project": "乙", "count": 5}, actor=CITY, status="草稿")
    assert old.values == {"project": "乙", "inspectors": 5}
    # An update carrying the old key with the value the row has changes nothing ...
    assert store.update("site_check", rec.id, base_rev=1, actor=CITY, values={"count": 3}).rev == 1
    # ... and with another value changes the new key.
    new = store.update("site_check", rec.id, base_rev=1, actor=CITY, values={"count": 6})
    assert (new.rev, new.values) == (2, {"project": "甲", "inspectors": 6})
    assert [a.changes for a in store.audit("site_check", rec.id)][-1] == {"inspectors": (3, 6)}
    assert "count" not in store.snapshot("site_check").columns
    # Another process (or a reopen) replays the same log to the same rows.
    other = store_factory()
    assert {r.id: r.values for r in other.records("site_check")} == {r.id: r.values for r in store.records("site_check")}
    assert other.renamed_keys("site_check") == {"count": "inspectors"}


def test_a_key_no_row_has_is_renamed_all_the_same(store):
    store.append("site_check", {"project": "甲"}, actor=CITY, status="草稿")
    store.rename_field("site_check", "remark", "note", actor=PROVINCE)
    assert keys(store)[-1] == "note" and "remark" not in keys(store)
    assert store.renamed_keys("site_check") == {"remark": "note"}
    assert store.append("site_check", {"remark": "迟到的备注"}, actor=CITY, status="草稿").values == {"note": "迟到的备注"}
    assert len(renames(store)) == 1


def test_a_rename_in_force_writes_nothing(store):
    store.append("site_check", {"count": 3}, actor=CITY, status="草稿")
    store.rename_field("site_check", "count", "inspectors", actor=PROVINCE)
    before = len(store.audit())
    store.rename_field("site_check", "count", "inspectors", actor=PROVINCE)  # the next publish declares it again
    assert len(store.audit()) == before


def test_renames_chain_and_a_key_renamed_back_is_live_again(store):
    store.append("site_check", {"count": 3}, actor=CITY, status="草稿")
    store.rename_field("site_check", "count", "inspectors", actor=PROVINCE)
    store.rename_field("site_check", "inspectors", "staff", actor=PROVINCE)
    assert store.renamed_keys("site_check") == {"count": "staff", "inspectors": "staff"}
    assert store.append("site_check", {"count": 1}, actor=CITY, status="草稿").values == {"staff": 1}
    store.rename_field("site_check", "staff", "count", actor=PROVINCE)
    assert store.renamed_keys("site_check") == {"inspectors": "count", "staff": "count"}
    assert [r.values for r in store.records("site_check")] == [{"count": 3}, {"count": 1}]
    assert store.append("site_check", {"count": 2}, actor=CITY, status="草稿").values == {"count": 2}


def test_renaming_onto_a_declared_empty_column_joins_it_in_the_old_place(store):
    spec = SheetSpec(SPEC.form_id, SPEC.title, (*SPEC.columns, Column("inspectors", "检查组人数", "integer")))
    store.ensure_sheet(spec)  # the new version's sheet declared before the rename
    store.append("site_check", {"count": 3, "inspectors": None, "remark": ""}, actor=CITY, status="草稿")
    store.rename_field("site_check", "count", "inspectors", actor=PROVINCE)
    assert keys(store) == [("inspectors" if c.key == "count" else c.key) for c in SPEC.columns]
    assert store.sheet_spec("site_check").columns[2] == Column("inspectors", "检查组人数", "integer")
    assert [r.values for r in store.records("site_check")] == [{"inspectors": 3, "remark": ""}]
    # A server still on the old version declares its sheet again: the old key's column stays gone.
    store.ensure_sheet(SPEC)
    assert "count" not in keys(store) and "count" not in store.snapshot("site_check").columns


@pytest.mark.parametrize(("old", "new", "code"), [
    ("count", "count", "rename_same"),
    ("count", "_status", "rename_system_key"),
    ("_owner", "owner", "rename_system_key"),
    ("count", "", "rename_system_key"),
    ("count", "project", "rename_target_has_values"),
])
def test_a_rename_that_may_not_be_written_is_refused_with_nothing_written(store, old, new, code):
    store.append("site_check", {"project": "甲", "count": 3}, actor=CITY, status="草稿")
    before = (len(store.audit()), store.records("site_check"), store.sheet_spec("site_check"))
    with pytest.raises(InvalidValue) as err:
        store.rename_field("site_check", old, new, actor=PROVINCE)
    assert err.value.code == code
    assert (len(store.audit()), store.records("site_check"), store.sheet_spec("site_check")) == before
    assert store.renamed_keys("site_check") == {}


def test_a_rename_onto_a_key_holding_values_names_the_field(store):
    store.append("site_check", {"project": "甲", "count": 3}, actor=CITY, status="草稿")
    with pytest.raises(InvalidValue) as err:
        store.rename_field("site_check", "count", "project", actor=PROVINCE)
    assert err.value.field == "project" and "项目名称" in str(err.value) and "1 条记录" in str(err.value)


def test_renaming_in_an_undeclared_form_is_not_found(store):
    with pytest.raises(NotFound):
        store.rename_field("nope", "count", "inspectors", actor=PROVINCE)


def test_no_system_key_is_ever_a_renamed_key(store):
    for key in SYSTEM_KEYS:
        with pytest.raises(InvalidValue):
            store.rename_field("site_check", "count", key, actor=PROVINCE)


def test_a_batch_from_a_page_on_the_old_version_changes_the_new_key(store):
    a = store.append("site_check", {"count": 3}, actor=CITY, status="草稿")
    b = store.append("site_check", {"count": 4}, actor=CITY, status="草稿")
    store.rename_field("site_check", "count", "inspectors", actor=PROVINCE)
    _, (same, changed) = store.write_batch([], [RowChange("site_check", a.id, 1, {"count": 3}),
                                                RowChange("site_check", b.id, 1, {"count": 9})], actor=CITY)
    assert (same.rev, same.values) == (1, {"inspectors": 3})  # the value it has: no change, no new revision
    assert (changed.rev, changed.values) == (2, {"inspectors": 9})


def test_an_old_version_that_had_both_keys_lands_its_answer_under_the_new_one(store):
    store.rename_field("site_check", "count", "inspectors", actor=PROVINCE)
    both = store.append("site_check", {"count": 3, "inspectors": None}, actor=CITY, status="草稿")
    assert both.values == {"inspectors": 3}
    # Two answers are never merged into one: the old key keeps its own when the new one has another.
    kept = store.append("site_check", {"count": 3, "inspectors": 4}, actor=CITY, status="草稿")
    assert kept.values == {"count": 3, "inspectors": 4}
