import dataclasses
import datetime as dt
import re
from pathlib import Path

import pytest

from lib.settings import SETTINGS, SettingError, Settings, load_settings

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_lists_every_setting_with_its_default():
    rows = dict(re.findall(r"^\| `(\w+)` \| ([^|]+) \|", README.read_text(encoding="utf-8"), flags=re.M))
    for setting in SETTINGS:
        assert setting.name in rows, f"README lacks setting {setting.name}"
        shown = rows[setting.name].strip()
        assert (f"`{setting.default}`" == shown) if setting.default else shown.startswith("(empty"), setting.name


def test_defaults():
    s = load_settings({})
    assert s.store_backend == "local"
    assert s.workbook_path == Path("data") / "campaign.xlsx"
    assert s.demo_data is True and s.demo_rows == 2000 and s.campaign_today is None


def test_environment_wins_over_secrets():
    s = load_settings({"APP_DEMO_ROWS": "50"}, {"app": {"demo_rows": 10, "demo_data": False, "campaign_today": "2020-09-19"}})
    assert s.demo_rows == 50
    assert s.demo_data is False
    assert s.campaign_today == dt.date(2020, 9, 19)


@pytest.mark.parametrize("raw", ["abc", "2020-13-01"])
def test_bad_values_are_refused(raw):
    with pytest.raises(ValueError) as refused:  # a ValueError still, for callers that catch bad input so
        load_settings({"APP_CAMPAIGN_TODAY": raw})
    assert isinstance(refused.value, SettingError) and refused.value.code == "bad_setting"
    assert "campaign_today" in str(refused.value) and "APP_CAMPAIGN_TODAY" in str(refused.value)


def test_a_bad_value_in_secrets_names_the_secrets_table():
    with pytest.raises(SettingError) as refused:
        load_settings({}, {"app": {"auth_mode": "ldap"}})
    assert "auth_mode" in str(refused.value) and "secrets.toml" in str(refused.value)


def test_each_setting_is_declared_once_with_its_default():
    """``Settings()`` and SETTINGS come from one declaration: the typed defaults are the parsed texts."""
    assert Settings() == load_settings({})
    assert [s.name for s in SETTINGS] == [f.name for f in dataclasses.fields(Settings)]
    assert all(s.help for s in SETTINGS)
    toml_typed = {"demo_rows": 10, "upload_max_mb": 0.5, "campaign_today": dt.date(2020, 9, 19), "demo_data": False}
    s = load_settings({}, {"app": toml_typed})
    assert (s.demo_rows, s.upload_max_mb, s.campaign_today, s.demo_data) == (10, 0.5, dt.date(2020, 9, 19), False)


def test_upload_limits_default_and_build_the_workbook_limits():
    from lib.xlsx.bounds import WorkbookLimits

    limits = WorkbookLimits.from_settings(load_settings({"APP_UPLOAD_MAX_ROWS": "100", "APP_UPLOAD_MAX_MB": "0.5"}))
    assert (limits.max_rows, limits.max_columns, limits.max_cells) == (100, 50, 5000)
    assert limits.max_bytes == 512 * 1024 and limits.memory_bytes == 1024 << 20


@pytest.mark.parametrize("name, raw", [("upload_max_rows", "0"), ("upload_max_mb", "-1"), ("upload_read_seconds", "nan"),
                                       ("upload_max_unzipped_mb", "inf"), ("upload_max_columns", "1.5")])
def test_upload_limits_must_be_finite_and_above_zero(name, raw):
    with pytest.raises(SettingError) as refused:
        load_settings({f"APP_{name.upper()}": raw})
    assert refused.value.code == "bad_setting" and name in str(refused.value)


@pytest.mark.parametrize("name, raw", [
    ("session_hours", "nan"), ("session_hours", "inf"), ("session_hours", "1e308"), ("session_hours", "0"), ("session_hours", "-8"),
    ("lockout_attempts", "0"), ("lockout_attempts", "-1"), ("lockout_minutes", "-15"), ("lockout_minutes", "9" * 25),
    ("demo_rows", "-5"), ("demo_rows", "9" * 30), ("upload_max_rows", "9" * 400), ("upload_max_columns", "20000"),
    ("upload_read_seconds", "1e9"),
])
def test_numbers_out_of_their_range_are_refused_naming_the_setting(name, raw):
    """A session that never lasts or overflows a timedelta, a lockout that never holds, a 400-digit limit
    (once an OverflowError): each a SettingError when the settings are read, not a failure at sign-in."""
    with pytest.raises(SettingError) as refused:
        load_settings({f"APP_{name.upper()}": raw})
    assert refused.value.code == "bad_setting" and name in str(refused.value)


def test_numbers_at_the_edges_of_their_range_are_kept():
    s = load_settings({"APP_SESSION_HOURS": "720", "APP_LOCKOUT_ATTEMPTS": "1", "APP_LOCKOUT_MINUTES": "10080",
                       "APP_DEMO_ROWS": "0", "APP_UPLOAD_MAX_ROWS": "1048576", "APP_UPLOAD_MAX_COLUMNS": "16384"})
    assert (s.session_hours, s.lockout_attempts, s.lockout_minutes, s.demo_rows) == (720, 1, 10080, 0)
    assert (s.upload_max_rows, s.upload_max_columns) == (1_048_576, 16_384)


@pytest.mark.parametrize("name", ["data_dir", "store_backend", "upload_max_rows", "campaign_today", "session_hours", "forms_dir"])
def test_a_toml_boolean_is_only_a_value_of_a_yes_no_setting(name):
    with pytest.raises(SettingError) as refused:
        load_settings({}, {"app": {name: True}})
    assert refused.value.code == "bad_setting" and name in str(refused.value) and "secrets.toml" in str(refused.value)
    assert load_settings({}, {"app": {"demo_data": False}}).demo_data is False


@pytest.mark.parametrize("app", ["x", ["a"], 5])
def test_an_app_entry_that_is_not_a_table_is_refused(app):
    with pytest.raises(SettingError) as refused:
        load_settings({}, {"app": app})
    assert refused.value.code == "bad_setting" and "[app]" in str(refused.value)


@pytest.mark.parametrize("value", [["a"], {"x": 1}])
def test_a_toml_list_or_table_is_no_value_of_a_text_setting(value):
    with pytest.raises(SettingError) as refused:
        load_settings({}, {"app": {"oidc_provider": value}})
    assert "oidc_provider" in str(refused.value)


@pytest.mark.parametrize("name, raw", [
    ("data_dir", "a\x01b"), ("data_dir", "a\x00b"), ("data_dir", "a\nb"), ("data_dir", ""), ("forms_dir", "f\x7forms"),
    ("accounts_file", "acc\u202e.json"), ("oidc_claim", ""), ("oidc_claim", "em\x00ail"), ("oidc_provider", "a\tb"),
    ("workbook_name", ""), ("workbook_name", "."), ("workbook_name", "sub/x.xlsx"), ("workbook_name", "../../tmp/x.xlsx"),
    ("workbook_name", "x.csv"), ("workbook_name", ".hidden.xlsx"), ("workbook_name", "a\\b.xlsx"), ("workbook_name", "a\x00b.xlsx"),
    ("store_backend", ""), ("store_backend", "lo\x01cal"),
])
def test_paths_and_names_with_control_characters_or_directories_are_refused(name, raw, tmp_path, monkeypatch):
    """A data_dir with a control character once made a folder "a\\x01b" in the working folder; a
    workbook name with a "/" or "." ended in a raw FileNotFoundError on the page. Refused when the
    settings are read, in Chinese, naming the setting — and nothing is created."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SettingError) as refused:
        load_settings({f"APP_{name.upper()}": raw})
    assert refused.value.code == "bad_setting" and name in str(refused.value)
    assert list(tmp_path.iterdir()) == []


def test_names_are_kept_as_given_but_a_backend_is_read_without_case_or_blanks():
    s = load_settings({"APP_WORKBOOK_NAME": "台账 2.XLSX", "APP_STORE_BACKEND": " GSheets ", "APP_DATA_DIR": "数据 目录"})
    assert (s.workbook_name, s.store_backend, s.data_dir) == ("台账 2.XLSX", "gsheets", Path("数据 目录"))
