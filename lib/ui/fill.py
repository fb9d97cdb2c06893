"""The fill page's actions, run as button callbacks so they may reset widget state before the rerun.

What a filler is doing is kept per form in session state (``lib.ui.state``): the row being edited
and the revision it started from, the answers (in the widgets, kept across pages), the outcome of
the last action (shown at the buttons) and, after a submission, its receipt. A submission ends the
editing of its row: the address loses ``?row=``, the form is replaced by the receipt, and a second
click of 提交 (carrying the old ``token``) is ignored, so the next project never lands on that row.

The address (``?row=``) alone opens a row only while it is still being written: a 草稿 or a row
退回修改 that this session has not submitted. Any other row (one this session just submitted, which
the browser's back button leads to, or one 已提交 awaiting review) opens only by a deliberate act:
我的填报's 打开修改 or the 打开修改记录 button of the note shown instead (``offered``), both through
``ask_to_open``. Otherwise typing the next project into a reopened row would overwrite it.

A submit is checked first against the campaign clock (setting ``campaign_today``: the forms' ``today()``).
When the answers raise warnings (rules of severity ``warning``), nothing is written: the warnings are
listed with a confirmation box, and the next 提交 goes through only with the box ticked for those same
warnings. A draft save never asks.

An inspector fills within its assignment: each action reads the inspector draw in force when it runs
(``context.assignments``), so a draw made meanwhile applies at once, and the policy refuses a row
outside it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import streamlit as st

from lib import submissions
from lib.auth.policy import unassigned
from lib.core.errors import AppError
from lib.core.records import Actor, Record, is_pending
from lib.core.statuses import DRAFT, RETURNED
from lib.core.text import quotable
from lib.forms import FormProblem, FormSpec, check_answers
from lib.store.base import ConflictError, NotFound, Store
from lib.ui import context, state, widgets

_KEEP_SUBMITTED = 50  # ids remembered per form (see fill_outcome.show_notes); older ones open without the note
ADDRESS_OPENS = (DRAFT, RETURNED)  # statuses the address alone may open (see above)
MAX_ROW_ID = 64  # longer ``?row=`` values are no row id: refused before any lookup (ids are ~22 characters)


def belong_to(actor: Actor) -> None:
    """Forget the fill page's state of another account: the answers outlive a page switch, and
    must not outlive the sign-in of whoever typed them (a session that expired, then another
    account signed in on the same tab)."""
    if st.session_state.get(state.FILL_ACCOUNT, actor.account) != actor.account:
        for key in [k for k in st.session_state if str(k).startswith(state.FILL_PREFIX)]:
            del st.session_state[key]
    st.session_state[state.FILL_ACCOUNT] = actor.account


def nothing_to_fill(actor: Actor, forms: list[FormSpec]) -> str:
    """What the fill pages say to an account that may file none of ``forms`` now: an inspector, whose
    forms wait for an assignment, that it has no inspection task yet; anyone else, that it fills none."""
    if any(actor.role == f.filled_by for f in forms):
        return unassigned(actor, "填报")
    return "您的账号不需要填报表单。"


def unsaved_anywhere(forms: list[FormSpec]) -> bool:
    """Whether any of ``forms`` holds answers on screen that differ from those last loaded or saved."""
    return any(widgets.has_unsaved_input(form) for form in forms)


def editing(form: FormSpec) -> dict | None:
    """{'id', 'rev', 'status'} of the row being edited, or None for a new row."""
    return st.session_state.get(state.editing_key(form.id))


def token(form: FormSpec) -> int:
    """The token a button drawn now carries (see ``save``)."""
    return st.session_state.get(state.token_key(form.id), 0)


def outcome(form: FormSpec) -> dict | None:
    """The outcome of the last action: {'kind', 'text', 'problems', 'nonce'}, or None."""
    return st.session_state.get(state.outcome_key(form.id))


def receipt(form: FormSpec) -> dict | None:
    """The receipt of the last submission while it is on screen, or None."""
    return st.session_state.get(state.receipt_key(form.id))


def submitted(form: FormSpec) -> list[str]:
    """Ids of the rows of ``form`` this session submitted (the latest ones)."""
    return st.session_state.get(state.submitted_key(form.id), [])


def offered(form: FormSpec) -> dict | None:
    """{'id', 'status', 'nonce'} of a row the address named but did not open (see the module), or None."""
    return st.session_state.get(state.offer_key(form.id))


def ask_to_open(form_id: str, row_id: str) -> None:
    """A deliberate request to open ``row_id`` for correction: the fill page's next run opens it
    from the address whatever its status (asking first if the form on screen holds unsaved input)."""
    st.session_state[state.open_key(form_id)] = row_id
    st.query_params["form"] = form_id
    st.query_params["row"] = row_id


def _tell(form: FormSpec, kind: str, text: str, problems: list[FormProblem] = ()) -> None:
    """Replace the outcome shown at the buttons (a refusal clears an earlier list of problems; any
    new outcome clears a confirmation ticked for earlier warnings)."""
    st.session_state.pop(state.offer_key(form.id), None)
    st.session_state.pop(confirm_key(form), None)
    st.session_state[state.outcome_key(form.id)] = {
        "kind": kind,
        "text": text,
        "problems": _listed(problems),
        "nonce": uuid.uuid4().hex,  # the browser moves focus once per outcome, not on every rerun
    }


def _edit(form: FormSpec, record) -> None:
    st.session_state[state.editing_key(form.id)] = {"id": record.id, "rev": record.rev, "status": record.status}


def _refuse(form: FormSpec, row_id: str, exc: AppError | None, doing: str) -> None:
    """Tell why ``row_id`` (typed into the address, perhaps) cannot be opened, quoting it safely."""
    if exc is None or isinstance(exc, NotFound):  # the store's own message would echo the id raw
        _tell(form, "refused", f"表单「{form.title}」中找不到记录 {quotable(row_id, limit=MAX_ROW_ID)}，{doing}。")
    else:
        _tell(form, "refused", f"{exc} {doing}。")


def _fetch(store: Store, form: FormSpec, row_id: str, actor: Actor, doing: str) -> Record | None:
    """The actor's row ``row_id`` to correct, or None after telling why not."""
    if len(row_id) > MAX_ROW_ID:
        _refuse(form, row_id, None, doing)
        return None
    try:
        return submissions.record_for_edit(store, form, row_id, actor, assignments=context.assignments(actor))
    except AppError as exc:  # out of scope (Forbidden), gone, the store unavailable, a changed inspector draw
        _refuse(form, row_id, exc, doing)
        return None


def _load(form: FormSpec, record: Record, cities: tuple[str, ...]) -> None:
    widgets.load_answers(form, record.values, cities)
    _edit(form, record)
    for key in (state.receipt_key, state.outcome_key, state.offer_key):
        st.session_state.pop(key(form.id), None)


def _follow_screen(form: FormSpec) -> None:
    """The address names the row on screen (or none, for a new row)."""
    row = editing(form)
    if row:
        st.query_params["row"] = row["id"]
    else:
        st.query_params.pop("row", None)


def open_row(store: Store, form: FormSpec, row_id: str, actor: Actor, cities: tuple[str, ...]) -> None:
    """Load one of the actor's rows into the form for correction (refused, and audited, for others')."""
    record = _fetch(store, form, row_id, actor, "不能打开修改")
    if record is None:
        _follow_screen(form)  # a refused id stays out of the address, or every rerun would retry it
        return
    _load(form, record, cities)


def follow_address(store: Store, form: FormSpec, actor: Actor, cities: tuple[str, ...]) -> str | None:
    """Open the row the address names (``?row=``) unless the form already edits it, which keeps the
    session's answers. While the form on screen holds unsaved input it opens nothing and returns
    the row's id: the page asks first (``switch_to``). A row the address alone may not open (see
    the module) is not opened: the address drops it and ``offered`` names it instead."""
    wanted = st.query_params.get("row")
    deliberate = st.session_state.pop(state.open_key(form.id), None) == wanted
    row = editing(form)
    if not wanted or (row and row["id"] == wanted):
        return None
    if widgets.has_unsaved_input(form):
        return wanted
    record = _fetch(store, form, wanted, actor, "不能打开修改")
    if record is None:
        _follow_screen(form)
    elif deliberate or (record.status in ADDRESS_OPENS and record.id not in submitted(form)):
        _load(form, record, cities)
    else:
        st.session_state.pop(state.receipt_key(form.id), None)  # the note replaces the receipt
        st.session_state[state.offer_key(form.id)] = {"id": record.id, "status": record.status, "nonce": uuid.uuid4().hex}
        _follow_screen(form)
    return None


def switch_to(store: Store, form: FormSpec, row_id: str | None, actor: Actor, cities: tuple[str, ...]) -> None:
    """The filler's answer to ``follow_address``: open ``row_id`` (dropping what is on screen), or
    None: stay with the form on screen (the address follows it)."""
    if row_id is None:
        _follow_screen(form)
        return
    st.query_params["row"] = row_id
    open_row(store, form, row_id, actor, cities)


def editing_record(store: Store, form: FormSpec, actor: Actor):
    """The stored row being edited (checked: the actor may edit it)."""
    return submissions.record_for_edit(store, form, editing(form)["id"], actor, assignments=context.assignments(actor))


def start_new(form: FormSpec, cities: tuple[str, ...], values: dict[str, Any] | None = None) -> None:
    """A new row: blank, or pre-filled with ``values``; nothing is being edited any more."""
    widgets.load_answers(form, values or {}, cities)
    for key in (state.editing_key, state.outcome_key, state.receipt_key, state.offer_key):
        st.session_state.pop(key(form.id), None)
    st.query_params.pop("row", None)


def copy_values(form: FormSpec, values: dict[str, Any]) -> dict[str, Any]:
    """What 复制为新记录 keeps: every answer except the fields that identify a project (the form's
    ``unique`` groups: a copy with them would be a duplicate report) and calculated fields."""
    dropped = {key for group in form.unique for key in group} | {f.key for f in form.all_fields() if f.calculation}
    return {k: v for k, v in values.items() if k not in dropped}


def copy_as_new(store: Store, form: FormSpec, row_id: str, actor: Actor, cities: tuple[str, ...]) -> None:
    """Start a new row from the answers of ``row_id`` (see ``copy_values``)."""
    record = _fetch(store, form, row_id, actor, "不能复制")
    if record is None:
        return
    start_new(form, cities, copy_values(form, record.values))
    st.session_state[state.baseline_key(form.id)] = ""  # the copy is not saved anywhere yet
    labels = "、".join(f"「{form.field(k).label}」" for k in dict.fromkeys(k for g in form.unique for k in g))
    _tell(form, "copied", f"已复制记录 {row_id} 的内容为一条新记录（尚未保存）。" + (f"{labels}已留空，请按新项目填写。" if labels else ""))


def confirm_key(form: FormSpec) -> str:
    """The box a filler ticks to submit despite the warnings listed (drawn by fill_outcome)."""
    return state.fill_button_key(form.id, "confirm_warnings")


def _unconfirmed(form: FormSpec, answers: dict[str, Any], actor: Actor, cities: tuple[str, ...]) -> bool:
    """Check a submit on the campaign clock first: True (and the outcome told) when it must stop
    here, for a problem or for warnings not yet confirmed. A tick confirms exactly the warnings it
    was shown with: answers changed since, with other warnings, are asked about again."""
    checked = check_answers(form, submissions.answered_by_account(form, actor, answers), cities=cities,
                            today=context.settings().campaign_today)
    if checked.problems:
        _tell(form, "problems", "提交未成功", checked.problems)
        return True
    if not checked.warnings:
        return False
    shown = outcome(form)
    asked = shown["problems"] if shown and shown["kind"] == "warnings" else None
    if asked == _listed(checked.warnings) and st.session_state.get(confirm_key(form)):
        return False
    _tell(form, "warnings", "提交前请核实以下提醒", checked.warnings)
    return True


def _listed(problems: list[FormProblem]) -> list[dict]:
    return [{"field": p.field, "row": p.row, "message": str(p)} for p in problems]


def save(store: Store, form: FormSpec, actor: Actor, cities: tuple[str, ...], drawn_with: int, *, draft: bool) -> None:
    """Submit (or save as draft) what the widgets hold; the outcome goes to ``outcome`` (and, for a
    submission, ``receipt``). ``drawn_with`` is the ``token`` the button was drawn with: a click
    on a form that was submitted meanwhile (a double click) changes nothing. A submit whose answers
    raise warnings waits for their confirmation (see the module)."""
    if drawn_with != token(form):
        done = receipt(form)
        _tell(form, "info", f"这份表单已经提交（记录编号 {done['id']}），没有再次提交。" if done else "表单已更新，请核对后再点一次。")
        return
    row = editing(form)
    answers = widgets.current_answers(form)
    if not draft and _unconfirmed(form, answers, actor, cities):
        return
    action = submissions.save_draft if draft else submissions.submit
    try:
        result = action(store, form, answers, actor, cities=cities, row_id=row["id"] if row else None,
                        base_rev=row["rev"] if row else None, today=context.settings().campaign_today,
                        assignments=context.assignments(actor), files=widgets.stored_files())
    except ConflictError as exc:
        _tell(form, "conflict", str(exc))
        return
    except AppError as exc:  # Forbidden, NotAllowed, an unavailable store: nothing was written
        _tell(form, "refused", str(exc))
        return
    if not result.ok:
        _tell(form, "problems", "保存草稿未成功" if draft else "提交未成功", result.problems)
        return
    record = result.record
    if draft:
        _edit(form, record)
        st.query_params["row"] = record.id
        widgets.mark_saved(form)
        _tell(form, "saved", f"草稿已保存（{dt.datetime.now():%H:%M:%S}），记录编号 {record.id}，版本 {record.rev}。可在“我的填报”中继续填写。")
        return
    st.session_state[state.token_key(form.id)] = token(form) + 1
    start_new(form, cities)
    st.session_state[state.submitted_key(form.id)] = (submitted(form) + [record.id])[-_KEEP_SUBMITTED:]
    st.session_state[state.receipt_key(form.id)] = {
        "id": record.id, "rev": record.rev, "status": record.status, "pending": is_pending(record),
        "time": f"{record.updated_at:%Y-%m-%d %H:%M:%S}",
    }
    _tell(form, "submitted", "")


def reload_row(store: Store, form: FormSpec, actor: Actor, cities: tuple[str, ...]) -> None:
    """After a conflict: load the row as it is now, discarding the edits on screen."""
    row = editing(form)
    if row:
        open_row(store, form, row["id"], actor, cities)
        _tell(form, "info", "已载入最新版本，请重新修改后提交。")


def keep_mine(store: Store, form: FormSpec, actor: Actor) -> None:
    """After a conflict: keep the answers on screen and base them on the row as it is now; the
    next 提交 then replaces the other change, which the filler has seen in the conflict message."""
    row = editing(form)
    try:
        record = editing_record(store, form, actor)
    except AppError as exc:  # out of scope (Forbidden), gone, the store unavailable
        _tell(form, "refused", str(exc))
        return
    _edit(form, record)
    _tell(form, "info", f"已保留您的填写，改为基于记录 {row['id']} 的最新版本 {record.rev}（状态：{record.status}）。请核对后再提交。")


def problems(form: FormSpec) -> dict[str, dict[int | None, list[str]]]:
    """The problems of the last failed save (or the warnings a submit asks to confirm) by field and
    table row, for ``widgets.render_form``: the outcome's list links to them."""
    done = outcome(form)
    found: dict[str, dict[int | None, list[str]]] = {}
    if done and done["kind"] in ("problems", "warnings"):
        for p in done["problems"]:
            found.setdefault(p["field"], {}).setdefault(p["row"], []).append(p["message"])
    return found


def forget_receipt(form: FormSpec) -> None:
    st.session_state.pop(state.receipt_key(form.id), None)
