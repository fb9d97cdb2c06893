"""Files readable only by the app: the data folder is 0700 and every file the local store makes
in it (log, workbook, locks, stamp, backups of edited workbooks) is 0600, whatever the umask."""

from __future__ import annotations

import os
import stat

import openpyxl
import pytest

from lib.core.files import private_dir, private_opener
from lib.store.local.store import LocalStore
from tests.store.store_cases import CITY, SPEC


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(params=[0o000, 0o022], ids=["umask000", "umask022"])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


@pytest.mark.parametrize("background", [False, True], ids=["in-process", "background-writer"])
def test_every_store_file_is_0600_in_a_0700_folder(tmp_path, umask, background):
    data = tmp_path / "data"
    with LocalStore(data, background=background, debounce=0.05) as store:
        store.ensure_sheet(SPEC)
        rec = store.append("site_check", {"remark": "原文"}, actor=CITY, status="已提交")
        assert store.flush_workbook(15)
        first = os.stat(store.workbook_path).st_ino
        wb = openpyxl.load_workbook(store.workbook_path)  # a person's save: the file is theirs now
        wb["现场检查记录"]["R2"] = "外部修改"  # 备注 of the first row
        wb.save(store.workbook_path)
        os.chmod(store.workbook_path, 0o644)
        store.append("site_check", {"remark": "再一行"}, actor=CITY, status="已提交")
        assert store.flush_workbook(15)
        assert store.get("site_check", rec.id).values["remark"] == "外部修改"
        assert os.stat(store.workbook_path).st_ino != first  # replaced through a temp file + os.replace
    names = {p.name for p in data.iterdir()}
    assert {"campaign.xlsx", "campaign.log.jsonl", ".campaign.log.lock", ".campaign.xlsx.lock",
            ".campaign.xlsx.stamp.json"} <= names
    assert any(n.startswith("campaign.external-") for n in names)  # the backup of the person's file
    assert mode(data) == 0o700
    assert {p.name: mode(p) for p in data.iterdir()} == {n: 0o600 for n in names}


def test_files_and_folder_from_an_older_version_are_tightened_on_open(tmp_path):
    data = tmp_path / "data"
    with LocalStore(data, background=False) as store:
        store.ensure_sheet(SPEC)
        store.flush_workbook()
    for p in [data, *data.iterdir()]:
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    with LocalStore(data, background=False) as store:
        store.append("site_check", {"remark": "甲"}, actor=CITY, status="已提交")
        store.flush_workbook()
    assert mode(data) == 0o700
    assert {p.name: mode(p) for p in data.iterdir()} == {p.name: 0o600 for p in data.iterdir()}


def test_the_rule_keeps_a_stricter_mode_and_leaves_parent_folders_alone(tmp_path, umask):
    os.chmod(tmp_path, 0o755)
    folder = private_dir(tmp_path / "a" / "b")
    assert mode(folder) == 0o700 and mode(tmp_path) == 0o755
    path = folder / "read-only"
    with open(path, "w", opener=private_opener) as f:
        f.write("x")
    os.chmod(path, 0o400)
    with open(path, opener=private_opener) as f:
        assert f.read() == "x"
    assert mode(path) == 0o400
