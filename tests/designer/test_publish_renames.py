"""Publishing around renames and removals, after attack C of issue 16: the version row is written before any
rename (a publish lost to another server's leaves none in force, C11), a restore across a rename moves the
values back (C2), a ``replaces:`` of a retired field brings its values back (C14), a new field on a retired
key is told before publishing (C5), a restore is checked against the version it was shown against (C10), a
text with a BOM publishes (C13), and a campaign without the registers the pages need is refused (C3)."""

from __future__ import annotations

import pytest

from lib.core.statuses import SUBMITTED
from lib.designer import add_field_yaml, check_draft, history, impact, publish, rollback
from lib.designer.errors import DesignError
from lib.forms import versions
from lib.forms.loader import CAMPAIGN_FILE

from .conftest import ADMIN, PROVIDER, PROVINCE, served_text

FILE = "att1.yaml"
RENAMED = ("      - key: remarks\n", "      - key: notes\n        replaces: remarks\n")


def rows(store, n: int):
    return [store.append("att1", {"remarks": f"备注{i}", "problems_and_measures": f"措施{i}"}, actor=PROVIDER, status=SUBMITTED)
            for i in range(n)]


def without(text: str, key: str) -> str:
    """``text`` without the field ``key`` (a field of a section, not of a table)."""
    start = text.index(f"      - key: {key}\n")
    ends = [i for i in (text.find("\n      - key: ", start), text.find("\n  - key: ", start)) if i != -1]
    return text[:start] + (text[min(ends) + 1:] if ends else "")


def values(store, stored, key):
    return [store.get("att1", r.id).values.get(key) for r in stored]


def test_a_publish_lost_to_another_servers_version_applies_no_rename(store, catalog, monkeypatch):
    stored = rows(store, 2)
    text = served_text(store, FILE).replace(*RENAMED)

    def lost(*args, **kwargs):
        raise versions.VersionError("另一台服务器先发布了第 2 版", code="version_race")

    with monkeypatch.context() as patched:
        patched.setattr(versions, "append_together", lost)
        with pytest.raises(versions.VersionError):
            publish(store, catalog, PROVINCE, FILE, text, 1, confirmed=True)
    assert store.renamed_keys("att1") == {} and values(store, stored, "remarks") == ["备注0", "备注1"]


def test_a_restore_across_a_rename_moves_the_values_back(store, catalog):
    stored = rows(store, 2)
    publish(store, catalog, PROVINCE, FILE, served_text(store, FILE).replace(*RENAMED), 1, confirmed=True)
    catalog.refresh()
    assert values(store, stored, "notes") == ["备注0", "备注1"]
    found = impact(store, catalog, FILE, history(store, FILE)[0].values["text"])
    assert found.renames == (("notes", "remarks"),)
    rollback(store, catalog, PROVINCE, FILE, 1, confirmed=True)
    assert values(store, stored, "remarks") == ["备注0", "备注1"] and values(store, stored, "notes") == [None, None]
    catalog.refresh()
    assert "remarks" in {f.key for f in catalog.form("att1").all_fields()}


def test_renaming_back_with_replaces_is_a_rename_and_keeping_both_keys_is_refused_clearly(store, catalog):
    stored = rows(store, 1)
    publish(store, catalog, PROVINCE, FILE, served_text(store, FILE).replace(*RENAMED), 1, confirmed=True)
    catalog.refresh()
    dropped = served_text(store, FILE).replace("        replaces: remarks\n", "")  # the rename in force needs it no more
    both = add_field_yaml(dropped, "contact", {"key": "remarks", "label": "新备注", "type": "text"})
    with pytest.raises(DesignError) as err:
        impact(store, catalog, FILE, both)
    assert err.value.code == "design_key_renamed"
    back = served_text(store, FILE).replace("      - key: notes\n        replaces: remarks\n", "      - key: remarks\n        replaces: notes\n")
    publish(store, catalog, PROVINCE, FILE, back, 2, confirmed=True)
    assert values(store, stored, "remarks") == ["备注0"]


def test_replaces_naming_a_retired_field_brings_its_values_back(store, catalog):
    stored = rows(store, 1)
    publish(store, catalog, PROVINCE, FILE, without(served_text(store, FILE), "remarks"), 1, confirmed=True)
    catalog.refresh()
    text = add_field_yaml(served_text(store, FILE), "contact", {"key": "notes", "label": "备注", "type": "text"})
    text = text.replace("- key: notes\n", "- key: notes\n        replaces: remarks\n")
    found = impact(store, catalog, FILE, text)
    assert found.renames == (("remarks", "notes"),) and found.needs_confirmation
    publish(store, catalog, PROVINCE, FILE, text, 2, confirmed=True)
    assert values(store, stored, "notes") == ["备注0"]


def test_a_new_field_on_a_retired_key_holding_values_is_told_before_publishing(store, catalog):
    rows(store, 2)
    publish(store, catalog, PROVINCE, FILE, without(served_text(store, FILE), "problems_and_measures"), 1, confirmed=True)
    catalog.refresh()
    text = add_field_yaml(served_text(store, FILE), "contact", {"key": "problems_and_measures", "label": "检查组核实意见", "type": "text"})
    found = impact(store, catalog, FILE, text)
    assert [(c.kind, c.key, c.rows) for c in found.changes] == [("revived", "problems_and_measures", 2)]
    with pytest.raises(DesignError) as err:
        publish(store, catalog, PROVINCE, FILE, text, 2)
    assert err.value.code == "design_unconfirmed" and len(history(store, FILE)) == 2


def test_a_restore_confirmed_after_another_version_came_in_is_refused_as_stale(store, catalog):
    text = add_field_yaml(served_text(store, FILE), "contact", {"key": "wechat", "label": "微信号", "type": "text"})
    publish(store, catalog, PROVINCE, FILE, text, 1, confirmed=True)
    catalog.refresh()
    text = add_field_yaml(served_text(store, FILE), "contact", {"key": "verified", "label": "核查意见", "type": "text"})
    publish(store, catalog, ADMIN, FILE, text, 2, confirmed=True)  # published while the restore of version 1 was shown
    catalog.refresh()
    with pytest.raises(DesignError) as err:
        rollback(store, catalog, PROVINCE, FILE, 1, confirmed=True, based_on=2)
    assert err.value.code == "design_stale" and len(history(store, FILE)) == 3


def test_a_text_with_a_bom_publishes_numbered_without_it(store, catalog):
    text = "\ufeff" + served_text(store, FILE).replace("label: 服务商名称\n", "label: 服务商全称\n")
    assert check_draft(catalog, FILE, text).ok
    row = publish(store, catalog, PROVINCE, FILE, text, 1)
    assert not row.values["text"].startswith("\ufeff") and "\nversion: 2\n" in row.values["text"]


def test_a_campaign_without_the_registers_the_pages_need_is_refused(store, catalog):
    text = served_text(store, CAMPAIGN_FILE)
    start = text.index("\nregisters:")
    end = next(i for i in range(start + 2, len(text)) if text[i - 1] == "\n" and text[i] not in " #\n")
    found = check_draft(catalog, CAMPAIGN_FILE, text[:start + 1] + text[end:])
    assert [p.code for p in found.problems] == ["invalid_definition"] and "registers" in found.problems[0].message


def test_a_campaign_dropping_a_city_counts_the_rows_answering_it_and_is_confirmed_first(store, catalog):
    stored = [store.append("att1", {"client_city": city}, actor=PROVIDER, status=SUBMITTED) for city in ("广州", "广州", "佛山")]
    text = served_text(store, CAMPAIGN_FILE).replace('  - {name: 广州, code: "4401"}\n', "", 1)
    found = impact(store, catalog, CAMPAIGN_FILE, text)
    assert [(c.kind, c.key, c.detail, c.rows) for c in found.changes] == [("choice_removed", "client_city", "广州", 2)]
    assert set(found.changes[0].examples) == {r.id for r in stored[:2]}
    with pytest.raises(DesignError) as err:
        publish(store, catalog, PROVINCE, CAMPAIGN_FILE, text, 1)
    assert err.value.code == "design_unconfirmed" and len(history(store, CAMPAIGN_FILE)) == 1
    assert versions.number(publish(store, catalog, PROVINCE, CAMPAIGN_FILE, text, 1, confirmed=True)) == 2


def test_renaming_a_bound_field_carries_the_campaigns_binding_along_in_one_publish(store, catalog):
    stored = store.append("att1", {"client_name": "某企业"}, actor=PROVIDER, status=SUBMITTED)
    text = served_text(store, FILE).replace("      - key: client_name\n", "      - key: firm_name\n        replaces: client_name\n", 1)
    text = text.replace("summary: [client_name, ", "summary: [firm_name, ", 1)
    assert check_draft(catalog, FILE, text).ok
    publish(store, catalog, PROVINCE, FILE, text, 1, confirmed=True)
    campaign = versions.latest(store, CAMPAIGN_FILE)
    assert versions.number(campaign) == 2 and "      firm: firm_name\n" in campaign.values["text"]
    assert store.get("att1", stored.id).values.get("firm_name") == "某企业"
    catalog.refresh()
    assert catalog.problems() == {} and catalog.bindings.of("projects").key("firm") == "firm_name"
