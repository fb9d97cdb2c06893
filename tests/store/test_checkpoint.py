"""A store opens from a checkpoint of its state plus the log after it, and gets the state a full replay gives
(issue 17); a missing, damaged or stale checkpoint is never used: the log is replayed instead."""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
import os
import stat
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib.store.base import Column, SheetSpec, StoreError
from lib.store.local import checkpoint
from lib.store.local.store import LocalStore
from lib.store.state import FREEZE_AFTER_ENTRIES
from tests.store.store_cases import CITY, PROVINCE, SPEC, Clock

FORMS = ("f1", "f2")
KEYS = ("a", "b", "c", "d")


def facts(state) -> dict[str, str]:
    """Everything a state says, as text that tells types apart (1, 1.0 and True; Decimal('1.50') and
    Decimal('1.5'); a date and a datetime; a key missing and a key holding None; key order)."""
    return {"rows": repr({f: list(rows.items()) for f, rows in state.rows.items()}), "audit": repr(state.audit),
            "specs": repr(state.specs), "extra_keys": repr(state.extra_keys), "renames": repr(state.renames),
            "generation": repr(state.generation), "entries": repr([a.entry() for a in state.audit]),
            "known_keys": repr(state.known_keys())}


def opened(folder, **kw) -> LocalStore:
    return LocalStore(folder, background=False, clock=Clock(), **kw)


# --- random logs --------------------------------------------------------------------------------

_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=6)
_scalar = st.one_of(
    st.none(), _text, st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False, allow_infinity=False),
    st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**20), max_value=10**20, places=2),
    st.dates(), st.datetimes(timezones=st.sampled_from([None, dt.timezone(dt.timedelta(hours=8))])),
)
_value = st.one_of(_scalar, st.lists(_text, max_size=3),
                   st.lists(st.dictionaries(st.sampled_from(["name", "phone", "n"]), _scalar, max_size=3), max_size=2))
_decimal = st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**20), max_value=10**20, places=2)
#: Each key its own type (so columns are typed, not JSON), or any value under any key.
_values = st.one_of(
    st.fixed_dictionaries({}, optional={"a": _text | st.none(), "b": _decimal, "c": st.dates() | st.datetimes(),
                                        "d": st.lists(_text, max_size=3)}),
    st.fixed_dictionaries({}, optional={"a": st.integers(-(2**63), 2**63 - 1), "b": st.floats(allow_nan=False, allow_infinity=False),
                                        "c": st.booleans(), "d": _value}),
    st.dictionaries(st.sampled_from(KEYS), _value, max_size=4),
)
_form = st.sampled_from(FORMS)
_status = st.sampled_from(["草稿", "已提交", "已退回"])
_op = st.one_of(
    st.tuples(st.just("append"), _form, _values, _status),
    st.tuples(st.just("batch"), st.lists(st.tuples(_form, _values, _status), min_size=1, max_size=3)),
    st.tuples(st.just("update"), _form, st.integers(0, 30), _values, st.none() | _status),
    st.tuples(st.just("event"), _text),
    st.tuples(st.just("rename"), _form, st.sampled_from(KEYS), st.sampled_from(KEYS)),
    st.tuples(st.just("sheet"), _form, st.lists(st.sampled_from(KEYS), unique=True, max_size=4)),
)


def run(store: LocalStore, op: tuple, clock: Clock) -> None:
    clock.tick(seconds=1, microseconds=7)
    kind, *args = op
    try:
        if kind == "append":
            form, values, status = args
            store.append(form, values, actor=CITY, status=status)
        elif kind == "batch":
            store.append_batch(args[0], actor=PROVINCE)
        elif kind == "update":
            form, pick, values, status = args
            rows = store.records(form)
            if rows:
                rec = rows[pick % len(rows)]
                store.update(form, rec.id, base_rev=rec.rev, actor=PROVINCE, values=values, status=status, note="改")
        elif kind == "event":
            store.log_event(CITY, "登录", note=args[0])
        elif kind == "rename":
            store.rename_field(args[0], args[1], args[2], actor=PROVINCE)
        elif kind == "sheet":
            form, keys = args
            store.ensure_sheet(SheetSpec(form, f"表{form}", tuple(Column(k, f"字段{k}", "text") for k in keys)))
    except StoreError:  # a value the store refuses, a rename it refuses: nothing written
        pass


@pytest.mark.slow  # 60 random logs, each written with an fsync a change
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(_op, max_size=24), data=st.data())
def test_a_store_opened_from_a_checkpoint_and_the_log_after_it_equals_a_full_replay(tmp_path_factory, ops, data):
    folder = tmp_path_factory.mktemp("ckpt")
    clock = Clock()
    writer = LocalStore(folder, background=False, clock=clock)
    for form in FORMS:
        writer.ensure_sheet(SheetSpec(form, f"表{form}", (Column("a", "甲"), Column("b", "乙", "number"))))
    cut = data.draw(st.integers(0, len(ops)), label="checkpoint after")
    for op in ops[:cut]:
        run(writer, op, clock)
    covered = writer.checkpoint.save(writer)
    for op in ops[cut:]:
        run(writer, op, clock)
    writer.close()

    loaded, replayed = opened(folder), opened(folder, use_checkpoint=False)
    try:
        assert loaded.checkpoint.covers == covered > 0 and not loaded.checkpoint.problem
        assert facts(loaded.state) == facts(replayed.state)
        assert loaded.log.lines_read == replayed.log.lines_read
        # A change after the load bumps the generation as it does after a replay.
        loaded.append("f1", {"a": "新"}, actor=CITY, status="草稿")
        replayed.refresh()
        assert facts(loaded.state) == facts(replayed.state)
    finally:
        loaded.close()
        replayed.close()


# --- the file ---------------------------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path):
    """A store of a few rows of every kind of value, an update and an event, with a checkpoint of all of it."""
    clock = Clock()
    with LocalStore(tmp_path, background=False, clock=clock) as store:
        store.ensure_sheet(SPEC)
        rows = store.append_many("site_check", [
            {"project": "甲", "amount": 1.5, "count": 3, "visit_date": dt.date(2020, 9, 1), "passed": True,
             "issues": ["质量", "安全"], "people": [{"name": "张三", "phone": None}], "remark": None},
            {"project": "乙", "amount": Decimal("12.50"), "extra": dt.datetime(2020, 9, 1, 8, 30, 0, 15)},
        ], actor=CITY, status="已提交")
        clock.tick(minutes=1)
        store.update("site_check", rows[0].id, base_rev=1, actor=PROVINCE, values={"count": 4}, status="已退回", note="补")
        store.log_event(CITY, "登录")
        store.checkpoint.save(store)
    return tmp_path


def test_the_checkpoint_is_private_and_holds_no_pickle(folder):
    path = folder / ".campaign.checkpoint"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert b"pickle" not in path.read_bytes() and not list(folder.glob("*.tmp"))


def test_a_creation_shares_its_values_with_the_row_as_after_a_replay(folder):
    with opened(folder) as store:
        assert store.checkpoint.covers
        rec = store.state.rows["site_check"]
        created = {a.row_id: a for a in store.state.audit if a.created}
        untouched = [r for r in rec.values() if r.rev == 1]
        assert untouched and all(created[r.id].changes is r.values for r in untouched)  # kept once, not twice


def _replayed(folder):
    with opened(folder, use_checkpoint=False) as store:
        return facts(store.state)


def _damage_truncated(path, folder):
    path.write_bytes(path.read_bytes()[:-100])


def _damage_random(path, folder):
    path.write_bytes(os.urandom(path.stat().st_size))


def _damage_a_byte(path, folder):
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0xFF
    path.write_bytes(bytes(data))


def _damage_version(path, folder):
    """A whole file, checksums right, of another format version (a newer program's)."""
    raw = path.read_bytes()
    footer, start = checkpoint.read_footer(path)
    footer["format"] = checkpoint.FORMAT + 1
    text = json.dumps(footer, ensure_ascii=False).encode()
    path.write_bytes(raw[:start] + text + checkpoint._TRAILER.pack(len(text), hashlib.sha256(text).digest(), checkpoint.MAGIC))


def _log_replaced(path, folder):
    log = folder / "campaign.log.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(lines[0] + lines[1] + lines[2].replace("甲".encode(), "丙".encode()) + b"".join(lines[3:]))


def _log_truncated(path, folder):
    log = folder / "campaign.log.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(b"".join(lines[:-2]))


def _log_rewritten_longer(path, folder):
    """A byte more in an early line: the log is longer than the checkpoint's offset, which now falls inside
    its last line (attack Q8: the reason said the log was shorter)."""
    log = folder / "campaign.log.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(lines[0] + lines[1] + b"{ " + lines[2][1:] + b"".join(lines[3:]))


@pytest.mark.parametrize("spoil, problem", [
    (_damage_truncated, "损坏"), (_damage_random, "格式不对"), (_damage_a_byte, "校验不符"),
    (_damage_version, "格式版本"), (_log_replaced, "不符"), (_log_truncated, "短于检查点覆盖的"),
    (_log_rewritten_longer, "不在一行的结尾处结束"),
])
def test_an_unusable_checkpoint_is_not_used_and_the_next_save_rewrites_it(folder, spoil, problem):
    path = folder / ".campaign.checkpoint"
    spoil(path, folder)
    with opened(folder) as store:
        assert store.checkpoint.covers == 0 and problem in store.checkpoint.problem
        assert facts(store.state) == _replayed(folder)
        assert store.checkpoint.due(store.log.offset)  # however little the log grew
        checkpoint.save_if_due(store)
    with opened(folder) as store:
        assert store.checkpoint.covers == store.log.offset and not store.checkpoint.problem
        assert facts(store.state) == _replayed(folder)


def test_a_hand_edit_of_the_same_length_anywhere_in_the_log_prefix_is_not_hidden_by_the_checkpoint(tmp_path):
    """An admin "repairs" one value in the middle of a long log, far from its head and from the checkpoint's
    offset (attack Q7: only the head and the 64 KiB before the offset were hashed, so the store opened with
    the checkpoint's old value). The store opens with the log's value, and says why it replayed."""
    with LocalStore(tmp_path, background=False, clock=Clock()) as store:
        store.ensure_sheet(SheetSpec("f", "表", (Column("amount", "金额", "integer"), Column("note", "备注"))))
        rows = store.append_many("f", [{"amount": 100_000 + i, "note": "说明" * 20} for i in range(1000)],
                                 actor=CITY, status="已提交")
        store.append_many("f", [{"amount": 0, "note": "说明" * 20} for _ in range(500)], actor=CITY, status="已提交")
        store.checkpoint.save(store)
    log = tmp_path / "campaign.log.jsonl"
    data = log.read_bytes()
    at = data.index(b'"amount":100500,')
    assert 4096 < at < len(data) - 64 * 1024
    log.write_bytes(data[:at] + b'"amount":900500,' + data[at + 16:])
    with opened(tmp_path) as store:
        assert store.get("f", rows[500].id).values["amount"] == 900_500
        assert store.checkpoint.covers == 0 and "不符" in store.checkpoint.problem


def test_a_store_opened_from_a_checkpoint_knows_the_keys_a_replay_knows(tmp_path):
    """A sheet entry that declares fewer columns than before (a log written otherwise: ``State.apply`` takes
    it) leaves the dropped key known to a replay, so a later row carrying it adds no column; a store opened
    from a checkpoint taken between the two must not add one either (attack Q10)."""
    with LocalStore(tmp_path, background=False, clock=Clock()) as store:
        store.ensure_sheet(SheetSpec("f", "表", (Column("a", "甲"), Column("gone", "旧"))))
        store.append("f", {"a": "1", "gone": "v", "extra": "x"}, actor=CITY, status="草稿")
        with store._writing():
            store._commit([{"op": "sheet", "at": "2024-01-01T10:00:00", "form": "f", "title": "表",
                            "columns": [["a", "甲", "text"]]}])
        store.checkpoint.save(store)
        store.append("f", {"a": "2", "gone": "w", "extra": "y"}, actor=CITY, status="草稿")
    loaded, replayed = opened(tmp_path), opened(tmp_path, use_checkpoint=False)
    try:
        assert loaded.checkpoint.covers and not loaded.checkpoint.problem
        assert [c.key for c in replayed.state.columns("f")] == ["a", "extra"]
        assert [c.key for c in loaded.state.columns("f")] == ["a", "extra"]
        assert list(loaded.snapshot("f").columns) == list(replayed.snapshot("f").columns)
        assert loaded.state.known_keys() == replayed.state.known_keys() == {"f": ["a", "extra", "gone"]}
    finally:
        loaded.close()
        replayed.close()


def test_a_checkpoint_that_cannot_be_read_is_not_used(folder):
    path = folder / ".campaign.checkpoint"
    path.unlink()
    path.mkdir()  # not a file: reading it fails as an unreadable one does
    with opened(folder) as store:
        assert store.checkpoint.covers == 0 and "directory" in store.checkpoint.problem
        assert facts(store.state) == _replayed(folder)


def test_without_a_checkpoint_the_log_is_replayed_and_none_is_written_for_a_short_log(tmp_path):
    with opened(tmp_path) as store:
        store.ensure_sheet(SPEC)
        store.append("site_check", {"project": "甲"}, actor=CITY, status="已提交")
        assert store.checkpoint.covers == 0 and not store.checkpoint.problem
        checkpoint.save_if_due(store)
    assert not (tmp_path / ".campaign.checkpoint").exists()


def test_a_checkpoint_is_due_once_the_log_grew_enough_past_the_last(folder, monkeypatch):
    with opened(folder) as store:
        assert not store.checkpoint.due(store.log.offset)
        start = store.log.offset
        monkeypatch.setattr(checkpoint, "EVERY_BYTES", 200)
        while store.log.offset - start < 200:
            assert not store.checkpoint.due(store.log.offset)
            store.append("site_check", {"project": "又一个项目"}, actor=CITY, status="已提交")
        checkpoint.save_if_due(store)
        assert store.checkpoint.covers == store.log.offset
    with opened(folder) as store:
        assert store.checkpoint.covers == store.log.offset


def test_the_background_writer_writes_the_checkpoint_after_the_workbook(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoint, "EVERY_BYTES", 1)
    with opened(tmp_path) as store:
        store.ensure_sheet(SPEC)
        store.append("site_check", {"project": "甲"}, actor=CITY, status="已提交")
        store.flush_workbook()  # no background writer: the workbook written here, under its lock
        assert store.checkpoint.covers == store.log.offset
    with opened(tmp_path) as store:
        assert store.checkpoint.covers == store.log.offset


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_a_store_loaded_from_a_checkpoint_is_frozen_too(tmp_path, unfrozen):
    with opened(tmp_path) as store:
        store.ensure_sheet(SPEC)
        store.append_many("site_check", [{"count": i} for i in range(FREEZE_AFTER_ENTRIES)], actor=CITY, status="已提交")
        store.checkpoint.save(store)
    assert gc.get_freeze_count() == 0
    with opened(tmp_path) as store:
        assert store.checkpoint.covers == store.log.offset  # nothing replayed: all of it from the checkpoint
        assert gc.get_freeze_count() > FREEZE_AFTER_ENTRIES
