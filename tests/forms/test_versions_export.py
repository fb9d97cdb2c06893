"""``python -m lib.forms export DIR``: every version the app serves written back to files, exactly as
stored, from the store the settings name; a failure writes nothing (issue 16, outcome 1: how to export
the store's versions back to files)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import lib.forms.__main__ as cli
from lib.core.records import Actor
from lib.forms import load_catalog, versions
from lib.forms.store_source import StoreSource
from lib.forms.versions import publish_version
from lib.store.factory import open_store

ROOT = Path(__file__).resolve().parents[2]
PROVINCE = Actor("province_admin", "province", "省厅", "")


@pytest.fixture
def data(tmp_path, monkeypatch) -> Path:
    """A store seeded from a copy of forms/, with a designer's version of one form on top."""
    forms = tmp_path / "forms"
    shutil.copytree(ROOT / "forms", forms)
    folder = tmp_path / "data"
    monkeypatch.setenv("APP_DATA_DIR", str(folder))
    monkeypatch.setenv("APP_STORE_BACKEND", "local")
    store = open_store("local", data_dir=folder, background=False)
    try:
        load_catalog(StoreSource(store, forms, folder))
        text = versions.latest(store, "att1.yaml").values["text"].replace("label: 服务商名称\n", "label: 服务商（设计器）\n")
        publish_version(store, PROVINCE, "att1.yaml", text + "# 结尾的注释保留\n", form_id="att1", based_on=1, origin="designer")
    finally:
        store.close()
    return folder


def test_export_writes_every_served_version_as_stored(data, tmp_path, capsys):
    out = tmp_path / "exported"
    out.mkdir()
    (out / "mine.yaml").write_text("x: 1\n", encoding="utf-8")
    assert cli.main(["export", str(out), "--secrets", str(tmp_path / "none.toml")]) == 0
    store = open_store("local", data_dir=data, background=False)
    try:
        served = versions.served(versions.versions(store))
    finally:
        store.close()
    assert sorted(p.name for p in out.glob("*.yaml")) == sorted([*served, "mine.yaml"])
    for file, row in served.items():
        assert (out / file).read_bytes() == row.values["text"].encode("utf-8")
    assert "服务商（设计器）" in (out / "att1.yaml").read_text(encoding="utf-8")
    assert (out / "mine.yaml").read_text(encoding="utf-8") == "x: 1\n"  # not the store's: left alone
    assert not list(out.glob(".*.tmp"))
    said = capsys.readouterr().out
    assert "att1.yaml：第 2 版（已更新）" in said and "campaign.yaml：第 1 版（已更新）" in said
    assert cli.main(["export", str(out), "--secrets", str(tmp_path / "none.toml")]) == 0
    assert "0 个有变化" in capsys.readouterr().out
    assert load_catalog(out).form("att1") is not None


def test_exported_into_forms_dir_nothing_is_published_again(data, tmp_path):
    forms = tmp_path / "forms"
    assert cli.main(["export", str(forms), "--secrets", str(tmp_path / "none.toml")]) == 0
    store = open_store("local", data_dir=data, background=False)
    try:
        before = len(versions.versions(store))
        catalog = load_catalog(StoreSource(store, forms, data))
        assert len(versions.versions(store)) == before and catalog.problems() == {}
    finally:
        store.close()


def test_an_empty_store_or_an_unreadable_secrets_file_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("APP_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("APP_STORE_BACKEND", "local")
    out = tmp_path / "out"
    assert cli.main(["export", str(out), "--secrets", str(tmp_path / "none.toml")]) == 2
    assert "还没有已发布的表单定义" in capsys.readouterr().err and not out.exists()
    bad = tmp_path / "secrets.toml"
    bad.write_text("[app\n", encoding="utf-8")
    assert cli.main(["export", str(out), "--secrets", str(bad)]) == 2
    assert "无法读取" in capsys.readouterr().err and not out.exists()


def test_a_failed_write_leaves_the_folder_as_it_was(data, tmp_path, monkeypatch, capsys):
    out = tmp_path / "exported"
    out.mkdir()
    (out / "att1.yaml").write_text("old\n", encoding="utf-8")
    real = cli.os.fsync
    calls = []

    def fail_third(fd):
        calls.append(fd)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real(fd)

    monkeypatch.setattr(cli.os, "fsync", fail_third)
    assert cli.main(["export", str(out), "--secrets", str(tmp_path / "none.toml")]) == 2
    assert "无法写入目录" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["att1.yaml"] and (out / "att1.yaml").read_text(encoding="utf-8") == "old\n"


def test_the_command_runs_as_a_module(data, tmp_path):
    out = tmp_path / "exported"
    done = subprocess.run([sys.executable, "-m", "lib.forms", "export", str(out), "--secrets", str(tmp_path / "none.toml")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (out / "campaign.yaml").is_file() and "完成" in done.stdout


def test_a_target_that_cannot_be_replaced_leaves_every_file_as_it_was_and_no_temporary_file(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "a.yaml").write_text("旧 a\n", encoding="utf-8")
    (folder / "b.yaml").mkdir()  # on Windows: a file open in an editor, or read-only
    with pytest.raises(OSError):
        cli.write_files(folder, {"a.yaml": (2, "新 a\n"), "b.yaml": (2, "新 b\n")})
    assert (folder / "a.yaml").read_text(encoding="utf-8") == "旧 a\n"
    assert sorted(p.name for p in folder.iterdir()) == ["a.yaml", "b.yaml"]


def test_a_rename_failing_halfway_puts_back_the_files_replaced_before_it(tmp_path, monkeypatch):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "a.yaml").write_text("旧 a\n", encoding="utf-8")
    real = cli.os.replace

    def refusing(src, dst):
        if Path(dst).name == "c.yaml":
            raise PermissionError(13, "拒绝访问", str(dst))
        return real(src, dst)

    monkeypatch.setattr(cli.os, "replace", refusing)
    with pytest.raises(OSError):
        cli.write_files(folder, {"a.yaml": (2, "新 a\n"), "b.yaml": (1, "新 b\n"), "c.yaml": (1, "新 c\n")})
    assert (folder / "a.yaml").read_text(encoding="utf-8") == "旧 a\n"
    assert sorted(p.name for p in folder.iterdir()) == ["a.yaml"]


@pytest.mark.parametrize("name", ["con.yaml", "AUX.yaml", "nul.forms.yaml", "com1.yaml"])
def test_a_windows_device_name_is_no_version_name(name):
    with pytest.raises(versions.VersionError) as err:
        versions.check_file_name(name)
    assert err.value.code == "version_file_name"
