"""Scoped reads through the store's indexes return exactly what a scan of every row with ``can`` returns:
the same rows in the same order, for every role, on forms with and without a city field, as rows are
added, their city answers corrected and their statuses changed (``lib.auth.scope``, ``policy.narrowing``)."""

from __future__ import annotations

import random

import pytest

from lib import review
from lib.auth.errors import Forbidden
from lib.auth.policy import EDIT, READ, REVIEW, Assignments, can, comparable
from lib.auth.scope import editable_records, reviewable_records, visible_records
from lib.core import statuses
from lib.core.records import Actor
from lib.forms import parse_form
from lib.forms.columns import sheet_spec
from lib.store.factory import open_store

_HEAD = "version: 1\nsections: [{key: s, title: 节, fields: ["
PLACED = parse_form(  # a city field places the row; a city bureau reviews
    "id: placed\ntitle: 甲表\nshort_title: 甲表\nfilled_by: provider\nreviewed_by: city\n" + _HEAD
    + "{key: name, label: 名称, type: text}, {key: where, label: 所在地市, type: city},"
      " {key: voucher, label: 编号, type: text}]}]", "placed.yaml")
UNPLACED = parse_form(  # no city field: a row lies in its filer's city; the province reviews
    "id: unplaced\ntitle: 乙表\nshort_title: 乙表\nfilled_by: provider\nreviewed_by: province\n" + _HEAD
    + "{key: name, label: 名称, type: text}, {key: voucher, label: 编号, type: text}]}]", "unplaced.yaml")
FORMS = (PLACED, UNPLACED)

CITIES = ("广州", "佛山", "深圳")
#: How a city answer may be spelled (the policy compares a row's city exactly; the index folds it).
SPELLINGS = {"广州": ("广州", " 广州", "广 州"), "佛山": ("佛山", "佛山 "), "深圳": ("深圳",)}
ORGS = ("广州云智", "广州 云智", "ＧＺ云智", "gz云智", "佛山数科", "")
VOUCHERS = ("V-1", "v－1 ", "V-2", "V-3", "")
FILERS = [Actor(f"p{i}", "provider", ORGS[i % len(ORGS)], CITIES[i % 3] if i % 4 else "") for i in range(9)]
ASSIGNED = Assignments({"i1": ("佛山",), "i2": ("广州", "深圳")},
                       {"佛山": frozenset({comparable("V-1")}), "广州": frozenset({comparable("V-2")}), "深圳": frozenset()},
                       {UNPLACED.id: "voucher"})
READERS = [
    Actor("province", "province", "省厅"), Actor("admin", "admin", "管理员"),
    *(Actor(f"city_{c}", "city", f"{c}局", c) for c in CITIES), Actor("city_blank", "city", "无地市局", ""),
    *FILERS, Actor("p_new", "provider", "广州云智", "广州"), Actor("lead", "lead_unit", "ＧＺ云智", "广州"),
    Actor("i1", "inspector", "检查单位", "深圳"), Actor("i2", "inspector", "检查单位", "佛山"),
    Actor("i3", "inspector", "检查单位", "广州"),  # no assignment: refused whatever it asks
]


def _answers(rng: random.Random) -> dict:
    city = rng.choice(CITIES)
    return {"name": rng.choice(("甲厂", "乙厂")), "where": rng.choice((*SPELLINGS[city], "", None)),
            "voucher": rng.choice(VOUCHERS)}


def _full_scan(store, user, form, action, assignments):
    return [r.id for r in store.records(form.id) if can(user, action, form, r, assignments)]


def _same_as_full_scan(store) -> int:
    """Every role's every scoped read against the scan of every row; the number of rows compared."""
    compared = 0
    for form in FORMS:
        for user in READERS:
            for action, read in ((READ, visible_records), (EDIT, editable_records), (REVIEW, None)):
                assignments = ASSIGNED if action != REVIEW else None
                try:
                    got = [r.id for r in (read(store, user, form, assignments=assignments) if read
                                          else reviewable_records(store, user, form))]
                except Forbidden:
                    assert not can(user, action, form, None, assignments), (user.account, form.id, action)
                    continue
                assert got == _full_scan(store, user, form, action, assignments), (user.account, form.id, action)
                compared += len(got)
            if can(user, REVIEW, form):
                for wanted in (review.AWAITING, (statuses.RETURNED,), None):
                    got = [r.id for r in review.queue(store, user, form, wanted)]
                    expected = [rid for rid in _full_scan(store, user, form, REVIEW, None)
                                if store.get(form.id, rid).status != statuses.DRAFT
                                and (wanted is None or store.get(form.id, rid).status in wanted)]
                    assert got == expected, (user.account, form.id, wanted)
    return compared


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_indexed_scoped_reads_equal_a_full_scan_as_rows_come_and_change(tmp_path, seed):
    rng = random.Random(seed)
    store = open_store("local", data_dir=tmp_path / f"data{seed}", background=False)
    try:
        for form in FORMS:
            store.ensure_sheet(sheet_spec(form))
        compared = 0
        for _round in range(4):
            for _ in range(25):
                form = rng.choice(FORMS)
                store.append(form.id, _answers(rng), actor=rng.choice(FILERS), status=rng.choice(statuses.ALL))
            for form in FORMS:  # corrections after the indexes were built: city answers, vouchers, statuses
                for rec in rng.sample(store.records(form.id), 8):
                    changed = {k: v for k, v in _answers(rng).items() if rng.random() < 0.5}
                    store.update(form.id, rec.id, base_rev=rec.rev, actor=FILERS[0], values=changed,
                                 status=rng.choice(statuses.ALL))
            compared += _same_as_full_scan(store)
        assert compared > 300  # the reads found rows, not only empty lists
        again = open_store("local", data_dir=tmp_path / f"data{seed}", background=False)  # indexes built afresh
        try:
            assert _same_as_full_scan(again) == _same_as_full_scan(store)
        finally:
            again.close()
    finally:
        store.close()


def test_a_city_bureau_follows_a_row_whose_city_answer_is_corrected(tmp_path):
    """The rows of a city bureau are those its city field names, else those its city's accounts filed:
    a corrected answer moves the row from one bureau's list to the other's at once."""
    store = open_store("local", data_dir=tmp_path / "data", background=False)
    try:
        store.ensure_sheet(sheet_spec(PLACED))
        gz, fs = (Actor(f"city_{c}", "city", f"{c}局", c) for c in ("广州", "佛山"))
        filer = Actor("p1", "provider", "广州云智", "广州")
        a = store.append(PLACED.id, {"name": "甲", "where": "佛山"}, actor=filer, status=statuses.SUBMITTED)
        b = store.append(PLACED.id, {"name": "乙", "where": ""}, actor=filer, status=statuses.SUBMITTED)
        assert ([r.id for r in visible_records(store, gz, PLACED)], [r.id for r in visible_records(store, fs, PLACED)]) \
            == ([b.id], [a.id])
        store.update(PLACED.id, a.id, base_rev=1, actor=filer, values={"where": None})
        store.update(PLACED.id, b.id, base_rev=1, actor=filer, values={"where": "佛山"})
        assert ([r.id for r in visible_records(store, gz, PLACED)], [r.id for r in visible_records(store, fs, PLACED)]) \
            == ([a.id], [b.id])
        assert [r.id for r in review.queue(store, fs, PLACED)] == [b.id]
    finally:
        store.close()


def test_return_reasons_are_the_latest_return_of_each_row(tmp_path):
    store = open_store("local", data_dir=tmp_path / "data", background=False)
    try:
        store.ensure_sheet(sheet_spec(UNPLACED))
        filer, province = Actor("p1", "provider", "广州云智", "广州"), Actor("province", "province", "省厅")
        a, b, c = (store.append(UNPLACED.id, {"name": n}, actor=filer, status=statuses.SUBMITTED) for n in "甲乙丙")
        review.return_for_changes(store, UNPLACED, province, {a.id: 1, b.id: 1}, "第一次")
        store.update(UNPLACED.id, a.id, base_rev=2, actor=filer, status=statuses.RESUBMITTED)
        review.return_for_changes(store, UNPLACED, province, {a.id: 3}, "第二次")
        rows = store.records(UNPLACED.id)
        assert review.return_reasons(store, UNPLACED, rows) == {a.id: "第二次", b.id: "第一次"}
        assert review.return_reasons(store, UNPLACED, [store.get(UNPLACED.id, c.id)]) == {}
        assert review.open_return_reasons(store, UNPLACED, rows) == {a.id: "第二次", b.id: "第一次"}
    finally:
        store.close()


def test_a_read_again_of_unchanged_rows_reuses_the_judgement_and_a_change_is_judged_anew(tmp_path, monkeypatch):
    from lib.auth import scope

    asked = []
    monkeypatch.setattr(scope, "can", lambda *a: asked.append(a[3]) or can(*a))
    store = open_store("local", data_dir=tmp_path / "data", background=False)
    try:
        store.ensure_sheet(sheet_spec(UNPLACED))
        filer, province = Actor("p1", "provider", "广州云智", "广州"), Actor("province", "province", "省厅")
        rows = [store.append(UNPLACED.id, {"name": n}, actor=filer, status=statuses.SUBMITTED) for n in "甲乙丙"]
        first = [r.id for r in review.queue(store, province, UNPLACED)]
        assert first == [r.id for r in rows] and len(asked) == 3
        asked.clear()
        assert [r.id for r in review.queue(store, province, UNPLACED)] == first and asked == []
        review.approve(store, UNPLACED, province, {rows[1].id: 1})
        asked.clear()
        assert [r.id for r in review.queue(store, province, UNPLACED)] == [rows[0].id, rows[2].id]
        assert len(asked) == 2  # the rows of the queue now, judged again
        asked.clear()
        assert [r.id for r in visible_records(store, filer, UNPLACED)] == first and len(asked) == 3  # another question
    finally:
        store.close()
