"""A developer's changed file on the store's versions (lib/forms/store_source.py) after attack C of issue 16:
a text published before (by any server, any version) is never published again over a later one (a rolling
deploy, C12); a file that breaks a binding, or a campaign without what the pages need, stays off the store
(C15, C3); a rename in a file (``replaces:``) is applied to the stored rows as the designer applies it (C1);
and its ``version:`` is numbered as the designer numbers it (C4)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lib.core.records import Actor
from lib.core.statuses import SUBMITTED
from lib.forms import FormDefinitionError, load_catalog, versions
from lib.forms.columns import sheet_spec
from lib.forms.store_source import StoreSource
from lib.forms.versions import publish_version

ROOT = Path(__file__).resolve().parents[2]
PROVINCE = Actor("province_admin", "province", "省厅", "")
PROVIDER = Actor("provider_1", "provider", "云服务商甲", "广州")
NAME_LABEL = "label: 服务商名称\n"


def catalog_on(store, forms, data_dir):
    return load_catalog(StoreSource(store, forms, data_dir))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def served(store, file: str):
    row = versions.latest(store, file)
    return versions.number(row), row.values["origin"]


def keys(catalog, form_id: str) -> set[str]:
    return {f.key for f in catalog.form(form_id).all_fields()}


def test_a_rolling_deploy_never_publishes_again_a_file_another_server_published_before_a_designer_version(store, forms, tmp_path):
    catalog_on(store, forms, tmp_path / "a")
    theirs = tmp_path / "their_forms"
    shutil.copytree(forms, theirs)
    b = catalog_on(store, theirs, tmp_path / "b")  # the second server, on the old checkout still
    edit(forms / "att1.yaml", NAME_LABEL, "label: 服务商全称\n")
    a = catalog_on(store, forms, tmp_path / "a")  # server A restarted with the developer's change: version 2
    assert served(store, "att1.yaml") == (2, "file")
    designed = versions.latest(store, "att1.yaml").values["text"].replace("label: 服务商全称\n", "label: 服务商（设计器）\n")
    publish_version(store, PROVINCE, "att1.yaml", designed, form_id="att1", based_on=2, origin="designer")
    shutil.copy(forms / "att1.yaml", theirs / "att1.yaml")  # the same commit reaches server B afterwards
    b.refresh()
    b = catalog_on(store, theirs, tmp_path / "b")  # and B restarts with it
    assert served(store, "att1.yaml") == (3, "designer")  # the designer's version is not undone
    assert b.form("att1").field("provider_name").label == "服务商（设计器）"
    a.refresh()
    assert a.form("att1").field("provider_name").label == "服务商（设计器）"


def test_a_file_put_back_to_an_earlier_version_served_before_is_taken_as_seen(store, forms, tmp_path):
    catalog = catalog_on(store, forms, tmp_path / "data")
    seed = (forms / "att1.yaml").read_text(encoding="utf-8")
    edit(forms / "att1.yaml", NAME_LABEL, "label: 服务商全称\n")
    catalog.refresh()
    (forms / "att1.yaml").write_text(seed, encoding="utf-8")  # a checkout of an older commit: no news for the store
    catalog.refresh()
    assert served(store, "att1.yaml") == (2, "file")


def test_a_file_version_is_numbered_as_the_designer_numbers_it(store, forms, tmp_path):
    catalog = catalog_on(store, forms, tmp_path / "data")
    edit(forms / "att1.yaml", NAME_LABEL, "label: 服务商全称\n")
    catalog.refresh()
    assert catalog.form("att1").version == 2 and "\nversion: 2\n" in versions.latest(store, "att1.yaml").values["text"]
    text = versions.latest(store, "att1.yaml").values["text"].replace("\nversion: 2\n", "\nversion: 7\n")
    publish_version(store, PROVINCE, "att1.yaml", text, form_id="att1", based_on=2, origin="designer")
    edit(forms / "att1.yaml", "label: 服务商全称\n", "label: 服务商名称（全称）\n")  # the file still says version: 1
    catalog.refresh()
    assert served(store, "att1.yaml") == (4, "file") and catalog.form("att1").version == 8


def test_a_file_breaking_a_binding_stays_off_the_store_and_only_its_server_reads_it(store, forms, tmp_path):
    running = catalog_on(store, forms, tmp_path / "data")
    att1 = forms / "att1.yaml"
    text = att1.read_text(encoding="utf-8")
    i, j = text.index("      - key: client_name\n"), text.index("      - key: client_credit_code\n")
    att1.write_text((text[:i] + text[j:]).replace("summary: [client_name, project_name, voucher_no]",
                                                  "summary: [project_name, voucher_no]"), encoding="utf-8")
    running.refresh()
    assert served(store, "att1.yaml") == (1, "seed")
    assert "client_name" in keys(running, "att1") and running.bindings is not None  # the last valid version keeps serving
    assert "att1.yaml" in running.problems()
    restarted = catalog_on(store, forms, tmp_path / "data")  # reads its folder's file, as a folder's catalog would
    with pytest.raises(FormDefinitionError):
        restarted.bindings  # noqa: B018
    other = catalog_on(store, ROOT / "forms", tmp_path / "other")  # every other server: the store's version
    assert "client_name" in keys(other, "att1") and other.problems() == {}


def test_a_campaign_file_without_its_registers_stays_off_the_store(store, forms, tmp_path):
    running = catalog_on(store, forms, tmp_path / "data")
    campaign = forms / "campaign.yaml"
    text = campaign.read_text(encoding="utf-8")
    start = text.index("\nregisters:")
    end = next(i for i in range(start + 2, len(text)) if text[i - 1] == "\n" and text[i] not in " #\n")
    campaign.write_text(text[:start + 1] + text[end:], encoding="utf-8")
    running.refresh()
    assert served(store, "campaign.yaml") == (1, "seed") and running.campaign.registers is not None
    assert [p.code for p in running.problems()["campaign.yaml"]] == ["invalid_definition"]
    other = catalog_on(store, ROOT / "forms", tmp_path / "other")
    assert other.campaign.registers is not None and other.problems() == {}


def test_a_rename_in_a_developer_file_moves_the_stored_values_as_the_designer_does(store, forms, tmp_path):
    catalog = catalog_on(store, forms, tmp_path / "data")
    store.ensure_sheet(sheet_spec(catalog.form("att1")))
    row = store.append("att1", {"remarks": "重要备注"}, actor=PROVIDER, status=SUBMITTED)
    edit(forms / "att1.yaml", "      - key: remarks\n", "      - key: notes\n        replaces: remarks\n")
    catalog.refresh()
    assert served(store, "att1.yaml") == (2, "file") and "notes" in keys(catalog, "att1")
    assert store.renamed_keys("att1") == {"remarks": "notes"}
    assert store.get("att1", row.id).values.get("notes") == "重要备注"


def test_a_rename_in_a_file_onto_a_key_holding_values_stays_off_the_store(store, forms, tmp_path):
    catalog = catalog_on(store, forms, tmp_path / "data")
    store.ensure_sheet(sheet_spec(catalog.form("att1")))
    store.append("att1", {"remarks": "备注", "problems_and_measures": "措施"}, actor=PROVIDER, status=SUBMITTED)
    text = (forms / "att1.yaml").read_text(encoding="utf-8")
    i = text.index("      - key: problems_and_measures\n")
    j = text.index("      - key:", i + 1)
    (forms / "att1.yaml").write_text(text[:i] + text[j:], encoding="utf-8")  # problems_and_measures removed (retired) …
    catalog.refresh()
    edit(forms / "att1.yaml", "      - key: remarks\n", "      - key: problems_and_measures\n        replaces: remarks\n")
    catalog.refresh()  # … then remarks renamed onto its key: the values would mix
    assert served(store, "att1.yaml") == (2, "file") and store.renamed_keys("att1") == {}
    assert [p.code for p in catalog.problems()["att1.yaml"]] == ["invalid_definition"]


def test_a_form_and_campaign_change_held_apart_are_published_together_when_the_other_half_arrives(store, forms, tmp_path):
    catalog = catalog_on(store, forms, tmp_path / "data")
    edit(forms / "campaign.yaml", "      year: subsidy_year\n", "      year: grant_year\n")
    catalog.refresh()  # the campaign half alone breaks the binding: held on this server
    assert served(store, "campaign.yaml") == (1, "seed")
    edit(forms / "att1.yaml", "- key: subsidy_year\n", "- key: grant_year\n")
    catalog.refresh()
    assert served(store, "campaign.yaml") == (2, "file") and served(store, "att1.yaml") == (2, "file")
    assert catalog.problems() == {} and catalog.bindings.of("projects").key("year") == "grant_year"


def test_a_copy_of_a_form_under_another_name_stays_on_its_server(store, forms, tmp_path):
    catalog = catalog_on(store, forms, tmp_path / "data")
    shutil.copy(forms / "att1.yaml", forms / "att1 - 副本.yaml")  # what Windows' copy and paste leaves
    catalog.refresh()
    assert versions.latest(store, "att1 - 副本.yaml") is None
    assert [p.code for p in catalog.problems()["att1 - 副本.yaml"]] == ["duplicate_form_id"]
    other = catalog_on(store, ROOT / "forms", tmp_path / "other")
    assert other.problems() == {}
