"""Shared fixtures for the rectification tests: a real local store in tmp, the two campaigns, accounts of
each role, and ``file_row`` to put a bound form's row in the store by its MEANINGS (the campaign's field
keys and choice words are looked up in its bindings, so the same test runs on either campaign)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from lib.core.records import Actor, Record
from lib.core.statuses import SUBMITTED
from lib.forms import load_catalog
from lib.forms.columns import sheet_spec
from lib.forms.loader import FormCatalog
from lib.store.factory import open_store

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = load_catalog(ROOT / "forms")
OTHER = load_catalog(ROOT / "tests" / "campaigns" / "other")

PROVINCE = Actor("province", "province", "省厅")
ADMIN = Actor("admin", "admin", "系统运维组")
CITY_GZ = Actor("city_gz", "city", "广州市工业和信息化局", "广州")
CITY_FS = Actor("city_fs", "city", "佛山市工业和信息化局", "佛山")
PROVIDER = Actor("provider_a", "provider", "广州云智科技有限公司", "广州")
OTHER_PROVIDER = Actor("provider_b", "provider", "佛山数联信息技术有限公司", "佛山")
LEAD_UNIT = Actor("lead_a", "lead_unit", "广州智造装备有限公司", "广州")
INSPECTOR = Actor("inspector_1", "inspector", "省工业和信息化厅", "广州")
#: Who files each kind of form in these tests (its binding's ``filed_by``).
FILERS = {"provider": PROVIDER, "lead_unit": LEAD_UNIT, "city": CITY_GZ, "inspector": INSPECTOR, "province": PROVINCE}


def rectification_day(catalog: FormCatalog = SHIPPED) -> dt.date:
    """The first day of the campaign's last phase (全面整改): when items are generated."""
    return catalog.campaign.phases[-1].start


@pytest.fixture
def store(tmp_path):
    s = open_store("local", data_dir=tmp_path / "data", background=False)
    yield s
    s.close()


def file_row(store, kind: str, meanings: dict[str, Any], *, catalog: FormCatalog = SHIPPED, status: str = SUBMITTED,
             actor: Actor | None = None) -> Record:
    """A row of the form bound as ``kind``, written straight to the store with ``status``. ``meanings``:
    meaning -> value; a choice meaning whose words the binding declares is given as its meaning
    (``{"conclusion": "fail"}``) and stored as the campaign's word. Unbound meanings are refused (KeyError)."""
    binding = catalog.bindings.of(kind)
    store.ensure_sheet(sheet_spec(catalog.form(binding.form)))
    values = {}
    for meaning, value in meanings.items():
        key = binding.key(meaning)
        if key is None:
            raise KeyError(f"{kind} binds no {meaning}")
        values[key] = binding.word(meaning, value) if binding.words(meaning) and value is not None else value
    return store.append(binding.form, values, actor=actor or FILERS[binding.filed_by], status=status)


def table_answer(catalog: FormCatalog, kind: str, meaning: str, *texts: str) -> list[dict[str, Any]]:
    """A table answer of the field bound to ``meaning``: one row per text, in its last sub-field (a
    description), its other sub-fields given their first choice when they offer some."""
    binding = catalog.bindings.of(kind)
    spec = catalog.form(binding.form).field(binding.key(meaning))
    subs = list(spec.fields or ())
    rows = []
    for text in texts:
        row = {s.key: s.choices[0] for s in subs[:-1] if s.choices}
        row[subs[-1].key] = text
        rows.append(row)
    return rows
