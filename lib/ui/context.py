"""Process-wide resources (settings, form catalog, store), created once and shared by sessions.

Configuration is read here, at the edge, and passed down as plain values.
"""

from __future__ import annotations

import os

import streamlit as st

from lib.forms import FormCatalog, load_catalog
from lib.forms.columns import sheet_spec
from lib.settings import Settings, load_settings
from lib.store.base import Store


def _secrets() -> dict:
    try:
        return {k: dict(v) if hasattr(v, "items") else v for k, v in st.secrets.items()}
    except FileNotFoundError:  # no secrets.toml: the embedded defaults apply
        return {}


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    return load_settings(os.environ, _secrets())


@st.cache_resource(show_spinner=False)
def _catalog() -> FormCatalog:
    return load_catalog(settings().forms_dir)


def catalog() -> FormCatalog:
    """The form catalog, re-read where a file changed since the last page run (one stat per file)."""
    cat = _catalog()
    cat.refresh()
    return cat


@st.cache_resource(show_spinner="正在打开数据存储……")
def store() -> Store:
    """The process's store; on first start with an empty store, seeds the demo data."""
    from lib.store.factory import open_store

    cfg = settings()
    opened = open_store(cfg.store_backend, data_dir=cfg.data_dir, workbook_name=cfg.workbook_name)
    cat = _catalog()
    for form in cat.forms():
        opened.ensure_sheet(sheet_spec(form))
    if cfg.demo_data and not any(opened.records(form.id) for form in cat.forms()):
        from lib.demo.seed import seed_store

        with st.spinner("首次启动，正在写入演示数据……"):
            seed_store(opened, cat, rows=cfg.demo_rows)
    return opened
