"""Configuration: secrets select the backend, [gsheets] holds the sheet and the service account."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

from lib.settings import SETTINGS, load_settings
from lib.store.base import Unavailable
from lib.store.sheets.client import SheetsConfig
from lib.store.sheets.store import open_sheets_store

pytestmark = pytest.mark.timeout(30)
EXAMPLE = Path(__file__).resolve().parents[2] / ".streamlit" / "secrets.toml.example"


def test_example_shows_every_key():
    text = EXAMPLE.read_text(encoding="utf-8")
    example = tomllib.loads(text)
    assert set(example["app"]) == {s.name for s in SETTINGS}
    fields = {f.name for f in dataclasses.fields(SheetsConfig)}
    assert set(example["gsheets"]) | {"api_base_url"} == fields
    assert "# api_base_url" in text  # test-only, shown commented out
    assert {"private_key", "client_email", "token_uri"} <= set(example["gsheets"]["service_account"])
    config = SheetsConfig.from_table(example["gsheets"])
    assert (config.cache_seconds, config.writes_per_minute, config.retry_attempts) == (10.0, 60, 5)


def test_secrets_select_the_backend():
    secrets = {"app": {"store_backend": "gsheets"}, "gsheets": {"spreadsheet_key": "k"}}
    assert load_settings({}, secrets).store_backend == "gsheets"
    assert load_settings({"APP_STORE_BACKEND": "local"}, secrets).store_backend == "local"


@pytest.mark.parametrize(("table", "named"), [
    ({}, "spreadsheet_key"),
    ({"spreadsheet_key": "k", "cache_second": 5}, "cache_second"),
    ({"spreadsheet_key": "k"}, "service_account"),
    ({"spreadsheet_key": "k", "service_account": {"type": "service_account"}}, "service_account"),
])
def test_incomplete_settings_are_named(tmp_path, table, named):
    with pytest.raises(Unavailable) as err:
        open_sheets_store(table, tmp_path)
    assert err.value.code == "sheets_config" and named in str(err.value)


def test_wrong_key_and_unshared_sheet_say_what_to_do(server, secrets_for, tmp_path):
    with pytest.raises(Unavailable) as err:
        open_sheets_store(secrets_for(spreadsheet_key="nope"), tmp_path)
    assert err.value.code == "sheets_not_found" and "nope" in str(err.value)
    private = server.create_spreadsheet("别人的表格", share_with="someone@example.com")
    email = secrets_for()["service_account"]["client_email"]
    with pytest.raises(Unavailable) as err:
        open_sheets_store(secrets_for(spreadsheet_key=private), tmp_path)
    assert err.value.code == "sheets_no_access" and email in str(err.value)  # the account to share with


def test_bad_private_key_is_refused_by_the_token_endpoint(server, secrets_for, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    table = secrets_for()
    table["service_account"] = {**table["service_account"], "private_key": other}
    with pytest.raises(Unavailable) as err:
        open_sheets_store(table, tmp_path)
    assert err.value.code == "sheets_auth"
