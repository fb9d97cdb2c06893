"""A batch (``Store.append_batch``) in Google Sheets: more ``_log`` rows than one request carries, yet
readers — this app process, another one, one opened later — see all of its rows or none."""

from __future__ import annotations

import json

import pytest

from lib.core.records import is_pending
from lib.store.base import Column, SheetSpec, Unavailable
from lib.store.sheets.delivery import MAX_BATCH
from lib.store.sheets.log import Replay, decode_row, encode_row, log_batch
from lib.store.sheets.outbox import Outbox, read_pending
from tests.store.store_cases import CITY, PROVINCE, SPEC

pytestmark = pytest.mark.timeout(90)

NOTE_SPEC = SheetSpec("batch_note", "批次说明", (Column("batch", "批次"),))
UNTHROTTLED = {"reads_per_minute": 100_000, "writes_per_minute": 100_000}
ROWS = MAX_BATCH + 200  # members of one batch: two log requests


def log_entries(server, key) -> list[dict]:
    return [decode_row(r)[1] for r in server.values(key, "_log")]


def cut_after_first_request(store, server, monkeypatch) -> list[int]:
    """Let the store's next log request land, then refuse every write: a batch cut between requests."""
    real, sent = store.sync.append_log, []

    def then_down(rows):
        real(rows)
        sent.append(len(rows))
        if len(sent) == 1:
            server.fail_next(100_000, status=503, kind="write")

    monkeypatch.setattr(store.sync, "append_log", then_down)
    return sent


@pytest.fixture
def writer(open_store, server):
    server.reads_per_window = server.writes_per_window = 100_000
    store = open_store("a", **UNTHROTTLED)
    store.ensure_sheet(SPEC)
    store.ensure_sheet(NOTE_SPEC)
    return store


def batch_items() -> list[tuple[str, dict, str]]:
    return [("site_check", {"count": i}, "已导入") for i in range(ROWS)] + [("batch_note", {"batch": "b1"}, "有效")]


def test_a_batch_cut_between_requests_is_seen_by_nobody_until_it_is_whole(writer, open_store, server, sheet_key,
                                                                           monkeypatch):
    sent = cut_after_first_request(writer, server, monkeypatch)
    recs = writer.append_batch(batch_items(), actor=PROVINCE)
    assert sent == [MAX_BATCH]  # the first request landed, the second was refused
    assert all(is_pending(r) for r in recs)  # durable in the outbox, shown as 待同步 here
    landed = log_entries(server, sheet_key)
    assert sum(e["op"] == "append" for e in landed) == MAX_BATCH and not any(e["op"] == "commit" for e in landed)
    with writer.sync.reading() as log:
        assert log.state.rows["site_check"] == {}  # this process holds them back too
    peer = open_store("b", **UNTHROTTLED)  # another app server reads the half-written batch
    assert peer.records("site_check") == [] and peer.records("batch_note") == []
    assert peer.audit() == []

    server.clear_faults()
    assert writer.wait_idle(30) and writer.pending() == []
    peer.refresh()
    assert [r.id for r in peer.records("site_check")] == [r.id for r in recs[:ROWS]]  # resent members counted once
    assert [r.values for r in peer.records("batch_note")] == [{"batch": "b1"}]
    landed = log_entries(server, sheet_key)
    assert sum(e["op"] == "commit" for e in landed) == 1
    assert sum(e["op"] == "append" for e in landed) == ROWS + 1  # the members that had landed were not sent again
    assert writer.records("site_check") == peer.records("site_check")


def test_a_cut_batch_survives_a_restart_whole_from_the_outbox(writer, open_store, server, sheet_key, monkeypatch):
    cut_after_first_request(writer, server, monkeypatch)
    recs = writer.append_batch(batch_items(), actor=PROVINCE)
    writer.close()  # the app stops with half the batch in _log and all of it in its outbox
    server.clear_faults()
    later = open_store("fresh", **UNTHROTTLED)  # an app with no outbox: the members alone are nothing
    assert later.records("site_check") == []
    again = open_store("a", **UNTHROTTLED)  # the same app restarted: adopts its outbox, sends the batch whole
    assert again.wait_idle(30) and again.pending() == []
    later.refresh()
    assert [r.id for r in later.records("site_check")] == [r.id for r in recs[:ROWS]]
    assert len(later.records("batch_note")) == 1


def replay_rows(entries: list[dict]) -> list[list[str]]:
    return [encode_row({**e, "eid": f"e{i}"}) for i, e in enumerate(entries)]


def appends(n: int, form: str = "site_check", start: int = 0) -> list[dict]:
    who = {"account": "city_gz", "role": "city", "org": CITY.org, "city": CITY.city}
    return [{"op": "append", "at": "2020-09-10T10:00:00", "form": form, "id": f"r{start + i}", "rev": 1, "actor": who,
             "status": "已导入", "fv": 1, "values": {"count": i}} for i in range(n)]


def test_replay_applies_a_batch_at_its_commit_and_only_whole():
    sheet = {"op": "sheet", "at": "2020-09-10T10:00:00", "form": "site_check", "title": "现场检查记录",
             "columns": [["count", "检查人数", "integer"]]}
    whole = log_batch(appends(3), "2020-09-10T10:00:00", "b1")
    replay = Replay()
    replay.apply_rows(1, replay_rows([sheet, *whole[:3]]))
    assert replay.state.rows["site_check"] == {}  # members wait for their commit
    changed = replay.apply_rows(5, [encode_row({**whole[3], "eid": "c1"})])
    assert [c[2] for c in changed] == ["r0", "r1", "r2"]
    assert list(replay.state.rows["site_check"]) == ["r0", "r1", "r2"]

    torn = log_batch(appends(3, start=10), "2020-09-10T10:00:00", "b2")
    short = Replay()  # a commit read before one of its members: the batch is void, the late member too
    short.apply_rows(1, replay_rows([sheet, torn[0], torn[1], torn[3], torn[2]]))
    assert short.state.rows["site_check"] == {}
    assert {short.outcome[f"e{i}"] for i in (1, 2, 3, 4)} == {"torn"}

    clash = log_batch([*appends(2, start=20), *appends(1)], "2020-09-10T10:00:00", "b3")  # r0 exists already
    changed = replay.apply_rows(6, [encode_row({**e, "eid": f"x{i}"}) for i, e in enumerate(clash)])
    assert changed == [] and "r20" not in replay.state.rows["site_check"]
    assert replay.outcome["x3"] == "exists"


def test_the_outbox_keeps_a_submission_in_one_line(tmp_path):
    outbox = Outbox(tmp_path / "box")
    first = [{**e, "eid": f"a{i}"} for i, e in enumerate(log_batch(appends(3), "2020-09-10T10:00:00", "b1"))]
    outbox.add(first)
    line = json.dumps({"entries": [{**e, "eid": f"b{i}"} for i, e in enumerate(appends(3, start=5))]}).encode()
    with open(outbox.path, "ab") as f:
        f.write(line[: len(line) // 2])  # what a crash during the second add leaves
    assert [e["eid"] for e in read_pending(outbox.path)] == ["a0", "a1", "a2", "a3"]
    outbox.close()


def test_a_batch_its_commit_refuses_is_refused_whole_to_its_caller(writer, open_store, monkeypatch):
    import lib.store.sheets.store as sheets_store

    first = writer.append("site_check", {"count": 1}, actor=CITY, status="已提交")
    real = sheets_store.append_entries

    def racing(*args, **kw):  # as if another app server had taken one of the new row ids first
        entries = real(*args, **kw)
        return [{**entries[0], "id": first.id}, *entries[1:]]

    monkeypatch.setattr(sheets_store, "append_entries", racing)
    with pytest.raises(Unavailable) as err:
        writer.append_batch([("site_check", {"count": 2}, "已导入"), ("batch_note", {"batch": "b1"}, "有效")],
                            actor=PROVINCE)
    assert err.value.code == "batch_id_taken"
    assert writer.pending() == []  # decided, not left waiting to be sent again
    peer = open_store("b", **UNTHROTTLED)
    for store in (writer, peer):
        assert store.records("site_check") == [first] and store.records("batch_note") == []


def test_a_register_import_lands_in_google_sheets_as_one_batch(writer, open_store, server, sheet_key):
    from pathlib import Path

    import pandas as pd

    from lib.campaign.register import kinds, upload
    from lib.campaign.register import store as reg
    from lib.core.records import Actor
    from lib.forms.loader import load_catalog
    from lib.office.excel import to_xlsx

    province = Actor("province", "province", "省厅")
    good = {"服务券编号": "SYQ-2019-4401-00001", "企业名称": "广州甲五金有限公司", "统一社会信用代码": "91440101MA59ABCDEM",
            "服务商": "广州云智信息科技有限公司", "地市": "广州", "年度": 2019, "奖补金额（万元）": 12.5, "兑现状态": "已兑现"}
    rows = [good, {**good, "服务券编号": "SYQ-2019-4401-00002"}]
    vouchers = kinds.register_kinds(load_catalog(Path(__file__).resolve().parents[2] / "forms").campaign)["vouchers"]
    parsed = upload.parse_upload(vouchers, to_xlsx({"清单": pd.DataFrame(rows)}))
    done = reg.import_register(writer, parsed, province, file_name="清单.xlsx")
    landed = log_entries(server, sheet_key)
    batch = {e["batch"] for e in landed if e["op"] == "append"}
    assert len(batch) == 1 and landed[-1] == {**landed[-1], "op": "commit", "n": 3}  # two rows and their record
    peer = open_store("b", **UNTHROTTLED)
    [record] = peer.records(reg.IMPORTS_SHEET.form_id)
    assert record.values["import_id"] == done.import_id and len(peer.records(vouchers.sheet_id)) == 2
    with pytest.raises(reg.RegisterImportError, match="1 处问题"):  # the same entries again: refused
        reg.import_register(peer, parsed, province, file_name="清单.xlsx")


def test_write_batch_that_lost_a_race_is_refused_whole_everywhere(writer, open_store, monkeypatch):
    """Another app server changes a row between this server's read and its batch landing: the commit
    finds the batch's change stale, so none of its rows (new or changed) is applied, by any reader,
    and the writer is told ConflictError (Store.write_batch: all or nothing)."""
    from lib.store.base import ConflictError, RowChange

    row = writer.append("site_check", {"count": 1}, actor=CITY, status="已提交")
    other = open_store("b", **UNTHROTTLED)
    real = writer.sync.append_log

    def after_the_other(rows):
        if not after_the_other.done:
            after_the_other.done = True
            other.update("site_check", row.id, base_rev=1, actor=PROVINCE, values={"count": 2})
        return real(rows)

    after_the_other.done = False
    monkeypatch.setattr(writer.sync, "append_log", after_the_other)
    new = [("site_check", {"count": 10 + i}, "已导入") for i in range(3)]
    with pytest.raises(ConflictError):
        writer.write_batch(new, [RowChange("site_check", row.id, 1, {"count": 5})], actor=PROVINCE)
    assert after_the_other.done
    for reader in (writer, other, open_store("c", **UNTHROTTLED)):
        reader.refresh()
        assert [(r.id, r.rev, r.values["count"]) for r in reader.records("site_check")] == [(row.id, 2, 2)]


def test_replay_applies_a_batch_of_appends_and_updates_only_if_every_update_is_current():
    sheet = {"op": "sheet", "at": "2020-09-10T10:00:00", "form": "site_check", "title": "现场检查记录",
             "columns": [["count", "检查人数", "integer"]]}
    first = appends(1)
    who = first[0]["actor"]
    update = {"op": "update", "at": "2020-09-10T10:01:00", "form": "site_check", "id": "r0", "rev": 2, "actor": who,
              "action": "修改", "values": {"count": 7}}
    good = log_batch([*appends(2, start=5), update], "2020-09-10T10:01:00", "ok")
    replay = Replay()
    replay.apply_rows(1, replay_rows([sheet, *first, *good]))
    assert {k: (r.rev, r.values["count"]) for k, r in replay.state.rows["site_check"].items()} == {
        "r0": (2, 7), "r5": (1, 0), "r6": (1, 1)}
    stale = log_batch([*appends(1, start=9), update], "2020-09-10T10:02:00", "stale")  # r0 is at rev 2 already
    replay.apply_rows(len(first) + len(good) + 2, [encode_row({**e, "eid": f"s{i}"}) for i, e in enumerate(stale)])
    assert "r9" not in replay.state.rows["site_check"] and replay.state.rows["site_check"]["r0"].rev == 2


def test_a_server_that_loads_many_rows_freezes_them(writer, open_store):
    """As the local store does (tests/store/test_gc_freeze.py): what a refresh loaded leaves the cyclic collector's reach."""
    import gc

    from lib.store.state import FREEZE_AFTER_ENTRIES

    writer.append_batch([("site_check", {"count": i}, "已导入") for i in range(FREEZE_AFTER_ENTRIES)], actor=PROVINCE)
    gc.unfreeze()
    try:
        peer = open_store("b", **UNTHROTTLED)
        assert len(peer.records("site_check")) == FREEZE_AFTER_ENTRIES
        assert gc.get_freeze_count() > FREEZE_AFTER_ENTRIES
    finally:
        gc.unfreeze()
