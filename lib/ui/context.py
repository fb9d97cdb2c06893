"""Process-wide resources (settings, form catalog, store, accounts), created once and shared by sessions.

Configuration is read here, at the edge, and passed down as plain values. What fills an empty store
and an empty accounts file on first start (with setting ``demo_data`` on) is handed in by the
composition root, app.py (``set_first_start``), so this layer never imports the demo generator.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from lib.auth.accounts import AccountsFile
from lib.auth.sessions import SessionTokens
from lib.forms import FormCatalog, load_catalog
from lib.forms.columns import sheet_spec
from lib.settings import Settings, load_settings
from lib.store.base import Store, StoreError


@dataclass(frozen=True)
class FirstStart:
    """How the first start fills an empty store and an empty accounts file.

    ``rows(open_with_clock, catalog, rows)`` writes ``rows`` rows through stores it opens with
    ``open_with_clock(clock)`` (a clock saying when each row was filed); ``accounts(file, store,
    catalog)`` adds the accounts the stored rows need.
    """

    rows: Callable[[Callable[[Any], Store], FormCatalog, int], object]
    accounts: Callable[[AccountsFile, Store, FormCatalog], object]


_first_start: FirstStart | None = None  # set by app.py before any page run asks for the store


def set_first_start(first_start: FirstStart | None) -> None:
    """Hand in what fills an empty store and accounts file (None: leave them empty)."""
    global _first_start
    _first_start = first_start


def _plain(value):
    """Secrets as plain dicts all the way down (the Sheets backend takes nested tables)."""
    return {k: _plain(v) for k, v in value.items()} if hasattr(value, "items") else value


@st.cache_resource(show_spinner=False)
def _secrets() -> dict:
    try:
        return _plain(st.secrets)
    except FileNotFoundError:  # no secrets.toml: the embedded defaults apply
        return {}


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    return load_settings(os.environ, _secrets())


@st.cache_resource(show_spinner=False)
def _catalog() -> FormCatalog:
    return load_catalog(settings().forms_dir)


def catalog() -> FormCatalog:
    """The form catalog, re-read where a file changed since the last page run (one stat per file).

    A form with a new valid version gets its sheet brought up to date at once (a new field is a
    new column), so rows filled with it keep every answer in the workbook.
    """
    cat = _catalog()
    changed = cat.refresh()
    if changed:
        try:
            opened = store()
        except StoreError:  # not open now: opening it later ensures every form's sheet
            return cat
        for form in changed:
            opened.ensure_sheet(sheet_spec(form))
    return cat


@st.cache_resource(show_spinner="正在打开数据存储……", on_release=lambda opened: opened.close())
def store() -> Store:
    """The process's store; on first start with an empty store and ``demo_data`` on, fills it as
    ``set_first_start`` said. Cells a person edits in the workbook are imported only as the web form
    would take them (lib.external_edits)."""
    from lib.external_edits import FormEditRules
    from lib.store.factory import open_store

    cfg = settings()
    cat = _catalog()
    options = {"data_dir": cfg.data_dir, "workbook_name": cfg.workbook_name, "gsheets": _secrets().get("gsheets"),
               "edit_check": FormEditRules(cfg.forms_dir)}
    opened = open_store(cfg.store_backend, **options)
    try:
        for form in cat.forms():
            opened.ensure_sheet(sheet_spec(form))
        seed = _first_start
        if seed and cfg.demo_data and not any(opened.records(form.id) for form in cat.forms()):
            with st.spinner("首次启动，正在写入演示数据……"):
                seed.rows(lambda clock: open_store(cfg.store_backend, clock=clock, **options), cat, cfg.demo_rows)
            opened.refresh()
    except BaseException:  # not cached, so never released: close it here (the next run opens it again)
        opened.close()
        raise
    return opened


@st.cache_resource(show_spinner=False)
def accounts() -> AccountsFile:
    """The accounts file; with ``demo_data`` on and no account yet, adds accounts as ``set_first_start`` said."""
    cfg = settings()
    file = AccountsFile(cfg.accounts_path)
    seed = _first_start
    if seed and cfg.demo_data and len(file) == 0:
        opened = store()
        with st.spinner("首次启动，正在创建演示账号……"):
            seed.accounts(file, opened, _catalog())
    return file


@st.cache_resource(show_spinner=False)
def sessions() -> SessionTokens:
    """Session tokens signed with the secret in data_dir (created there on first use)."""
    return SessionTokens(settings().data_dir, accounts())
