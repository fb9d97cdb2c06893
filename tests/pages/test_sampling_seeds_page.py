"""The sampling page (AppTest): every generated seed audited and counted beside the draw (attack K14),
the declared conflicts that name nobody shown before the inspector draw (K5), and 核验 of an inspector
draw."""

from __future__ import annotations

import pytest

from lib.auth.accounts import Account, AccountsFile
from lib.sampling import assignments as asg
from lib.sampling import record as rec
from lib.sampling.verify import verify_inspectors
from lib.store.local.external import EXTERNAL_ACTOR
from lib.ui import sampling as sampling_ui
from lib.ui import state
from tests.sampling.conftest import ENTRIES, file_check, import_vouchers

from .test_sampling_page import click, draw, draw_inspectors, freeze, start, texts, with_inspectors


@pytest.fixture
def registered(app_env, reopen):
    """The register ENTRIES in force and a complaint recorded against V-000002 (as test_sampling_page's ``stocked``)."""
    store = reopen()
    import_vouchers(store, ENTRIES)
    file_check(store, "V-000002", complaint=True)
    return store


def test_every_generated_seed_is_audited_against_the_frame_and_counted_beside_the_draw(registered, reopen):
    at = freeze(start())
    for _ in range(3):
        at = click(at, state.SAMPLING_SEED_GENERATE)
    shown = at.text_input(key=state.SAMPLING_SEED).value
    store = reopen()
    [frame] = store.records(rec.FRAMES.form_id)
    events = [e for e in store.audit(rec.FRAMES.form_id, frame.id) if e.action == rec.SEED_GENERATED]
    assert len(events) == 3 and events[-1].note.endswith(shown) and {e.account for e in events} == {"province"}
    assert rec.seeds_generated(store, frame) == 3 and "本抽样框已生成 3 次随机数" in texts(at.caption)
    assert not store.records(rec.DRAWS.form_id)  # nothing drawn by generating


def test_seeds_generated_for_the_inspector_draw_are_counted_against_the_project_draw(registered, reopen, app_env, monkeypatch):
    with_inspectors(app_env, monkeypatch)
    at = draw(freeze(start()), "20200922")
    at = click(click(at, sampling_ui.INSPECTORS_SEED_GENERATE), sampling_ui.INSPECTORS_SEED_GENERATE)
    [done] = reopen().records(rec.DRAWS.form_id)
    assert rec.seeds_generated(reopen(), done) == 2
    assert f"为项目抽样 {done.values['draw_id']} 抽取检查员已生成 2 次随机数" in texts(at.caption)


def test_a_declared_conflict_naming_no_organisation_is_listed_before_the_inspector_draw(registered, reopen, app_env, monkeypatch):
    with_inspectors(app_env, monkeypatch)
    AccountsFile(app_env / "accounts.json").add_many([
        Account("ins90", "inspector", name="李四", city="韶关", health_declared_on="2020-09-20",
                conflict_firms=("企业V-000001有限责任公司", "企业V-00000一"))])
    at = draw(freeze(start()), "20200922")
    [table] = [d.value for d in at.dataframe if "申报的名称" in d.value.columns]
    assert table.values.tolist() == [["ins90", "李四", "回避的企业", "企业V-00000一"]]
    assert "对不上" in texts(at.warning)


def test_an_inspector_draw_is_verified_on_the_page(registered, reopen, app_env, monkeypatch):
    with_inspectors(app_env, monkeypatch)
    at = draw_inspectors(draw(freeze(start()), "20200922"), "7")
    current = asg.current_assignment(reopen())
    at = click(at, sampling_ui.INSPECTORS_VERIFY)
    assert texts(at.success).endswith(verify_inspectors(reopen(), current.assignment_id).lines()[0])
    store = reopen()
    row = next(r for r in store.records(asg.MEMBERS.form_id) if r.values["assignment_id"] == current.assignment_id)
    store.update(asg.MEMBERS.form_id, row.id, base_rev=row.rev, actor=EXTERNAL_ACTOR, values={"account": "ins99"})
    at = click(start(), sampling_ui.INSPECTORS_VERIFY)
    assert "不一致" in texts(at.error) and "ins99" in texts(at.error)
