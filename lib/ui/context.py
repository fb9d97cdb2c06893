"""Process-wide resources (settings, form catalog, store), created once and shared by sessions.

Configuration is read here, at the edge, and passed down as plain values.
"""

from __future__ import annotations

import os

import streamlit as st

from lib.auth.accounts import AccountsFile
from lib.auth.sessions import SessionTokens
from lib.forms import FormCatalog, load_catalog
from lib.forms.columns import sheet_spec
from lib.settings import Settings, load_settings
from lib.store.base import Store


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
        opened = store()
        for form in changed:
            opened.ensure_sheet(sheet_spec(form))
    return cat


@st.cache_resource(show_spinner="正在打开数据存储……", on_release=lambda opened: opened.close())
def store() -> Store:
    """The process's store; on first start with an empty store, seeds the demo data. Cells a person
    edits in the workbook are imported only as the web form would take them (lib.external_edits)."""
    from lib.external_edits import FormEditRules
    from lib.store.factory import open_store

    cfg = settings()
    cat = _catalog()
    options = {"data_dir": cfg.data_dir, "workbook_name": cfg.workbook_name, "gsheets": _secrets().get("gsheets"),
               "edit_check": FormEditRules(cfg.forms_dir)}
    opened = open_store(cfg.store_backend, **options)
    for form in cat.forms():
        opened.ensure_sheet(sheet_spec(form))
    if cfg.demo_data and not any(opened.records(form.id) for form in cat.forms()):
        from lib.demo.campaign import seed_demo

        with st.spinner("首次启动，正在写入演示数据……"):
            seed_demo(lambda clock: open_store(cfg.store_backend, clock=clock, **options), cat, rows=cfg.demo_rows)
        opened.refresh()
    return opened


@st.cache_resource(show_spinner=False)
def accounts() -> AccountsFile:
    """The accounts file; with demo data on and no account yet, creates the demo accounts."""
    cfg = settings()
    file = AccountsFile(cfg.accounts_path)
    if cfg.demo_data and len(file) == 0:
        from lib.demo.accounts import seed_demo_accounts

        opened = store()
        with st.spinner("首次启动，正在创建演示账号……"):
            seed_demo_accounts(file, opened, _catalog())
    return file


@st.cache_resource(show_spinner=False)
def sessions() -> SessionTokens:
    """Session tokens signed with the secret in data_dir (created there on first use)."""
    return SessionTokens(settings().data_dir, accounts())
