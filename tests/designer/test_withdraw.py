"""停用此文件 (lib.designer.withdraw, attack C9 of issue 16): a stray file a developer dropped into forms/, or a
Windows copy of a form, is withdrawn on every server, audited, and kept in the versions; a form bound by the
campaign or holding rows, and campaign.yaml, are refused with nothing written; a later publish brings it back."""

from __future__ import annotations

import pytest

from lib.auth.errors import Forbidden
from lib.core.statuses import SUBMITTED
from lib.designer import history, publish, withdraw
from lib.designer.errors import DesignError
from lib.forms import load_catalog, versions
from lib.forms.loader import CAMPAIGN_FILE
from lib.forms.store_source import StoreSource

from .conftest import CITY, PROVIDER, PROVINCE, served_text

TRIAL = "试验.yaml"


@pytest.fixture
def stray(store, catalog, forms):
    """A developer's trial form dropped into forms/ and published as a file version (then deleted from the folder)."""
    text = served_text(store, "forum.yaml").replace("id: forum\n", "id: trial\n", 1)
    (forms / TRIAL).write_text(text, encoding="utf-8")
    catalog.refresh()
    (forms / TRIAL).unlink()
    assert versions.latest(store, TRIAL) is not None and catalog.form("trial") is not None
    return text


def test_a_stray_form_is_withdrawn_on_every_server_audited_and_kept_in_the_versions(store, catalog, stray, forms, tmp_path):
    row = withdraw(store, catalog, PROVINCE, TRIAL, 1, "误放的试验表单")
    assert row.status == versions.WITHDRAWN and versions.number(row) == 2 and versions.latest(store, TRIAL) is None
    catalog.refresh()
    assert "trial" not in {f.id for f in catalog.forms()}
    other = load_catalog(StoreSource(store, forms, tmp_path / "server2"))  # a new server
    assert "trial" not in {f.id for f in other.forms()}
    assert any(e.action == "停用表单文件" and TRIAL in e.note for e in store.audit(versions.VERSIONS.form_id))
    back = publish(store, catalog, PROVINCE, TRIAL, stray, 2)  # a later publish brings it back, numbered on
    assert versions.number(back) == 3 and versions.latest(store, TRIAL).id == back.id


def test_a_windows_copy_of_a_form_is_withdrawn_though_the_form_has_rows(store, catalog):
    store.append("att1", {"remarks": "备注"}, actor=PROVIDER, status=SUBMITTED)
    # published before copies were kept on their server (tests/forms/test_sources_published.py): listed everywhere
    versions.publish_version(store, versions.DEVELOPER, "att1 - 副本.yaml", served_text(store, "att1.yaml"), form_id="att1",
                             based_on=0, origin="file")
    catalog.refresh()
    assert "att1 - 副本.yaml" in catalog.problems()
    withdraw(store, catalog, PROVINCE, "att1 - 副本.yaml", 1)
    catalog.refresh()
    assert "att1 - 副本.yaml" not in catalog.problems() and catalog.form("att1") is not None


@pytest.mark.parametrize(("file", "code"), [("att1.yaml", "design_withdraw_bound"), (CAMPAIGN_FILE, "design_withdraw_campaign")])
def test_a_bound_form_and_the_campaign_are_never_withdrawn(store, catalog, file, code):
    with pytest.raises(DesignError) as err:
        withdraw(store, catalog, PROVINCE, file, 1)
    assert err.value.code == code and len(history(store, file)) == 1 and versions.latest(store, file) is not None


def test_a_form_holding_rows_is_not_withdrawn_and_a_city_may_not(store, catalog, stray):
    with pytest.raises(Forbidden):
        withdraw(store, catalog, CITY, TRIAL, 1)
    store.append("trial", {}, actor=PROVIDER, status=SUBMITTED)
    with pytest.raises(DesignError) as err:
        withdraw(store, catalog, PROVINCE, TRIAL, 1)
    assert err.value.code == "design_withdraw_rows" and versions.latest(store, TRIAL) is not None


def test_a_withdrawal_from_an_older_version_is_stale(store, catalog, stray):
    publish(store, catalog, PROVINCE, TRIAL, stray.replace("title: ", "title: 新", 1), 1)
    with pytest.raises(DesignError) as err:
        withdraw(store, catalog, PROVINCE, TRIAL, 1)
    assert err.value.code == "design_stale" and versions.latest(store, TRIAL) is not None
