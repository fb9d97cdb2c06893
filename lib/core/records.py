"""The nouns every layer shares: who acts (``Actor``), a row's latest version (``Record``), and one
entry of the audit trail. Plain data, no dependencies: the store, auth, forms and pages all speak it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

#: The application names the sheets it keeps for itself (registers, sampling and rectification records,
#: the archive's forwarding, the form versions) with these prefixes: no form's id may begin with one,
#: or its rows would share a sheet with those records (tests/store/test_system_sheets.py checks both).
SYSTEM_SHEET_PREFIXES = ("register_", "sampling_", "rectification_", "archive_", "form_")


@dataclass(frozen=True)
class Actor:
    """Who makes a change; every row and audit entry records it."""

    account: str
    role: str
    org: str = ""
    city: str = ""
    org_code: str = ""  # the organisation's 统一社会信用代码, where the account declares it


@dataclass(frozen=True, slots=True)  # slots: a store may hold 100k of these in memory
class Record:
    """One row's latest version: system values plus field values."""

    form_id: str
    id: str
    rev: int
    status: str
    form_version: int
    owner: str
    org: str
    city: str
    created_at: dt.datetime
    updated_at: dt.datetime
    updated_by: str
    values: dict[str, Any] = field(default_factory=dict)

    def system(self) -> dict[str, Any]:
        return {
            "_id": self.id,
            "_rev": self.rev,
            "_status": self.status,
            "_form_version": self.form_version,
            "_owner": self.owner,
            "_org": self.org,
            "_city": self.city,
            "_created_at": self.created_at,
            "_updated_at": self.updated_at,
            "_updated_by": self.updated_by,
        }

    def as_row(self) -> dict[str, Any]:
        return {**self.system(), **self.values}


def is_pending(record: Record) -> bool:
    """Whether ``record`` was accepted on this machine and still waits to reach the shared store
    (待同步); only the Google Sheets backend ever has such records."""
    return bool(getattr(record, "pending", False))


@dataclass(frozen=True)
class AuditEntry:
    at: dt.datetime
    account: str
    action: str  # 新增 / 修改 / 状态变更 / 外部编辑 / 拒绝访问 ...
    form_id: str
    row_id: str
    rev: int
    changes: dict[str, tuple[Any, Any]]  # field key -> (old, new)
    note: str = ""
