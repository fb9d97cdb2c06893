"""Filling a form: check answers, then append or update a row, with the status rules of a filler.

Pages call these functions and show what they return; nothing is written unless every answer
passes (drafts excepted: they keep what the filler typed so far).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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


def _own_row(store: Store, form: FormSpec, row_id: str, actor: Actor) -> Record:
    record = store.get(form.id, row_id)
    if record.owner != actor.account:
        raise NotAllowed(f"记录 {row_id} 不是您填报的，不能修改。")
    return record


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

    Raises ConflictError when the row changed since ``base_rev``, NotAllowed for a row that is not
    the actor's own or that is already approved.
    """
    outcome = check_answers(form, answers, cities=cities)
    if not outcome.ok:
        return Submission(problems=outcome.problems)
    if row_id is None:
        record = store.append(form.id, outcome.values, actor=actor, status=SUBMITTED, form_version=form.version)
        return Submission(record=record)
    current = _own_row(store, form, row_id, actor)
    if current.status not in _NEXT_ON_SUBMIT:
        raise NotAllowed(f"记录 {row_id} 状态为「{current.status}」，不能再修改。")
    record = store.update(
        form.id,
        row_id,
        base_rev=base_rev if base_rev is not None else current.rev,
        actor=actor,
        values=outcome.values,
        status=_NEXT_ON_SUBMIT[current.status],
    )
    return Submission(record=record)


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
    outcome = check_answers(form, answers, cities=cities, draft=True)
    if not outcome.ok:
        return Submission(problems=outcome.problems)
    if row_id is None:
        record = store.append(form.id, outcome.values, actor=actor, status=DRAFT, form_version=form.version)
        return Submission(record=record)
    current = _own_row(store, form, row_id, actor)
    if current.status != DRAFT:
        raise NotAllowed(f"记录 {row_id} 已提交，请直接修改后重新提交。")
    record = store.update(form.id, row_id, base_rev=base_rev or current.rev, actor=actor, values=outcome.values)
    return Submission(record=record)


def withdraw(store: Store, form: FormSpec, row_id: str, actor: Actor, *, base_rev: int) -> Record:
    """Withdraw one's own row: it stays in the workbook with status 已撤回."""
    current = _own_row(store, form, row_id, actor)
    if current.status in (WITHDRAWN, APPROVED):
        raise NotAllowed(f"记录 {row_id} 状态为「{current.status}」，不能撤回。")
    return store.update(form.id, row_id, base_rev=base_rev, actor=actor, status=WITHDRAWN, note="填报人撤回")


def my_records(store: Store, form: FormSpec, actor: Actor) -> list[Record]:
    """The actor's own rows of ``form``, newest change first."""
    own = [r for r in store.records(form.id) if r.owner == actor.account]
    return sorted(own, key=lambda r: r.updated_at, reverse=True)
