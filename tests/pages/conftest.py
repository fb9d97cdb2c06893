"""Page tests: one AppTest per page, against a real local store in a temp folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st

from lib.forms import load_catalog
from lib.store.factory import open_store

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app_env(tmp_path, monkeypatch):
    """Point the app's settings at an empty store in tmp_path; reset process-wide caches."""
    data = tmp_path / "data"
    monkeypatch.setenv("APP_DATA_DIR", str(data))
    monkeypatch.setenv("APP_FORMS_DIR", str(ROOT / "forms"))
    monkeypatch.setenv("APP_DEMO_DATA", "false")
    st.cache_resource.clear()
    yield data
    st.cache_resource.clear()  # closes the store the page opened (on_release)


@pytest.fixture
def catalog():
    return load_catalog(ROOT / "forms")


@pytest.fixture
def reopen(app_env):
    """Open the test's store directory as a second, independent store (another 'process')."""
    opened = []

    def _open():
        store = open_store("local", data_dir=app_env)
        opened.append(store)
        return store

    yield _open
    for store in opened:
        store.close()
