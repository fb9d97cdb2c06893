"""AppTest of pages/rectification.py (全面整改, issue 14 outcomes 2–4 on a page): the province generates the
items (again: none twice), the provider ticks its steps, uploads its evidence and submits (a submit with
evidence missing is refused, shown, nothing written), the city returns it with a reason (none: refused)
and then verifies it, the province closes it; a stale revision refused and shown; the lists per viewer;
an inspector has neither the page nor its navigation entry."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import streamlit as st
from PIL import Image
from streamlit.testing.v1 import AppTest

from lib.auth.policy import page_keys
from lib.core.blobs import Blobs
from lib.core.records import Actor
from lib.rectification import lifecycle as lc
from lib.rectification import lists as rl
from lib.rectification.records import CLOSED, IN_PROGRESS, ITEMS, PENDING, SUBMITTED, VERIFIED
from lib.todo import ITEM_QUERY
from lib.ui import state
from tests.rectification.conftest import CITY_GZ, INSPECTOR, PROVIDER, PROVINCE, SHIPPED, file_row, rectification_day

from .conftest import ROOT, sign_in

PAGE = str(ROOT / "pages" / "rectification.py")
CITY_FS = Actor("city_fs", "city", "佛山市工业和信息化局", "佛山")


def with_accounts(*actors: Actor) -> None:
    """Their accounts exist before anything is generated: generation finds an item's acting organisation
    among the accounts."""
    for actor in actors:
        sign_in(AppTest.from_file(PAGE), actor)


@pytest.fixture
def finding(app_env, reopen, monkeypatch):
    """A provider's 附件1 project declared stopped in 广州 (one finding of the shipped rules), on the
    campaign clock's first day of the rectification phase."""
    monkeypatch.setenv("APP_CAMPAIGN_TODAY", rectification_day().isoformat())
    store = reopen()
    with_accounts(PROVIDER, CITY_GZ)
    file_row(store, "projects", {"voucher": "V-000001", "city": "广州", "provider": PROVIDER.org, "firm": "广州甲制造有限公司",
                                 "usage": "stopped"})
    return store


def start(actor: Actor) -> AppTest:
    at = sign_in(AppTest.from_file(PAGE, default_timeout=60), actor).run()
    assert not at.exception
    return at


def click(at: AppTest, key: str) -> AppTest:
    at = at.button(key=key).click().run()
    assert not at.exception
    return at


def the_item(store):
    store.refresh()
    [item] = store.records(ITEMS.form_id)
    return item


def step_key(item, step: str, part: str) -> str:
    return state.rectify_step_key(f"{item.id}:{item.rev}", step, part)


def errors_shown(at: AppTest) -> str:
    return "\n".join(str(e.value) for e in at.error)


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 90, 200)).save(out, format="PNG")
    return out.getvalue()


def save_step(at: AppTest, item, step: str, *, text: str | None = None, upload: bool = False) -> AppTest:
    at.checkbox(key=step_key(item, step, "done")).check()
    if text is not None:
        at.text_area(key=step_key(item, step, "text")).input(text)
    if upload:
        [uploader] = [u for u in at.file_uploader if u.key == step_key(item, step, "files")]
        uploader.upload(f"{step}.png", png(), "image/png")
    return click(at, state.rectify_action_key(item.id, f"tick:{step}"))


def test_the_item_goes_from_generation_to_closure_through_the_page(finding, reopen):
    store = finding
    # the province generates: one item; again: none twice
    at = click(start(PROVINCE), state.RECTIFY_GENERATE)
    assert "新生成整改事项 1 条" in "\n".join(str(s.value) for s in at.success)
    at = click(at, state.RECTIFY_GENERATE)
    assert "新生成整改事项 0 条，已生成过的 1 条未重复生成" in "\n".join(str(s.value) for s in at.success)
    item = the_item(store)
    assert item.status == PENDING and item.values["party"] == PROVIDER.org

    # the provider: the text step, then the two file steps ticked without their files
    at = start(PROVIDER)
    at = save_step(at, item, "resume_note", text="已恢复使用，月活 120 人")
    item = the_item(store)
    assert item.status == IN_PROGRESS
    for step in ("usage_screenshot", "firm_letter"):
        at = save_step(at, item, step)
        item = the_item(store)
    # every step ticked: 提交整改材料 is offered, and refused for the missing files; nothing written
    at = click(at, state.rectify_action_key(item.id, "submit"))
    assert "缺少材料的步骤：近一个月活跃数据截图、企业确认函" in errors_shown(at)
    assert the_item(store).rev == item.rev
    for step in ("usage_screenshot", "firm_letter"):
        at = save_step(at, item, step, upload=True)
        item = the_item(store)
    assert [e["step"] for e in item.values["evidence"]] == ["usage_screenshot", "firm_letter"]
    downloads = [b.proto.label for b in at.get("download_button") if "rectify:item:" in (b.proto.id or "")]
    assert len(downloads) == 2 and all(label.startswith("下载 ") and ".png" in label for label in downloads)
    at = click(at, state.rectify_action_key(item.id, "submit"))
    assert the_item(store).status == SUBMITTED

    # the city: 退回 without a reason is refused; with one, back to 整改中 and the provider reads why
    at = click(start(CITY_GZ), state.rectify_action_key(item.id, "return"))
    assert "须填写退回原因" in errors_shown(at)
    at.text_area(key=state.RECTIFY_REASON).input("截图不清晰，请重新上传")
    at = click(at, state.rectify_action_key(item.id, "return"))
    item = the_item(store)
    assert item.status == IN_PROGRESS and item.values["reason"] == "截图不清晰，请重新上传"
    at = start(PROVIDER)
    assert any("截图不清晰，请重新上传" in str(w.value) for w in at.warning)
    at = click(at, state.rectify_action_key(item.id, "submit"))
    # the city verifies, the province closes
    at = click(start(CITY_GZ), state.rectify_action_key(item.id, "accept"))
    assert the_item(store).status == VERIFIED
    at = click(start(PROVINCE), state.rectify_action_key(item.id, "close"))
    item = the_item(store)
    assert item.status == CLOSED
    # every transition is in the item's history, which its provider sees
    history = next(d.value for d in start(PROVIDER).dataframe if "操作" in d.value.columns)
    assert history["账号"].tolist()[:2] == [PROVINCE.account, PROVIDER.account]
    assert {CITY_GZ.account, PROVINCE.account, PROVIDER.account} == set(history["账号"])


def test_the_lists_show_the_viewers_own_items_and_only_its_buttons(finding):
    at = click(start(PROVINCE), state.RECTIFY_GENERATE)
    item = the_item(finding)
    problems = next(d.value for d in at.dataframe if rl.FINDING in d.value.columns)
    assert problems[rl.ITEM_ID].tolist() == [item.values["item_id"]]
    # one list at a time: the task list holds the item's three steps
    at = at.radio(key=state.RECTIFY_LIST).set_value("tasks").run()
    tasks = next(d.value for d in at.dataframe if rl.STEP in d.value.columns)
    assert tasks[rl.STEP].tolist() == ["恢复使用情况说明", "近一个月活跃数据截图", "企业确认函"]
    # its own filter narrows it to a step
    at = at.selectbox(key=state.drill_filter_key(state.rectify_table_key("tasks"), rl.STEP)).set_value("企业确认函").run()
    assert next(d.value for d in at.dataframe if rl.STEP in d.value.columns)[rl.STEP].tolist() == ["企业确认函"]
    # the province has no step to tick and nothing to close yet: no buttons of the item
    assert not [b for b in at.button if b.key and b.key.startswith(state.rectify_action_key(item.id, ""))]
    # another city sees no item
    other = start(CITY_FS)
    assert any("没有符合筛选条件的整改事项" in str(i.value) for i in other.info)
    # the provider's list of what waits for it names the item
    mine = start(PROVIDER)
    mine = mine.radio(key=state.RECTIFY_LIST).set_value("waiting").run()
    waiting = next(d.value for d in mine.dataframe if rl.ACTIONS in d.value.columns)
    assert waiting[rl.ACTIONS].tolist() == ["办理整改"]
    assert not [b for b in mine.button if b.key == state.RECTIFY_GENERATE]  # generation is the province's


def test_a_stale_revision_is_refused_and_shown(finding, reopen):
    at = click(start(PROVINCE), state.RECTIFY_GENERATE)
    item = the_item(finding)
    at = start(PROVIDER)
    # meanwhile the item changes elsewhere (another session of the provider)
    from lib.rectification.lifecycle import tick

    tick(finding, SHIPPED, PROVIDER, item.id, item.rev, "resume_note", True, text="另一处填写")
    at = save_step(at, item, "resume_note", text="本页填写")
    assert "已被 provider_a" in errors_shown(at)
    assert the_item(finding).values["steps"][0]["text"] == "另一处填写"


def test_an_inspector_has_neither_the_page_nor_its_entry(finding):
    assert "rectification" not in page_keys(INSPECTOR, SHIPPED.forms())
    assert "rectification" in page_keys(PROVINCE, SHIPPED.forms())
    at = start(INSPECTOR)
    assert any("没有可查看的整改事项" in str(w.value) for w in at.warning)
    assert not at.dataframe


def test_a_link_from_the_todo_list_opens_its_item_whatever_the_narrowing(finding):
    file_row(finding, "projects", {"voucher": "V-000002", "city": "广州", "provider": PROVIDER.org, "firm": "广州乙制造有限公司",
                                   "usage": "idle"})
    click(start(PROVINCE), state.RECTIFY_GENERATE)
    finding.refresh()
    [second] = [r for r in finding.records(ITEMS.form_id) if r.values["voucher"] == "V-000002"]
    at = sign_in(AppTest.from_file(PAGE, default_timeout=60), PROVIDER)
    at.session_state[state.RECTIFY_STATUS] = IN_PROGRESS  # narrowed to a status the item is not in
    at.query_params[ITEM_QUERY] = second.id
    at = at.run()
    assert not at.exception
    assert at.selectbox(key=state.RECTIFY_PICK).value == second.id
    assert at.selectbox(key=state.RECTIFY_STATUS).value == "全部"


def submit_form(at: AppTest, label: str) -> AppTest:
    at = next(b for b in at.button if b.label == label).click().run()
    assert not at.exception
    return at


def test_the_province_adds_an_item_by_hand_a_refused_value_named_and_nothing_written(finding):
    at = start(PROVINCE)
    key = state.rectify_add_key
    at.selectbox(key=key("party_kind")).set_value("provider")
    at.text_area(key=key("finding")).input("台账中无该项目的回访记录")
    at = submit_form(at, "新增整改事项")
    assert "「责任主体」为必填项" in errors_shown(at)
    finding.refresh()
    assert finding.records(ITEMS.form_id) == []
    at.text_input(key=key("party")).input(PROVIDER.org)
    at = submit_form(at, "新增整改事项")
    item = the_item(finding)
    assert item.values["rule"] == "manual" and item.values["party"] == PROVIDER.org and item.status == PENDING
    assert f"已新增整改事项 {item.values['item_id']}" in "\n".join(str(s.value) for s in at.success)


def test_the_province_records_a_violation_on_an_item(finding):
    at = click(start(PROVINCE), state.RECTIFY_GENERATE)
    key = state.rectify_violation_key
    at.selectbox(key=key("kind")).set_value("追回资金")
    at.text_input(key=key("reference")).input("粤工信互联网函〔2020〕900号")
    at = submit_form(at, "记录违规处理")
    assert "须填写追回金额" in errors_shown(at)
    assert not the_item(finding).values.get("violations")  # nothing recorded
    at.text_input(key=key("amount")).input("12.5")
    at = submit_form(at, "记录违规处理")
    shown = next(d.value for d in at.dataframe if "处理决定文号" in d.value.columns)
    assert shown.values.tolist() == [["追回资金", "12.50", "粤工信互联网函〔2020〕900号"]]
    # the provider sees it on its item, and records none
    mine = start(PROVIDER)
    assert next(d.value for d in mine.dataframe if "处理决定文号" in d.value.columns).shape == (1, 3)
    assert not [b for b in mine.button if b.label == "记录违规处理"]


def test_evidence_of_a_refused_kind_is_named_and_nothing_is_written(finding, app_env):
    click(start(PROVINCE), state.RECTIFY_GENERATE)
    item = the_item(finding)
    at = start(PROVIDER)
    at.checkbox(key=step_key(item, "firm_letter", "done")).check()
    [uploader] = [u for u in at.file_uploader if u.key == step_key(item, "firm_letter", "files")]
    uploader.upload("确认函.png", b"MZ\x90\x00 not a picture", "image/png")
    at = click(at, state.rectify_action_key(item.id, "tick:firm_letter"))
    assert "确认函.png" in errors_shown(at)
    assert the_item(finding).rev == item.rev
    assert not [p for p in (app_env / "files").rglob("*") if p.is_file()]  # no file of it stored


def test_past_its_due_date_an_item_is_shown_overdue_on_the_campaign_clock(finding, monkeypatch):
    click(start(PROVINCE), state.RECTIFY_GENERATE)
    item = the_item(finding)
    due = item.values["due"]
    monkeypatch.setenv("APP_CAMPAIGN_TODAY", (due + dt.timedelta(days=1)).isoformat())
    st.cache_resource.clear()  # the settings are read once per process
    at = start(PROVIDER)
    assert at.selectbox(key=state.RECTIFY_PICK).format_func(item.id).endswith(" · 逾期")
    at = at.radio(key=state.RECTIFY_LIST).set_value("overdue").run()
    assert next(d.value for d in at.dataframe if rl.LATE in d.value.columns)[rl.ITEM_ID].tolist() == [item.values["item_id"]]
    monkeypatch.setenv("APP_CAMPAIGN_TODAY", due.isoformat())  # the due day itself is in time
    st.cache_resource.clear()
    assert not start(PROVIDER).selectbox(key=state.RECTIFY_PICK).format_func(item.id).endswith("逾期")


@pytest.fixture
def failed_check(app_env, reopen, monkeypatch):
    """A 广州 bureau's 附件3 check concluded failed for the provider's project: an item of a category with a
    city's step (地市复核意见, by: city)."""
    monkeypatch.setenv("APP_CAMPAIGN_TODAY", rectification_day().isoformat())
    store = reopen()
    with_accounts(PROVIDER, CITY_GZ)
    file_row(store, "checks", {"voucher": "V-000003", "city": "广州", "firm": "广州丙制造有限公司", "provider": PROVIDER.org,
                               "method": "on_site", "conclusion": "fail"})
    return store


def test_the_citys_step_is_written_by_the_city_as_it_verifies_never_by_the_provider(failed_check):
    click(start(PROVINCE), state.RECTIFY_GENERATE)
    item = the_item(failed_check)
    category = SHIPPED.campaign.rectification.category(item.values["category"])
    [city_step] = [s for s in category.steps if s.by == "city"]
    party_steps = [s for s in category.steps if s.by == "party"]
    at = start(PROVIDER)
    assert at.checkbox(key=step_key(item, city_step.key, "done")).disabled  # shown, not the provider's to tick
    assert not [b for b in at.button if b.key == state.rectify_action_key(item.id, f"tick:{city_step.key}")]
    for step in party_steps:
        at = save_step(at, item, step.key, text="已整改" if step.evidence == "text" else None, upload=step.evidence == "file")
        item = the_item(failed_check)
    at = click(at, state.rectify_action_key(item.id, "submit"))  # offered: the party's steps are all done
    item = the_item(failed_check)
    assert item.status == SUBMITTED

    city = start(CITY_GZ)
    assert all(city.checkbox(key=step_key(item, s.key, "done")).disabled for s in party_steps)
    city = click(city, state.rectify_action_key(item.id, "accept"))
    assert city_step.name in errors_shown(city) and the_item(failed_check).status == SUBMITTED
    city = save_step(city, item, city_step.key, text="经复核，整改到位。")
    item = the_item(failed_check)
    assert {s["step"]: s for s in item.values["steps"]}[city_step.key] == {"step": city_step.key, "done": True, "text": "经复核，整改到位。"}
    click(city, state.rectify_action_key(item.id, "accept"))
    assert the_item(failed_check).status == VERIFIED


def test_the_provider_deletes_a_wrong_file_and_a_verified_item_shows_no_return_reason(finding, app_env):
    click(start(PROVINCE), state.RECTIFY_GENERATE)
    item = the_item(finding)
    at = save_step(start(PROVIDER), item, "firm_letter", upload=True)
    item = the_item(finding)
    [wrong] = item.values["evidence"]
    at = click(at, state.rectify_action_key(item.id, f"remove:firm_letter:{wrong['sha256'][:16]}"))
    item = the_item(finding)
    assert item.values["evidence"] == [] and "删除文件" in finding.audit(ITEMS.form_id, item.id)[-1].note
    assert not [b for b in at.get("download_button") if "rectify:item:" in (b.proto.id or "")]
    # drive it through a return to 地市已核实: the reason is read while it is back with the provider, not after
    blobs = Blobs(app_env / "files")  # the page's file store
    for step, text, files in (("resume_note", "已恢复", []), ("usage_screenshot", None, [("a.png", png())]), ("firm_letter", None, [("b.png", png())])):
        item = lc.tick(finding, SHIPPED, PROVIDER, item.id, item.rev, step, True, text=text, files=files, blobs=blobs)
    item = lc.submit(finding, SHIPPED, PROVIDER, item.id, item.rev)
    item = lc.verify(finding, SHIPPED, CITY_GZ, item.id, item.rev, False, "请补充盖章版")
    assert any("请补充盖章版" in str(w.value) for w in start(PROVIDER).warning)
    item = lc.submit(finding, SHIPPED, PROVIDER, item.id, item.rev)
    lc.verify(finding, SHIPPED, CITY_GZ, item.id, item.rev, True)
    assert not any("请补充盖章版" in str(w.value) for w in start(PROVIDER).warning)
    assert not any("请补充盖章版" in str(w.value) for w in start(CITY_GZ).warning)


def test_a_link_to_another_organisations_item_is_refused_said_and_audited(finding):
    from lib.auth.policy import DENIED

    click(start(PROVINCE), state.RECTIFY_GENERATE)
    item = the_item(finding)
    other = Actor("provider_b", "provider", "佛山数联信息技术有限公司", "佛山")
    at = sign_in(AppTest.from_file(PAGE, default_timeout=60), other)
    at.query_params[ITEM_QUERY] = item.id
    at = at.run()
    assert not at.exception
    assert item.values["item_id"] in errors_shown(at) and "无权" in errors_shown(at)
    assert not [t for t in at.text if item.values["finding"] in str(t.value)]  # nothing of it shown
    finding.refresh()
    denied = [e for e in finding.audit() if e.action == DENIED and e.account == other.account]
    assert [e.row_id for e in denied] == [item.id]
    at = at.run()  # the refusal is made once: the link is spent
    finding.refresh()
    assert len([e for e in finding.audit() if e.action == DENIED and e.account == other.account]) == 1
