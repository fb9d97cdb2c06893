"""What a filler writes is authorised on the new values: fields the account answers (from_account)
are filled from it and cannot name another organisation or city; a correction cannot move a row
out of the filler's scope; a second report of one project is refused at submit; a filer never
reviews its own row."""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path

import pytest

from lib import review, submissions
from lib.auth import Forbidden
from lib.auth.policy import REVIEW, account_answers, can
from lib.core import statuses
from lib.core.records import Actor
from lib.forms.types import BIDI_CHARS, INVISIBLE_CHARS

from .conftest import FS, GZ, denials


def cities(catalog):
    return tuple(catalog.campaign.cities)


def _att1_answers(row) -> dict:
    """A complete, valid 附件1 answer set for a new project, built from a demo row of the same provider."""
    return dict(row.values, voucher_no="FWQ-NEW-0001", project_name="新上云项目（测试）")


# --- fields the account answers ---------------------------------------------------------------


def test_blank_account_fields_are_filled_from_the_account(store, catalog, actors):
    provider, form = actors["provider"], catalog.form("att1")
    row = next(r for r in store.records("att1") if r.org == provider.org)
    answers = _att1_answers(row) | {"provider_name": "", "provider_credit_code": None}
    saved = submissions.submit(store, form, answers, provider, cities=cities(catalog))
    assert saved.ok, saved.problems
    assert saved.record.values["provider_name"] == provider.org
    assert saved.record.values["provider_credit_code"] == provider.org_code

    draft = submissions.save_draft(store, catalog.form("att3"), {}, GZ, cities=cities(catalog))
    assert draft.ok and draft.record.values["city"] == "广州"


def test_the_account_value_typed_differently_is_stored_as_the_account_has_it(store, catalog, actors):
    provider, form = actors["provider"], catalog.form("att1")
    row = next(r for r in store.records("att1") if r.org == provider.org)
    answers = _att1_answers(row) | {"provider_name": f"  {provider.org} ", "provider_credit_code": provider.org_code.lower()}
    saved = submissions.submit(store, form, answers, provider, cities=cities(catalog))
    assert saved.ok and saved.record.values["provider_name"] == provider.org


@pytest.mark.parametrize("field, value, says", [
    ("provider_name", "别人家的科技有限公司", "「服务商名称」须为本单位名称"),
    ("provider_credit_code", "91440101MA59ABCDEM", "「服务商统一社会信用代码」须为本单位的统一社会信用代码"),
])
def test_another_organisation_in_an_account_field_is_refused_and_audited(store, catalog, actors, field, value, says):
    provider, form = actors["provider"], catalog.form("att1")
    row = next(r for r in store.records("att1") if r.org == provider.org)
    count = len(store.records("att1"))
    for save in (submissions.submit, submissions.save_draft):
        with pytest.raises(Forbidden) as refused:
            save(store, form, _att1_answers(row) | {field: value}, provider, cities=cities(catalog))
        assert says in str(refused.value) and getattr(provider, "org" if field == "provider_name" else "org_code") in str(refused.value)
    assert len(store.records("att1")) == count
    logged = [e for e in denials(store) if e.account == provider.account]
    assert len(logged) == 2 and says in logged[-1].note


def test_a_city_refusal_says_only_its_own_city_may_be_filed(store, catalog):
    with pytest.raises(Forbidden, match="只能填报本市项目.*只能是「广州」"):
        submissions.save_draft(store, catalog.form("att3"), {"city": "佛山"}, GZ, cities=cities(catalog))


def test_account_answers_follow_the_form_declarations_and_the_account(catalog, actors):
    provider = actors["provider"]
    assert account_answers(catalog.form("att1"), provider) == {"provider_name": provider.org, "provider_credit_code": provider.org_code}
    without_code = Actor(provider.account, "provider", provider.org)
    assert account_answers(catalog.form("att1"), without_code) == {"provider_name": provider.org}  # the code stays free
    assert account_answers(catalog.form("att3"), FS) == {"city": "佛山"}


# --- corrections stay in scope ----------------------------------------------------------------


def test_a_city_cannot_move_its_own_draft_or_row_to_another_city(store, catalog):
    form = catalog.form("att3")
    draft = submissions.save_draft(store, form, {"client_name": "某企业"}, GZ, cities=cities(catalog))
    with pytest.raises(Forbidden, match="只能填报本市项目") as refused:
        submissions.save_draft(store, form, {"client_name": "某企业", "city": "佛山"}, GZ, cities=cities(catalog),
                               row_id=draft.record.id, base_rev=draft.record.rev)
    assert draft.record.id in str(refused.value)
    assert store.get("att3", draft.record.id).values["city"] == "广州"
    audited = denials(store)[-1]
    assert (audited.account, audited.form_id, audited.row_id) == ("city_gz", "att3", draft.record.id)
    assert draft.record.id not in {r.id for r in submissions.my_records(store, form, FS)}


def test_a_correction_within_scope_still_goes_through(store, catalog, actors):
    provider, form = actors["provider"], catalog.form("att1")
    row = next(r for r in submissions.my_records(store, form, provider) if r.status == statuses.SUBMITTED)
    fixed = submissions.submit(store, form, dict(row.values, remarks="已核实"), provider, cities=cities(catalog),
                               row_id=row.id, base_rev=row.rev)
    assert fixed.ok and fixed.record.values["remarks"] == "已核实"


def _city_bureau(city: str) -> Actor:
    return Actor(f"city_{city}", "city", f"{city}市工业和信息化局", city)


def test_a_returned_row_cannot_be_handed_to_another_citys_reviewer(store, catalog, actors):
    """F19: the city of a lead unit's 附件2 row decides which bureau reviews it. Returned by its bureau,
    it was resubmitted with another city and vanished from that bureau (with its return history)."""
    lead, form = actors["lead"], catalog.form("att2")
    row = next(r for r in submissions.my_records(store, form, lead) if r.status == statuses.SUBMITTED)
    home = row.values["city"]
    other = next(c for c in cities(catalog) if c != home)
    assert review.return_for_changes(store, form, _city_bureau(home), {row.id: row.rev}, "资金到位情况不实").done
    current = store.get("att2", row.id)
    full_width = "".join(chr(ord(ch) + 0xFEE0) if ch.isascii() else ch for ch in other)  # no disguise helps
    for moved in (other, f" {full_width}\u200b"):
        with pytest.raises(Forbidden) as refused:
            submissions.submit(store, form, dict(current.values, city=moved), lead, cities=cities(catalog),
                               row_id=row.id, base_rev=current.rev)
        message = str(refused.value)
        assert row.id in message and "请撤回后重新填报" in message and f"「{home}」" in message
        audited = denials(store)[-1]
        assert (audited.account, audited.form_id, audited.row_id) == (lead.account, "att2", row.id)
        assert "请撤回后重新填报" in audited.note
    after = store.get("att2", row.id)
    assert (after.rev, after.status, after.values["city"]) == (current.rev, current.status, home)  # nothing written
    fixed = submissions.submit(store, form, dict(current.values, remarks="已核实"), lead, cities=cities(catalog),
                               row_id=row.id, base_rev=current.rev)
    assert fixed.ok and fixed.record.status == statuses.RESUBMITTED and fixed.record.values["city"] == home


def test_a_draft_never_submitted_may_still_change_its_city(store, catalog, actors):
    lead, form = actors["lead"], catalog.form("att2")
    row = next(r for r in submissions.my_records(store, form, lead) if r.status == statuses.SUBMITTED)
    other = next(c for c in cities(catalog) if c != row.values["city"])
    draft = submissions.save_draft(store, form, dict(row.values, project_name="另一个项目", city=row.values["city"]), lead,
                                   cities=cities(catalog))
    moved = submissions.save_draft(store, form, dict(draft.record.values, city=other), lead, cities=cities(catalog),
                                   row_id=draft.record.id, base_rev=draft.record.rev)
    assert moved.ok and moved.record.values["city"] == other


def test_a_form_the_province_reviews_has_one_reviewer_for_every_city(catalog, store):
    from lib.auth.policy import moves_reviewer

    att3 = catalog.form("att3")  # filed by the cities, reviewed by the province
    row = store.records("att3")[0]
    assert not moves_reviewer(att3, row, dict(row.values, city="佛山" if row.values["city"] != "佛山" else "广州"))


# --- duplicate reports ------------------------------------------------------------------------


def test_a_second_report_of_the_same_voucher_is_refused_at_submit_naming_the_row(store, catalog, actors):
    provider, form = actors["provider"], catalog.form("att1")
    first = next(r for r in submissions.my_records(store, form, provider) if r.status != statuses.WITHDRAWN)
    count = len(store.records("att1"))
    again = dict(_att1_answers(first), voucher_no=f" {first.values['voucher_no']} ")
    out = submissions.submit(store, form, again, provider, cities=cities(catalog))
    assert not out.ok and [p.code for p in out.problems] == ["duplicate_report"]
    problem = out.problems[0]
    assert problem.field == "voucher_no" and first.id in problem.message and "「服务券编号」" in problem.message
    assert len(store.records("att1")) == count

    # a draft may hold it (the filler is still working), the submit of that draft may not
    draft = submissions.save_draft(store, form, again, provider, cities=cities(catalog))
    assert draft.ok
    out = submissions.submit(store, form, again, provider, cities=cities(catalog), row_id=draft.record.id, base_rev=draft.record.rev)
    assert [p.code for p in out.problems] == ["duplicate_report"]


def test_the_second_group_catches_the_same_firm_and_project(store, catalog, actors):
    provider, form = actors["provider"], catalog.form("att1")
    first = next(r for r in submissions.my_records(store, form, provider) if r.status != statuses.WITHDRAWN)
    again = dict(first.values, voucher_no="FWQ-NEW-0002")
    out = submissions.submit(store, form, again, provider, cities=cities(catalog))
    assert [(p.code, p.field) for p in out.problems] == [("duplicate_report", "client_credit_code")]
    assert "「企业统一社会信用代码」、「项目名称」" in out.problems[0].message


@pytest.mark.parametrize("name", ["新上云项目\u200b", "新上\u200d云项目", "\ufeff新上云项目", "新上云\u2060项目", "新上\u00ad云项目",
                                  "新上云项目\u180e", "新上云项目\U000e0041", "新上云 项目", "新上云项目\ufe0f"],
                         ids=["ZWSP", "ZWJ", "BOM", "WJ", "soft hyphen", "MVS", "tag", "inner space", "VS16"])
def test_an_invisible_character_or_a_blank_does_not_make_a_second_report_new(store, catalog, actors, name):
    provider, form = actors["provider"], catalog.form("att1")
    row = next(r for r in store.records("att1") if r.org == provider.org)
    first = submissions.submit(store, form, _att1_answers(row) | {"project_name": "新上云项目"}, provider, cities=cities(catalog))
    assert first.ok, first.problems
    count = len(store.records("att1"))
    again = _att1_answers(row) | {"project_name": name, "voucher_no": "FWQ-NEW-0002"}
    out = submissions.submit(store, form, again, provider, cities=cities(catalog))
    assert [(p.code, p.field) for p in out.problems] == [("duplicate_report", "client_credit_code")]
    assert len(store.records("att1")) == count


def test_a_stored_row_holding_an_invisible_character_still_catches_the_second_report(store, catalog, actors):
    """Rows filed before invisible characters were dropped keep them; the comparison ignores them."""
    provider, form = actors["provider"], catalog.form("att1")
    row = next(r for r in store.records("att1") if r.org == provider.org)
    old = store.append("att1", _att1_answers(row) | {"project_name": "新上云项目\u200b\u200e"}, actor=provider,
                       status=statuses.SUBMITTED, form_version=form.version)
    out = submissions.submit(store, form, _att1_answers(row) | {"project_name": "新上云项目", "voucher_no": "FWQ-NEW-0003"},
                             provider, cities=cities(catalog))
    assert [p.code for p in out.problems] == ["duplicate_report"] and old.id in out.problems[0].message


@pytest.mark.parametrize("mark", ["\u200e", "\u200f", "\u061c", "\u202e"], ids=["LRM", "RLM", "ALM", "RLO"])
def test_a_direction_mark_in_an_answer_is_refused_naming_the_field(store, catalog, actors, mark):
    provider, form = actors["provider"], catalog.form("att1")
    row = next(r for r in store.records("att1") if r.org == provider.org)
    count = len(store.records("att1"))
    out = submissions.submit(store, form, _att1_answers(row) | {"project_name": f"新上云项目{mark}"}, provider, cities=cities(catalog))
    assert [(p.code, p.field) for p in out.problems] == [("bidi_text", "project_name")]
    assert "「项目名称」" in out.problems[0].message
    assert len(store.records("att1")) == count


@pytest.mark.parametrize("value", ["\u202e别人家的科技有限公司", "别人家的\u2067科技\n有限公司\u200b"], ids=["RLO", "isolate-newline-ZWSP"])
def test_a_refusal_and_its_audit_note_show_direction_and_invisible_characters_as_code_points(store, catalog, actors, value):
    provider, form = actors["provider"], catalog.form("att1")
    row = next(r for r in store.records("att1") if r.org == provider.org)
    with pytest.raises(Forbidden) as refused:
        submissions.submit(store, form, _att1_answers(row) | {"provider_name": value}, provider, cities=cities(catalog))
    note = denials(store)[-1].note
    for text in (str(refused.value), note):
        assert not BIDI_CHARS.search(text) and not INVISIBLE_CHARS.search(text) and "\n" not in text
        assert "[U+202E]" in text or "[U+2067]" in text


def test_an_empty_unique_group_matches_nothing(store, catalog, actors):
    """The loader refuses one; a spec built otherwise still files instead of raising IndexError."""
    provider, form = actors["provider"], catalog.form("att1")
    form = form.model_copy(update={"unique": ((), *form.unique)})
    row = next(r for r in store.records("att1") if r.org == provider.org)
    assert submissions.duplicate_problems(store, form, provider, dict(_att1_answers(row)), row_id=None) == []
    saved = submissions.submit(store, form, _att1_answers(row), provider, cities=cities(catalog))
    assert saved.ok, saved.problems


def test_no_duplicate_with_a_withdrawn_row_another_filer_or_the_row_itself(store, catalog, actors):
    provider, form = actors["provider"], catalog.form("att1")
    mine = [r for r in submissions.my_records(store, form, provider) if r.status == statuses.SUBMITTED]
    # resubmitting a row unchanged is not a duplicate of itself
    same = submissions.submit(store, form, dict(mine[0].values), provider, cities=cities(catalog), row_id=mine[0].id, base_rev=mine[0].rev)
    assert same.ok, same.problems
    # a withdrawn row does not block reporting the project again
    gone = submissions.withdraw(store, form, mine[1].id, provider, base_rev=mine[1].rev)
    again = submissions.submit(store, form, dict(gone.values), provider, cities=cities(catalog))
    assert again.ok, again.problems
    # another provider's identical voucher is not this filer's duplicate (the register check handles it)
    other = actors["provider2"]
    theirs = dict(mine[2].values, provider_name=other.org, provider_credit_code=other.org_code)
    assert submissions.submit(store, form, theirs, other, cities=cities(catalog)).ok


# --- a filer never reviews its own row --------------------------------------------------------


def test_a_filer_never_reviews_its_own_row(store, catalog):
    # a form whose reviewer role also files it (the loader asks that this be declared explicitly)
    form = catalog.form("att3").model_copy(update={"reviewed_by": "city"})
    own = next(r for r in store.records("att3") if r.values["city"] == "广州" and r.status == statuses.SUBMITTED)
    colleague = Actor("city_gz_2", "city", GZ.org, "广州")  # another account of the same bureau
    stranger = Actor("city_gz_x", "city", "广州市另一部门", "广州")
    assert not can(GZ, REVIEW, form, own) and not can(colleague, REVIEW, form, own)
    assert can(stranger, REVIEW, form, own)
    out = review.approve(store, form, colleague, {own.id: own.rev})
    assert not out.done and "不能由本单位审核" in out.skipped[0][1]
    assert store.get("att3", own.id).status == statuses.SUBMITTED
    assert denials(store)[-1].row_id == own.id


def test_the_same_project_submitted_at_once_from_many_tabs_is_filed_once(store, catalog, actors, monkeypatch):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    provider, form = actors["provider"], catalog.form("att1")
    row = next(r for r in store.records("att1") if r.org == provider.org)
    answers = _att1_answers(row)
    start = threading.Barrier(6)
    # Hold every submit between its duplicate check and its write until all six have checked (or a
    # second has passed, which is what happens when the checks are serialised): without the lock
    # around check and write, all six would find no duplicate and all six would be written.
    checked = threading.Barrier(6, timeout=1.0)
    real_check = submissions.duplicate_problems

    def check_then_wait(*args, **kwargs):
        found = real_check(*args, **kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):
            checked.wait()
        return found

    monkeypatch.setattr(submissions, "duplicate_problems", check_then_wait)

    def submit(_):
        start.wait()
        return submissions.submit(store, form, dict(answers), provider, cities=cities(catalog))

    with ThreadPoolExecutor(6) as pool:
        outcomes = list(pool.map(submit, range(6)))
    assert sum(o.ok for o in outcomes) == 1
    assert {p.code for o in outcomes if not o.ok for p in o.problems} == {"duplicate_report"}
    assert sum(r.values["voucher_no"] == answers["voucher_no"] for r in store.records("att1")) == 1


def _submit_in_another_process(data_dir, provider, answers, start, checked, results):
    """One app process of several on one data folder: its own store, then a submit at the signal.
    Between its duplicate check and its write it waits until every process has checked (or two
    seconds have passed, which is what happens when the checks are serialised): without a lock
    shared by the processes, all of them would find no duplicate and all would write."""
    import threading

    from lib.forms import load_catalog
    from lib.store.factory import open_store

    real_check = submissions.duplicate_problems

    def check_then_wait(*args, **kwargs):
        found = real_check(*args, **kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):
            checked.wait(2)
        return found

    submissions.duplicate_problems = check_then_wait  # this child process only
    catalog = load_catalog(Path(__file__).resolve().parents[2] / "forms")
    store = open_store("local", data_dir=data_dir, background=False)
    try:
        store.records("att1")
        start.wait(30)
        outcome = submissions.submit(store, catalog.form("att1"), answers, provider, cities=cities(catalog))
        results.put("ok" if outcome.ok else ",".join(p.code for p in outcome.problems))
    finally:
        store.close()


@pytest.mark.timeout(180)
def test_the_same_project_submitted_at_once_by_several_processes_is_filed_once(store, catalog, actors):
    """Two app processes may share one data folder: the check for an earlier report and the write
    hold a lock in that folder, so processes racing with the same project file it once."""
    import multiprocessing

    provider = actors["provider"]
    answers = _att1_answers(next(r for r in store.records("att1") if r.org == provider.org))
    data_dir = store.data_dir
    store.close()
    ctx = multiprocessing.get_context("fork")
    start, checked, results = ctx.Barrier(4), ctx.Barrier(4), ctx.Queue()
    workers = [ctx.Process(target=_submit_in_another_process, args=(data_dir, provider, answers, start, checked, results))
               for _ in range(4)]
    for w in workers:
        w.start()
    try:
        outcomes = sorted(results.get(timeout=120) for _ in workers)
    finally:
        for w in workers:
            w.join(30)
            if w.is_alive():
                w.kill()
    assert outcomes.count("ok") == 1
    assert all(set(o.split(",")) == {"duplicate_report"} for o in outcomes if o != "ok")
    from lib.store.factory import open_store

    with open_store("local", data_dir=data_dir, background=False) as again:
        assert sum(r.values["voucher_no"] == answers["voucher_no"] for r in again.records("att1")) == 1


def test_a_submit_checks_dates_on_the_campaign_clock_it_is_given(store, catalog, actors):
    """Every submit path reads ``today()`` as the caller's campaign clock, not only the fill page's pre-check."""
    provider, form = actors["provider"], catalog.form("att1")
    row = next(r for r in store.records("att1") if r.org == provider.org)
    answers = _att1_answers(row) | {"followup_date": "2020-09-16"}
    before = len(store.records("att1"))
    refused = submissions.submit(store, form, answers, provider, cities=cities(catalog), today=dt.date(2020, 9, 15))
    assert [p.field for p in refused.problems] == ["followup_date"] and len(store.records("att1")) == before
    assert submissions.submit(store, form, answers, provider, cities=cities(catalog), today=dt.date(2020, 9, 16)).ok
