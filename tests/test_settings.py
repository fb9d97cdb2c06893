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
