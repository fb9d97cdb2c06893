"""The catalog on the store's versions (lib/forms/sources.py StoreSource): the first start publishes
forms/ as version 1, a developer's changed file becomes a new version, a designer's later version wins
until the file changes again, a broken or oversized file never reaches the store (this server lists its
problems and keeps serving the last valid version), and a new server with another checkout publishes
nothing (issue 16, outcome 1)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from lib.core.records import Actor
from lib.forms import load_catalog, versions
from lib.forms.sources import FolderSource
from lib.forms.store_source import SEEN_FILE, StoreSource
from lib.forms.versions import MAX_TEXT_CHARS, PUBLISHED, publish_version
from lib.store.base import Unavailable
from lib.store.factory import open_store

ROOT = Path(__file__).resolve().parents[2]
PROVINCE = Actor("province_admin", "province", "省厅", "")
NAME_LABEL = "label: 服务商名称\n"


def catalog_on(store, forms, data_dir):
    return load_catalog(StoreSource(store, forms, data_dir))


def label_of(catalog, form_id: str, key: str) -> str:
    return next(f.label for f in catalog.form(form_id).all_fields() if f.key == key)


def by_file(store) -> dict[str, list[tuple[int, str, str]]]:
    out: dict[str, list] = {}
    for r in versions.versions(store):
        out.setdefault(r.values["file"], []).append((versions.number(r), r.values["origin"], r.owner))
    return out


def test_the_first_start_publishes_every_file_as_version_1_and_serves_what_the_folder_would(store, forms, tmp_path):
    catalog = catalog_on(store, forms, tmp_path / "data")
    names = sorted(p.name for p in forms.glob("*.yaml"))
    assert by_file(store) == {n: [(1, "seed", "开发者文件")] for n in names}
    for row in versions.versions(store):
        assert row.status == PUBLISHED and row.values["text"] == (forms / row.values["file"]).read_text(encoding="utf-8")
    folder = load_catalog(FolderSource(forms))
    assert catalog.problems() == {} and catalog.forms() == folder.forms() and catalog.campaign == folder.campaign
    assert {r.values["form_id"] for r in versions.versions(store)} == {f.id for f in folder.forms()} | {""}
    seen = json.loads((tmp_path / "data" / SEEN_FILE).read_text(encoding="utf-8"))["files"]
    assert seen == {n: versions.sha256((forms / n).read_text(encoding="utf-8")) for n in names}


def test_a_changed_file_is_a_new_version_and_a_designer_version_wins_until_the_file_changes_again(store, forms, tmp_path):
    catalog = catalog_on(store, forms, tmp_path / "data")
    att1 = forms / "att1.yaml"
    att1.write_text(att1.read_text(encoding="utf-8").replace(NAME_LABEL, "label: 服务商全称\n"), encoding="utf-8")
    changed = catalog.refresh()
    assert [f.id for f in changed] == ["att1"] and label_of(catalog, "att1", "provider_name") == "服务商全称"
    assert by_file(store)["att1.yaml"] == [(1, "seed", "开发者文件"), (2, "file", "开发者文件")]

    designed = att1.read_text(encoding="utf-8").replace("label: 服务商全称\n", "label: 服务商（设计器）\n")
    publish_version(store, PROVINCE, "att1.yaml", designed, form_id="att1", based_on=2, origin="designer")
    catalog.refresh()
    assert label_of(catalog, "att1", "provider_name") == "服务商（设计器）"
    catalog.refresh()  # the unchanged file does not take it back
    assert label_of(catalog, "att1", "provider_name") == "服务商（设计器）" and len(by_file(store)["att1.yaml"]) == 3

    att1.write_text(att1.read_text(encoding="utf-8").replace("label: 服务商全称\n", "label: 服务商（文件）\n"), encoding="utf-8")
    catalog.refresh()
    assert label_of(catalog, "att1", "provider_name") == "服务商（文件）"
    assert [v[:2] for v in by_file(store)["att1.yaml"]] == [(1, "seed"), (2, "file"), (3, "designer"), (4, "file")]


def test_a_broken_file_never_reaches_the_store_and_this_server_shows_its_problem(store, forms, tmp_path):
    catalog = catalog_on(store, forms, tmp_path / "data")
    att1 = forms / "att1.yaml"
    good = att1.read_text(encoding="utf-8")
    att1.write_text(good.replace("type: credit_code", "type: credit_kode", 1), encoding="utf-8")
    assert catalog.refresh() == []
    problem = catalog.problems()["att1.yaml"][0]
    assert problem.field == "provider_credit_code" and "第" in problem.where
    assert catalog.form("att1") is not None and by_file(store)["att1.yaml"] == [(1, "seed", "开发者文件")]
    catalog.refresh()  # asked again: still not published, still listed
    assert len(by_file(store)["att1.yaml"]) == 1 and "att1.yaml" in catalog.problems()

    other = catalog_on(store, forms, tmp_path / "other")  # another server on the store: serves version 1, unbroken
    assert other.problems() == {}

    att1.write_text(good, encoding="utf-8")  # put back: no version, no problem
    catalog.refresh()
    assert catalog.problems() == {} and len(by_file(store)["att1.yaml"]) == 1


def test_a_form_checked_against_the_campaign_served(store, forms, tmp_path):
    """A form naming a deadline the campaign does not have is refused until the campaign has it."""
    catalog = catalog_on(store, forms, tmp_path / "data")
    forum = forms / "forum.yaml"
    text = forum.read_text(encoding="utf-8")
    deadline = catalog.form("forum").deadline
    assert deadline
    forum.write_text(text.replace(f"deadline: {deadline}", "deadline: later_day"), encoding="utf-8")
    catalog.refresh()
    assert catalog.problems()["forum.yaml"][0].code == "unknown_deadline" and len(by_file(store)["forum.yaml"]) == 1
    campaign = forms / "campaign.yaml"
    lines = campaign.read_text(encoding="utf-8")
    assert f"  {deadline}: " in lines
    day = lines.split(f"  {deadline}: ", 1)[1].split("\n", 1)[0]
    campaign.write_text(lines.replace(f"  {deadline}: {day}\n", f"  {deadline}: {day}\n  later_day: {day}\n", 1), encoding="utf-8")
    catalog.refresh()
    assert catalog.problems() == {} and catalog.form("forum").deadline == "later_day"
    assert [v[0] for v in by_file(store)["forum.yaml"]] == [1, 2] and len(by_file(store)["campaign.yaml"]) == 2


def test_a_file_too_long_for_a_version_is_listed_and_not_published(store, forms, tmp_path):
    catalog = catalog_on(store, forms, tmp_path / "data")
    complaint = forms / "complaint.yaml"
    complaint.write_text(complaint.read_text(encoding="utf-8") + "#" * MAX_TEXT_CHARS + "\n", encoding="utf-8")
    catalog.refresh()
    found = catalog.problems()["complaint.yaml"]
    assert "30000" in found[0].message and len(by_file(store)["complaint.yaml"]) == 1
    assert catalog.form("complaint") is not None  # the version served keeps serving


def test_a_new_server_with_another_checkout_publishes_nothing_and_serves_the_store(store, forms, tmp_path):
    catalog_on(store, forms, tmp_path / "data")
    theirs = tmp_path / "their_forms"
    shutil.copytree(forms, theirs)
    (theirs / "att1.yaml").write_text((forms / "att1.yaml").read_text(encoding="utf-8").replace(NAME_LABEL, "label: 旧名称\n"),
                                      encoding="utf-8")
    other = catalog_on(store, theirs, tmp_path / "their_data")
    assert label_of(other, "att1", "provider_name") == "服务商名称"
    assert all(len(v) == 1 for v in by_file(store).values())
    other.refresh()
    assert all(len(v) == 1 for v in by_file(store).values())


def test_a_first_start_with_a_broken_file_seeds_the_rest(store, forms, tmp_path):
    (forms / "forum.yaml").write_text("id: [\n", encoding="utf-8")
    catalog = catalog_on(store, forms, tmp_path / "data")
    assert "forum.yaml" not in by_file(store) and "att1.yaml" in by_file(store)
    assert catalog.problems()["forum.yaml"][0].code == "yaml_syntax"
    (forms / "forum.yaml").write_text((ROOT / "forms" / "forum.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    catalog.refresh()
    assert by_file(store)["forum.yaml"] == [(1, "file", "开发者文件")] and catalog.problems() == {}


def test_two_servers_on_one_store_serve_a_new_version_on_their_next_refresh(store, forms, tmp_path):
    mine = catalog_on(store, forms, tmp_path / "data")
    other_store = open_store("local", data_dir=tmp_path / "data", background=False)  # another process
    try:
        theirs = catalog_on(other_store, forms, tmp_path / "data")
        text = versions.latest(store, "att1.yaml").values["text"].replace(NAME_LABEL, "label: 服务商（新版）\n")
        publish_version(store, PROVINCE, "att1.yaml", text, form_id="att1", based_on=1, origin="designer")
        assert [f.id for f in theirs.refresh()] == ["att1"] and [f.id for f in mine.refresh()] == ["att1"]
        assert label_of(theirs, "att1", "provider_name") == label_of(mine, "att1", "provider_name") == "服务商（新版）"
    finally:
        other_store.close()


def test_a_store_that_cannot_be_opened_serves_the_folder_until_it_can(forms, tmp_path):
    state = {"up": False, "store": None}

    def opener():
        if not state["up"]:
            raise Unavailable("数据存储暂时无法连接。")
        if state["store"] is None:
            state["store"] = open_store("local", data_dir=tmp_path / "data", background=False)
        return state["store"]

    try:
        catalog = load_catalog(StoreSource(opener, forms, tmp_path / "data"))
        assert catalog.problems() == {} and catalog.form("att1") is not None
        state["up"] = True
        assert catalog.refresh() == []  # the same texts, now from the store: no form changed
        assert "att1.yaml" in by_file(state["store"])
    finally:
        if state["store"] is not None:
            state["store"].close()


def test_a_file_named_as_no_version_may_be_is_listed_and_not_published(store, forms, tmp_path):
    (forms / ".hidden.yaml").write_text((forms / "forum.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    catalog = catalog_on(store, forms, tmp_path / "data")
    assert ".hidden.yaml" not in by_file(store) and "文件名" in catalog.problems()[".hidden.yaml"][0].message


def test_a_restarted_server_publishes_a_file_changed_while_it_was_down_and_nothing_else(store, forms, tmp_path):
    catalog_on(store, forms, tmp_path / "data")
    catalog_on(store, forms, tmp_path / "data")  # restarted with nothing changed: no version
    assert all(len(v) == 1 for v in by_file(store).values())
    att1 = forms / "att1.yaml"
    att1.write_text(att1.read_text(encoding="utf-8").replace(NAME_LABEL, "label: 服务商全称\n"), encoding="utf-8")
    restarted = catalog_on(store, forms, tmp_path / "data")
    assert label_of(restarted, "att1", "provider_name") == "服务商全称"
    assert {n: len(v) for n, v in by_file(store).items() if len(v) > 1} == {"att1.yaml": 2}


class Refusing:
    """A store whose next write of versions fails (the spreadsheet unreachable, say)."""

    def __init__(self, store):
        self.store, self.armed, self.writes = store, False, []

    def __getattr__(self, name):
        return getattr(self.store, name)

    def write_batch(self, appends, changes, *, actor):
        self.writes.append(sorted(values["file"] for _, values, _ in appends))
        if self.armed:
            self.armed = False
            raise Unavailable("数据存储暂时无法连接。")
        return self.store.write_batch(appends, changes, actor=actor)


def test_a_change_of_several_files_is_one_change_and_a_failed_write_is_tried_again(store, forms, tmp_path):
    flaky = Refusing(store)
    catalog = catalog_on(flaky, forms, tmp_path / "data")
    assert flaky.writes == [sorted(p.name for p in forms.glob("*.yaml"))]  # the first start: one change
    for name in ("att1.yaml", "complaint.yaml"):
        path = forms / name
        path.write_text(path.read_text(encoding="utf-8") + "# 改动\n", encoding="utf-8")
    flaky.armed = True
    assert catalog.refresh() == [] and all(len(v) == 1 for v in by_file(store).values())  # nothing, not half
    catalog.refresh()
    assert flaky.writes[1:] == [["att1.yaml", "complaint.yaml"]] * 2  # refused whole, then written whole
    assert sorted(r.values["file"] for r in versions.versions(store) if versions.number(r) == 2) == ["att1.yaml", "complaint.yaml"]


def test_a_field_renamed_in_a_form_and_its_binding_reaches_another_server_whole(store, forms, tmp_path):
    catalog_on(store, forms, tmp_path / "data")
    theirs = tmp_path / "their_forms"
    shutil.copytree(forms, theirs)
    other = catalog_on(store, theirs, tmp_path / "other")  # another server on the store, with its own checkout
    att1, campaign = forms / "att1.yaml", forms / "campaign.yaml"
    att1.write_text(att1.read_text(encoding="utf-8").replace("- key: subsidy_year\n", "- key: grant_year\n", 1), encoding="utf-8")
    campaign.write_text(campaign.read_text(encoding="utf-8").replace("      year: subsidy_year\n", "      year: grant_year\n", 1),
                        encoding="utf-8")
    mine = catalog_on(store, forms, tmp_path / "data")  # this server, restarted: both files published in one change
    assert mine.problems() == {} and mine.bindings.of("projects").key("year") == "grant_year"
    other.refresh()
    assert other.problems() == {} and other.bindings.of("projects").key("year") == "grant_year"
    assert {n: [v[0] for v in vs] for n, vs in by_file(store).items() if len(vs) > 1} == {"att1.yaml": [1, 2], "campaign.yaml": [1, 2]}
