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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from lib.auth.policy import REVIEW, authorize, row_city
from lib.auth.scope import get_record, reviewable_records
from lib.forms import FormSpec
from lib.store.base import Actor, Record, Store, StoreError
from lib.submissions import APPROVED, RESUBMITTED, RETURNED, SUBMITTED

#: Statuses a reviewer can act on.
AWAITING = (SUBMITTED, RESUBMITTED)
MAX_REASON = 500
APPROVED_NOTE = "审核通过"


class ReviewError(ValueError):
    """A review action refused before anything was written (message in Chinese)."""

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
    wanted = set(statuses) if statuses is not None else None
    rows = [r for r in reviewable_records(store, user, form) if r.status != "草稿"]
    return [r for r in rows if wanted is None or r.status in wanted]


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
        except StoreError as exc:  # stale revision, out of scope (already audited), gone
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
        raise ReviewError("请填写退回原因，填报单位将看到这段说明。")
    if len(reason) > MAX_REASON:
        raise ReviewError(f"退回原因不能超过 {MAX_REASON} 个字。")
    if not picks:
        raise ReviewError("请先选择要退回的记录。")
    return _transition(store, form, user, picks, RETURNED, reason)


def return_reasons(store: Store, form: FormSpec, records: Iterable[Record]) -> dict[str, str]:
    """For each of ``records`` (already read through a scoped read) that was ever returned, the
    reason of its latest return."""
    ids = {r.id for r in records}
    reasons: dict[str, str] = {}
    for entry in store.audit(form.id):
        if entry.row_id in ids and entry.changes.get("_status", (None, None))[1] == RETURNED:
            reasons[entry.row_id] = entry.note
    return reasons


def review_table(form: FormSpec, records: Iterable[Record], reasons: Mapping[str, str] | None = None) -> list[dict]:
    """Display rows for a reviewer: id, status, filer, city, the form's first text fields, the last reason."""
    summary = [f for f in form.all_fields() if f.type in ("text", "select")][:3]
    reasons = reasons or {}
    return [
        {"记录编号": r.id, "状态": r.status, "版本": r.rev, "填报单位": r.org or r.owner, "地市": row_city(form, r),
         "更新时间": f"{r.updated_at:%Y-%m-%d %H:%M}"}
        | {f.label: r.values.get(f.key) for f in summary}
        | {"退回原因": reasons.get(r.id, "")}
        for r in records
    ]
