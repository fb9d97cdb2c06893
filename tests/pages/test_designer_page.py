"""AppTest of pages/designer.py (表单设计): the YAML with its problems, the preview drawn with the fill page's widgets
apart from a filler's answers, the palette, drafts, publishing with the impact confirmed (a stale edit and a text
changed after the check refused), the history and 恢复此版本, and who may open it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lib.auth.policy import page_keys
from lib.core.records import Actor
from lib.forms import load_catalog, parse_form, versions
from lib.ui import state

from .conftest import sign_in, unescaped

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "designer.py")
FILL = str(ROOT / "pages" / "fill.py")
PROVINCE = Actor("province", "province", "广东省工业和信息化厅", "")
OTHER = Actor("province_2", "province", "广东省工业和信息化厅", "")
ADMIN = Actor("admin", "admin", "系统管理员", "")
GZ = Actor("city_gz", "city", "广州市工业和信息化局", "广州")
PROVIDER = Actor("provider_001", "provider", "广州云智信息科技有限公司", "广州")
NEW_FIELD = {"key": "contact_wechat", "label": "联系人微信", "help": "选填"}


@pytest.fixture
def forms(tmp_path, monkeypatch):
    """A copy of the shipped forms the app serves (a test may change its campaign.yaml)."""
    folder = tmp_path / "forms"
    shutil.copytree(ROOT / "forms", folder)
    monkeypatch.setenv("APP_FORMS_DIR", str(folder))
    return folder


@pytest.fixture
def seeded(app_env, forms, reopen):
    """The store holding version 1 of every file of the folder, as the first start publishes them."""
    store = reopen()
    for path in sorted(forms.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        form_id = "" if path.name == "campaign.yaml" else parse_form(text, path.name).id
        versions.publish_version(store, versions.DEVELOPER, path.name, text, form_id=form_id, based_on=0, origin="seed")
    return store


def _page(actor, path=PAGE) -> AppTest:
    at = AppTest.from_file(path, default_timeout=90)
    sign_in(at, actor)
    at.run()
    assert not at.exception, at.exception
    return at


def _open(actor, file: str = "att1.yaml") -> AppTest:
    at = _page(actor)
    at.selectbox(key=state.DESIGNER_FILE).set_value(file).run()
    assert not at.exception, at.exception
    return at


def _v(element) -> str:
    """What a person reads of a message or Markdown element (the page escapes what it quotes)."""
    return unescaped(element.value)


def _text(at: AppTest) -> str:
    return at.text_area(key=state.DESIGNER_TEXT).value


def _button(at: AppTest, key: str):
    return at.button(key=key)


def _messages(at: AppTest) -> str:
    return "\n".join(_v(m) for kind in (at.error, at.warning, at.success, at.info) for m in kind)


def _preview_labels(at: AppTest) -> list[str]:
    return [w.label for w in at.text_input if str(w.key or "").startswith(state.DESIGNER_PREVIEW)]


def _add_field(at: AppTest, section: str = "provider", **field) -> None:
    field = {**NEW_FIELD, **field}
    at.selectbox(key=state.designer_palette_key("section")).set_value(section)
    at.selectbox(key=state.designer_palette_key("type")).set_value(field.get("type", "text"))
    at.text_input(key=state.designer_palette_key("label")).set_value(field["label"])
    at.text_input(key=state.designer_palette_key("key")).set_value(field.get("key", ""))
    at.text_input(key=state.designer_palette_key("help")).set_value(field["help"])
    if field.get("choices"):
        at.text_area(key=state.designer_palette_key("choices")).set_value("\n".join(field["choices"]))
    next(b for b in at.button if b.label == "加入字段").click().run()
    assert not at.exception, at.exception


def _publish(at: AppTest, note: str = "加入联系人微信") -> None:
    _button(at, state.DESIGNER_PUBLISH).click().run()
    assert not at.exception, at.exception
    at.text_input(key=state.DESIGNER_NOTE).set_value(note)
    _button(at, state.DESIGNER_CONFIRM).click().run()
    assert not at.exception, at.exception


def test_the_editor_holds_the_served_text_and_the_preview_draws_the_form_apart_from_the_fill_page(seeded, forms):
    at = _open(PROVINCE)
    assert _text(at) == (forms / "att1.yaml").read_text(encoding="utf-8")
    assert any("没有发现问题" in _v(s) for s in at.success)
    assert "服务商名称 *" in _preview_labels(at)
    preview_key = state.spaced(state.DESIGNER_PREVIEW, state.field_key("att1", "provider_name"))
    assert preview_key in at.session_state and state.field_key("att1", "provider_name") not in at.session_state
    assert next(w for w in at.text_input if w.key == preview_key).disabled  # the account answers it, as on the fill page


def test_typing_into_the_preview_leaves_the_answers_a_filler_has_on_the_fill_page_alone(seeded):
    at = AppTest.from_file(PAGE, default_timeout=90)
    sign_in(at, PROVINCE)
    filled = state.field_key("att1", "project_name")
    at.session_state[filled] = "填报页上的项目"  # what this tab's fill page holds
    at.run()
    tried = state.spaced(state.DESIGNER_PREVIEW, filled)
    next(w for w in at.text_input if w.key == tried).set_value("预览里试填").run()
    assert not at.exception
    assert at.session_state[filled] == "填报页上的项目" and at.session_state[tried] == "预览里试填"


def test_a_broken_text_lists_its_problem_with_line_and_field_and_the_preview_keeps_the_last_good_form(seeded):
    at = _open(PROVINCE)
    good = _text(at)
    at.text_area(key=state.DESIGNER_TEXT).set_value(good.replace("type: credit_code", "type: credit_kode", 1)).run()
    assert not at.exception
    problems = "\n".join(_v(e) for e in at.error)
    assert "credit_kode" in problems and "第" in problems and "provider_credit_code" in problems
    assert "服务商名称 *" in _preview_labels(at)
    assert any("最后一次没有问题" in _v(w) for w in at.warning)
    _button(at, state.DESIGNER_PUBLISH).click().run()  # refused with the problems, nothing to confirm
    assert not at.exception and any("未发布" in _v(e) and "credit_kode" in _v(e) for e in at.error)
    assert state.DESIGNER_CONFIRM not in [b.key for b in at.button]
    at.text_area(key=state.DESIGNER_TEXT).set_value("id: [\n").run()  # no YAML at all
    assert not at.exception and any("YAML" in _v(e) for e in at.error)


def test_a_problem_quoting_the_yaml_shows_its_words_as_written(seeded):
    at = _open(PROVINCE)
    at.text_area(key=state.DESIGNER_TEXT).set_value(_text(at).replace("type: credit_code", "type: '![x](http://a.b/c)'", 1)).run()
    problems = "\n".join(e.value for e in at.error)
    assert "![x](http://a.b/c)" not in problems and r"\!\[x\]" in problems  # escaped: no image is fetched


def test_a_2_mb_paste_is_refused_naming_the_limit_and_nothing_is_published(seeded, reopen):
    at = _open(PROVINCE)
    at.text_area(key=state.DESIGNER_TEXT).set_value(_text(at) + "#" * 2_000_000).run()
    assert not at.exception
    assert any(str(versions.MAX_TEXT_CHARS) in _v(e) for e in at.error), [_v(e) for e in at.error] + [len(_text(at))]
    _button(at, state.DESIGNER_PUBLISH).click().run()
    assert not at.exception
    assert state.DESIGNER_CONFIRM not in [b.key for b in at.button]
    _button(at, state.DESIGNER_SAVE).click().run()  # not even as a draft
    assert not at.exception and any(str(versions.MAX_TEXT_CHARS) in _v(e) for e in at.error)
    assert [versions.number(r) for r in versions.versions(reopen(), "att1.yaml")] == [1]


def test_the_palette_adds_a_field_the_preview_shows_and_a_publish_serves_it_to_a_filler(seeded, reopen):
    filler = AppTest.from_file(FILL, default_timeout=90)  # a provider's session, open before the publish
    sign_in(filler, PROVIDER)
    filler.query_params["form"] = "att1"
    filler.run()
    assert not filler.exception and "联系人微信" not in [w.label for w in filler.text_input]
    at = _open(PROVINCE)
    _add_field(at)
    assert "key: contact_wechat" in _text(at) and "联系人微信" in _preview_labels(at)
    _publish(at)
    assert any("第 2 版" in _v(s) for s in at.success), _messages(at)
    served = versions.latest(reopen(), "att1.yaml")
    assert versions.number(served) == 2 and "contact_wechat" in served.values["text"]
    assert served.values["note"] == "加入联系人微信" and served.owner == PROVINCE.account and served.values["origin"] == "designer"
    assert at.text_area(key=state.DESIGNER_TEXT).value == served.values["text"]  # the editor now starts from version 2

    filler.run()  # its next run
    assert not filler.exception
    assert "联系人微信" in [w.label for w in filler.text_input]


def test_a_publish_against_an_older_version_names_who_published_since_and_publishes_nothing(seeded, reopen):
    at = _open(PROVINCE)
    _add_field(at)
    other = _open(OTHER)
    _add_field(other, key="contact_qq", label="联系人QQ")
    _publish(other)
    assert versions.number(versions.latest(reopen(), "att1.yaml")) == 2
    at.run()  # told on its next run, before 发布
    assert any(f"{OTHER.account} 于" in _v(w) and "第 2 版" in _v(w) for w in at.warning), _messages(at)
    _publish(at)
    told = "\n".join(_v(e) for e in at.error)
    assert OTHER.account in told and "第 2 版" in told
    served = versions.latest(reopen(), "att1.yaml")
    assert versions.number(served) == 2 and "contact_wechat" not in served.values["text"]


def test_a_text_changed_after_the_impact_was_shown_is_checked_again(seeded, reopen):
    at = _open(PROVINCE)
    _add_field(at)
    _button(at, state.DESIGNER_PUBLISH).click().run()
    at.text_area(key=state.DESIGNER_TEXT).set_value(_text(at).replace("联系人微信", "联系人微信号")).run()
    _button(at, state.DESIGNER_CONFIRM).click().run()
    assert not at.exception
    assert any("又修改过" in _v(w) for w in at.warning)
    assert versions.number(versions.latest(reopen(), "att1.yaml")) == 1


def test_a_required_field_added_to_a_form_with_rows_is_shown_before_publishing(seeded, reopen, catalog):
    from lib.demo.seed import generate
    from lib.forms.columns import sheet_spec

    store = reopen()
    form = catalog.form("att1")
    store.ensure_sheet(sheet_spec(form))
    rows = generate(catalog, rows=40, seed=3)["att1"][:3]
    for r in rows:
        store.append(form.id, r.values, actor=r.actor, status="已提交")
    at = _open(PROVINCE)
    at.checkbox(key=state.designer_palette_key("required")).check()
    _add_field(at)
    _button(at, state.DESIGNER_PUBLISH).click().run()
    assert not at.exception
    shown = "\n".join(_v(m) for m in at.markdown)
    assert "联系人微信" in shown and "3" in shown
    assert versions.number(versions.latest(reopen(), "att1.yaml")) == 1  # nothing yet: it waits for 确认发布


def test_a_saved_draft_comes_back_in_another_session_and_the_served_version_is_unchanged(seeded, reopen):
    at = _open(PROVINCE)
    _add_field(at)
    _button(at, state.DESIGNER_SAVE).click().run()
    assert not at.exception and any("草稿已保存" in _v(s) for s in at.success), _messages(at)
    assert versions.number(versions.latest(reopen(), "att1.yaml")) == 1
    again = _open(PROVINCE)
    assert "contact_wechat" in _text(again)
    _button(again, state.DESIGNER_DISCARD).click().run()
    assert "contact_wechat" not in _text(again)


def test_the_history_shows_a_diff_and_restores_an_earlier_version(seeded, reopen):
    at = _open(PROVINCE)
    _add_field(at)
    _publish(at)
    at.selectbox(key=state.DESIGNER_HISTORY_A).set_value(1)
    at.selectbox(key=state.DESIGNER_HISTORY_B).set_value(2).run()
    assert any("+      - key: contact_wechat" in c.value for c in at.code)
    at.text_input(key=state.DESIGNER_ROLLBACK_NOTE).set_value("撤回微信字段")
    _button(at, state.DESIGNER_ROLLBACK).click().run()  # version 1 lacks the field: it is retired, which asks first
    assert not at.exception and any("确认恢复" in _v(w) for w in at.warning), _messages(at)
    assert any("联系人微信" in _v(m) for m in at.markdown)
    assert versions.number(versions.latest(reopen(), "att1.yaml")) == 2
    _button(at, state.DESIGNER_ROLLBACK_CONFIRM).click().run()
    assert not at.exception and any("恢复为第 3 版" in _v(s) for s in at.success), _messages(at)
    served = versions.latest(reopen(), "att1.yaml")
    assert versions.number(served) == 3 and "contact_wechat" not in served.values["text"]
    assert served.values["origin"] == "rollback" and served.values["note"] == "撤回微信字段"


def test_a_restore_confirmed_after_another_version_came_in_is_refused_and_publishes_nothing(seeded, reopen):
    at = _open(PROVINCE)
    _add_field(at)
    _publish(at)
    at.selectbox(key=state.DESIGNER_HISTORY_A).set_value(1).run()
    _button(at, state.DESIGNER_ROLLBACK).click().run()  # the impact shown: version 2's field retired
    assert any("确认恢复" in _v(w) for w in at.warning), _messages(at)
    other = _open(OTHER)
    _add_field(other, key="contact_qq", label="联系人QQ")
    _publish(other)  # version 3, whose field the impact shown did not list
    _button(at, state.DESIGNER_ROLLBACK_CONFIRM).click().run()
    told = "\n".join(_v(e) for e in at.error)
    assert OTHER.account in told and "第 3 版" in told, _messages(at)
    served = versions.latest(reopen(), "att1.yaml")
    assert versions.number(served) == 3 and "contact_qq" in served.values["text"]


def test_the_previews_file_field_takes_no_upload_so_nothing_is_stored_on_the_server(seeded):
    at = _open(PROVINCE, "inspection.yaml")
    [uploader] = at.get("file_uploader")
    assert uploader.proto.disabled
    assert any("不能上传" in _v(c) for c in at.caption), _messages(at)


def test_a_stray_file_is_withdrawn_after_the_box_is_ticked_and_the_page_opens_another(seeded, reopen):
    text = (ROOT / "forms" / "forum.yaml").read_text(encoding="utf-8").replace("id: forum\n", "id: trial\n", 1)
    versions.publish_version(seeded, versions.DEVELOPER, "试验.yaml", text, form_id="trial", based_on=0, origin="file")
    at = _open(PROVINCE, "试验.yaml")
    assert _button(at, state.DESIGNER_WITHDRAW).disabled
    at.checkbox(key=state.DESIGNER_WITHDRAW_SURE).check().run()
    _button(at, state.DESIGNER_WITHDRAW).click().run()
    assert not at.exception and any("已停用 试验.yaml" in _v(s) for s in at.success), _messages(at)
    assert versions.latest(reopen(), "试验.yaml") is None and at.selectbox(key=state.DESIGNER_FILE).value != "试验.yaml"
    at = _open(PROVINCE, "att1.yaml")
    at.checkbox(key=state.DESIGNER_WITHDRAW_SURE).check().run()
    _button(at, state.DESIGNER_WITHDRAW).click().run()  # bound by the campaign: refused, nothing written
    assert any("不能停用" in _v(e) for e in at.error), _messages(at)
    assert versions.latest(reopen(), "att1.yaml") is not None


def test_the_campaign_file_is_edited_without_a_preview(seeded):
    at = _open(ADMIN, "campaign.yaml")
    assert any("没有表单预览" in _v(i) for i in at.info)
    assert not _preview_labels(at)
    _button(at, state.DESIGNER_CHECK).click().run()
    assert not at.exception and any("检查通过" in _v(s) for s in at.success), _messages(at)
    at.text_area(key=state.DESIGNER_TEXT).set_value(_text(at).replace("deadlines:", "deadlinez:", 1)).run()
    assert not at.exception and any("campaign.yaml" in _v(e) for e in at.error)


def test_only_the_province_and_the_admin_see_the_page_unless_the_campaign_lets_cities_draft(seeded, forms, catalog):
    assert "designer" in page_keys(PROVINCE, catalog.forms()) and "designer" in page_keys(ADMIN, catalog.forms())
    assert "designer" not in page_keys(GZ, catalog.forms()) and "designer" not in page_keys(PROVIDER, catalog.forms())
    assert "designer" in page_keys(GZ, catalog.forms(), city_drafts=True)
    assert "designer" not in page_keys(PROVIDER, catalog.forms(), city_drafts=True)
    for actor in (GZ, PROVIDER):  # opened by address: nothing to design
        at = _page(actor)
        assert any("没有可以设计的表单" in _v(i) for i in at.info)
        assert not at.text_area


def test_a_city_that_may_draft_edits_its_own_form_only_and_cannot_publish(seeded, forms, reopen):
    campaign = forms / "campaign.yaml"
    campaign.write_text(campaign.read_text(encoding="utf-8") + "\ndesigner:\n  city_drafts: true\n", encoding="utf-8")
    store = reopen()
    versions.publish_version(store, PROVINCE, "campaign.yaml", campaign.read_text(encoding="utf-8"), form_id="",
                             based_on=1, origin="designer")
    at = _page(GZ)
    assert at.selectbox(key=state.DESIGNER_FILE).options == ["att3.yaml（" + load_catalog(forms).form("att3").title + "）"]
    assert _button(at, state.DESIGNER_PUBLISH).disabled and not _button(at, state.DESIGNER_SAVE).disabled
    assert not [b for b in at.button if str(b.key).startswith(state.DESIGNER_ROLLBACK)]
    _add_field(at, section="bureau", key="")  # a key left blank is made up
    assert "- key: field\n" in _text(at)
    _button(at, state.DESIGNER_SAVE).click().run()
    assert not at.exception and any("草稿已保存" in _v(s) for s in at.success), _messages(at)
    (draft,) = [r for r in versions.versions(reopen(), "att3.yaml") if r.owner == GZ.account]
    assert draft.status == "草稿" and "key: field" in draft.values["text"]


def test_the_edits_of_a_file_left_for_another_come_back_and_never_reach_another_account(seeded):
    at = _open(PROVINCE)
    _add_field(at)
    at.selectbox(key=state.DESIGNER_FILE).set_value("att2.yaml").run()
    assert "contact_wechat" not in _text(at) and "id: att2" in _text(at)
    at.selectbox(key=state.DESIGNER_FILE).set_value("att1.yaml").run()
    assert "key: contact_wechat" in _text(at)
    sign_in(at, ADMIN)  # the session ended; the admin signs in on the same tab
    at.run()
    assert not at.exception and "contact_wechat" not in _text(at)


def test_a_change_that_breaks_a_campaign_binding_is_listed_and_never_published(seeded, reopen):
    at = _open(PROVINCE)
    at.text_area(key=state.DESIGNER_TEXT).set_value(_text(at).replace("choices: [正常使用, 使用率较低, 闲置, 停用]",
                                                                      "choices: [正常使用, 使用率较低, 空置, 停用]")).run()
    problems = "\n".join(_v(e) for e in at.error)
    assert "bindings.projects" in problems and "闲置" in problems, problems
    _button(at, state.DESIGNER_PUBLISH).click().run()
    assert state.DESIGNER_CONFIRM not in [b.key for b in at.button]
    assert versions.number(versions.latest(reopen(), "att1.yaml")) == 1


def test_the_palette_names_every_field_type_but_a_table_in_chinese():
    from lib.forms.types import REGISTRY
    from lib.ui.designer import TYPE_NAMES

    assert set(TYPE_NAMES) == set(REGISTRY) - {"table"}
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in name) for name in TYPE_NAMES.values())
