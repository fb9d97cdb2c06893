"""The board as of a day (lib.campaign.board.history) on a real local store: rows written through
append/update with a clock the test moves, then ``as_of`` on the store's own snapshot and audit.
Every expectation is worked out by hand from the writes the test makes."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import pytest

from lib.campaign.board.history import FILED_AT, as_of
from lib.core.errors import AppError
from lib.core.records import Actor
from lib.core.statuses import APPROVED, DRAFT, RESUBMITTED, RETURNED, SUBMITTED, WITHDRAWN
from lib.core.values import WALL_CLOCK
from lib.store.base import Column, SheetSpec
from lib.store.factory import open_store
from tests.store.store_cases import Clock

FORM = SheetSpec("projects", "项目", (Column("name", "项目名称"), Column("amount", "奖补金额", "number"),
                                      Column("users", "月活跃用户数", "integer")))
OTHER = SheetSpec("checks", "检查", (Column("verdict", "结论"),))
FILER = Actor("p1", "provider", org="服务商甲")
REVIEWER = Actor("prov", "province", org="省厅")


def at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2020, 9, day, hour)


def sept(day: int) -> dt.date:
    return dt.date(2020, 9, day)


@pytest.fixture
def clock() -> Clock:
    return Clock(at(1))


@pytest.fixture
def store(tmp_path, clock):
    s = open_store("local", data_dir=tmp_path / "data", background=False, clock=clock)
    s.ensure_sheet(FORM)
    s.ensure_sheet(OTHER)
    yield s
    s.close()


class Writer:
    """Writes one row's history at the days the test names."""

    def __init__(self, store, clock: Clock, form: str = "projects"):
        self.store, self.clock, self.form = store, clock, form
        self.id, self.rev = "", 0

    def create(self, when: dt.datetime, status: str, **values) -> Writer:
        self.clock.now = when
        rec = self.store.append(self.form, values, actor=FILER, status=status)
        self.id, self.rev = rec.id, rec.rev
        return self

    def change(self, when: dt.datetime, status: str | None = None, actor: Actor = FILER, **values) -> Writer:
        self.clock.now = when
        rec = self.store.update(self.form, self.id, base_rev=self.rev, actor=actor, values=values, status=status)
        self.rev = rec.rev
        return self


def board(store, day: dt.date, forms=("projects",)):
    frames = {f: store.snapshot(f) for f in forms}
    audit = [a for f in forms for a in store.audit(f)]
    return as_of(frames, audit, day)


def one(frame: pd.DataFrame, row_id: str) -> pd.Series:
    rows = frame[frame["_id"] == row_id]
    assert len(rows) == 1
    return rows.iloc[0]


def test_a_draft_saved_9_10_and_submitted_9_30_is_filed_on_9_30_and_a_draft_as_of_9_15(store, clock):
    row = Writer(store, clock).create(at(10), DRAFT, name="草拟名称", amount=12.5)
    row.change(at(20), name="改过的名称")  # a draft save after 9-15
    row.change(at(30, 16), SUBMITTED, amount=13.0)

    standing, later = board(store, sept(15))
    r = one(standing["projects"], row.id)
    assert (r["_status"], r["_rev"], r["name"], r["amount"]) == (DRAFT, 1, "草拟名称", 12.5)
    assert (r["_updated_at"], r["_updated_by"]) == (pd.Timestamp(at(10)), "p1")
    assert pd.isna(r[FILED_AT])
    assert later["projects"].empty

    r = one(board(store, sept(20))[0]["projects"], row.id)  # the save of 9-20 is that day's: kept
    assert (r["_status"], r["_rev"], r["name"], r["amount"]) == (DRAFT, 2, "改过的名称", 12.5)
    assert pd.isna(r[FILED_AT])

    r = one(board(store, sept(30))[0]["projects"], row.id)  # submitted at 16:00 on the day itself
    assert (r["_status"], r["_rev"], r["amount"]) == (SUBMITTED, 3, 13.0)
    assert r[FILED_AT] == pd.Timestamp(at(30, 16))


def test_a_day_after_every_change_shows_the_snapshot_with_its_filing_time(store, clock):
    row = Writer(store, clock).create(at(10), DRAFT, name="甲", amount=1.0, users=3)
    row.change(at(12), SUBMITTED)
    snap = store.snapshot("projects")
    standing, later = board(store, dt.date(2020, 10, 31))
    pd.testing.assert_frame_equal(standing["projects"].drop(columns=[FILED_AT]), snap)
    assert standing["projects"][FILED_AT].tolist() == [pd.Timestamp(at(12))]
    assert standing["projects"][FILED_AT].dtype == "datetime64[us]"
    assert later["projects"].empty


def test_withdrawn_then_resubmitted_counts_from_the_resubmission(store, clock):
    row = Writer(store, clock).create(at(12), SUBMITTED, name="乙")
    row.change(at(14), WITHDRAWN)
    row.change(at(16), SUBMITTED)

    expected = {11: None, 12: (SUBMITTED, at(12)), 13: (SUBMITTED, at(12)), 14: (WITHDRAWN, None),
                15: (WITHDRAWN, None), 16: (SUBMITTED, at(16)), 30: (SUBMITTED, at(16))}
    for day, want in expected.items():
        standing, later = board(store, sept(day))
        if want is None:  # created on 9-12: not yet a row as of 9-11
            assert standing["projects"].empty and later["projects"]["_id"].tolist() == [row.id]
            continue
        r = one(standing["projects"], row.id)
        filed = None if pd.isna(r[FILED_AT]) else r[FILED_AT].to_pydatetime()
        assert (r["_status"], filed) == want, day


def test_returned_then_resubmitted_keeps_the_first_filing_and_shows_it_returned_meanwhile(store, clock):
    row = Writer(store, clock).create(at(12), SUBMITTED, name="丙", amount=20.0)
    row.change(at(14), RETURNED, actor=REVIEWER)
    row.change(at(16), RESUBMITTED, amount=18.0)
    row.change(at(18), APPROVED, actor=REVIEWER)

    for day, status, amount, rev in ((13, SUBMITTED, 20.0, 1), (15, RETURNED, 20.0, 2), (17, RESUBMITTED, 18.0, 3),
                                     (18, APPROVED, 18.0, 4)):
        r = one(board(store, sept(day))[0]["projects"], row.id)
        assert (r["_status"], r["amount"], r["_rev"], r[FILED_AT]) == (status, amount, rev, pd.Timestamp(at(12))), day
    r = one(board(store, sept(15))[0]["projects"], row.id)
    assert (r["_updated_at"], r["_updated_by"]) == (pd.Timestamp(at(14)), "prov")


def test_values_changed_after_the_day_show_their_old_values_and_others_their_own(store, clock):
    a = Writer(store, clock).create(at(10), SUBMITTED, name="甲", amount=1.0, users=5)
    b = Writer(store, clock).create(at(11), SUBMITTED, name="乙", amount=2.0, users=7)
    a.change(at(20), name="甲改", users=6)
    a.change(at(21), users=8)  # the earliest change after the day tells the value of the day: 5, not 6
    b.change(at(14), amount=2.5)  # before the day: kept
    a.change(at(22), amount=None)

    standing = board(store, sept(15))[0]["projects"]
    assert standing["_id"].tolist() == [a.id, b.id]
    assert standing[["name", "amount", "users", "_rev"]].values.tolist() == [["甲", 1.0, 5, 1], ["乙", 2.5, 7, 2]]
    assert standing["users"].dtype == "int64"  # the day's values are all integers: still an integer column
    assert standing[FILED_AT].tolist() == [pd.Timestamp(at(10)), pd.Timestamp(at(11))]

    r = one(board(store, sept(21))[0]["projects"], a.id)
    assert (r["name"], r["amount"], r["users"], r["_rev"]) == ("甲改", 1.0, 8, 3)


def test_a_value_set_after_the_day_is_missing_that_day(store, clock):
    a = Writer(store, clock).create(at(10), DRAFT, name="甲")
    Writer(store, clock).create(at(10), DRAFT, name="乙", users=4)
    a.change(at(20), users=9)
    standing = board(store, sept(15))[0]["projects"]
    assert standing["name"].tolist() == ["甲", "乙"]
    assert pd.isna(standing["users"].iloc[0]) and standing["users"].iloc[1] == 4


def test_a_row_created_after_the_day_is_in_later_as_in_the_snapshot(store, clock):
    early = Writer(store, clock).create(at(10), SUBMITTED, name="早")
    late = Writer(store, clock).create(at(16, 0), DRAFT, name="晚")  # midnight after 9-15: after the day
    late.change(at(17), SUBMITTED)
    standing, later = board(store, sept(15))
    assert standing["projects"]["_id"].tolist() == [early.id]
    snap = store.snapshot("projects")
    pd.testing.assert_frame_equal(later["projects"], snap[snap["_id"] == late.id].reset_index(drop=True))
    assert FILED_AT not in later["projects"]


def test_entries_newer_than_the_snapshot_are_ignored(store, clock):
    row = Writer(store, clock).create(at(10), DRAFT, name="甲", amount=1.0)
    row.change(at(12), amount=2.0)
    frames = {"projects": store.snapshot("projects")}
    # After the snapshot was taken: the row is submitted and changed, and another row is added.
    row.change(at(13), SUBMITTED)
    row.change(at(14), amount=3.0)
    Writer(store, clock).create(at(14), SUBMITTED, name="乙")
    audit = store.audit("projects")

    standing, later = as_of(frames, audit, sept(20))
    r = one(standing["projects"], row.id)
    assert (r["_status"], r["_rev"], r["amount"]) == (DRAFT, 2, 2.0)  # as the snapshot: a draft, not filed
    assert pd.isna(r[FILED_AT])
    assert len(standing["projects"]) == 1 and later["projects"].empty

    r = one(as_of(frames, audit, sept(11))[0]["projects"], row.id)
    assert (r["_status"], r["_rev"], r["amount"]) == (DRAFT, 1, 1.0)


def test_forms_are_told_apart_and_events_change_nothing(store, clock):
    row = Writer(store, clock).create(at(10), DRAFT, name="甲")
    check = Writer(store, clock, "checks").create(at(11), SUBMITTED, verdict="合格")
    clock.now = at(12)
    store.log_event(REVIEWER, "拒绝访问", form_id="projects", row_id=row.id, note="越权查看")
    row.change(at(20), SUBMITTED)
    check.change(at(20), verdict="不合格")

    standing, later = board(store, sept(15), forms=("projects", "checks"))
    assert standing["projects"][["_id", "_status", "_rev"]].values.tolist() == [[row.id, DRAFT, 1]]
    assert standing["checks"][["_id", "_status", "verdict", "_rev"]].values.tolist() == [[check.id, SUBMITTED, "合格", 1]]
    assert standing["checks"][FILED_AT].tolist() == [pd.Timestamp(at(11))]


def test_a_form_with_no_rows_stands_empty(store):
    standing, later = board(store, sept(15))
    assert standing["projects"].empty and later["projects"].empty
    assert FILED_AT in standing["projects"]


def test_audit_times_with_a_timezone_are_read_on_the_wall_clock(store, clock):
    row = Writer(store, clock).create(at(10), DRAFT, name="甲", amount=1.0)
    row.change(at(16, 1), SUBMITTED, amount=2.0)  # 9-16 01:00 in Guangdong is still 9-15 in UTC
    frames, naive = {"projects": store.snapshot("projects")}, store.audit("projects")
    # The same instants written as UTC with their offset, as a log line with "+00:00" is read.
    aware = [dataclasses.replace(a, at=a.at.replace(tzinfo=WALL_CLOCK).astimezone(dt.UTC)) for a in naive]
    assert [a.at.hour for a in aware] == [2, 17]

    for day in (sept(15), sept(16)):
        pd.testing.assert_frame_equal(as_of(frames, aware, day)[0]["projects"], as_of(frames, naive, day)[0]["projects"])
    r = one(as_of(frames, aware, sept(15))[0]["projects"], row.id)
    assert (r["_status"], r["amount"], r["_rev"]) == (DRAFT, 1.0, 1) and pd.isna(r[FILED_AT])
    assert one(as_of(frames, aware, sept(16))[0]["projects"], row.id)[FILED_AT] == pd.Timestamp(at(16, 1))


def test_a_row_whose_newest_revisions_the_audit_lacks_stands_as_in_the_snapshot_filed_when_last_changed(store, clock):
    behind = Writer(store, clock).create(at(10), DRAFT, name="甲", amount=1.0)
    whole = Writer(store, clock).create(at(11), SUBMITTED, name="乙", amount=2.0)
    whole.change(at(20), amount=2.5)
    audit = store.audit("projects")  # read before the next change: the snapshot below is newer
    behind.change(at(20), SUBMITTED, amount=1.5)
    frames = {"projects": store.snapshot("projects")}

    for day in (sept(15), sept(25)):
        standing = as_of(frames, audit, day)[0]["projects"]
        r = one(standing, behind.id)
        # Its submission of 9-20 is unknown to the audit: filed, at the latest, when it last changed.
        assert (r["_status"], r["_rev"], r["amount"], r[FILED_AT]) == (SUBMITTED, 2, 1.5, pd.Timestamp(at(20))), day
    r = one(as_of(frames, audit, sept(15))[0]["projects"], whole.id)  # a row the audit holds is still set back
    assert (r["_rev"], r["amount"], r[FILED_AT]) == (1, 2.0, pd.Timestamp(at(11)))

    # Given no audit at all, every row stands as in the snapshot, filed when it last changed.
    standing = as_of(frames, [], sept(15))[0]["projects"]
    assert standing[["_rev", "amount"]].values.tolist() == [[2, 1.5], [2, 2.5]]
    assert standing[FILED_AT].tolist() == [pd.Timestamp(at(20)), pd.Timestamp(at(20))]


@pytest.mark.parametrize("damage", ["missing", "repeated", "no_creation"])
def test_a_revision_missing_or_repeated_in_the_audit_is_a_coded_error_naming_the_row(store, clock, damage):
    sound = Writer(store, clock).create(at(10), SUBMITTED, name="甲")
    row = Writer(store, clock).create(at(10), DRAFT, name="乙", amount=1.0)
    row.change(at(12), amount=2.0)
    row.change(at(14), SUBMITTED, amount=3.0)
    frames, audit = {"projects": store.snapshot("projects")}, store.audit("projects")
    revs = {"missing": [1, 3], "repeated": [1, 2, 2, 3], "no_creation": [2, 3]}[damage]
    by_rev = {a.rev: a for a in audit if a.row_id == row.id}
    damaged = [a for a in audit if a.row_id != row.id] + [by_rev[r] for r in revs]

    with pytest.raises(AppError) as refused:
        as_of(frames, damaged, sept(13))  # without rev 2, 9-13 would show rev 2 with the value 1.0
    assert refused.value.code == "history_gap"
    assert row.id in str(refused.value) and sound.id not in str(refused.value)
