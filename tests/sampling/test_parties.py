"""回避 by name or code, lead units included (attack K4, K5), the declared conflicts that name nobody,
and the inspector draw's inputs recorded so that it can be verified (issue 13, outcomes 3 and 4)."""

from __future__ import annotations

import datetime as dt

import pytest

from lib.auth.accounts import Account
from lib.core import roles
from lib.core.statuses import SUBMITTED
from lib.forms.columns import sheet_spec
from lib.sampling.__main__ import main
from lib.sampling.assignments import ASSIGNMENTS, CONFLICTS, MEMBERS, PARTIES, POOL, draw_inspectors, recorded_parties
from lib.sampling.inspectors import CONFLICT, Inspector, party_key, refusal
from lib.sampling.parties import Known, places, sampled_parties, unmatched_conflicts
from lib.sampling.record import DRAW_ROWS, freeze, record_draw
from lib.sampling.verify import verify_inspectors, verify_record
from lib.store.local.external import EXTERNAL_ACTOR

from .conftest import ENTRIES, PROVINCE, ROOT, SHIPPED, credit_code, import_vouchers
from .test_assignments import DAY, inspectors

CITIES = tuple(SHIPPED.campaign.cities)


@pytest.mark.parametrize("declared, sampled", [
    ("广州云智科技有限公司", "广州云智科技有限责任公司"),
    ("广州云智科技有限公司", "广州市云智科技有限公司"),
    ("云智科技", "广州云智科技有限公司"),
    ("广东省广州市云智科技股份有限公司", "云智科技（广州）有限公司"),
    ("ＹＵＮＺＨＩ Co.,Ltd.", "yunzhi"),
    # attack M11: a parent and its branch, and (集团), folded alike
    ("广州云智科技有限公司", "云智科技有限公司佛山分公司"),
    ("中国移动通信集团广东有限公司", "中国移动通信集团广东有限公司广州分公司"),
    ("云智科技（集团）有限公司", "云智科技有限公司"),
])
def test_a_conflict_is_found_whatever_legal_form_or_city_the_name_is_written_with(declared, sampled):
    """Attack K5: the declared name and the sampled party differ only by a legal form or a city."""
    i = Inspector("a", city="佛山", conflicts=(declared,), health_declared_on=dt.date(2020, 9, 20))
    assert refusal(i, "广州", [sampled], DAY, CITIES) == CONFLICT
    assert refusal(i, "广州", ["另一家科技有限公司"], DAY, CITIES) is None


def test_the_fold_keeps_a_name_that_is_only_a_legal_form_or_a_city():
    assert party_key("有限公司", CITIES) == "有限公司" and party_key("广州市", CITIES) == "广州市"
    assert party_key("广州云智", CITIES) != party_key("广州云海", CITIES)


def _benchmark(store, lead_unit: str, code: str, city: str) -> None:
    binding = SHIPPED.bindings.of("benchmarks")
    store.ensure_sheet(sheet_spec(SHIPPED.form(binding.form)))
    store.append(binding.form, {binding.key("lead_unit"): lead_unit, binding.key("lead_unit_code"): code,
                                binding.key("city"): city}, actor=PROVINCE, status=SUBMITTED)


@pytest.fixture
def drawn(stocked):
    info, _ = freeze(stocked, SHIPPED, PROVINCE)
    done = record_draw(stocked, SHIPPED, info.frame_id, "20200922", PROVINCE)
    return stocked, done


def _foshan(done) -> tuple[str, str]:
    """The voucher sampled in 佛山 and its firm's credit code (conftest: the n-th entry has credit_code(n))."""
    [voucher] = done.sample.drawn.loc[done.sample.drawn["city"] == "佛山", "voucher"]
    return voucher, credit_code(next(n for n, (v, *_) in enumerate(ENTRIES) if v == voucher))


def test_a_conflict_declared_by_credit_code_or_with_the_firm_as_lead_unit_keeps_the_inspector_out(drawn):
    """Attack K4: the sample carries the firm's code (from the register, by voucher), and a benchmark
    lead unit that is the firm (same code, another spelling) is a party too."""
    store, done = drawn
    voucher, code = _foshan(done)
    _benchmark(store, "佛山标杆集团", code, "佛山")
    parties = sampled_parties([r.values for r in store.records(DRAW_ROWS.form_id)], Known.of(store, SHIPPED), places(SHIPPED))
    assert {code, "佛山标杆集团"} <= set(parties["佛山"]) and code not in parties["广州"]
    people = inspectors()
    people[4] = Account("ins04", roles.INSPECTOR, city="汕头", health_declared_on="2020-09-20", conflict_lead_units=("佛山标杆集团",))
    people[5] = Account("ins05", roles.INSPECTOR, city="汕头", health_declared_on="2020-09-20", conflict_firms=(code.lower(),))
    for seed in range(6):
        got = draw_inspectors(store, SHIPPED, people, str(seed), PROVINCE, day=DAY, reason="再抽")
        assert "佛山" not in (got.assignment.city_of("ins04"), got.assignment.city_of("ins05"))
    assert {got.assignment.city_of("ins04"), got.assignment.city_of("ins05")} - {None} <= {"广州"}


def test_a_declared_conflict_that_names_no_organisation_is_shown_before_the_draw(drawn):
    store, done = drawn
    voucher, code = _foshan(done)
    firm = f"企业{voucher}"
    people = [Account("ins01", roles.INSPECTOR, name="张三", conflict_firms=(f"广州{firm}有限责任公司", "企业V-00000九")),
              Account("ins02", roles.INSPECTOR, conflict_providers=("服务商1",), conflict_lead_units=(code,)),
              Account("ins03", roles.INSPECTOR, disabled=True, conflict_firms=("无此单位",))]
    found = unmatched_conflicts(people, Known.of(store, SHIPPED), places(SHIPPED))
    assert [(u.account, u.name, u.kind, u.declared) for u in found] == [("ins01", "张三", "回避的企业", "企业V-00000九")]


def test_the_inputs_are_recorded_and_verify_redraws_the_groups_from_them(drawn):
    store, _ = drawn
    got = draw_inspectors(store, SHIPPED, inspectors(), "7", PROVINCE, day=DAY)
    pool_rows = [r.values for r in store.records(POOL.form_id)]
    assert sorted(r["account"] for r in pool_rows) == sorted(a.account for a in inspectors())
    assert {r.values["city"] for r in store.records(PARTIES.form_id)} == {g.city for g in got.assignment.groups}
    report = verify_inspectors(store, got.assignment_id)
    assert report.ok and "一致" in report.lines()[0]
    assert verify_record(store, got.assignment_id).ok
    # the accounts changing later does not change what is verified: the draw's own inputs are
    moved = [Account(a.account, a.role, city="韶关", health_declared_on=a.health_declared_on) for a in inspectors()]
    draw_inspectors(store, SHIPPED, moved, "8", PROVINCE, day=DAY, reason="再抽")
    assert verify_inspectors(store, got.assignment_id).ok


def test_an_inspector_seed_equal_to_an_earlier_generated_one_is_recorded_as_generated(drawn):
    from lib.sampling import record

    store, done = drawn
    [draw] = store.records(record.DRAWS.form_id)
    seeds = [record.generate_seed(store, PROVINCE, draw, "试") for _ in range(2)]
    got = draw_inspectors(store, SHIPPED, inspectors(), str(seeds[0]), PROVINCE, day=DAY)
    [rec] = store.records(ASSIGNMENTS.form_id)
    assert got.generated_seed and (rec.values["seed_source"], rec.values["seeds_generated"]) == ("系统生成", 2)
    assert "共生成过 2 次随机数，抽样时记录为 2 次" in verify_inspectors(store, got.assignment_id).lines()[0]


def test_a_city_whose_parties_outgrow_a_cell_is_recorded_and_verified(store):
    """Attack M12: the parties were one list cell per city (32,767 characters): about a thousand sampled
    projects in one city and no inspector draw could be recorded at all. Now one row per party."""
    import_vouchers(store, [(f"V-{i:06d}", "广州" if i % 10 else "佛山", f"服务商{i % 50}", 10.0) for i in range(7000)])
    info, _ = freeze(store, SHIPPED, PROVINCE)
    record_draw(store, SHIPPED, info.frame_id, "1", PROVINCE)
    got = draw_inspectors(store, SHIPPED, inspectors(), "7", PROVINCE, day=DAY)
    rows = [r.values for r in store.records(PARTIES.form_id) if r.values["assignment_id"] == got.assignment_id]
    guangzhou = [v["party"] for v in rows if v["city"] == "广州"]
    assert sum(len(p) for p in guangzhou) > 32767 and all(len(p) < 100 for p in guangzhou)
    assert recorded_parties(rows) == _parties_of(store)
    assert verify_inspectors(store, got.assignment_id).ok


def test_an_inspector_whose_declared_conflicts_outgrow_a_cell_does_not_stop_the_draw(drawn):
    """Attack M12 (the pool's cell): 2 × 200 declared names of 100 characters, which the accounts accept,
    were one 40,000-character cell, and every inspector draw was refused."""
    store, _ = drawn
    many = Account("ins90", roles.INSPECTOR, name="李四", city="韶关", health_declared_on="2020-09-20",
                   conflict_firms=tuple(f"{n:03d}" + "甲" * 97 for n in range(200)),
                   conflict_providers=tuple(f"{n:03d}" + "乙" * 97 for n in range(200)))
    got = draw_inspectors(store, SHIPPED, [*inspectors(), many], "7", PROVINCE, day=DAY)
    rows = [r.values for r in store.records(CONFLICTS.form_id) if r.values["assignment_id"] == got.assignment_id]
    assert len(rows) == 400 and {r["account"] for r in rows} == {"ins90"} and sum(len(r["conflict"]) for r in rows) > 32767
    assert verify_inspectors(store, got.assignment_id).ok


def _parties_of(store) -> dict[str, list[str]]:
    return sampled_parties([r.values for r in store.records(DRAW_ROWS.form_id)], Known.of(store, SHIPPED), places(SHIPPED))


def _member(store, assignment_id):
    return next(r for r in store.records(MEMBERS.form_id) if r.values["assignment_id"] == assignment_id)


def test_verify_names_a_group_row_or_an_input_changed_after_the_draw(drawn):
    store, _ = drawn
    got = draw_inspectors(store, SHIPPED, inspectors(), "7", PROVINCE, day=DAY)
    row = _member(store, got.assignment_id)
    home = next(a.city for a in inspectors() if a.account == row.values["account"])
    store.update(MEMBERS.form_id, row.id, base_rev=row.rev, actor=EXTERNAL_ACTOR, values={"city": home})
    codes = {d.code for d in verify_inspectors(store, got.assignment_id).differences}
    assert {"inspector_group_changed", "group"} <= codes
    pool_row = next(r for r in store.records(POOL.form_id) if r.values["assignment_id"] == got.assignment_id)
    store.update(POOL.form_id, pool_row.id, base_rev=pool_row.rev, actor=EXTERNAL_ACTOR, values={"city": "深圳"})
    codes = {d.code for d in verify_inspectors(store, got.assignment_id).differences}
    assert {"inspector_input_changed", "inputs_digest"} <= codes


def test_verify_names_a_recorded_seed_that_gives_other_groups(drawn):
    store, _ = drawn
    got = draw_inspectors(store, SHIPPED, inspectors(), "7", PROVINCE, day=DAY)
    record = next(r for r in store.records(ASSIGNMENTS.form_id) if r.values["assignment_id"] == got.assignment_id)
    store.update(ASSIGNMENTS.form_id, record.id, base_rev=record.rev, actor=EXTERNAL_ACTOR, values={"seed": "8"})
    found = verify_inspectors(store, got.assignment_id)
    assert {"inspector_draw_changed", "group"} <= {d.code for d in found.differences} and "不一致" in found.lines()[0]


def test_the_shell_verifies_an_inspector_draw_by_its_id(drawn, tmp_path, capsys):
    store, _ = drawn
    got = draw_inspectors(store, SHIPPED, inspectors(), "7", PROVINCE, day=DAY)
    store.close()
    args = ["--data-dir", str(tmp_path / "data"), "--forms-dir", str(ROOT / "forms")]
    assert main(["verify", got.assignment_id, *args]) == 0
    assert f"检查员抽取 {got.assignment_id}：一致" in capsys.readouterr().out
    assert main(["verify", "I-19990101000000-0000", *args]) == 2
    assert "检查员抽取记录" in capsys.readouterr().err
