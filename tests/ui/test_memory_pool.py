"""The app's process allocates Arrow memory from the C library, so a frame it drops gives its memory back
(pyarrow's default mimalloc pool kept the server's peak: bench/sessions_bench.py, issue 17)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
import streamlit as st

import lib.store.factory
from lib.ui import context

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def arrow_pool():
    """pyarrow's own default pool (mimalloc) in force before the test, and whatever was in force after it."""
    original = pa.default_memory_pool()
    try:
        pa.set_memory_pool(pa.mimalloc_memory_pool())
    except NotImplementedError:  # a pyarrow built without mimalloc: the app keeps the system allocator anyway
        pytest.skip("pyarrow without mimalloc")
    yield
    pa.set_memory_pool(original)


def test_opening_the_app_store_moves_arrow_to_the_system_allocator(arrow_pool, tmp_path, monkeypatch):
    monkeypatch.setenv("APP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("APP_FORMS_DIR", str(ROOT / "forms"))
    monkeypatch.setenv("APP_DEMO_DATA", "false")
    real = lib.store.factory.open_store
    monkeypatch.setattr(lib.store.factory, "open_store", lambda backend="local", **options: real(backend, **({"background": False} | options)))
    st.cache_resource.clear()
    try:
        assert pa.default_memory_pool().backend_name == "mimalloc"
        context.store()
        assert pa.default_memory_pool().backend_name == "system"
    finally:
        st.cache_resource.clear()  # closes the store (on_release)
