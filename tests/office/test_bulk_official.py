"""An official export (lib.office.official) uploaded again: the filer's own export of last time updates its
rows, and in an empty store lands as the same rows (the previous year's export as this year's start)."""

from __future__ import annotations

import pytest

from lib.office import bulk
from lib.office.official import own_xlsx

from .bulk_files import PROJECTS, PROVIDER, SHIPPED, TODAY, fill, new_store, project


@pytest.fixture
def stores(tmp_path):
    made = [new_store(tmp_path / name, PROJECTS) for name in ("a", "b")]
    yield made
    for s in made:
        s.close()


def test_an_official_export_imports_as_updates_and_as_the_same_rows_elsewhere(stores):
    first, second = stores
    rows = [project(1, remarks="=1+1"), project(2, voucher_no="0012345", followup_services=[]), project(3, usage_status="停用",
                                                                                                   monthly_active_users=0, reason="企业停产")]
    found = bulk.plan_import(first, SHIPPED, PROJECTS, fill(PROJECTS, SHIPPED.campaign, rows), PROVIDER, draft=False, today=TODAY)
    made = bulk.apply_import(first, PROJECTS, found, PROVIDER).created
    export = own_xlsx(PROJECTS, SHIPPED.campaign, first.records(PROJECTS.id), filer=PROVIDER.org, made_on=TODAY)

    again = bulk.plan_import(first, SHIPPED, PROJECTS, export, PROVIDER, draft=False, today=TODAY)
    assert not again.problems, again.table().to_string()
    # the export read back is the rows as filed: each matched, none changed (nothing to write)
    assert sorted(p.record_id for p in again.unchanged) == sorted(r.id for r in made) and not again.creates and not again.updates

    elsewhere = bulk.plan_import(second, SHIPPED, PROJECTS, export, PROVIDER, draft=False, today=TODAY)
    assert elsewhere.ok and len(elsewhere.creates) == 3
    copied = bulk.apply_import(second, PROJECTS, elsewhere, PROVIDER).created
    by_voucher = {r.values["voucher_no"]: r.values for r in made}
    assert {r.values["voucher_no"]: r.values for r in copied} == by_voucher and "0012345" in by_voucher
