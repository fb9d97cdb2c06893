"""The audit trail on screen: every change and event as a table, filtered by account, form, row,
action and time; one row's full history field by field; exports. Province and admin only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from lib.auth.policy import AUDIT, authorize
from lib.core.records import Actor, AuditEntry
from lib.core.values import AUDIT_HEADERS, change_text, text, wall_time
from lib.forms import FormSpec
from lib.forms.columns import sheet_spec
from lib.store.base import Store
from lib.store.state import STATUS_LABEL

#: The audit trail's columns: the same as the workbook's and the Sheets ``_audit`` sheet.
COLUMNS = list(AUDIT_HEADERS)
HISTORY_COLUMNS = ["时间", "账号", "操作", "版本", "字段", "原值", "新值", "备注"]
#: How an export writes the columns that are not text (``lib.office.excel.to_xlsx``'s kinds).
EXPORT_KINDS = {"时间": "datetime"}
#: The action of a row's creation (``lib.store.state``), whose 变更内容 counts its fields.
CREATED = "新增"


@dataclass(frozen=True)
class AuditFilter:
    """What to keep; empty parts keep everything. ``account`` matches part of the account name."""

    account: str = ""
    form_id: str = ""
    row_id: str = ""
    actions: tuple[str, ...] = ()
    start: dt.date | None = None
    end: dt.date | None = None  # inclusive


@dataclass(frozen=True)
class Labels:
    """Form titles and field labels, so a person reads 奖补金额, not subsidy_amount."""

    titles: Mapping[str, str] = field(default_factory=dict)
    fields: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    #: form id -> field key -> the column's display (money, percent), as the store's _audit sheets read it
    displays: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @classmethod
    def of(cls, forms: Iterable[FormSpec]) -> Labels:
        forms = list(forms)
        return cls({f.id: f.short_title for f in forms}, {f.id: {x.key: x.label for x in f.all_fields()} for f in forms},
                   {f.id: {c.key: c.display for c in sheet_spec(f).columns if c.display} for f in forms})

    def field(self, form_id: str, key: str) -> str:
        return STATUS_LABEL if key == "_status" else self.fields.get(form_id, {}).get(key, key)


def _changes_text(entry: AuditEntry, labels: Labels) -> str:
    return change_text(entry.changes, lambda k: labels.field(entry.form_id, k), created=entry.action == CREATED,
                       kind=labels.displays.get(entry.form_id, {}).get)


def authorize_trail(store: Store, user: Actor) -> None:
    """Forbidden (audited) unless ``user`` may read the audit trail: the province and the admin."""
    authorize(store, user, AUDIT)


def entries(store: Store, user: Actor) -> list[AuditEntry]:
    """The whole audit trail, oldest first (province and admin only; Forbidden, audited, for others)."""
    authorize_trail(store, user)
    return store.audit()


def audit_frame(items: Iterable[AuditEntry], labels: Labels) -> pd.DataFrame:
    """One line per audit entry, newest first, with Chinese column names."""
    rows = [
        dict(zip(COLUMNS, (wall_time(e.at), e.account, e.action, labels.titles.get(e.form_id, e.form_id), e.row_id, e.rev or None,
                           _changes_text(e, labels), e.note), strict=True)) | {"_form": e.form_id}
        for e in items
    ]
    frame = pd.DataFrame(rows, columns=[*COLUMNS, "_form"])
    # One dtype whatever the lines are (events alone have no version): a merge of two builds keeps it.
    frame["版本"] = frame["版本"].astype("Int64")
    # By time, not log order: imports and the demo write entries stamped with earlier times.
    # Stable, so entries of the same second keep their log order (reversed with the rest).
    return frame.iloc[::-1].sort_values("时间", ascending=False, kind="stable").reset_index(drop=True)


def merged(newer: pd.DataFrame, older: pd.DataFrame) -> pd.DataFrame:
    """``audit_frame`` of a whole trail from that of its entries up to some point (``older``) and that of
    the entries logged after it (``newer``), equal to building it from every entry: the trail only grows,
    so its older lines are kept instead of built again (turning 229,000 entries into lines takes seconds).

    >>> at = dt.datetime(2020, 9, 10, 10)
    >>> first, second = (AuditEntry(at, "a", "新增", "f", "r1", 1, {}, ""), AuditEntry(at, "a", "修改", "f", "r1", 2, {}, ""))
    >>> list(merged(audit_frame([second], Labels()), audit_frame([first], Labels()))["操作"])  # same second: log order, reversed
    ['修改', '新增']
    """
    if newer.empty:
        return older
    if older.empty:
        return newer
    return pd.concat([newer, older], ignore_index=True).sort_values("时间", ascending=False, kind="stable").reset_index(drop=True)


def filter_audit(frame: pd.DataFrame, flt: AuditFilter) -> pd.DataFrame:
    """The lines of ``audit_frame`` that ``flt`` keeps (display columns only)."""
    keep = pd.Series(True, index=frame.index)
    if flt.account.strip():
        keep &= frame["账号"].astype(str).str.contains(flt.account.strip(), regex=False, case=False)
    if flt.form_id:
        keep &= frame["_form"] == flt.form_id
    if flt.row_id.strip():
        keep &= frame["记录编号"] == flt.row_id.strip()
    if flt.actions:
        keep &= frame["操作"].isin(flt.actions)
    if flt.start:
        keep &= frame["时间"] >= pd.Timestamp(flt.start)
    if flt.end:
        keep &= frame["时间"] < pd.Timestamp(flt.end + dt.timedelta(days=1))
    return frame.loc[keep, COLUMNS].reset_index(drop=True)


def row_history(store: Store, user: Actor, form_id: str, row_id: str, labels: Labels) -> pd.DataFrame:
    """Every change of one row, oldest first, one line per field changed (old → new value)."""
    authorize(store, user, AUDIT)
    lines = []
    for e in store.audit(form_id, row_id.strip()):
        base = {"时间": e.at, "账号": e.account, "操作": e.action, "版本": e.rev or None, "备注": e.note}
        if not e.changes:
            lines.append(base | {"字段": "", "原值": "", "新值": ""})
        for key, (old, new) in e.changes.items():
            lines.append(base | {"字段": labels.field(form_id, key), "原值": text(old), "新值": text(new)})
    return pd.DataFrame(lines, columns=HISTORY_COLUMNS)
