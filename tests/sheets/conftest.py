"""Fixtures for the Google Sheets backend tests: a local Sheets API server, a real service-account
key (generated here, verified by the server's token endpoint) and a store factory."""

from __future__ import annotations

from pathlib import Path

import pytest

from lib.store.sheets.store import SheetsStore, open_sheets_store
from tests.sheets.fake_sheets import FakeSheets

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

SERVICE_EMAIL = "form-app@test-project.iam.gserviceaccount.com"

#: Fast retry settings so fault tests take seconds, not minutes.
FAST = {
    "retry_attempts": 3,
    "backoff_base_seconds": 0.05,
    "backoff_max_seconds": 0.2,
    "request_timeout_seconds": 5,
    "offline_probe_seconds": 0.3,
    "submit_wait_seconds": 10,
}


@pytest.fixture(scope="session")
def key_pair() -> tuple[str, str]:
    """A fresh RSA key: (private PEM for the service-account JSON, public PEM for the server)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def service_account_info(private_pem: str, token_uri: str) -> dict[str, str]:
    """The fields of a service-account JSON key, as pasted into secrets.toml."""
    return {
        "type": "service_account",
        "project_id": "test-project",
        "private_key_id": "0123456789abcdef",
        "private_key": private_pem,
        "client_email": SERVICE_EMAIL,
        "client_id": "100000000000000000000",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
    }


@pytest.fixture
def server(key_pair):
    fake = FakeSheets().start()
    fake.register_service_account(SERVICE_EMAIL, key_pair[1])
    yield fake
    fake.stop()


@pytest.fixture
def sheet_key(server) -> str:
    return server.create_spreadsheet("住房保障检查", share_with=SERVICE_EMAIL)


@pytest.fixture
def secrets_for(server, sheet_key, key_pair):
    """``secrets_for(**overrides)``: the [gsheets] table a deployment would have, aimed at the server."""

    def make(**overrides) -> dict:
        return {"spreadsheet_key": sheet_key, "service_account": service_account_info(key_pair[0], server.token_uri),
                "api_base_url": server.url, **FAST, **overrides}

    return make


@pytest.fixture
def open_store(secrets_for, tmp_path):
    """``open_store(name="a", **overrides)`` opens a store with its own data dir; closed after the test."""
    opened: list[SheetsStore] = []

    def make(name: str = "app", *, clock=None, cache_clock=None, **overrides) -> SheetsStore:
        kw = {k: v for k, v in (("clock", clock), ("cache_clock", cache_clock)) if v}
        store = open_sheets_store(secrets_for(**overrides), tmp_path / name, **kw)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


# --- the store contract (tests/store/test_contract.py) run against this backend -----------------


#: The contract checks behaviour, not quota: let requests through as fast as they come.
UNTHROTTLED = {"reads_per_minute": 100_000, "writes_per_minute": 100_000}


@pytest.fixture
def clock():
    from tests.store.store_cases import Clock

    return Clock()


@pytest.fixture
def store_factory(server, secrets_for, tmp_path, clock):
    """Same shape as tests/store/conftest.py's: every ``make()`` opens a new app process's view
    of the same spreadsheet (its own outbox directory)."""
    server.reads_per_window = server.writes_per_window = 100_000
    opened: list[SheetsStore] = []

    def make(**kw):
        store = open_sheets_store(secrets_for(**UNTHROTTLED), tmp_path / f"app{len(opened)}", **{"clock": clock, **kw})
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(store_factory):
    from store_cases import SPEC

    s = store_factory()
    s.ensure_sheet(SPEC)
    return s
