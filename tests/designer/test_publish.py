"""Publishing (issue 16, outcomes 3–6): checked, confirmed against the stored rows, a new version every server
serves; stale edits, invalid drafts, pastes too long and roles that may not are refused with nothing written."""

from __future__ import annotations

import threading

import pytest

from lib.auth.errors import Forbidden
from lib.core.statuses import DRAFT, SUBMITTED
from lib.designer import add_field_yaml, check_draft, diff, history, impact, publish, rollback, save_draft
from lib.designer.errors import DesignError
from lib.forms import load_catalog, versions
from lib.forms.store_source import StoreSource
from lib.forms.versions import MAX_TEXT_CHARS, VersionError
from lib.store.base import ConflictError, Unavailable

from .conftest import ADMIN, CITY, PROVIDER, PROVINCE, served_text

FILE = "att1.yaml"


def rows(store, n: int, **values):
    return [store.append("att1", {"client_district": "天河区", "business_area": "其他", "remarks": f"备注{i}",
                                  "problems_and_measures": f"措施{i}", **values}, actor=PROVIDER, status=SUBMITTED)
            for i in range(n)]


def version_rows(store):
    return versions.versions(store)


def test_a_published_field_reaches_a_filler_in_another_session_on_its_next_run(store, catalog, forms, tmp_path):
    other = load_catalog(StoreSource(store, forms, tmp_path / "server2"))  # another session's (or server's) catalog
    text = add_field_yaml(served_text(store, FILE), "contact", {"key": "wechat", "label": "微信号", "type": "text"})
    row = publish(store, catalog, PROVINCE, FILE, text, 1, "加微信号")
    assert versions.number(row) == 2 and row.values["origin"] == "designer" and row.values["note"] == "加微信号"
    assert "wechat" not in [f.key for f in other.form("att1").all_fields()]  # until its next run
    other.refresh()
    assert other.form("att1").field("wechat").label == "微信号"
    assert other.form("att1").version == 2  # rows filed from now on say the new definition
    assert "version: 2" in row.values["text"] and row.values["sha256"] == versions.sha256(row.values["text"])
    assert [e.action for e in store.audit(versions.VERSIONS.form_id) if e.row_id == row.id][-1] == "发布表单"


def test_an_invalid_draft_is_never_published(store, catalog):
    before = len(version_rows(store))
    bad = served_text(store, FILE).replace("type: money", "type: dollars", 1)
    assert [p.code for p in check_draft(catalog, FILE, bad).problems] == ["unknown_type"]
    with pytest.raises(DesignError) as err:
        publish(store, catalog, PROVINCE, FILE, bad, 1, confirmed=True)
    assert err.value.code == "design_invalid" and err.value.problems[0].code == "unknown_type"
    assert "第" in err.value.problems[0].where and "行" in err.value.problems[0].where  # by line
    for text in ("id: [unclosed\n", "a: &x 1\nb: *x\n", ""):
        with pytest.raises(DesignError) as err:
            publish(store, catalog, PROVINCE, FILE, text, 1, confirmed=True)
        assert err.value.code == "design_invalid"
    assert len(version_rows(store)) == before


def test_a_binding_the_change_would_break_is_refused(store, catalog):
    text = served_text(store, FILE).replace("choices: [正常使用, 使用率较低, 闲置, 停用]", "choices: [正常使用, 使用率较低, 停用]")
    found = check_draft(catalog, FILE, text).problems
    assert [p.code for p in found] == ["binding_choice_word"]
    text = served_text(store, FILE).replace("id: att1", "id: att9")  # the bound form would be gone
    assert "binding_unknown_form" in [p.code for p in check_draft(catalog, FILE, text).problems]
    with pytest.raises(DesignError) as err:
        publish(store, catalog, PROVINCE, FILE, text, 1, confirmed=True)
    assert err.value.code == "design_invalid"


def test_a_form_taking_another_files_id_is_refused(store, catalog):
    text = served_text(store, "complaint.yaml").replace("id: complaint", "id: forum")
    assert [p.code for p in check_draft(catalog, "complaint.yaml", text).problems] == ["duplicate_form_id"]


def test_a_campaign_that_drops_a_deadline_a_form_uses_is_refused(store, catalog):
    text = served_text(store, "campaign.yaml")
    deadline = catalog.form("complaint").deadline or catalog.form("att1").deadline
    lines = [line for line in text.splitlines(keepends=True) if not line.lstrip().startswith(f"{deadline}:")]
    codes = [p.code for p in check_draft(catalog, "campaign.yaml", "".join(lines)).problems]
    assert "unknown_deadline" in codes or "binding_no_deadline" in codes
    assert check_draft(catalog, "campaign.yaml", text).ok


def test_an_edit_made_against_an_older_version_says_who_published_what(store, catalog):
    base = served_text(store, FILE)
    publish(store, catalog, ADMIN, FILE, base.replace("title: ", "title: 新", 1), 1)
    with pytest.raises(DesignError) as err:
        publish(store, catalog, PROVINCE, FILE, base + "# 我的修改\n", 1, confirmed=True)
    assert err.value.code == "design_stale" and versions.number(err.value.current) == 2
    assert "admin 于" in str(err.value) and "第 2 版" in str(err.value)
    assert [versions.number(r) for r in history(store, FILE)] == [1, 2]


def test_two_publishes_racing_from_one_version_publish_once(store, catalog):
    base = served_text(store, FILE)
    outcomes: list[object] = []
    start = threading.Barrier(2)

    def one(n: int) -> None:
        start.wait()
        try:
            outcomes.append(publish(store, catalog, PROVINCE, FILE, base + f"# 修改{n}\n", 1))
        except DesignError as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(o if isinstance(o, str) else "published" for o in outcomes) == ["design_stale", "published"]
    assert [versions.number(r) for r in history(store, FILE)] == [1, 2]


def test_a_two_megabyte_paste_is_refused_before_it_is_parsed(store, catalog):
    paste = "# " + "很长" * 1_000_000
    assert [p.code for p in check_draft(catalog, FILE, paste).problems] == ["version_text_too_long"]
    for call in (lambda: publish(store, catalog, PROVINCE, FILE, paste, 1, confirmed=True),
                 lambda: save_draft(store, catalog, PROVINCE, FILE, paste, 1)):
        with pytest.raises(VersionError) as err:
            call()
        assert err.value.code == "version_text_too_long"
    assert len(version_rows(store)) == 7
    assert len(served_text(store, FILE)) < MAX_TEXT_CHARS


@pytest.mark.parametrize("note", ["说明\u202e反向", "a\x00b", "长" * 501])
def test_a_note_that_cannot_be_kept_is_refused(store, catalog, note):
    with pytest.raises(DesignError) as err:
        publish(store, catalog, PROVINCE, FILE, served_text(store, FILE) + "# 改\n", 1, note)
    assert err.value.code == "design_note"
    assert len(version_rows(store)) == 7


@pytest.mark.parametrize("user", [PROVIDER, CITY])
def test_only_the_province_and_the_admin_publish_and_a_refusal_is_audited(store, catalog, user):
    with pytest.raises(Forbidden):
        publish(store, catalog, user, FILE, served_text(store, FILE) + "# 改\n", 1, confirmed=True)
    with pytest.raises(Forbidden):
        rollback(store, catalog, user, FILE, 1)
    assert len(version_rows(store)) == 7
    assert [e.action for e in store.audit() if e.account == user.account] == ["拒绝访问", "拒绝访问"]


def test_a_required_field_added_to_a_form_with_rows_is_flagged_before_publishing(store, catalog):
    rows(store, 3)
    text = add_field_yaml(served_text(store, FILE), "contact", {"key": "wechat", "label": "微信号", "type": "text", "required": True})
    found = impact(store, catalog, FILE, text)
    assert found.needs_confirmation and [(c.kind, c.key, c.rows) for c in found.changes] == [("required_added", "wechat", 3)]
    assert "3 条记录" in found.lines()[0] and "微信号" in found.lines()[0]
    with pytest.raises(DesignError) as err:
        publish(store, catalog, PROVINCE, FILE, text, 1, "加必填项")
    assert err.value.code == "design_unconfirmed" and err.value.impact.changes == found.changes
    assert len(history(store, FILE)) == 1
    assert versions.number(publish(store, catalog, PROVINCE, FILE, text, 1, "加必填项", confirmed=True)) == 2


def test_renaming_keeps_every_value_readable_and_the_column_follows(store, catalog):
    stored = rows(store, 4)
    text = served_text(store, FILE).replace("      - key: remarks\n", "      - key: notes\n        replaces: remarks\n")
    found = impact(store, catalog, FILE, text)
    assert [(c.kind, c.key, c.detail, c.rows) for c in found.changes] == [("renamed", "notes", "remarks", 4)]
    assert found.renames == (("remarks", "notes"),)
    publish(store, catalog, PROVINCE, FILE, text, 1, confirmed=True)
    assert [store.get("att1", r.id).values.get("notes") for r in stored] == [f"备注{i}" for i in range(4)]
    assert all("remarks" not in store.get("att1", r.id).values for r in stored)
    catalog.refresh()
    assert catalog.form("att1").field("notes").replaces == "remarks"
    assert store.renamed_keys("att1") == {"remarks": "notes"}
    dropped = served_text(store, FILE).replace("        replaces: remarks\n", "")  # the rename in force needs it no more
    again = add_field_yaml(dropped, "contact", {"key": "remarks", "label": "新备注", "type": "text"})
    with pytest.raises(DesignError) as err:  # the old key again would land under the new one
        impact(store, catalog, FILE, again)
    assert err.value.code == "design_key_renamed"


def test_a_rename_onto_a_key_that_holds_values_is_refused_with_nothing_written(store, catalog):
    rows(store, 2)
    store.append("att1", {"reason": "已有原因"}, actor=PROVIDER, status=SUBMITTED)
    text = served_text(store, FILE)
    start = text.index("      - key: reason\n")
    end = text.index("      - key: ", start + 1)
    text = (text[:start] + text[end:]).replace("      - key: remarks\n", "      - key: reason\n        replaces: remarks\n")
    with pytest.raises(DesignError) as err:
        publish(store, catalog, PROVINCE, FILE, text, 1, confirmed=True)
    assert err.value.code == "design_rename_clash"
    assert len(history(store, FILE)) == 1 and store.renamed_keys("att1") == {}


def test_a_removed_field_keeps_its_column_and_values_marked_retired(store, catalog):
    stored = rows(store, 2)
    text = served_text(store, FILE)
    start = text.index("      - key: problems_and_measures\n")
    end = text.index("\n  - key: contact", start)
    text = text[:start] + text[end + 1:]
    found = impact(store, catalog, FILE, text)
    assert [(c.kind, c.key, c.rows) for c in found.changes] == [("retired", "problems_and_measures", 2)]
    publish(store, catalog, PROVINCE, FILE, text, 1, confirmed=True)
    assert [store.get("att1", r.id).values["problems_and_measures"] for r in stored] == ["措施0", "措施1"]
    columns = {c.key: c.label for c in store.sheet_spec("att1").columns}
    assert columns["problems_and_measures"].endswith("（已停用）")


def test_a_removed_choice_and_a_changed_type_count_the_rows_they_touch(store, catalog):
    rows(store, 3)
    rows(store, 2, business_area="研发设计", client_district="12")
    text = (served_text(store, FILE).replace("choices: [研发设计, 生产管控, 经营管理, 运维服务, 其他]", "choices: [研发设计, 生产管控, 经营管理, 运维服务]")
            .replace("      - key: client_district\n        label: 企业所在区县\n        type: text", "      - key: client_district\n        label: 企业所在区县\n        type: integer"))
    found = impact(store, catalog, FILE, text)
    kinds = {(c.kind, c.key): c for c in found.changes}
    assert kinds[("choice_removed", "business_area")].rows == 3 and kinds[("choice_removed", "business_area")].detail == "其他"
    assert kinds[("type_misfit", "client_district")].rows == 3  # "天河区" is no integer, "12" is
    assert len(kinds[("type_misfit", "client_district")].examples) == 3


def test_rollback_restores_the_earlier_form_as_a_new_version(store, catalog, forms, tmp_path):
    text = add_field_yaml(served_text(store, FILE), "contact", {"key": "wechat", "label": "微信号", "type": "text"})
    publish(store, catalog, PROVINCE, FILE, text, 1)
    with pytest.raises(DesignError) as err:  # it retires the field added since: confirmed first
        rollback(store, catalog, PROVINCE, FILE, 1)
    assert err.value.code == "design_unconfirmed"
    row = rollback(store, catalog, PROVINCE, FILE, 1, confirmed=True)
    assert versions.number(row) == 3 and row.values["origin"] == "rollback" and row.values["note"] == "恢复第 1 版"
    catalog.refresh()
    assert "wechat" not in [f.key for f in catalog.form("att1").all_fields()]
    assert catalog.form("att1").version == 3
    assert [e.action for e in store.audit(versions.VERSIONS.form_id) if e.row_id == row.id][-1] == "恢复表单版本"
    for missing in (3, 7):
        with pytest.raises(DesignError) as err:
            rollback(store, catalog, PROVINCE, FILE, missing)
        assert err.value.code == "design_no_version"


def test_history_lists_the_published_versions_and_diff_shows_what_changed(store, catalog):
    first = served_text(store, FILE)
    save_draft(store, catalog, PROVINCE, FILE, first + "# 草稿\n", 1)
    publish(store, catalog, PROVINCE, FILE, first.replace("title: ", "title: 新", 1), 1, "改标题")
    listed = history(store, FILE)
    assert [(versions.number(r), r.values["note"], r.owner) for r in listed][1:] == [(2, "改标题", "province_admin")]
    change = diff(listed[0].values["text"], listed[1].values["text"])
    assert "-title: " in change and "+title: 新" in change and "-version: 1" in change and "+version: 2" in change
    assert diff(first, first) == ""


def test_a_draft_is_kept_per_account_and_closed_when_published(store, catalog):
    base = served_text(store, FILE)
    first = save_draft(store, catalog, PROVINCE, FILE, base + "# 一\n", 1)
    second = save_draft(store, catalog, PROVINCE, FILE, base + "# 二\n", 1)
    other = save_draft(store, catalog, ADMIN, FILE, base + "# 管理员\n", 1)
    assert first.id == second.id != other.id and second.status == DRAFT and second.values["version"] == 0
    assert second.values["text"].endswith("# 二\n") and second.values["form_id"] == "att1"
    with pytest.raises(ConflictError):  # a second tab still holding the first save
        save_draft(store, catalog, PROVINCE, FILE, base + "# 旧标签页\n", 1, base_rev=first.rev)
    assert len(history(store, FILE)) == 1  # drafts are served to no one
    publish(store, catalog, PROVINCE, FILE, base + "# 二\n", 1)
    assert store.get(versions.VERSIONS.form_id, first.id).status == versions.DISCARDED
    assert store.get(versions.VERSIONS.form_id, other.id).status == DRAFT  # another account's draft is its own
    assert [e.action for e in store.audit() if e.row_id == first.id].count("保存表单草稿") == 2


def test_a_draft_may_be_unfinished(store, catalog):
    draft = save_draft(store, catalog, PROVINCE, FILE, "id: [还没写完\n", 1)
    assert draft.status == DRAFT and draft.values["form_id"] == ""


def test_a_city_drafts_its_own_forms_only_when_the_campaign_says_so(store, catalog, forms, tmp_path):
    att3 = served_text(store, "att3.yaml")
    with pytest.raises(Forbidden):
        save_draft(store, catalog, CITY, "att3.yaml", att3 + "# 建议\n", 1)
    campaign = served_text(store, "campaign.yaml") + "\ndesigner:\n  city_drafts: true\n"
    publish(store, catalog, PROVINCE, "campaign.yaml", campaign, 1, "允许地市提出草稿")
    catalog.refresh()
    assert save_draft(store, catalog, CITY, "att3.yaml", att3 + "# 建议\n", 1).status == DRAFT
    for file in ("att1.yaml", "campaign.yaml"):  # a provider's form; the campaign itself
        with pytest.raises(Forbidden):
            save_draft(store, catalog, CITY, file, served_text(store, file) + "# 建议\n", 1)
    with pytest.raises(Forbidden):
        publish(store, catalog, CITY, "att3.yaml", att3 + "# 建议\n", 1, confirmed=True)
    with pytest.raises(Forbidden):
        save_draft(store, catalog, PROVIDER, "att1.yaml", served_text(store, "att1.yaml"), 1)


def test_a_new_file_is_version_1_of_a_new_form(store, catalog):
    text = served_text(store, "complaint.yaml").replace("id: complaint", "id: complaint_extra")
    row = publish(store, catalog, PROVINCE, "complaint_extra.yaml", text, 0, "新表单")
    assert versions.number(row) == 1 and row.values["based_on"] == 0
    catalog.refresh()
    assert catalog.form("complaint_extra").version == catalog.form("complaint").version
    with pytest.raises(VersionError):
        publish(store, catalog, PROVINCE, "../evil.yaml", text, 0)


def test_the_version_served_is_not_published_again(store, catalog):
    with pytest.raises(DesignError) as err:
        publish(store, catalog, PROVINCE, FILE, served_text(store, FILE), 1, confirmed=True)
    assert err.value.code == "design_unchanged" and len(history(store, FILE)) == 1


def test_a_publish_cut_short_after_its_rename_is_tried_again_from_the_same_version(store, catalog, monkeypatch):
    stored = rows(store, 2)
    text = served_text(store, FILE).replace("      - key: remarks\n", "      - key: notes\n        replaces: remarks\n")

    def unavailable(*args, **kwargs):
        raise Unavailable("存储暂时无法写入", code="store_down")

    with monkeypatch.context() as patched:
        patched.setattr(versions, "append_together", unavailable)
        with pytest.raises(Unavailable):
            publish(store, catalog, PROVINCE, FILE, text, 1, confirmed=True)
    assert len(history(store, FILE)) == 1  # no version: the edit is still based on the one served
    row = publish(store, catalog, PROVINCE, FILE, text, 1, confirmed=True)
    assert versions.number(row) == 2
    assert [store.get("att1", r.id).values.get("notes") for r in stored] == ["备注0", "备注1"]
    catalog.refresh()
    assert catalog.form("att1").field("notes").replaces == "remarks"
