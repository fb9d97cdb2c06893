"""`python -m lib.store verify|rebuild` and the factory."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import openpyxl
import pytest

from lib.core.blobs import Blobs
from lib.store.__main__ import main
from lib.store.base import Column, SheetSpec, StoreError, Unavailable
from lib.store.factory import close_all_stores, open_store
from lib.store.local.store import LocalStore
from tests.store.store_cases import CITY, ROOT_DIR, SPEC


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "lib.store", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT_DIR, timeout=60)


@pytest.fixture
def data_dir(tmp_path):
    with LocalStore(tmp_path, background=False, clock=lambda: dt.datetime(2020, 9, 10, 23, 59, 59, 999_999)) as store:
        store.ensure_sheet(SPEC)
        rec = store.append("site_check", {"project": "甲", "count": 1}, actor=CITY, status="已提交")
        # A table (its cell reads as "列：值" rows) and a time with microseconds (its cell cut to the second).
        store.append("site_check", {"project": "乙", "people": [{"name": "张三", "phone": None}]}, actor=CITY, status="草稿")
        store.update("site_check", rec.id, base_rev=1, actor=CITY, values={"count": 2, "amount": 12.5})
        store.flush_workbook()
    return tmp_path


def test_verify_prints_a_summary_per_form_and_exits_0_when_they_agree(data_dir):
    result = run_cli("verify", data_dir)
    assert result.returncode == 0, result.stderr
    assert "表单 site_check（工作表「现场检查记录」）：记录 2，最高版本 2，状态 已提交 1 / 草稿 1，不一致 0" in result.stdout
    assert "结论：一致" in result.stdout


def test_verify_exits_1_on_disagreement_and_rebuild_repairs(data_dir, capsys):
    wb = openpyxl.load_workbook(data_dir / "campaign.xlsx")
    wb["现场检查记录"]["M2"] = 99  # 检查人数 of the first row
    wb.save(data_dir / "campaign.xlsx")
    assert main(["verify", str(data_dir)]) == 1
    out = capsys.readouterr().out
    assert "「检查人数」：工作簿为 99" in out and "被修改过" in out and "结论：不一致" in out

    result = run_cli("rebuild", data_dir)
    assert result.returncode == 0, result.stderr
    assert "完成：1 个表单，2 条记录" in result.stdout
    assert len(list(data_dir.glob("campaign.external-*.xlsx"))) == 1  # the edited file is kept
    assert main(["verify", str(data_dir)]) == 0
    with LocalStore(data_dir, background=False) as store:  # rebuild is log-wins: nothing imported
        assert [r.values.get("count") for r in store.records("site_check")] == [2, None]


def test_rebuild_restores_a_deleted_workbook(data_dir, capsys):
    (data_dir / "campaign.xlsx").unlink()
    assert main(["verify", str(data_dir)]) == 1
    assert "不存在" in capsys.readouterr().out
    assert main(["rebuild", str(data_dir)]) == 0
    assert main(["verify", str(data_dir)]) == 0


def test_cli_refuses_a_folder_without_a_log(tmp_path):
    assert main(["verify", str(tmp_path)]) == 2


def test_factory_opens_the_local_backend_and_closes_all(tmp_path):
    store = open_store("local", data_dir=tmp_path, background=False)
    assert isinstance(store, LocalStore) and store.workbook_path == tmp_path / "campaign.xlsx"
    other = open_store(data_dir=tmp_path / "b", workbook_name="review.xlsx", background=False)
    assert other.log_path.name == "review.log.jsonl"
    close_all_stores()
    for s in (store, other):
        with pytest.raises(Unavailable) as err:
            s.records("site_check")
        assert err.value.code == "store_closed"
    with pytest.raises(StoreError) as err:
        open_store("excel", data_dir=tmp_path)
    assert err.value.code == "unknown_backend" and "store_backend" in str(err.value)  # names the setting to fix


def test_materialise_from_the_command_line_never_imports_a_persons_edits(data_dir, capsys):
    """The command line knows no form rules (checks, the review lock), so an edited file is kept as a
    backup and not imported: only the app, which has the rules, imports a person's edits."""
    wb = openpyxl.load_workbook(data_dir / "campaign.xlsx")
    wb["现场检查记录"]["M2"] = 99
    wb.save(data_dir / "campaign.xlsx")
    assert main(["materialise", str(data_dir)]) == 0
    assert len(list(data_dir.glob("campaign.external-*.xlsx"))) == 1
    with LocalStore(data_dir, background=False) as store:
        assert [r.values.get("count") for r in store.records("site_check")] == [2, None]
        assert any("命令行写入时不加载表单规则" in e.note for e in store.audit())


def _toml(tables: dict) -> str:
    """``tables`` ({name: {key: scalar or sub-table}}) as TOML: a JSON string or number is a TOML value."""
    lines = []
    for name, table in tables.items():
        subs = {k: v for k, v in table.items() if isinstance(v, dict)}
        lines += [f"[{name}]", *(f"{k} = {json.dumps(v)}" for k, v in table.items() if k not in subs)]
        lines += [line for k, v in subs.items() for line in _toml({f"{name}.{k}": v}).splitlines()]
    return "\n".join(lines) + "\n"


def _aged(blobs, *digests):
    old = dt.datetime.now().timestamp() - 2 * 24 * 3600
    for digest in digests:
        os.utime(blobs.path(digest), (old, old))


EVIDENCE = SheetSpec("inspection", "现场检查记录", (Column("evidence", "现场照片", "table"),))


def _evidence(digest):
    return [{"sha256": digest, "name": "现场.png", "type": "image/png", "size": 3}]


def test_gc_files_under_google_sheets_keeps_every_file_the_spreadsheet_or_an_outbox_names(tmp_path, monkeypatch, capsys):
    """Attack M15: after the README's move to Google Sheets the local log left in data/ names none of the files
    uploaded since, and gc-files judged by it deleted them. It reads the store the settings name: the
    spreadsheet's rows, their earlier revisions and drafts, and changes still waiting in an app's outbox."""
    from tests.sheets.fake_sheets import FakeSheets, secrets_for_test_server

    monkeypatch.delenv("APP_STORE_BACKEND", raising=False)
    data = tmp_path / "data"
    blobs = Blobs(data / "files")
    stale, current, earlier, draft, waiting, orphan = (blobs.put(f"照片{n}".encode()) for n in range(6))
    with LocalStore(data, background=False) as local:  # the log the migration left behind
        local.ensure_sheet(EVIDENCE)
        local.append("inspection", {"evidence": _evidence(stale)}, actor=CITY, status="已提交")
    server = FakeSheets(reads_per_window=100_000, writes_per_window=100_000).start()
    try:
        table = secrets_for_test_server(server)
        from lib.store.sheets.store import open_sheets_store

        sheets = open_sheets_store(table, tmp_path / "app")
        try:
            sheets.ensure_sheet(EVIDENCE)
            row = sheets.append("inspection", {"evidence": _evidence(earlier)}, actor=CITY, status="已提交")
            sheets.update("inspection", row.id, base_rev=row.rev, actor=CITY, values={"evidence": _evidence(current)})
            sheets.append("inspection", {"evidence": _evidence(draft)}, actor=CITY, status="草稿")
        finally:
            sheets.close()
        # A change an app accepted and could not send yet (the spreadsheet unreachable when it stopped).
        outbox = data / "sheets_outbox" / "key" / "a1.jsonl"
        outbox.parent.mkdir(parents=True)
        outbox.write_text(json.dumps({"entries": [{"eid": "e1", "values": {"evidence": _evidence(waiting)}}]}) + "\n")
        _aged(blobs, stale, current, earlier, draft, waiting, orphan)
        secrets = tmp_path / "secrets.toml"
        secrets.write_text(_toml({"app": {"store_backend": "gsheets"}, "gsheets": table}), encoding="utf-8")

        assert main(["gc-files", str(data), "--secrets", str(secrets)]) == 0
        out = capsys.readouterr().out
        assert [blobs.has(d) for d in (current, earlier, draft, waiting, orphan)] == [True, True, True, True, False]
        assert orphan in out and "Google 表格" in out
        assert not blobs.has(stale)  # the local log is not the app's store any more: it keeps nothing
    finally:
        server.stop()


def test_gc_files_deletes_nothing_when_the_configured_store_cannot_be_read(tmp_path, monkeypatch, capsys):
    """Sheets named by the settings but not reachable (here: no [gsheets] table), or a setting that cannot be
    used: exit 2 with a Chinese reason, and every file stays, whatever the local log says."""
    data = tmp_path / "data"
    blobs = Blobs(data / "files")
    with LocalStore(data, background=False) as local:
        local.ensure_sheet(EVIDENCE)
    orphan = blobs.put(b"photo")
    _aged(blobs, orphan)
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(_toml({"app": {"store_backend": "gsheets"}}), encoding="utf-8")
    monkeypatch.delenv("APP_STORE_BACKEND", raising=False)
    assert main(["gc-files", str(data), "--secrets", str(secrets)]) == 2
    assert "未删除任何文件" in capsys.readouterr().err and blobs.has(orphan)
    monkeypatch.setenv("APP_STORE_BACKEND", "excel")  # the environment wins over secrets.toml, as in the app
    assert main(["gc-files", str(data), "--secrets", str(secrets)]) == 2
    assert "store_backend" in capsys.readouterr().err and blobs.has(orphan)
    monkeypatch.setenv("APP_STORE_BACKEND", "local")
    assert main(["gc-files", str(data), "--secrets", str(secrets)]) == 0 and not blobs.has(orphan)


def test_verify_compares_the_checkpoint_with_the_log_and_rebuild_rewrites_it(data_dir, capsys):
    import dataclasses

    from lib.store.local import checkpoint
    from lib.store.local.columnar import Cut, state_tables

    with LocalStore(data_dir, background=False) as store:
        store.checkpoint.save(store)
    assert main(["verify", str(data_dir)]) == 0
    assert "与日志一致" in capsys.readouterr().out

    # A checkpoint whole and of this log, but with a value the log never held (a bug of a writer).
    with LocalStore(data_dir, background=False, use_checkpoint=False) as store:
        cut = Cut.of(store.state)
        rec = cut.rows["site_check"][0]
        cut.rows["site_check"][0] = dataclasses.replace(rec, values={**rec.values, "count": 3})
        meta, tables = state_tables(cut)
        identity = {**store.log.prefix_identity(store.log.offset), "lines": store.log.lines_read}
    checkpoint.write(data_dir / ".campaign.checkpoint", identity, meta, tables)
    assert main(["verify", str(data_dir)]) == 1
    out = capsys.readouterr().out
    assert f"检查点与日志不一致：表单 site_check 的记录 {rec.id} 的 count：检查点为 3，日志为 2" in out
    assert "结论：不一致" in out

    assert run_cli("rebuild", data_dir).returncode == 0
    assert main(["verify", str(data_dir)]) == 0
    assert "与日志一致" in capsys.readouterr().out


def test_verify_says_an_unusable_checkpoint_is_not_used(data_dir, capsys):
    (data_dir / ".campaign.checkpoint").write_bytes(b"not a checkpoint, whatever it holds" * 4)
    assert main(["verify", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "检查点：不可用（检查点文件 .campaign.checkpoint 格式不对或已损坏" in out


def test_verify_calls_a_workbook_one_whose_audit_lacks_only_the_events_the_writer_defers(data_dir, capsys):
    """Sign-ins after the last data change reach the workbook with the next one (the writer does not rewrite
    it for events alone): verify says so and stays 一致 (attack Q9); a change it lacks is still a problem."""
    with LocalStore(data_dir, background=False) as store:
        store.log_event(CITY, "登录")
        store.log_event(CITY, "退出")
    assert main(["verify", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "说明：2 条登录等事件待下次写入工作簿" in out and "问题" not in out and "结论：一致" in out

    with LocalStore(data_dir, background=False) as store:
        rec = store.records("site_check")[1]
        store.update("site_check", rec.id, base_rev=1, actor=CITY, values={"count": 7})
        store.log_event(CITY, "登录")
    assert main(["verify", str(data_dir)]) == 1
    out = capsys.readouterr().out
    assert "问题：_audit 工作表有 3 条，日志有 7 条" in out and "待下次写入" not in out and "结论：不一致" in out


def test_rebuild_over_a_workbook_still_being_saved_says_so_and_writes_nothing(tmp_path, monkeypatch, capsys):
    """A person's program still saving the workbook (attack Q6): the command waits, then says so in Chinese
    instead of a traceback, and writes nothing over the half-saved file."""
    import lib.store.__main__ as cli
    from lib.store.local.external import NotSettled

    with LocalStore(tmp_path, background=False) as store:
        store.ensure_sheet(SheetSpec("f", "表", (Column("a", "甲", "text"),)))

    def still_saving(*args, **kwargs):
        raise NotSettled(1.0)

    monkeypatch.setattr(cli, "materialise", still_saving)
    assert main(["rebuild", str(tmp_path)]) == 2
    assert "工作簿正被其他程序写入或尚不完整" in capsys.readouterr().err
