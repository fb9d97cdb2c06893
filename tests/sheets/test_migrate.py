"""Moving a local store into a new spreadsheet keeps records, revisions and audit; re-running is safe."""

from __future__ import annotations

import json

import pytest

from lib.store.local.store import LocalStore
from lib.store.migrate import main
from lib.store.sheets.store import open_sheets_store
from tests.store.store_cases import CITY, PROVINCE, SPEC

pytestmark = pytest.mark.timeout(60)


def write_secrets(path, table: dict) -> None:
    lines = ["[gsheets]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in table.items() if not isinstance(v, dict)]
    lines.append("[gsheets.service_account]")
    lines += [f"{k} = {json.dumps(v)}" for k, v in table["service_account"].items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_migrate_local_store_into_a_spreadsheet(tmp_path, server, sheet_key, secrets_for, capsys):
    server.reads_per_window = server.writes_per_window = 100_000
    data = tmp_path / "data"
    local = LocalStore(data, background=False)
    local.ensure_sheet(SPEC)
    recs = local.append_many("site_check", [{"project": f"项目{i}", "remark": "=1+1", "count": i} for i in range(120)],
                             actor=CITY, status="已提交")
    local.update("site_check", recs[0].id, base_rev=1, actor=PROVINCE, values={"count": 99}, status="已审核")
    local.log_event(PROVINCE, "导出", form_id="site_check", note="迁移前导出")
    secrets = tmp_path / "secrets.toml"
    table = secrets_for()
    del table["spreadsheet_key"]
    write_secrets(secrets, table)

    args = ["--from-dir", str(data), "--to-sheet", sheet_key, "--secrets", str(secrets)]
    assert main(args) == 0
    # sheet + 120 rows of one batch and its commit + update + event
    assert "本次写入 124 条" in capsys.readouterr().out
    assert main(args) == 0  # again: nothing doubled
    assert "本次写入 0 条" in capsys.readouterr().out

    sheets = open_sheets_store(secrets_for(), tmp_path / "app")
    try:
        assert sheets.records("site_check") == local.records("site_check")
        assert sheets.audit() == local.audit()
        view = server.values(sheet_key, "现场检查记录")
        assert len(view) == 121 and view[1][:3] == [recs[0].id, 2, "已审核"]
    finally:
        sheets.close()
        local.close()
