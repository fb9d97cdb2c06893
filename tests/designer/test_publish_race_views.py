"""A publish is judged against what the store serves when it is written, not against the publisher's older view
(attack D9): one server drops a field while another, on a view from before, binds the campaign to it."""

from __future__ import annotations

import pytest

from lib.designer import DesignError, publish
from lib.forms import load_catalog, versions
from lib.forms.store_source import StoreSource

from .conftest import PROVINCE, served_text


def test_a_binding_to_a_field_dropped_meanwhile_is_refused(store, catalog, forms, tmp_path):
    other_view = load_catalog(StoreSource(store, forms, tmp_path / "server_b"))  # read before the first publish
    att1 = served_text(store, "att1.yaml")
    start = att1.index("      - key: remarks\n")
    end = att1.find("      - key:", start + 10)
    publish(store, catalog, PROVINCE, "att1.yaml", att1[:start] + (att1[end:] if end > 0 else ""),
            versions.last_number(store, "att1.yaml"), "去掉备注", confirmed=True)
    campaign = served_text(store, "campaign.yaml")
    assert "      reason: reason\n" in campaign
    with pytest.raises(DesignError) as err:
        publish(store, other_view, PROVINCE, "campaign.yaml", campaign.replace("      reason: reason\n", "      reason: remarks\n", 1),
                versions.last_number(store, "campaign.yaml"), "绑定备注", confirmed=True)
    assert err.value.code == "design_invalid"
    fresh = load_catalog(StoreSource(store, forms, tmp_path / "server_c"))
    assert fresh.bindings.of("projects")  # every server's bindings still fit
