"""Filling a form: check answers, then append or update a row, with the status rules of a filler.

Pages call these functions and show what they return; nothing is written unless every answer
passes (drafts excepted: they keep what the filler typed so far). Every read and write is first
authorised by ``lib.auth.policy`` (a refusal raises Forbidden and is audited as 拒绝访问).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lib.auth.policy import CREATE, EDIT, authorize
from lib.auth.scope import editable_records, get_record
from lib.forms import FormProblem, FormSpec, check_answers
from lib.store.base import Actor, Record, Store, StoreError

DRAFT = "草稿"
SUBMITTED = "已提交"
RETURNED = "退回修改"
RESUBMITTED = "已重新提交"
APPROVED = "已通过"
WITHDRAWN = "已撤回"

#: What a filler's submission does to the status a row is in.
_NEXT_ON_SUBMIT = {
    DRAFT: SUBMITTED,
    SUBMITTED: SUBMITTED,
    RETURNED: RESUBMITTED,
    RESUBMITTED: RESUBMITTED,
    WITHDRAWN: SUBMITTED,
}


class NotAllowed(StoreError):
    """The acting account may not do this to this row (message in Chinese)."""

    code = "not_allowed"


@dataclass
class Submission:
    """The result of a submit or a draft save: the stored record, or the problems found."""

    record: Record | None = None
    problems: list[FormProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.record is not None and not self.problems


def record_for_edit(store: Store, form: FormSpec, row_id: str, actor: Actor) -> Record:
    """A row the actor may correct as its filler (Forbidden, audited, for anyone else's row)."""
    return get_record(store, actor, form, row_id, EDIT)


def submit(
    store: Store,
    form: FormSpec,
    answers: dict[str, Any],
    actor: Actor,
    *,
    cities: tuple[str, ...],
    row_id: str | None = None,
    base_rev: int | None = None,
) -> Submission:
    """Check ``answers``; when all pass, add a row or update ``row_id`` from ``base_rev``.

    Raises ConflictError when the row changed since ``base_rev``, Forbidden for a form or row the
    actor may not file or correct, NotAllowed for a row already approved.
    """
    return _save(store, form, answers, actor, cities=cities, row_id=row_id, base_rev=base_rev, draft=False)


def save_draft(
    store: Store,
    form: FormSpec,
    answers: dict[str, Any],
    actor: Actor,
    *,
    cities: tuple[str, ...],
    row_id: str | None = None,
    base_rev: int | None = None,
) -> Submission:
    """Keep an unfinished form; only answers that do not fit their type are refused."""
    return _save(store, form, answers, actor, cities=cities, row_id=row_id, base_rev=base_rev, draft=True)


def _save(store, form, answers, actor, *, cities, row_id, base_rev, draft: bool) -> Submission:
    authorize(store, actor, CREATE if row_id is None else EDIT, form)
    outcome = check_answers(form, answers, cities=cities, draft=draft)
    if not outcome.ok:
        return Submission(problems=outcome.problems)
    if row_id is None:
        authorize(store, actor, CREATE, form, outcome.values)
        status = DRAFT if draft else SUBMITTED
        return Submission(record=store.append(form.id, outcome.values, actor=actor, status=status, form_version=form.version))
    current = record_for_edit(store, form, row_id, actor)
    if draft and current.status != DRAFT:
        raise NotAllowed(f"记录 {row_id} 已提交，请直接修改后重新提交。")
    if not draft and current.status not in _NEXT_ON_SUBMIT:
        raise NotAllowed(f"记录 {row_id} 状态为「{current.status}」，不能再修改。")
    record = store.update(
        form.id,
        row_id,
        base_rev=current.rev if base_rev is None else base_rev,
        actor=actor,
        values=outcome.values,
        status=DRAFT if draft else _NEXT_ON_SUBMIT[current.status],
    )
    return Submission(record=record)


def withdraw(store: Store, form: FormSpec, row_id: str, actor: Actor, *, base_rev: int) -> Record:
    """Withdraw one's own row: it stays in the workbook with status 已撤回."""
    current = record_for_edit(store, form, row_id, actor)
    if current.status in (WITHDRAWN, APPROVED):
        raise NotAllowed(f"记录 {row_id} 状态为「{current.status}」，不能撤回。")
    return store.update(form.id, row_id, base_rev=base_rev, actor=actor, status=WITHDRAWN, note="填报人撤回")


def my_records(store: Store, form: FormSpec, actor: Actor) -> list[Record]:
    """The rows of ``form`` the actor files (its own organisation's; a city bureau's: its city's),
    newest change first."""
    return sorted(editable_records(store, actor, form), key=lambda r: r.updated_at, reverse=True)
