"""Filling a form: check answers, then append or update a row, with the status rules of a filler.

Pages call these functions and show what they return; nothing is written unless every answer
passes (drafts excepted: they keep what the filler typed so far). Every read and write is first
authorised by ``lib.auth.policy`` (a refusal raises Forbidden and is audited as 拒绝访问): the row
a filler corrects, and the new values too, so a correction cannot move a row out of the filler's
scope; once a row has been submitted, not to another reviewer either (a filer cannot hand its
returned row to another city's bureau by changing the row's city). Fields the account answers
(``from_account``) are filled from it when blank. A submit that repeats a live row of the same filer
in every field of one of the form's ``unique`` groups is refused as a duplicate report (problem code
``duplicate_report``).

An inspector fills only within its assignment: every function here takes the ``Assignments`` in force
(``lib.sampling.assignments.assignments_in_force``; None for the other roles, and an inspector given
none files nothing), and the policy refuses a row outside it, naming the city or the voucher.

A ``file`` answer names its file by hash; the file is stored when it is picked (lib.core.blobs). Given
the folder (``files``), a save whose answer names a file not in it is refused (``file_not_stored``): a
caller that never stored the bytes cannot file evidence that is not there.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from lib.auth.policy import CREATE, EDIT, Assignments, account_answers, authorize, authorize_correction, can, comparable
from lib.auth.scope import editable_records, get_record
from lib.core.blobs import Blobs
from lib.core.records import Actor, Record
from lib.core.statuses import CLOSED, DRAFT, RESUBMITTED, RETURNED, SUBMITTED, WITHDRAWN
from lib.forms import FormProblem, FormSpec, check_answers
from lib.store.base import Store, StoreError

#: What a filler's submission does to the status a row is in.
_NEXT_ON_SUBMIT = {
    DRAFT: SUBMITTED,
    SUBMITTED: SUBMITTED,
    RETURNED: RESUBMITTED,
    RESUBMITTED: RESUBMITTED,
    WITHDRAWN: SUBMITTED,
}


def next_status_on_submit(status: str) -> str | None:
    """The status a filler's submission moves a row in ``status`` to; None when it may not be changed
    (approved). A bulk import updates a row as this submit would.

    >>> next_status_on_submit(RETURNED) == RESUBMITTED, next_status_on_submit("已通过")
    (True, None)
    """
    return _NEXT_ON_SUBMIT.get(status)


class NotAllowed(StoreError):
    """The row's status forbids this (codes ``already_submitted``: a draft save over a submitted row;
    ``closed``: correcting an approved row; ``cannot_withdraw``: withdrawing an approved or withdrawn
    row). A StoreError, so a page that shows a refused write shows this one too."""

    code = "not_allowed"


@dataclass
class Submission:
    """The result of a submit or a draft save: the stored record, or the problems found."""

    record: Record | None = None
    problems: list[FormProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.record is not None and not self.problems


def record_for_edit(store: Store, form: FormSpec, row_id: str, actor: Actor, *, assignments: Assignments | None = None) -> Record:
    """A row the actor may correct as its filler (Forbidden, audited, for anyone else's row)."""
    return get_record(store, actor, form, row_id, EDIT, assignments=assignments)


def submit(
    store: Store,
    form: FormSpec,
    answers: dict[str, Any],
    actor: Actor,
    *,
    cities: tuple[str, ...],
    row_id: str | None = None,
    base_rev: int | None = None,
    today: dt.date | None = None,
    assignments: Assignments | None = None,
    files: Blobs | None = None,
) -> Submission:
    """Check ``answers``; when all pass, add a row or update ``row_id`` from ``base_rev``. ``today`` is
    the campaign clock's day the rules' ``today()`` read (None: the real date); ``files`` the uploaded
    files' folder, which every file an answer names must be in (None: not checked).

    Raises ConflictError when the row changed since ``base_rev``, Forbidden for a form or row the
    actor may not file or correct, NotAllowed for a row already approved.
    """
    return _save(store, form, answers, actor, cities=cities, row_id=row_id, base_rev=base_rev, draft=False, today=today,
                 assignments=assignments, files=files)


def save_draft(
    store: Store,
    form: FormSpec,
    answers: dict[str, Any],
    actor: Actor,
    *,
    cities: tuple[str, ...],
    row_id: str | None = None,
    base_rev: int | None = None,
    today: dt.date | None = None,
    assignments: Assignments | None = None,
    files: Blobs | None = None,
) -> Submission:
    """Keep an unfinished form; only answers that do not fit their type are refused (and, as for a
    submit, a file the folder ``files`` does not hold)."""
    return _save(store, form, answers, actor, cities=cities, row_id=row_id, base_rev=base_rev, draft=True, today=today,
                 assignments=assignments, files=files)


def _save(store, form, answers, actor, *, cities, row_id, base_rev, draft: bool, today: dt.date | None,
          assignments: Assignments | None, files: Blobs | None) -> Submission:
    action = CREATE if row_id is None else EDIT
    authorize(store, actor, action, form, assignments=assignments)
    current = None if row_id is None else record_for_edit(store, form, row_id, actor, assignments=assignments)
    answers = answered_by_account(form, actor, answers)
    # The new values are authorised like a new row there: first as typed (an answer out of scope is a
    # refusal, not a typing mistake to list), then as parsed, which is what is stored.
    authorize(store, actor, action, form, answers, row_id=row_id or "", assignments=assignments)
    outcome = check_answers(form, answers, cities=cities, draft=draft, today=today)
    if not outcome.ok:
        return Submission(problems=outcome.problems)
    missing = [] if files is None else missing_files(form, outcome.values, files)
    if missing:
        return Submission(problems=missing)
    authorize(store, actor, action, form, outcome.values, row_id=row_id or "", assignments=assignments)
    if current is not None:
        if draft and current.status != DRAFT:
            raise NotAllowed(f"记录 {row_id} 已提交，请直接修改后重新提交。", code="already_submitted")
        if not draft and current.status not in _NEXT_ON_SUBMIT:
            raise NotAllowed(f"记录 {row_id} 状态为「{current.status}」，不能再修改。", code="closed")
        if current.status != DRAFT:  # submitted once: its reviewer is fixed
            authorize_correction(store, actor, form, current, outcome.values)
    if draft:
        return _write(store, form, actor, outcome.values, current, base_rev, draft=True)
    # Check, then write, as one step for every submit of this form: two tabs, a double click or two app
    # processes on one data folder file a project once (two servers on one spreadsheet are not serialised).
    with store.exclusive(f"submit-{form.id}"):
        duplicates = duplicate_problems(store, form, actor, outcome.values, row_id=row_id, assignments=assignments)
        if duplicates:
            return Submission(problems=duplicates)
        return _write(store, form, actor, outcome.values, current, base_rev, draft=False)


def _write(store: Store, form: FormSpec, actor: Actor, values: dict[str, Any], current: Record | None,
           base_rev: int | None, *, draft: bool) -> Submission:
    if current is None:
        status = DRAFT if draft else SUBMITTED
        return Submission(record=store.append(form.id, values, actor=actor, status=status, form_version=form.version))
    record = store.update(
        form.id,
        current.id,
        base_rev=current.rev if base_rev is None else base_rev,
        actor=actor,
        values=values,
        status=DRAFT if draft else _NEXT_ON_SUBMIT[current.status],
    )
    return Submission(record=record)


def missing_files(form: FormSpec, values: dict[str, Any], files: Blobs) -> list[FormProblem]:
    """One ``file_not_stored`` problem per file ``values`` name (by a ``file`` field, which stays out of
    tables) that ``files`` does not hold; [] when every one is there."""
    found = []
    for spec in form.all_fields():
        if spec.type != "file":
            continue
        for item in values.get(spec.key) or ():
            if not files.has(item["sha256"]):
                found.append(FormProblem(
                    code="file_not_stored",
                    message=f"「{spec.label}」中的文件「{item['name']}」没有保存到服务器，请重新上传。",
                    field=spec.key,
                ))
    return found


def answered_by_account(form: FormSpec, actor: Actor, answers: dict[str, Any]) -> dict[str, Any]:
    """``answers`` with each field the account answers (``from_account``) set to the account's value
    where it is blank or the same up to width, case and blanks. Any other value is left for the
    policy to refuse."""
    filled = dict(answers)
    for key, own in account_answers(form, actor).items():
        if comparable(filled.get(key)) in ("", comparable(own)):
            filled[key] = own
    return filled


def duplicate_problems(store: Store, form: FormSpec, actor: Actor, values: dict[str, Any], *, row_id: str | None,
                       assignments: Assignments | None = None) -> list[FormProblem]:
    """One ``duplicate_report`` problem per ``form.unique`` group in which ``values`` (all answered)
    equal a live (not withdrawn) row the actor files, other than ``row_id``; [] when none."""
    keys = [(group, tuple(comparable(values.get(k)) for k in group)) for group in form.unique]
    # An empty group (the loader refuses one) would match every row: all() of nothing is true.
    wanted = [(group, key) for group, key in keys if key and all(key)]
    if not wanted:
        return []
    found: list[FormProblem] = []
    for group, key in wanted:
        # The rows holding the group's first answer, from the store's index (folded as ``comparable``
        # folds), then the rest of the group and the filer's right to correct each: the cost follows the
        # few rows found, not every row of the filer (a provider's thousand rows were folded on each submit,
        # inside the form's submit lock). The same rows, in the same order, as a walk of editable_records.
        held = store.records_where(form.id, {group[0]: [values.get(group[0])]})
        other = next((r for r in held if r.id != row_id and r.status != WITHDRAWN
                      and tuple(comparable(r.values.get(k)) for k in group) == key
                      and can(actor, EDIT, form, r, assignments)), None)
        if other is not None:
            labels = "、".join(f"「{form.field(k).label}」" for k in group)
            found.append(FormProblem(
                code="duplicate_report",
                message=f"重复填报：已有记录 {other.id}（{other.status}）的{labels}与本条相同。同一项目只报一次，请打开记录 {other.id} 修改。",
                field=group[0],
            ))
    return found


def withdraw(store: Store, form: FormSpec, row_id: str, actor: Actor, *, base_rev: int,
             assignments: Assignments | None = None) -> Record:
    """Withdraw one's own row: it stays in the workbook with status 已撤回."""
    current = record_for_edit(store, form, row_id, actor, assignments=assignments)
    if current.status in CLOSED:  # already withdrawn, or reviewed for good
        raise NotAllowed(f"记录 {row_id} 状态为「{current.status}」，不能撤回。", code="cannot_withdraw")
    return store.update(form.id, row_id, base_rev=base_rev, actor=actor, status=WITHDRAWN, note="填报人撤回")


def my_records(store: Store, form: FormSpec, actor: Actor, *, assignments: Assignments | None = None) -> list[Record]:
    """The rows of ``form`` the actor files (its own organisation's; a city bureau's: its city's; an
    inspector's: those of its assignment), newest change first."""
    return sorted(editable_records(store, actor, form, assignments=assignments), key=lambda r: r.updated_at, reverse=True)
