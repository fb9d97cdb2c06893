"""Google's real limits: 10 MiB per request, 50,000 characters per cell, 10 million cells per
spreadsheet. The local server enforces them; the store cuts its writes to fit, sends a refused
write again in smaller pieces, and shows what stays refused instead of dropping it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lib.core.records import is_pending
from lib.store.base import InvalidValue
from lib.store.migrate import migrate, read_local_log
from lib.store.sheets.client import REQUEST_BUDGET_BYTES
from tests.store.store_cases import CITY, SPEC

pytestmark = pytest.mark.timeout(240)

ROOT = Path(__file__).resolve().parents[2]
FAST_QUOTA = {"reads_per_minute": 100_000, "writes_per_minute": 100_000}


@pytest.fixture(scope="module")
def demo_log(tmp_path_factory) -> list[dict]:
    """The log of the default demo campaign (2,000 附件1 rows, their register, reviews)."""
    from lib.demo.campaign import seed_demo
    from lib.forms import load_catalog
    from lib.store.factory import open_store

    data = tmp_path_factory.mktemp("demo")
    seed_demo(lambda clock: open_store("local", data_dir=data, background=False, clock=clock),
              load_catalog(ROOT / "forms"), rows=2000)
    return read_local_log(data / "campaign.log.jsonl")


def cut_by_budget(server) -> bool:
    """The views took more bytes than one request may carry (the demo's are about 5.6 MB against a
    4 MiB budget), so they went out as several requests."""
    sent = server.request_bytes["values.batchUpdate"]
    return sent > REQUEST_BUDGET_BYTES and server.counts["values.batchUpdate"] >= 2


def view_rows(server, key: str) -> dict[str, int]:
    return {s.title: len(server.values(key, s.title)) for s in server.books[key].sheets if s.title != "Sheet1"}


def test_demo_sized_views_are_written_at_start_and_rebuilt_within_the_request_limit(
        demo_log, open_store, server, sheet_key):
    server.reads_per_window = server.writes_per_window = 100_000
    first = open_store("migration", **FAST_QUOTA)
    migrate([dict(e) for e in demo_log], first, progress=lambda _: None)
    first.close()
    for sheet in server.books[sheet_key].sheets:  # views as a person left them after emptying them
        if not sheet.title.startswith("_log"):
            sheet.cells = []
    server.reset_counts()

    store = open_store("restarted", **FAST_QUOTA)  # every start writes the views from the log
    assert store.wait_idle(120) and store.problems() == []
    with store.sync.reading() as log:
        records = {f: len(rows) for f, rows in log.state.rows.items()}
        expected = {log.titles[f]: n + 1 for f, n in records.items()}
    expected["_audit"] = len(store.audit()) + 1
    assert max(records.values()) >= 2000 and expected["_audit"] > 5000
    assert {t: n for t, n in view_rows(server, sheet_key).items() if t != "_log"} == expected
    assert server.counts["too_large"] == 0 and 0 < server.largest_request <= REQUEST_BUDGET_BYTES
    assert cut_by_budget(server)

    server.reset_counts()
    for sheet in server.books[sheet_key].sheets:
        if not sheet.title.startswith("_log"):
            sheet.cells = []
    store.rebuild_views()
    assert view_rows(server, sheet_key) == {**expected, "_log": len(demo_log)}
    assert server.counts["too_large"] == 0 and cut_by_budget(server)


@pytest.mark.parametrize("status", [400, 413])
def test_a_write_refused_for_its_size_is_sent_again_in_halves(open_store, server, sheet_key, status):
    server.reads_per_window = server.writes_per_window = 100_000
    store = open_store(**FAST_QUOTA)
    store.ensure_sheet(SPEC)
    server.max_request_bytes = 60_000  # a stricter front end than we budget for
    server.too_large_status = status  # the API's JSON refusal, or the front end's HTML page
    recs = store.append_many("site_check", [{"project": f"项目{i}", "remark": "整改说明" * 50} for i in range(200)],
                             actor=CITY, status="已提交")
    assert not any(is_pending(r) for r in recs)
    assert store.wait_idle(60) and store.problems() == []
    assert server.counts["too_large"] >= 2  # the log append and the view patch were both refused once
    assert [r[0] for r in server.values(sheet_key, "现场检查记录")[1:]] == [r.id for r in recs]
    assert len(server.values(sheet_key, "_log")) == 202  # the sheet, 200 rows of one batch, its commit


def test_a_refused_view_write_is_kept_shown_and_done_later(open_store, server, sheet_key):
    server.reads_per_window = server.writes_per_window = 100_000
    store = open_store(**FAST_QUOTA)
    store.ensure_sheet(SPEC)
    book = server.books[sheet_key]
    book.max_cells = sum(s.rows * s.cols for s in book.sheets) + 20_000  # the log fits, a grown view does not
    recs = store.append_many("site_check", [{"count": i} for i in range(1100)], actor=CITY, status="已提交")
    assert not is_pending(recs[-1])
    assert not store.wait_idle(10)  # answers at once: the view work is refused, not forgotten
    assert any("单元格总数" in p and "_log 已完整" in p for p in store.problems())
    book.max_cells = 10_000_000  # a person deleted an unused sheet
    store.rebuild_views()
    assert store.wait_idle(30) and store.problems() == []
    assert len(server.values(sheet_key, "现场检查记录")) == 1101


def test_a_refused_log_write_waits_in_the_outbox_and_says_why(open_store, server, sheet_key):
    server.reads_per_window = server.writes_per_window = 100_000
    store = open_store(**FAST_QUOTA)
    store.ensure_sheet(SPEC)
    book = server.books[sheet_key]
    book.max_cells = sum(s.rows * s.cols for s in book.sheets)  # full: not one more row
    rec = store.append("site_check", {"project": "表格满了"}, actor=CITY, status="已提交")
    assert is_pending(rec)
    assert any("单元格总数" in p and "待同步" in p for p in store.problems())
    book.max_cells = 10_000_000
    assert store.wait_idle(30) and store.pending() == [] and store.problems() == []
    assert store.get("site_check", rec.id).values["project"] == "表格满了"


def test_a_text_as_long_as_a_cell_holds_is_whole_in_the_view_and_the_log(open_store, server, sheet_key):
    """A text is measured as a cell counts it (UTF-16 units, an emoji two): the longest one the store takes
    is whole in the view and in the log, and one unit more is refused before anything is written (attack Q3:
    the local workbook cut such texts, so the store no longer takes them on either backend)."""
    store = open_store()
    store.ensure_sheet(SPEC)
    long = "\U0001F4CB" * 15_883 + "整改" * 500  # 16,883 characters, 32,766 UTF-16 units
    rec = store.append("site_check", {"project": "长文本", "remark": long}, actor=CITY, status="已提交")
    assert store.wait_idle(20) and store.problems() == []
    header, row = server.values(sheet_key, "现场检查记录")
    assert dict(zip(header, row, strict=False))["备注"] == long
    entry = json.loads("".join(server.values(sheet_key, "_log")[-1][1:]))
    assert entry["values"]["remark"] == long
    assert open_store("other").get("site_check", rec.id).values["remark"] == long
    with pytest.raises(InvalidValue) as err:
        store.append("site_check", {"project": "更长", "remark": long + "\U0001F4CB"}, actor=CITY, status="已提交")
    assert (err.value.code, err.value.field) == ("text_too_long", "remark") and store.pending() == []


def test_an_entry_too_long_for_a_log_row_is_refused_naming_its_longest_field(open_store, server, sheet_key):
    store = open_store()
    store.ensure_sheet(SPEC)
    wide = "\U0001F4CB" * 16_000  # 32,000 UTF-16 units each, as much as a cell holds; one row of _log holds 280,000
    values = {"project": wide, "remark": wide + "\U0001F4CB" * 300,
              **{f"extra_{k}": wide for k in "abcdefg"}}  # nine fields: 288,600 units
    with pytest.raises(InvalidValue) as err:
        store.append("site_check", values, actor=CITY, status="已提交")
    assert (err.value.code, err.value.field) == ("entry_too_long", "remark")
    assert "「备注」" in str(err.value)  # the longest field, named by its label
    assert store.pending() == [] and server.values(sheet_key, "_log")[-1][1].find('"op":"append"') < 0


def test_every_range_names_its_sheet_quoted(open_store, server, sheet_key, monkeypatch):
    from tests.sheets import fake_sheets

    seen: list[str] = []
    parse = fake_sheets.parse_range
    monkeypatch.setattr(fake_sheets, "parse_range", lambda book, text, **kw: (seen.append(text), parse(book, text, **kw))[1])
    store = open_store()
    quoted = SPEC.__class__(SPEC.form_id, "张三's 检查", SPEC.columns)
    store.ensure_sheet(quoted)
    store.append("site_check", {"project": "甲"}, actor=CITY, status="已提交")
    assert store.wait_idle(10)
    store.refresh()
    assert seen and all(t.startswith("'") and "'!" in t for t in seen)
    assert {"'_log'", "'_audit'", "'张三''s 检查'"} <= {t.split("!")[0] for t in seen}
    assert server.values(sheet_key, "张三's 检查")[1][0] == store.records("site_check")[0].id
