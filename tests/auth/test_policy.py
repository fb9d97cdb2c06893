"""Scope below the pages: every forbidden read and write of each role, called on the library
directly, is refused with a typed error and a Chinese message, and the refusal is audited."""

from __future__ import annotations

import numpy as np
import pytest

from lib import audit, review, submissions
from lib.auth import Forbidden
from lib.auth import admin as admin_ops
from lib.auth.accounts import Account
from lib.auth.policy import (
    CREATE,
    EDIT,
    OUTCOMES,
    READ,
    REVIEW,
    SAMPLE,
    Assignments,
    can,
    comparable,
    page_keys,
    reads_unfiled,
    row_city,
)
from lib.auth.scope import editable_records, get_record, visible_records
from lib.campaign.board.scope import board_scope
from lib.core.statuses import FILED
from lib.rectification.records import ITEMS

from .conftest import ADMIN, FS, GZ, INSPECTOR, PROVINCE, VOUCHER_KEYS, denials

CITIES = ("广州", "深圳", "佛山")


def _row(store, catalog, form_id, pred):
    form = catalog.form(form_id)
    return next(r for r in store.records(form_id) if pred(form, r))


def _values(store, form_id, row):
    return dict(row.values)


def _assigned(store, actor, city):
    """``actor``'s group sent to ``city``, whose sample is the first 附件1 row placed there."""
    sampled = next(r for r in store.records("att1") if r.values["client_city"] == city).values["voucher_no"]
    return Assignments({actor.account: (city,)}, {city: frozenset({comparable(sampled)})}, VOUCHER_KEYS)


# Each case: (who, what) -> a call that must be refused. ``who`` names an actor; the call gets
# (store, catalog, actor, actors) and does one forbidden read or write through the library.
def _cases():
    def other_city_att1(s, c, a, x):
        row = _row(s, c, "att1", lambda f, r: row_city(f, r) != a.city)
        get_record(s, a, c.form("att1"), row.id)

    def other_city_att3(s, c, a, x):
        row = _row(s, c, "att3", lambda f, r: row_city(f, r) != a.city)
        get_record(s, a, c.form("att3"), row.id)

    def other_city_att2_review(s, c, a, x):
        row = _row(s, c, "att2", lambda f, r: row_city(f, r) != a.city and r.status == "已提交")
        review.approve(s, c.form("att2"), a, {row.id: row.rev})
        raise_if_changed(s, "att2", row)

    def other_city_att3_edit(s, c, a, x):
        row = _row(s, c, "att3", lambda f, r: row_city(f, r) != a.city)
        submissions.withdraw(s, c.form("att3"), row.id, a, base_rev=row.rev)

    def create_att3_for_other_city(s, c, a, x):
        row = _row(s, c, "att3", lambda f, r: row_city(f, r) != a.city)
        submissions.submit(s, c.form("att3"), row.values, a, cities=tuple(c.campaign.cities))

    def city_approves_att1(s, c, a, x):
        row = _row(s, c, "att1", lambda f, r: row_city(f, r) == a.city)
        review.approve(s, c.form("att1"), a, {row.id: row.rev})

    def city_fills_att1(s, c, a, x):
        submissions.submit(s, c.form("att1"), {}, a, cities=tuple(c.campaign.cities))

    def city_reads_audit(s, c, a, x):
        audit.entries(s, a)

    def city_manages_accounts(s, c, a, x):
        admin_ops.list_accounts(s, a, None)

    def other_org_att1_read(s, c, a, x):
        row = _row(s, c, "att1", lambda f, r: r.org == x["provider2"].org)
        get_record(s, a, c.form("att1"), row.id)

    def other_org_att1_resubmit(s, c, a, x):
        row = _row(s, c, "att1", lambda f, r: r.org == x["provider2"].org)
        submissions.submit(s, c.form("att1"), row.values, a, cities=tuple(c.campaign.cities), row_id=row.id, base_rev=row.rev)

    def other_org_att1_withdraw(s, c, a, x):
        row = _row(s, c, "att1", lambda f, r: r.org == x["provider2"].org)
        submissions.withdraw(s, c.form("att1"), row.id, a, base_rev=row.rev)

    def provider_reads_att3(s, c, a, x):
        visible_records(s, a, c.form("att3"))

    def provider_reads_att2_row(s, c, a, x):
        get_record(s, a, c.form("att2"), s.records("att2")[0].id)

    def provider_reviews_own(s, c, a, x):
        row = _row(s, c, "att1", lambda f, r: r.org == a.org)
        review.approve(s, c.form("att1"), a, {row.id: row.rev})

    def provider_fills_att2(s, c, a, x):
        submissions.save_draft(s, c.form("att2"), {}, a, cities=tuple(c.campaign.cities))

    def provider_audit_row(s, c, a, x):
        audit.row_history(s, a, "att1", s.records("att1")[0].id, audit.Labels())

    def other_lead_read(s, c, a, x):
        row = _row(s, c, "att2", lambda f, r: r.org == x["lead2"].org)
        get_record(s, a, c.form("att2"), row.id)

    def other_lead_edit(s, c, a, x):
        row = _row(s, c, "att2", lambda f, r: r.org == x["lead2"].org)
        submissions.save_draft(s, c.form("att2"), {}, a, cities=tuple(c.campaign.cities), row_id=row.id, base_rev=row.rev)

    def lead_reads_att1(s, c, a, x):
        visible_records(s, a, c.form("att1"))

    def lead_returns_own(s, c, a, x):
        row = _row(s, c, "att2", lambda f, r: r.org == a.org)
        review.return_for_changes(s, c.form("att2"), a, {row.id: row.rev}, "自己退回自己")

    def province_fills_att1(s, c, a, x):
        submissions.submit(s, c.form("att1"), {}, a, cities=tuple(c.campaign.cities))

    def province_edits_provider_row(s, c, a, x):
        row = s.records("att1")[0]
        submissions.withdraw(s, c.form("att1"), row.id, a, base_rev=row.rev)

    def province_reviews_att2(s, c, a, x):
        row = s.records("att2")[0]
        review.approve(s, c.form("att2"), a, {row.id: row.rev})
        raise_if_changed(s, "att2", row)

    def province_manages_accounts(s, c, a, x):
        admin_ops.create_account(s, a, None, Account("x1", "province"), "Abcdefg1", roles={}, cities=(), now=None)

    def inspector_approves(s, c, a, x):
        row = s.records("att1")[0]
        review.approve(s, c.form("att1"), a, {row.id: row.rev})

    def inspector_withdraws(s, c, a, x):
        row = s.records("att3")[0]
        submissions.withdraw(s, c.form("att3"), row.id, a, base_rev=row.rev)

    # An inspector reads its assignment only (issue 13): nothing without one, never outside it.
    def inspector_reads_without_assignment(s, c, a, x):
        visible_records(s, a, c.form("att3"))

    def inspector_board_without_assignment(s, c, a, x):
        board_scope(s, a, c.forms())

    def inspector_reads_outside_its_city(s, c, a, x):
        row = _row(s, c, "att3", lambda f, r: row_city(f, r) != "广州")
        get_record(s, a, c.form("att3"), row.id, assignments=_assigned(s, a, "广州"))

    def inspector_reads_an_unsampled_project(s, c, a, x):
        assigned = _assigned(s, a, "广州")
        row = _row(s, c, "att1", lambda f, r: row_city(f, r) == "广州" and comparable(r.values["voucher_no"]) not in assigned.sampled["广州"])
        get_record(s, a, c.form("att1"), row.id, assignments=assigned)

    def draws_the_sample(s, c, a, x):  # refused before anything is read: the frame needs not exist
        from lib.sampling.record import record_draw

        record_draw(s, c, "F-20200922000000-0000", "12345", a)

    def draws_the_inspectors(s, c, a, x):
        import datetime as dt

        from lib.sampling.assignments import draw_inspectors

        draw_inspectors(s, c, [], "12345", a, day=dt.date(2020, 9, 22))

    def admin_approves(s, c, a, x):
        row = s.records("att3")[0]
        review.approve(s, c.form("att3"), a, {row.id: row.rev})

    def admin_fills(s, c, a, x):
        submissions.submit(s, c.form("att3"), {}, a, cities=tuple(c.campaign.cities))

    def unknown_role_board(s, c, a, x):
        board_scope(s, a, c.forms())

    def imports_the_register(s, c, a, x):
        from lib.campaign.register.kinds import register_kinds
        from lib.campaign.register.store import import_register
        from lib.campaign.register.upload import parse_register
        from lib.demo.register import register_frames
        from lib.demo.seed import generate
        from lib.office.excel import read_workbook, to_xlsx

        vouchers_kind = register_kinds(c.campaign)["vouchers"]
        vouchers, _ = register_frames(generate(c, rows=40, seed=1), tuple(c.campaign.cities), 1)
        parsed = parse_register(vouchers_kind, read_workbook(to_xlsx({vouchers_kind.title: vouchers})))
        assert parsed.rows and not parsed.problems  # a valid upload: only the role is wrong
        import_register(s, parsed, a, file_name="台账.xlsx")

    # Corrections are authorised on the new values too: a filler cannot move its row out of its scope.
    def move_own_att3_row_to_another_city(s, c, a, x):
        row = _row(s, c, "att3", lambda f, r: row_city(f, r) == a.city and r.status in ("已提交", "退回修改"))
        moved = dict(row.values, city="佛山")
        submissions.submit(s, c.form("att3"), moved, a, cities=tuple(c.campaign.cities), row_id=row.id, base_rev=row.rev)

    def file_att3_row_with_a_foreign_city_draft(s, c, a, x):
        submissions.save_draft(s, c.form("att3"), {"city": "深圳"}, a, cities=tuple(c.campaign.cities))

    def rename_own_att1_row_to_another_provider(s, c, a, x):
        row = _row(s, c, "att1", lambda f, r: r.org == a.org)
        renamed = dict(row.values, provider_name=x["provider2"].org)
        submissions.submit(s, c.form("att1"), renamed, a, cities=tuple(c.campaign.cities), row_id=row.id, base_rev=row.rev)

    def file_att1_as_another_provider(s, c, a, x):
        row = _row(s, c, "att1", lambda f, r: r.org == x["provider2"].org)
        values = dict(row.values, provider_credit_code=x["provider2"].org_code, voucher_no="NEW-0001")
        submissions.submit(s, c.form("att1"), values, a, cities=tuple(c.campaign.cities))

    def rename_own_att2_report(s, c, a, x):
        row = _row(s, c, "att2", lambda f, r: r.org == a.org)
        submissions.save_draft(s, c.form("att2"), dict(row.values, lead_unit_name="别的单位"), a,
                               cities=tuple(c.campaign.cities), row_id=row.id, base_rev=row.rev)

    # Rectification items (issue 14): each organisation acts on its own, each city verifies its city's,
    # the province alone closes and records violations.
    def item(s, item_id):
        from lib.rectification.records import ITEMS

        return next(r for r in s.records(ITEMS.form_id) if r.values["item_id"] == item_id)

    def tick_item(s, c, a, item_id):
        from lib.rectification.lifecycle import tick

        r = item(s, item_id)
        tick(s, c, a, r.id, r.rev, c.campaign.rectification.category(r.values["category"]).steps[0].key, False)

    def other_providers_item_read(s, c, a, x):
        from lib.rectification.scope import get_item

        get_item(s, a, item(s, "ZG-FS").id)

    def other_providers_item_tick(s, c, a, x):
        tick_item(s, c, a, "ZG-FS")

    def other_lead_units_item_read(s, c, a, x):
        from lib.rectification.scope import get_item

        get_item(s, a, item(s, "ZG-LEAD").id)

    def other_lead_units_item_submit(s, c, a, x):
        from lib.rectification.lifecycle import submit

        r = item(s, "ZG-LEAD")
        submit(s, c, a, r.id, r.rev)

    def verify_item(s, c, a, x):
        from lib.rectification.lifecycle import verify

        r = item(s, "ZG-GZ")
        verify(s, c, a, r.id, r.rev, True)

    def return_item(s, c, a, x):
        from lib.rectification.lifecycle import verify

        r = item(s, "ZG-GZ")
        verify(s, c, a, r.id, r.rev, False, "材料不全")

    def close_item(s, c, a, x):
        from lib.rectification.lifecycle import close

        r = item(s, "ZG-GZ")
        close(s, c, a, r.id, r.rev)

    def record_violation_on_item(s, c, a, x):
        from lib.rectification.lifecycle import record_violation

        r = item(s, "ZG-GZ")
        record_violation(s, c, a, r.id, r.rev, "通报", "粤工信〔2020〕1号")

    def tick_own_citys_item(s, c, a, x):
        tick_item(s, c, a, "ZG-GZ")

    def list_items(s, c, a, x):
        from lib.rectification.scope import visible_items

        visible_items(s, a)

    # The city's archive (issue 15): a city bureau downloads and confirms its own city's only, the province
    # downloads every city's and confirms none.
    def other_citys_archive(s, c, a, x):
        from lib.campaign.archive import archive_zip

        archive_zip(s, c, a, "佛山")

    def a_citys_archive(s, c, a, x):
        from lib.campaign.archive import archive_zip

        archive_zip(s, c, a, "广州")

    def forward_a_citys_archive(s, c, a, x):
        from lib.campaign.archive import forward

        forward(s, c, a, "广州", today=c.campaign.deadlines[c.campaign.office.archive.deadline])

    return [
        ("gz", other_citys_archive), ("lead", a_citys_archive), ("provider", a_citys_archive), ("inspector", a_citys_archive),
        ("admin", a_citys_archive), ("fs", forward_a_citys_archive), ("province", forward_a_citys_archive),
        ("lead", forward_a_citys_archive),
        ("provider", other_providers_item_read), ("provider", other_providers_item_tick), ("provider", verify_item),
        ("provider", record_violation_on_item), ("lead", other_lead_units_item_read), ("lead", other_lead_units_item_submit),
        ("fs", verify_item), ("fs", return_item), ("gz", tick_own_citys_item), ("gz", close_item), ("gz", record_violation_on_item),
        ("province", tick_own_citys_item), ("province", verify_item), ("inspector", list_items), ("inspector", tick_own_citys_item),
        ("admin", tick_own_citys_item), ("admin", close_item), ("admin", record_violation_on_item),
        ("gz", other_city_att1), ("gz", other_city_att3), ("gz", other_city_att2_review), ("gz", other_city_att3_edit),
        ("gz", create_att3_for_other_city), ("gz", city_approves_att1), ("gz", city_fills_att1), ("gz", city_reads_audit),
        ("fs", city_manages_accounts),
        ("provider", other_org_att1_read), ("provider", other_org_att1_resubmit), ("provider", other_org_att1_withdraw),
        ("provider", provider_reads_att3), ("provider", provider_reads_att2_row), ("provider", provider_reviews_own),
        ("provider", provider_fills_att2), ("provider", provider_audit_row),
        ("lead", other_lead_read), ("lead", other_lead_edit), ("lead", lead_reads_att1), ("lead", lead_returns_own),
        ("province", province_fills_att1), ("province", province_edits_provider_row), ("province", province_reviews_att2),
        ("province", province_manages_accounts),
        ("inspector", inspector_approves), ("inspector", inspector_withdraws),
        ("inspector", inspector_reads_without_assignment), ("inspector", inspector_board_without_assignment),
        ("inspector", inspector_reads_outside_its_city), ("inspector", inspector_reads_an_unsampled_project),
        ("admin", admin_approves), ("admin", admin_fills),
        ("stranger", unknown_role_board),
        ("gz", imports_the_register), ("provider", imports_the_register), ("inspector", imports_the_register),
        ("admin", imports_the_register),
        ("gz", draws_the_sample), ("inspector", draws_the_sample), ("admin", draws_the_sample),
        ("provider", draws_the_inspectors), ("inspector", draws_the_inspectors), ("admin", draws_the_inspectors),
        ("gz", move_own_att3_row_to_another_city),
        ("provider", rename_own_att1_row_to_another_provider), ("provider", file_att1_as_another_provider),
        ("lead", rename_own_att2_report), ("gz", file_att3_row_with_a_foreign_city_draft),
    ]


def raise_if_changed(store, form_id, row):
    """Bulk review reports out-of-scope rows as skipped (each refusal audited): turn that into Forbidden."""
    if store.get(form_id, row.id).rev == row.rev:
        raise Forbidden("未处理")


def _actor(who, actors):
    from lib.core.records import Actor

    fixed = {"gz": GZ, "fs": FS, "province": PROVINCE, "inspector": INSPECTOR, "admin": ADMIN,
             "stranger": Actor("guest", "guest", "外单位")}
    return fixed.get(who) or actors[who]


CASES = _cases()


@pytest.mark.parametrize("who, attempt", CASES, ids=[f"{w}-{f.__name__}" for w, f in CASES])
def test_forbidden_read_or_write_is_refused_and_audited(store, catalog, actors, items, who, attempt):
    actor = _actor(who, actors)
    before = {f: {r.id: r.rev for r in store.records(f)} for f in ("att1", "att2", "att3", ITEMS.form_id)}
    with pytest.raises(Forbidden) as refused:
        attempt(store, catalog, actor, actors)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(refused.value)), "the message is Chinese"
    logged = [e for e in denials(store) if e.account == actor.account]
    assert logged, "the refusal is in the audit trail"
    assert logged[-1].note
    assert before == {f: {r.id: r.rev for r in store.records(f)} for f in ("att1", "att2", "att3", ITEMS.form_id)}, "nothing written"


def test_there_are_at_least_twenty_forbidden_cases_covering_every_role():
    assert len(CASES) >= 20
    assert {w for w, _ in CASES} >= {"gz", "provider", "lead", "province", "inspector", "admin"}


def test_city_sees_exactly_its_city_rows_of_every_form(store, catalog):
    """Of every form the demo files; a form without a city field (the complaints the province records)
    places no row in a city, so a city bureau reads none of it. Of a form it neither fills nor reviews
    (附件1) it reads the filed rows only: a provider's draft is not yet a report (attack M14's rule)."""
    complaint = catalog.form(catalog.bindings.of("complaints").form)
    assert complaint.city_field() is None and not can(GZ, READ, complaint)
    with pytest.raises(Forbidden):
        visible_records(store, GZ, complaint)
    for form in (f for f in catalog.forms() if store.records(f.id)):
        mine = visible_records(store, GZ, form)
        assert mine or form.id == "att2", form.id  # 5 demo 附件2 reports need not include 广州
        assert {row_city(form, r) for r in mine} <= {"广州"}
        everyone = [r for r in store.records(form.id) if row_city(form, r) == "广州"]
        assert {r.id for r in mine} == {r.id for r in everyone if r.status in FILED or reads_unfiled(GZ, form)}
        assert len(everyone) < len(store.records(form.id))
    att1 = catalog.form("att1")
    drafts = [r for r in store.records("att1") if row_city(att1, r) == "广州" and r.status not in FILED]
    assert drafts, "the demo has 附件1 drafts in 广州"
    with pytest.raises(Forbidden) as refused:
        get_record(store, GZ, att1, drafts[0].id)
    assert "尚未提交" in str(refused.value)


def test_att1_rows_are_placed_by_the_client_city_not_the_provider_city(store, catalog):
    form = catalog.form("att1")
    moved = next(r for r in store.records("att1") if r.city != r.values["client_city"] and r.status in FILED)
    city = next(a for a in (GZ, FS) if a.city == moved.values["client_city"]) if moved.values["client_city"] in ("广州", "佛山") else None
    if city is None:
        from lib.core.records import Actor

        city = Actor("city_x", "city", "", moved.values["client_city"])
    assert moved.id in {r.id for r in visible_records(store, city, form)}


def test_provider_and_lead_unit_see_only_their_organisation(store, catalog, actors):
    p, lead = actors["provider"], actors["lead"]
    rows = visible_records(store, p, catalog.form("att1"))
    assert rows and {r.org for r in rows} == {p.org}
    assert {r.id for r in editable_records(store, p, catalog.form("att1"))} == {r.id for r in rows}
    reports = visible_records(store, lead, catalog.form("att2"))
    assert reports and {r.org for r in reports} == {lead.org}


def test_province_sees_all_reviews_what_its_forms_say_and_files_the_complaints_only(store, catalog):
    for form in catalog.forms():
        assert len(visible_records(store, PROVINCE, form)) == len(store.records(form.id))
    assert [f.id for f in catalog.forms() if can(PROVINCE, REVIEW, f)] == ["att1", "att3", "forum", "inspection"]
    assert [f.id for f in catalog.forms() if can(GZ, REVIEW, f)] == ["att2"]
    assert [f.id for f in catalog.forms() if can(PROVINCE, CREATE, f) or can(PROVINCE, EDIT, f)] == ["complaint"]
    assert not any(can(INSPECTOR, READ, f) or can(INSPECTOR, EDIT, f) for f in catalog.forms())  # no assignment: nothing
    assigned = _assigned(store, INSPECTOR, "广州")
    assert all(can(INSPECTOR, READ, f, assignments=assigned) for f in catalog.forms())
    assert [f.id for f in catalog.forms() if can(INSPECTOR, EDIT, f, assignments=assigned)] == ["forum", "inspection"]


def test_navigation_differs_by_role(catalog, actors):
    forms = catalog.forms()
    assert page_keys(PROVINCE, forms) == ["home", "fill", "my_submissions", "review", "board", "register", "sampling", "rectification",
                                          "designer", "audit"]
    assert page_keys(GZ, forms) == ["home", "fill", "my_submissions", "review", "board", "rectification"]
    assert page_keys(actors["provider"], forms) == ["home", "fill", "my_submissions", "board", "rectification"]
    assert page_keys(actors["lead"], forms) == ["home", "fill", "my_submissions", "board", "rectification"]
    # the admin reads the items for audit (the registers, the draw and closing them are the province's)
    assert page_keys(ADMIN, forms) == ["home", "board", "rectification", "designer", "audit", "admin"]
    # an inspector fills the inspection records: the fill page tells it when it has no task yet
    assert page_keys(INSPECTOR, forms) == ["home", "fill", "my_submissions", "board"]
    assert page_keys(INSPECTOR, [f for f in forms if f.filled_by != "inspector"]) == ["home", "board"]
    everyone = (PROVINCE, GZ, actors["provider"], actors["lead"], ADMIN, INSPECTOR)
    assert [a for a in everyone if can(a, SAMPLE)] == [PROVINCE]  # the draw is the province's alone
    assert [a for a in everyone if can(a, OUTCOMES)] == [PROVINCE]  # so are the outcome lists it publishes


def test_board_scope_matches_the_read_scope(store, catalog, actors):
    forms = catalog.forms()
    assert board_scope(store, GZ, forms).city == "广州"
    assert board_scope(store, actors["provider"], forms).org
    assert board_scope(store, PROVINCE, forms).kind == "all"


# --- comparing answers ----------------------------------------------------------------------------


@pytest.mark.parametrize("other", ["新上云项目\u200b", "\ufeff新上云项目", "新上\u00ad云项目", "新上云项目\u200e", "新上云\u202e项目",
                                   "新上云项目\U000e0041", " 新上云　项目 ", "新上云\u2060项目"])
def test_comparable_ignores_blanks_and_every_invisible_or_direction_character(other):
    assert comparable(other) == comparable("新上云项目")


@pytest.mark.parametrize("value", [np.float64(1.5), np.int64(3), np.bool_(True), np.nan, np.str_("广州"), 10**5000],
                         ids=["float64", "int64", "bool_", "nan", "str_", "huge int"])
def test_comparable_of_any_answer_type_gives_text(value):
    assert isinstance(comparable(value), str) and comparable(value)


def test_a_city_typed_with_a_huge_number_is_refused_not_a_crash(catalog):
    assert not can(GZ, CREATE, catalog.form("att3"), {"city": 10**5000})
