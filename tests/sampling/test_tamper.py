"""The sampling sheets record what was decided (issue 13, attack findings K1, K2, K9, K13): a person's
workbook edit of them is never imported, and a change made to them anyway is reported by verify and
gives no inspector any reach."""

from __future__ import annotations

import openpyxl
import pytest

from lib.sampling.__main__ import main
from lib.sampling.assignments import (
    ASSIGNMENTS,
    MEMBERS,
    AssignmentChanged,
    assignments_in_force,
    current_assignment,
    draw_inspectors,
)
from lib.sampling.record import DRAW_ROWS, DRAWS, FRAME_ROWS, FRAMES, freeze, record_draw
from lib.sampling.verify import verify, verify_inspectors
from lib.store.factory import open_store
from lib.store.local.external import EXTERNAL_ACTOR

from .conftest import ENTRIES, PROVINCE, ROOT, SHIPPED, file_check, import_vouchers
from .test_assignments import DAY, inspectors

FORMS = ROOT / "forms"


def _draw(store):
    """Freeze, draw the projects, draw the inspectors: (the project draw, the inspector draw)."""
    info, _ = freeze(store, SHIPPED, PROVINCE)
    done = record_draw(store, SHIPPED, info.frame_id, "20200922", PROVINCE)
    return done, draw_inspectors(store, SHIPPED, inspectors(), "7", PROVINCE, day=DAY)


def _stock(store):
    import_vouchers(store, ENTRIES)
    file_check(store, "V-000002", complaint=True)
    return _draw(store)


@pytest.fixture
def drawn(stocked):
    """The stocked store frozen, drawn and its inspectors drawn."""
    return stocked, *_draw(stocked)


def _edit_cell(path, sheet: str, header: str, value) -> None:
    """Change ``header`` of the first data row of ``sheet`` in the workbook at ``path``, as a person in Excel would."""
    book = openpyxl.load_workbook(path)
    rows = book[sheet]
    heads = [c.value for c in rows[1]]
    rows.cell(2, heads.index(header) + 1).value = value
    book.save(path)


#: (sheet, the header of a cell to edit, its new value): one of each sampling sheet.
EDITS = [("抽中项目", "企业所在地市", "佛山"), ("抽中项目", "企业名称", "另一家企业"), ("抽样记录", "随机数种子", "1"),
         ("抽样框", "企业名称", "另一家企业"), ("抽样框冻结记录", "项目数", 3), ("检查组", "检查地市", "汕头"),
         ("检查员抽取记录", "随机数种子", "8")]


def _cells(store) -> dict:
    from lib.sampling import assignments, record

    return {s.form_id: sorted((r.rev, sorted(map(str, r.values.items()))) for r in store.records(s.form_id))
            for s in (*record.SHEETS, *assignments.SHEETS)}


@pytest.mark.parametrize("sheet, header, value", EDITS)
def test_the_apps_store_imports_no_workbook_edit_of_a_sampling_sheet(tmp_path, monkeypatch, sheet, header, value):
    """Through the app's own wiring (lib.ui.context._open_store): FormEditRules locks every sheet that is no form."""
    from lib.ui import context

    monkeypatch.setenv("APP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("APP_FORMS_DIR", str(FORMS))
    context.settings.clear()
    try:
        opened = context._open_store(background=False)
        try:
            done, _ = _stock(opened)
            before = _cells(opened)
            opened.flush_workbook()
        finally:
            opened.close()
        _edit_cell(tmp_path / "campaign.xlsx", sheet, header, value)
        again = context._open_store(background=False)
        try:
            again.flush_workbook()
            assert _cells(again) == before and verify(again, done.draw_id).ok
            assert any(e.action == "外部编辑" for e in again.audit())  # the edit was seen, and refused
        finally:
            again.close()
    finally:
        context.settings.clear()


@pytest.mark.parametrize("sheet, header, value", EDITS)
def test_the_command_line_opens_the_store_with_the_same_rules(tmp_path, capsys, sheet, header, value):
    data = tmp_path / "data"
    with open_store("local", data_dir=data, background=False) as store:
        done, _ = _stock(store)
        before = _cells(store)
        store.flush_workbook()
    _edit_cell(data / "campaign.xlsx", sheet, header, value)
    assert main(["verify", done.draw_id, "--data-dir", str(data), "--forms-dir", str(FORMS)]) == 0
    assert "一致" in capsys.readouterr().out
    with open_store("local", data_dir=data, background=False) as store:
        assert _cells(store) == before


@pytest.mark.parametrize("column, value", [("city", "佛山"), ("firm", "另一家企业"), ("provider", "另一家服务商"), ("subsidy", 99.0)])
def test_verify_names_a_drawn_row_changed_after_the_draw_and_each_value_unlike_the_redraw(drawn, column, value):
    store, done, _ = drawn
    row = next(r for r in store.records(DRAW_ROWS.form_id) if r.values["voucher"] == "V-000002")
    store.update(DRAW_ROWS.form_id, row.id, base_rev=row.rev, actor=EXTERNAL_ACTOR, values={column: value})
    found = {(d.code, d.voucher) for d in verify(store, done.draw_id).differences}
    assert found == {("draw_row_changed", "V-000002"), ("drawn_value", "V-000002")}


def test_verify_names_a_draw_record_changed_after_the_draw_but_not_the_apps_own_supersede(drawn):
    store, done, _ = drawn
    [rec] = store.records(DRAWS.form_id)
    store.update(DRAWS.form_id, rec.id, base_rev=rec.rev, actor=EXTERNAL_ACTOR, values={"reason": "改过"})
    assert {d.code for d in verify(store, done.draw_id).differences} == {"draw_changed"}


def test_a_supersede_not_made_by_the_redraw_is_a_change(drawn):
    store, done, _ = drawn
    [rec] = store.records(DRAWS.form_id)
    later = record_draw(store, SHIPPED, done.frame_id, "3", PROVINCE, reason="复核")
    assert verify(store, done.draw_id).ok  # the app's own supersede
    [old] = [r for r in store.records(DRAWS.form_id) if r.id == rec.id]
    assert old.rev == 2  # superseded by the redraw
    store.update(DRAWS.form_id, old.id, base_rev=old.rev, actor=EXTERNAL_ACTOR, values={"superseded_by": "D-" + later.draw_id[2:][::-1]})
    assert {d.code for d in verify(store, done.draw_id).differences} == {"draw_changed"}


@pytest.mark.parametrize("column", ["city", "account"])
def test_a_changed_group_row_is_reported_and_gives_no_reach(drawn, column):
    store, done, groups = drawn
    assert assignments_in_force(store, SHIPPED).cities  # before: the groups reach their cities
    member = store.records(MEMBERS.form_id)[0]
    home = {a.account: a.city for a in inspectors()}
    value = home[member.values["account"]] if column == "city" else "ins11"
    store.update(MEMBERS.form_id, member.id, base_rev=member.rev, actor=EXTERNAL_ACTOR, values={column: value})
    assert {d.code for d in verify(store, done.draw_id).differences} == {"inspector_group_changed"}
    with pytest.raises(AssignmentChanged) as refused:
        assignments_in_force(store, SHIPPED)
    assert refused.value.code == "assignment_changed"


def test_an_inspector_draw_record_changed_gives_no_reach_even_when_it_cannot_be_read(drawn):
    store, done, _ = drawn
    [rec] = store.records(ASSIGNMENTS.form_id)
    store.update(ASSIGNMENTS.form_id, rec.id, base_rev=rec.rev, actor=EXTERNAL_ACTOR, values={"seed": "abc"})
    assert {d.code for d in verify(store, done.draw_id).differences} == {"inspector_draw_changed"}
    with pytest.raises(AssignmentChanged) as refused:
        assignments_in_force(store, SHIPPED)
    assert refused.value.code == "assignment_changed"


def test_a_group_row_appended_after_the_draw_gives_no_reach_and_verify_names_it(drawn):
    """Attack M7: reach trusted the group rows by revision only, so an appended row (rev 1) put an
    undrawn inspector in a city's group."""
    store, _, groups = drawn
    city = groups.assignment.groups[0].city
    outsider = next(a.account for a in inspectors() if a.account not in {m for g in groups.assignment.groups for m in g.members})
    store.append(MEMBERS.form_id, {"assignment_id": groups.assignment_id, "city": city, "account": outsider, "name": "某人"},
                 actor=PROVINCE, status="已分派")
    with pytest.raises(AssignmentChanged) as refused:
        assignments_in_force(store, SHIPPED)
    assert refused.value.code == "assignment_changed" and outsider in str(refused.value) and "。。" not in str(refused.value)
    assert "inspector_rows_added" in {d.code for d in verify_inspectors(store, groups.assignment_id).differences}


def test_an_inspector_draw_record_appended_without_its_inputs_gives_no_reach(drawn):
    """Attack M7: a second 有效 record appended later became the draw in force and granted reach."""
    store, done, groups = drawn
    [real] = store.records(ASSIGNMENTS.form_id)
    forged = {**real.values, "assignment_id": "I-29990101000000-ffff"}
    members = [{"assignment_id": forged["assignment_id"], "city": g.city, "account": m, "name": m}
               for g in groups.assignment.groups for m in g.members]
    store.append_batch([*((MEMBERS.form_id, m, "已分派") for m in members), (ASSIGNMENTS.form_id, forged, real.status)], actor=PROVINCE)
    assert current_assignment(store).assignment_id == forged["assignment_id"]
    with pytest.raises(AssignmentChanged) as refused:
        assignments_in_force(store, SHIPPED)
    assert "抽取依据" in str(refused.value)
    assert "inspector_rows_added" in {d.code for d in verify_inspectors(store, forged["assignment_id"]).differences}


def test_a_record_that_does_not_read_is_a_coded_refusal_not_a_crash(drawn):
    """Attack M13: the sampling page died on ``int("abc")`` before its 核验 section."""
    store, _, _ = drawn
    [rec] = store.records(ASSIGNMENTS.form_id)
    store.update(ASSIGNMENTS.form_id, rec.id, base_rev=rec.rev, actor=EXTERNAL_ACTOR, values={"day": "昨天"})
    with pytest.raises(AssignmentChanged) as refused:
        current_assignment(store)
    assert "昨天" in str(refused.value)


def test_a_drawn_row_moved_to_another_city_gives_no_reach(drawn):
    store, done, _ = drawn
    row = next(r for r in store.records(DRAW_ROWS.form_id) if r.values["city"] == "广州")
    store.update(DRAW_ROWS.form_id, row.id, base_rev=row.rev, actor=EXTERNAL_ACTOR, values={"city": "汕头"})
    with pytest.raises(AssignmentChanged) as refused:
        assignments_in_force(store, SHIPPED)
    assert refused.value.code == "assignment_changed"


@pytest.mark.parametrize("sheet, values, code", [
    (DRAWS, {"seed": "abc"}, "seed"),
    (FRAMES, {"sampling": "{broken"}, "frame_unreadable"),
    (FRAMES, {"sampling": ""}, "frame_unreadable"),
])
def test_verify_of_a_broken_record_reports_it_and_the_command_line_says_so_in_chinese(drawn, tmp_path, capsys, sheet, values, code):
    store, done, _ = drawn
    [rec] = store.records(sheet.form_id)
    store.update(sheet.form_id, rec.id, base_rev=rec.rev, actor=EXTERNAL_ACTOR, values=values)
    assert code in {d.code for d in verify(store, done.draw_id).differences}
    assert main(["verify", done.draw_id, "--data-dir", str(tmp_path / "data"), "--forms-dir", str(FORMS)]) == 1
    out = capsys.readouterr()
    assert done.draw_id in out.out and "Traceback" not in out.err and not out.err


@pytest.mark.parametrize("voucher", ["V-000000", ""])
def test_a_frozen_row_given_a_repeated_or_blank_voucher_is_reported_as_changed(drawn, voucher):
    store, done, _ = drawn
    row = next(r for r in store.records(FRAME_ROWS.form_id) if r.values["voucher"] == "V-000001")
    store.update(FRAME_ROWS.form_id, row.id, base_rev=row.rev, actor=EXTERNAL_ACTOR, values={"voucher": voucher})
    found = {(d.code, d.voucher) for d in verify(store, done.draw_id).differences}
    assert found == {("frame_row_changed", voucher), ("frame_unreadable", "")}


@pytest.mark.parametrize("argv", [[], ["verify"], ["bogus"], ["draw", "F-1", "--seed", "1", "--generate-seed"],
                                  ["draw", "F-1"], ["verify", "D-1", "--zzz"], ["verify", "D-1", "--data-dir"]])
def test_a_usage_error_of_the_command_line_is_said_in_chinese(argv, capsys):
    with pytest.raises(SystemExit) as ended:
        main(argv)
    err = capsys.readouterr().err
    assert ended.value.code == 2 and err.strip() and err.isascii() is False
    assert not any(word in err for word in ("usage", "error:", "required", "argument", "invalid choice"))


def test_every_command_documents_its_exit_codes(capsys):
    for argv in (["-h"], ["verify", "-h"], ["freeze", "-h"], ["draw", "-h"]):
        with pytest.raises(SystemExit):
            main(argv)
        assert "退出码：0" in capsys.readouterr().out
