"""Page tests: one AppTest per page, against a real local store in a temp folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st

import lib.store.factory
from lib.forms import load_catalog
from lib.store.factory import open_store

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app_env(tmp_path, monkeypatch):
    """Point the app's settings at an empty store in tmp_path; reset process-wide caches.

    The app's local store is opened without its background workbook writer: no page test reads the
    workbook (tests/store covers the writer), and starting that process for every test and waiting
    for its last write at teardown was most of the page tests' time."""
    data = tmp_path / "data"
    monkeypatch.setenv("APP_DATA_DIR", str(data))
    monkeypatch.setenv("APP_FORMS_DIR", str(ROOT / "forms"))
    monkeypatch.setenv("APP_DEMO_DATA", "false")
    real = lib.store.factory.open_store

    def without_workbook_writer(backend: str = "local", **options):
        return real(backend, **({"background": False} | options if backend == "local" else options))

    monkeypatch.setattr(lib.store.factory, "open_store", without_workbook_writer)
    st.cache_resource.clear()
    yield data
    st.cache_resource.clear()  # closes the store the page opened (on_release)


@pytest.fixture
def catalog():
    return load_catalog(ROOT / "forms")


@pytest.fixture
def reopen(app_env):
    """Open the test's store directory as a second, independent store (another 'process'), without
    a workbook writer, as the app's in these tests."""
    opened = []

    def _open():
        store = open_store("local", data_dir=app_env, background=False)
        opened.append(store)
        return store

    yield _open
    for store in opened:
        store.close()


def sign_in(at, actor):
    """Sign ``actor`` in for an AppTest (the page tests run pages without app.py's sign-in page):
    its account in the test's accounts file (added without a password if missing) and a session
    token in the AppTest's session_state, exactly what signing in leaves there."""
    import datetime as dt
    import os

    from lib.auth.accounts import Account, AccountsFile
    from lib.auth.sessions import SessionTokens
    from lib.settings import load_settings
    from lib.ui import state

    cfg = load_settings(os.environ)
    accounts = AccountsFile(cfg.accounts_path)
    if accounts.get(actor.account) is None:
        accounts.add_many([Account(actor.account, actor.role, org=actor.org, city=actor.city)])
    at.session_state[state.SESSION] = SessionTokens(cfg.data_dir, accounts).issue(actor.account, now=dt.datetime.now(), hours=1)
    return at


def unescaped(markdown: str) -> str:
    """What a person reads of Markdown text in which the page escaped what someone typed
    (lib.ui.record_view.plain_text): AppTest gives the Markdown source."""
    import re

    return re.sub(r"\\(.)", r"\1", markdown)
