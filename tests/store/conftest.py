"""Fixtures for the store tests: a store factory per backend, a pinned clock, a demo sheet."""

from __future__ import annotations

import pytest

from lib.store.factory import open_store
from tests.store.store_cases import SPEC, Clock


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def backend(request) -> str:
    """The backend under test: "local" unless a module parametrises it (the contract suite runs
    every backend: ``pytestmark = pytest.mark.parametrize("backend", BACKENDS, indirect=True)``)."""
    return getattr(request, "param", "local")


@pytest.fixture
def store_factory(backend, tmp_path, clock):
    """``make()`` opens the backend on one place (the same place every call, so a second call is a
    reopen). Stores are closed after the test."""
    opened, server = [], None
    if backend == "gsheets":
        # A local Sheets API server stands in for Google; gspread's real HTTP path talks to it.
        from tests.sheets.fake_sheets import FakeSheets, secrets_for_test_server

        server = FakeSheets(reads_per_window=100_000, writes_per_window=100_000).start()
        table = secrets_for_test_server(server)

    def make(**kw):
        if backend == "local":
            store = open_store("local", data_dir=tmp_path / "data", **{"background": False, "clock": clock, **kw})
        else:
            from lib.store.sheets.store import open_sheets_store

            # Every make() is another app process on the same spreadsheet, with its own outbox.
            store = open_sheets_store(table, tmp_path / f"app{len(opened)}", **{"clock": clock, **kw})
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()
    if server is not None:
        server.stop()


@pytest.fixture
def store(store_factory):
    s = store_factory()
    s.ensure_sheet(SPEC)
    return s
