"""The review workflow: a reviewer approves rows or returns them to their filler with a reason.

    已提交 / 已重新提交 --approve--> 已通过
    已提交 / 已重新提交 --return (reason)--> 退回修改 --filler resubmits--> 已重新提交
    any but 已通过 --filler withdraws--> 已撤回

Who reviews a form is declared in its YAML (``reviewed_by``); which rows a reviewer may act on is
``lib.auth.policy`` (附件2: the city bureau of the project's city). Every transition is a
``Store.update`` with the new status and a note (the reason), so it is in the audit trail, and the
filler sees the latest reason (``return_reasons``). Reviewers act on many rows at once; each row is
checked on its own (revision, status, scope) and the outcome lists what was done and what was not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from lib.auth.errors import AuthError
from lib.auth.policy import REVIEW, authorize
from lib.auth.scope import get_record, reviewable_records
from lib.core.errors import AppError
from lib.core.records import Actor, Record
from lib.core.statuses import APPROVED, DRAFT, RESUBMITTED, RETURNED, SUBMITTED
from lib.forms import FormSpec, check_answers
from lib.store.base import Store, StoreError

#: Statuses a reviewer can act on.
AWAITING = (SUBMITTED, RESUBMITTED)
MAX_REASON = 500
#: Approving more rows than this at once asks the reviewer to confirm the count first.
CONFIRM_ABOVE = 10
APPROVED_NOTE = "审核通过"


class ReviewError(AppError):
    """A review action refused before anything was written (codes ``reason_missing``,
    ``reason_too_long``, ``nothing_picked``)."""

    code = "review"


@dataclass
class BulkOutcome:
    """What a bulk action did: the rows changed, and the rows left alone with the reason why."""

    done: list[Record] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (row id, Chinese reason)

    def summary(self, verb: str) -> str:
        text = f"已{verb} {len(self.done)} 条记录。"
        if self.skipped:
            text += f"{len(self.skipped)} 条未处理：" + "；".join(f"{rid}：{why}" for rid, why in self.skipped)
        return text


def queue(store: Store, user: Actor, form: FormSpec, statuses: Iterable[str] | None = AWAITING) -> list[Record]:
    """Rows of ``form`` the user reviews, in the given statuses (None: all but drafts), oldest first."""
    wanted = tuple(s for s in statuses if s != DRAFT) if statuses is not None else None
    return [r for r in reviewable_records(store, user, form, statuses=wanted) if r.status != DRAFT]


def _transition(store: Store, form: FormSpec, user: Actor, picks: Mapping[str, int], status: str, note: str) -> BulkOutcome:
    authorize(store, user, REVIEW, form)
    outcome = BulkOutcome()
    for row_id, seen_rev in picks.items():
        try:
            record = get_record(store, user, form, row_id, REVIEW)
            if record.status not in AWAITING:
                outcome.skipped.append((row_id, f"状态为「{record.status}」，不能审核"))
                continue
            outcome.done.append(store.update(form.id, row_id, base_rev=seen_rev, actor=user, status=status, note=note))
        except (StoreError, AuthError) as exc:  # stale revision, gone, out of scope (Forbidden, already audited)
            outcome.skipped.append((row_id, str(exc)))
    return outcome


def approve(store: Store, form: FormSpec, user: Actor, picks: Mapping[str, int], comment: str = "") -> BulkOutcome:
    """Approve the rows ``{row id: revision the reviewer saw}``; a row changed since is skipped."""
    note = APPROVED_NOTE + (f"：{comment.strip()}" if comment.strip() else "")
    return _transition(store, form, user, picks, APPROVED, note[:MAX_REASON])


def return_for_changes(store: Store, form: FormSpec, user: Actor, picks: Mapping[str, int], reason: str) -> BulkOutcome:
    """Return the rows to their filler with one ``reason`` (required, at most 500 characters)."""
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError("请填写退回原因，填报单位将看到这段说明。", code="reason_missing")
    if len(reason) > MAX_REASON:
        raise ReviewError(f"退回原因不能超过 {MAX_REASON} 个字。", code="reason_too_long")
    if not picks:
        raise ReviewError("请先选择要退回的记录。", code="nothing_picked")
    return _transition(store, form, user, picks, RETURNED, reason)


def return_reasons(store: Store, form: FormSpec, records: Iterable[Record]) -> dict[str, str]:
    """For each of ``records`` (already read through a scoped read) that was ever returned, the
    reason of its latest return."""
    returns = store.last_moves(form.id, RETURNED)  # kept by the store: no walk of the form's whole audit
    return {r.id: returns[r.id].note for r in records if r.id in returns}


def open_return_reasons(store: Store, form: FormSpec, records: Iterable[Record]) -> dict[str, str]:
    """The latest return reason of each of ``records`` still waiting for its filler's correction
    (退回修改): what 我的填报 shows; a row resubmitted since is no longer asked to change."""
    records = [r for r in records if r.status == RETURNED]
    return return_reasons(store, form, records) if records else {}


def check_notes(form: FormSpec, record: Record, cities: tuple[str, ...], *, today: dt.date | None = None) -> list[str]:
    """What a reviewer should look at before approving: every rule of the form as it stands today
    that the row's answers do not meet (a row filed under an older version of the form, or a draft
    rule since tightened); empty when the row passes. ``today`` is the campaign clock's day, as the
    fill page judged the row on (None: the real date)."""
    return [p.message for p in check_answers(form, record.values, cities=cities, today=today).problems]


def warning_notes(form: FormSpec, record: Record, cities: tuple[str, ...], *, today: dt.date | None = None) -> list[str]:
    """The warnings the row's answers raise under the form's rules as they stand today (a filler
    confirms them before submitting), each naming its field by label, for the reviewer to check;
    ``today`` as in :func:`check_notes`."""
    return [str(w) for w in check_answers(form, record.values, cities=cities, today=today).warnings]
