"""A store seeded with the shipped forms (``StoreSource``: version 1 of each file), a catalog on it, accounts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lib.core.records import Actor
from lib.forms import load_catalog
from lib.forms.columns import sheet_spec
from lib.forms.store_source import StoreSource
from lib.store.factory import open_store

ROOT = Path(__file__).resolve().parents[2]
PROVINCE = Actor("province_admin", "province", "省工业和信息化厅", "")
ADMIN = Actor("admin", "admin", "系统管理", "")
PROVIDER = Actor("provider_1", "provider", "云服务商甲", "广州")
CITY = Actor("city_gz", "city", "广州市工业和信息化局", "广州")


@pytest.fixture
def forms(tmp_path) -> Path:
    folder = tmp_path / "forms"
    shutil.copytree(ROOT / "forms", folder)
    return folder


@pytest.fixture
def store(tmp_path):
    opened = open_store("local", data_dir=tmp_path / "data", background=False)
    yield opened
    opened.close()


@pytest.fixture
def catalog(store, forms, tmp_path):
    """The catalog a server of this store serves (the first refresh seeds the store from ``forms``), with
    every form's sheet declared as the app declares it."""
    made = load_catalog(StoreSource(store, forms, tmp_path / "server1"))
    for form in made.forms():
        store.ensure_sheet(sheet_spec(form))
    return made


def served_text(store, file: str) -> str:
    from lib.forms import versions

    return versions.latest(store, file).values["text"]
