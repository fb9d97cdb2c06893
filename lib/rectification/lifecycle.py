"""The life of a rectification item: the acting organisation ticks its checklist and attaches evidence
(``tick``), submits it (``submit``), the city verifies or returns it (``verify``), the province closes it
(``close``) and records violations on it (``record_violation``); ``actions_for`` says what waits for whom.

Each write is authorised by the policy (``lib.auth.policy``: RECTIFY_ACT, RECTIFY_VERIFY, RECTIFY_CLOSE,
RECTIFY_GENERATE; a refusal audited 拒绝访问), checked against the item's status and the campaign's
checklist (``rectification.categories``), then made as one ``store.update`` from the revision the caller
read (``base_rev``): a stale one is refused (ConflictError) naming who changed the item since. Any other
refusal is a ``LifecycleError`` with a code and a Chinese message naming the item and the step; a refused
write writes nothing. Every write is audited by the store, and its note is the readable line of the
audit trail: the status from → to and what was done (who: the entry's account).

``item_id`` is the item's record id (``Record.id``, what the lists and the to-do list link to); messages
name the item by its 整改编号 (the ``item_id`` value).

>>> ACTION_NAMES[VERIFY], LifecycleError("…", code="wrong_status").code
('核实整改材料', 'wrong_status')
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import IO, Any

from lib.auth.policy import RECTIFY_ACT, RECTIFY_CLOSE, RECTIFY_GENERATE, RECTIFY_VERIFY, can
from lib.core.blobs import Blobs
from lib.core.errors import AppError
from lib.core.records import Actor, Record
from lib.core.values import wall_time
from lib.forms.errors import problem
from lib.forms.loader import FormCatalog
from lib.forms.rectification import Category, Step
from lib.forms.spec import FieldSpec
from lib.forms.types import REGISTRY, ValueProblem, take_file
from lib.store.base import ConflictError, Store

from .records import CLOSED, HANDLINGS, IN_PROGRESS, ITEMS, PENDING, RECOVERY, SUBMITTED, VERIFIED, VIOLATION_PARTS
from .scope import get_item

TICK = "tick"  # tick / untick steps, write their text, attach their files
SUBMIT = "submit"  # hand the finished checklist to the city
VERIFY = "verify"  # the city: accept (通过) or return (退回) what was submitted
CLOSE = "close"  # the province: close (销号) a verified item
#: What each action is called on a button and in a to-do line.
ACTION_NAMES = {TICK: "办理整改", SUBMIT: "提交整改材料", VERIFY: "核实整改材料", CLOSE: "销号"}
#: Largest amount a violation recovers, in 万元: far above any subsidy of the scheme, so a slip of the
#: unit (元 typed as 万元) is caught rather than recorded.
MAX_AMOUNT = 10_000
#: Longest reference of a decision, and longest return reason (the page shows both in full).
MAX_REFERENCE_CHARS = 200
MAX_REASON_CHARS = 1_000
#: Longest text a step's evidence holds.
MAX_STEP_TEXT_CHARS = 5_000


class LifecycleError(AppError):
    """A transition refused for the item's state or the input (not the role: that is ``Forbidden``);
    nothing was written (an unknown item: ``scope.ItemNotFound``). Codes: unknown_category, unknown_step,
    files_not_allowed, wrong_status, not_verified, steps_unticked, evidence_missing, reason_missing,
    handling_unknown, amount_missing, amount_not_allowed, amount_invalid, reference_missing, and a value's
    own (too_long, bidi_text, not_number, too_many_decimals …)."""

    code = "rectification"


def _label(item: Record) -> str:
    return str(item.values.get("item_id") or item.id)


def _fresh(store: Store, item: Record, base_rev: int) -> None:
    """ConflictError naming who changed ``item`` after ``base_rev`` (checked before any file is stored;
    the store checks again as it writes)."""
    if item.rev == base_rev:
        return
    later = [e for e in store.audit(ITEMS.form_id, item.id) if e.rev > base_rev]
    who = "、".join(dict.fromkeys(e.account for e in later)) or item.updated_by
    when = wall_time(later[-1].at if later else item.updated_at).strftime("%Y-%m-%d %H:%M")
    raise ConflictError(f"整改事项 {_label(item)} 已被 {who} 于 {when} 修改（现为「{item.status}」），请刷新后再操作。", current=item)


def _update(store: Store, actor: Actor, item: Record, base_rev: int, values: dict[str, Any], status: str | None, note: str) -> Record:
    try:
        return store.update(ITEMS.form_id, item.id, base_rev=base_rev, actor=actor, values=values, status=status, note=note)
    except ConflictError as exc:  # changed between our read and the write
        raise ConflictError(f"整改事项 {_label(item)}：{exc}", current=exc.current) from None


def _moved(item: Record, to: str | None, what: str) -> str:
    """The audit note: the status from → to (or unchanged) and what was done."""
    return f"{item.status} → {to}：{what}" if to and to != item.status else f"{item.status}：{what}"


def _require_status(item: Record, allowed: Iterable[str], doing: str, code: str = "wrong_status") -> None:
    allowed = tuple(allowed)
    if item.status not in allowed:
        raise LifecycleError(f"整改事项 {_label(item)} 当前为「{item.status}」，不能{doing}"
                             f"（只有「{'」「'.join(allowed)}」的事项可以）。", code=code)


def _category(catalog: FormCatalog, item: Record) -> Category:
    section = catalog.campaign.rectification
    key = item.values.get("category")
    found = next((c for c in section.categories if c.key == key), None) if section is not None else None
    if found is None:
        raise LifecycleError(f"整改事项 {_label(item)} 的整改类别「{key}」不在活动配置的 rectification.categories 中，"
                             "请联系管理员核对活动配置。", code="unknown_category")
    return found


def _parsed(kind: str, key: str, label: str, raw: Any) -> Any:
    """``raw`` parsed as a field of type ``kind`` would be (the forms' one parser), or LifecycleError
    with the forms' message naming ``label``."""
    spec = FieldSpec(key=key, label=label, type=kind)
    try:
        return REGISTRY[kind].parse(raw, spec, {})
    except ValueProblem as exc:
        found = problem(exc.code, field=key, label=label, **exc.params)
        raise LifecycleError(found.message, code=exc.code) from None


def _text(kind: str, key: str, label: str, raw: Any, limit: int) -> str:
    value = "" if raw is None else _parsed(kind, key, label, raw)
    if len(value) > limit:
        raise LifecycleError(f"「{label}」最多 {limit} 个字（现有 {len(value)} 个）。", code="too_long")
    return value


def _checklist(category: Category, item: Record) -> dict[str, dict[str, Any]]:
    """The item's steps as stored, one per step of its category in the category's order (a step the
    category added since the item opened starts unticked; one it dropped is no longer asked for)."""
    stored = {s.get("step"): s for s in item.values.get("steps") or [] if isinstance(s, dict)}
    return {s.key: {"step": s.key, "done": bool(stored.get(s.key, {}).get("done")), "text": stored.get(s.key, {}).get("text") or ""}
            for s in category.steps}


def _files_of(item: Record, step: str) -> list[dict[str, Any]]:
    return [e for e in item.values.get("evidence") or [] if isinstance(e, dict) and e.get("step") == step]


def tick(store: Store, catalog: FormCatalog, actor: Actor, item_id: str, base_rev: int, step: str, done: bool,
         text: str | None = None, files: Sequence[tuple[str, bytes | IO[bytes]]] = (), *, blobs: Blobs | None = None) -> Record:
    """Tick (``done``) or untick ``step`` of the item, set its text (None: leave it) and attach ``files``
    ((name, bytes or stream) each, stored in ``blobs``). The acting organisation only, while the item is
    待整改 or 整改中; its first change makes it 整改中. Every file is checked first (``take_file``: a JPEG,
    PNG or PDF by its content, within FILE_MAX_MB): one refused (FileRefused, naming the step and the
    file) stores none and writes nothing. Returns the item as written (unchanged when nothing changes)."""
    item = get_item(store, actor, item_id, RECTIFY_ACT)
    _require_status(item, (PENDING, IN_PROGRESS), "办理整改步骤")
    category = _category(catalog, item)
    spec = next((s for s in category.steps if s.key == step), None)
    if spec is None:
        raise LifecycleError(f"整改事项 {_label(item)} 的类别「{category.name}」没有整改步骤「{step}」。", code="unknown_step")
    text = None if text is None else _text("textarea", step, spec.name, text, MAX_STEP_TEXT_CHARS)
    checked = _checked_files(spec, item, files)
    if checked and blobs is None:
        raise ValueError("tick: files given without the blobs to store them in")  # a caller's bug, not a person's
    steps = _checklist(category, item)
    before = dict(steps[step])
    steps[step].update(done=bool(done), **({} if text is None else {"text": text}))
    known = {e.get("sha256") for e in _files_of(item, step)}
    added = []
    for item_file, body in checked:  # a file the step holds already, or given twice, is attached once
        if item_file["sha256"] not in known:
            known.add(item_file["sha256"])
            added.append((item_file, body))
    if steps[step] == before and not added:
        return item
    _fresh(store, item, base_rev)
    for _, body in added:
        blobs.put(body)
    evidence = [*(item.values.get("evidence") or []), *({"step": step, **f} for f, _ in added)]
    status = IN_PROGRESS if item.status == PENDING else None
    what = "、".join(w for w in (
        ("勾选" if done else "取消勾选") if steps[step]["done"] != before["done"] else "",
        "填写说明" if steps[step]["text"] != before["text"] else "",
        f"上传 {len(added)} 个文件" if added else "") if w)
    return _update(store, actor, item, base_rev, {"steps": list(steps.values()), "evidence": evidence}, status,
                   _moved(item, status, f"「{spec.name}」{what}"))


def _checked_files(spec: Step, item: Record, files: Sequence[tuple[str, bytes | IO[bytes]]]) -> list[tuple[dict[str, Any], bytes]]:
    """Each file checked as the step's evidence (``take_file``), before any is stored; the step takes
    files only if its evidence is ``file``."""
    if files and spec.evidence != "file":
        raise LifecycleError(f"整改事项 {_label(item)} 的步骤「{spec.name}」不需要上传文件。", code="files_not_allowed")
    field = FieldSpec(key=spec.key, label=spec.name, type="file")
    held = len(_files_of(item, spec.key))
    return [take_file(field, name, data, held=held + i) for i, (name, data) in enumerate(files)]


def missing(category: Category, item: Record) -> tuple[list[str], list[str]]:
    """The names of the item's steps not ticked, and of those ticked without their evidence (a text for
    a ``text`` step, at least one file for a ``file`` step): what keeps it from being submitted."""
    steps = _checklist(category, item)
    unticked = [s.name for s in category.steps if not steps[s.key]["done"]]
    bare = [s.name for s in category.steps if steps[s.key]["done"] and (
        (s.evidence == "text" and not steps[s.key]["text"].strip()) or (s.evidence == "file" and not _files_of(item, s.key)))]
    return unticked, bare


def submit(store: Store, catalog: FormCatalog, actor: Actor, item_id: str, base_rev: int) -> Record:
    """整改中 → 已提交整改材料, by the acting organisation, once every step is ticked with its evidence;
    else LifecycleError listing the steps (``steps_unticked``, or ``evidence_missing`` when all are ticked)."""
    item = get_item(store, actor, item_id, RECTIFY_ACT)
    _require_status(item, (IN_PROGRESS,), "提交整改材料")
    unticked, bare = missing(_category(catalog, item), item)
    if unticked or bare:
        parts = ([f"未完成的步骤：{'、'.join(unticked)}"] if unticked else []) + ([f"缺少材料的步骤：{'、'.join(bare)}"] if bare else [])
        raise LifecycleError(f"整改事项 {_label(item)} 还不能提交。{'；'.join(parts)}。", code="steps_unticked" if unticked else "evidence_missing")
    _fresh(store, item, base_rev)
    return _update(store, actor, item, base_rev, {}, SUBMITTED, _moved(item, SUBMITTED, "提交整改材料"))


def verify(store: Store, catalog: FormCatalog, actor: Actor, item_id: str, base_rev: int, accept: bool, reason: str = "") -> Record:
    """The item's city bureau on what was submitted: ``accept`` → 地市已核实; else back to 整改中 with
    ``reason`` (required; kept in the item's ``reason``, which the acting organisation reads)."""
    item = get_item(store, actor, item_id, RECTIFY_VERIFY)
    _require_status(item, (SUBMITTED,), "核实")
    if accept:
        _fresh(store, item, base_rev)
        return _update(store, actor, item, base_rev, {}, VERIFIED, _moved(item, VERIFIED, "地市核实通过"))
    reason = _text("textarea", "reason", "退回原因", reason, MAX_REASON_CHARS)
    if not reason:
        raise LifecycleError(f"退回整改事项 {_label(item)} 须填写退回原因（责任单位按此补充材料）。", code="reason_missing")
    _fresh(store, item, base_rev)
    return _update(store, actor, item, base_rev, {"reason": reason}, IN_PROGRESS, _moved(item, IN_PROGRESS, f"地市退回：{reason}"))


def close(store: Store, catalog: FormCatalog, actor: Actor, item_id: str, base_rev: int) -> Record:
    """地市已核实 → 已销号, by the province; never before the city verified it (``not_verified``)."""
    item = get_item(store, actor, item_id, RECTIFY_CLOSE)
    if item.status == CLOSED:
        raise LifecycleError(f"整改事项 {_label(item)} 已销号。", code="wrong_status")
    _require_status(item, (VERIFIED,), "销号（须先经地市核实通过）", code="not_verified")
    _fresh(store, item, base_rev)
    return _update(store, actor, item, base_rev, {}, CLOSED, _moved(item, CLOSED, "省厅销号"))


def record_violation(store: Store, catalog: FormCatalog, actor: Actor, item_id: str, base_rev: int, handling: str,
                     reference: str, amount: Any = None) -> Record:
    """The province records a violation on the item, in any status (a closed one too): ``handling`` one of
    ``HANDLINGS``; for 追回资金 the ``amount`` in 万元 (required, > 0, at most MAX_AMOUNT, two decimals), for
    the others none; the decision's ``reference`` (required). The item's status does not change."""
    item = get_item(store, actor, item_id, RECTIFY_GENERATE)
    if handling not in HANDLINGS:
        raise LifecycleError(f"违规处理方式须为{'、'.join(HANDLINGS)}之一（不能是「{handling}」）。", code="handling_unknown")
    blank = amount is None or (isinstance(amount, str) and not amount.strip())
    if handling == RECOVERY and blank:
        raise LifecycleError(f"整改事项 {_label(item)}：{RECOVERY}须填写追回金额（万元）。", code="amount_missing")
    if handling != RECOVERY and not blank:
        raise LifecycleError(f"整改事项 {_label(item)}：只有{RECOVERY}填写金额，「{handling}」不填。", code="amount_not_allowed")
    value = None if blank else _parsed("money", "amount", "追回金额（万元）", amount)
    if value is not None and not 0 < value <= MAX_AMOUNT:
        raise LifecycleError(f"整改事项 {_label(item)}：追回金额须大于 0 且不超过 {MAX_AMOUNT:,} 万元。", code="amount_invalid")
    reference = _text("text", "reference", "处理决定文号", reference, MAX_REFERENCE_CHARS)
    if not reference:
        raise LifecycleError(f"整改事项 {_label(item)}：须填写处理决定文号。", code="reference_missing")
    _fresh(store, item, base_rev)
    violation = dict(zip((c.key for c in VIOLATION_PARTS), (handling, value, reference), strict=True))
    shown = f"{handling}" + (f" {value:,.2f} 万元" if value is not None else "") + f"（{reference}）"
    return _update(store, actor, item, base_rev, {"violations": [*(item.values.get("violations") or []), violation]}, None,
                   _moved(item, None, f"记录违规处理：{shown}"))


def actions_for(actor: Actor, item: Record, today: dt.date) -> tuple[str, ...]:
    """What waits for ``actor`` on ``item`` now, in the order of the lifecycle: keys of ``ACTION_NAMES``
    (SUBMIT once every step is ticked; ``submit`` still checks the evidence). An overdue item (``today``,
    the campaign clock, past its due date) is worked on, verified and closed all the same: 逾期 is shown,
    it blocks nothing. Recording a violation never waits for anyone (the province may record one on any
    item: ``can(actor, RECTIFY_GENERATE)``)."""
    if item.status in (PENDING, IN_PROGRESS) and can(actor, RECTIFY_ACT, row=item):
        steps = item.values.get("steps") or []
        ticked = bool(steps) and all(isinstance(s, dict) and s.get("done") for s in steps)
        return (TICK, SUBMIT) if item.status == IN_PROGRESS and ticked else (TICK,)
    if item.status == SUBMITTED and can(actor, RECTIFY_VERIFY, row=item):
        return (VERIFY,)
    if item.status == VERIFIED and can(actor, RECTIFY_CLOSE, row=item):
        return (CLOSE,)
    return ()
