"""The life of a rectification item: the acting organisation ticks its checklist, attaches evidence and
withdraws a file it attached (``tick``, ``remove_file``), submits it (``submit``), the city writes its own
steps (``by: city``) and verifies or returns it (``verify``), the province closes it (``close``) and records
violations on it (``record_violation``); ``actions_for`` says what waits for whom.

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

from lib.auth.errors import Forbidden
from lib.auth.policy import RECTIFY_ACT, RECTIFY_CLOSE, RECTIFY_GENERATE, RECTIFY_READ, RECTIFY_VERIFY, authorize, can
from lib.core.blobs import Blobs
from lib.core.errors import AppError
from lib.core.records import Actor, Record
from lib.core.text import comparable
from lib.core.values import wall_time
from lib.forms.errors import problem
from lib.forms.loader import FormCatalog
from lib.forms.rectification import CITY_STEP, PARTY_STEP, Category, Rectification, Step
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
    own (too_long, bidi_text, not_number, too_many_decimals …), city_steps_unticked, city_evidence_missing,
    file_unknown, violation_twice."""

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


def parsed(kind: str, key: str, label: str, raw: Any, error: type[AppError] = LifecycleError) -> Any:
    """``raw`` parsed as a field of type ``kind`` would be (the forms' one parser: a text stripped, refused
    with control or direction-override characters), or ``error`` with the forms' message naming ``label``
    and the value's code (bidi_text, bad_text, not_number …). What people type into the phase goes
    through it: step texts, reasons, references, amounts, an outcome confirmation's reason.

    >>> parsed("textarea", "reason", "理由", "  盖章版 ")
    '盖章版'
    >>> try:
    ...     parsed("textarea", "reason", "理由", "a\u202eb")
    ... except LifecycleError as exc:
    ...     print(exc.code)
    bidi_text
    """
    spec = FieldSpec(key=key, label=label, type=kind)
    try:
        return REGISTRY[kind].parse(raw, spec, {})
    except ValueProblem as exc:
        found = problem(exc.code, field=key, label=label, **exc.params)
        raise error(found.message, code=exc.code) from None


def _text(kind: str, key: str, label: str, raw: Any, limit: int) -> str:
    value = "" if raw is None else parsed(kind, key, label, raw)
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


def _step(store: Store, catalog: FormCatalog, actor: Actor, item_id: str, step: str, doing: str) -> tuple[Record, Category, Step]:
    """The item, its category and ``step``, once ``actor`` may work on that step now: a party's step is the
    acting organisation's (RECTIFY_ACT) while the item is 待整改 or 整改中; a city's step (``by: city``) the
    item's city bureau's (RECTIFY_VERIFY) while it verifies (已提交整改材料). Forbidden (audited) for anyone
    else, a city's step included: the party never writes the city's review."""
    item = get_item(store, actor, item_id, RECTIFY_READ)
    category = _category(catalog, item)
    spec = next((s for s in category.steps if s.key == step), None)
    if spec is None:
        raise LifecycleError(f"整改事项 {_label(item)} 的类别「{category.name}」没有整改步骤「{step}」。", code="unknown_step")
    if spec.by == CITY_STEP:
        try:
            authorize(store, actor, RECTIFY_VERIFY, row=item)
        except Forbidden as exc:  # the policy's words, and which step is the city's
            raise Forbidden(f"{exc}（步骤「{spec.name}」由督办地市在核实整改材料时填写）", action=exc.action, form_id=exc.form_id,
                            row_id=exc.row_id, code=exc.code) from None
        _require_status(item, (SUBMITTED,), f"{doing}地市的步骤「{spec.name}」（在核实整改材料时填写）")
    else:
        authorize(store, actor, RECTIFY_ACT, row=item)
        _require_status(item, (PENDING, IN_PROGRESS), doing)
    return item, category, spec


def tick(store: Store, catalog: FormCatalog, actor: Actor, item_id: str, base_rev: int, step: str, done: bool,
         text: str | None = None, files: Sequence[tuple[str, bytes | IO[bytes]]] = (), *, blobs: Blobs | None = None) -> Record:
    """Tick (``done``) or untick ``step`` of the item, set its text (None: leave it) and attach ``files``
    ((name, bytes or stream) each, stored in ``blobs``). A party's step: the acting organisation only,
    while the item is 待整改 or 整改中, its first change making it 整改中; a city's step: the item's city
    while it verifies (the status stays). Every file is checked first (``take_file``: a JPEG, PNG or PDF
    by its content, within FILE_MAX_MB, at most MAX_FILES on a step): one refused (FileRefused, naming
    the step and the file) stores none and writes nothing. Returns the item as written (unchanged when
    nothing changes)."""
    item, category, spec = _step(store, catalog, actor, item_id, step, "办理整改步骤")
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


def remove_file(store: Store, catalog: FormCatalog, actor: Actor, item_id: str, base_rev: int, step: str, sha256: str) -> Record:
    """Withdraw the file ``sha256`` from ``step``'s evidence: whoever may tick the step now (``tick``'s
    rule: the acting organisation while the item is 待整改 or 整改中 — a returned item's wrong file is
    replaced so —, the city its own step while it verifies). The step keeps its tick (``submit`` asks
    for a file again if it has none left); the stored file stays in the file store (the audit names
    it, and another step or item may hold the same bytes). ``file_unknown`` when the step has no such file."""
    item, _, spec = _step(store, catalog, actor, item_id, step, "删除整改材料")
    gone = next((e for e in _files_of(item, step) if e.get("sha256") == sha256), None)
    if gone is None:
        raise LifecycleError(f"整改事项 {_label(item)} 的步骤「{spec.name}」没有这个文件（可能已被删除），请刷新页面。", code="file_unknown")
    _fresh(store, item, base_rev)
    evidence = [e for e in item.values.get("evidence") or [] if e is not gone]
    status = IN_PROGRESS if item.status == PENDING else None
    return _update(store, actor, item, base_rev, {"evidence": evidence}, status,
                   _moved(item, status, f"「{spec.name}」删除文件「{gone.get('name')}」（sha256 {sha256[:12]}…）"))


def _checked_files(spec: Step, item: Record, files: Sequence[tuple[str, bytes | IO[bytes]]]) -> list[tuple[dict[str, Any], bytes]]:
    """Each file checked as the step's evidence (``take_file``), before any is stored; the step takes
    files only if its evidence is ``file``."""
    if files and spec.evidence != "file":
        raise LifecycleError(f"整改事项 {_label(item)} 的步骤「{spec.name}」不需要上传文件。", code="files_not_allowed")
    field = FieldSpec(key=spec.key, label=spec.name, type="file")
    held = len(_files_of(item, spec.key))
    return [take_file(field, name, data, held=held + i) for i, (name, data) in enumerate(files)]


def missing(category: Category, item: Record, by: str = PARTY_STEP) -> tuple[list[str], list[str]]:
    """The names of the item's steps done ``by`` the party (or the city) not ticked, and of those ticked
    without their evidence (a text for a ``text`` step, at least one file for a ``file`` step): what keeps
    the party from submitting it (or the city from accepting it)."""
    steps = _checklist(category, item)
    mine = [s for s in category.steps if s.by == by]
    unticked = [s.name for s in mine if not steps[s.key]["done"]]
    bare = [s.name for s in mine if steps[s.key]["done"] and (
        (s.evidence == "text" and not steps[s.key]["text"].strip()) or (s.evidence == "file" and not _files_of(item, s.key)))]
    return unticked, bare


def submit(store: Store, catalog: FormCatalog, actor: Actor, item_id: str, base_rev: int) -> Record:
    """整改中 → 已提交整改材料, by the acting organisation, once every party's step is ticked with its evidence
    (the city's steps are the city's, as it verifies); else LifecycleError listing the steps
    (``steps_unticked``, or ``evidence_missing`` when all are ticked)."""
    item = get_item(store, actor, item_id, RECTIFY_ACT)
    _require_status(item, (IN_PROGRESS,), "提交整改材料")
    unticked, bare = missing(_category(catalog, item), item)
    if unticked or bare:
        parts = ([f"未完成的步骤：{'、'.join(unticked)}"] if unticked else []) + ([f"缺少材料的步骤：{'、'.join(bare)}"] if bare else [])
        raise LifecycleError(f"整改事项 {_label(item)} 还不能提交。{'；'.join(parts)}。", code="steps_unticked" if unticked else "evidence_missing")
    _fresh(store, item, base_rev)
    return _update(store, actor, item, base_rev, {}, SUBMITTED, _moved(item, SUBMITTED, "提交整改材料"))


def verify(store: Store, catalog: FormCatalog, actor: Actor, item_id: str, base_rev: int, accept: bool, reason: str = "") -> Record:
    """The item's city bureau on what was submitted: ``accept`` → 地市已核实, once its own steps (``by:
    city``) are ticked with their evidence (``city_steps_unticked`` / ``city_evidence_missing`` list them);
    else back to 整改中 with ``reason`` (required; kept in the item's ``reason``, which the acting
    organisation reads)."""
    item = get_item(store, actor, item_id, RECTIFY_VERIFY)
    _require_status(item, (SUBMITTED,), "核实")
    if accept:
        unticked, bare = missing(_category(catalog, item), item, CITY_STEP)
        if unticked or bare:
            parts = ([f"地市未完成的步骤：{'、'.join(unticked)}"] if unticked else []) + ([f"缺少材料的步骤：{'、'.join(bare)}"] if bare else [])
            raise LifecycleError(f"整改事项 {_label(item)} 还不能核实通过，请先完成地市的步骤。{'；'.join(parts)}。",
                                 code="city_steps_unticked" if unticked else "city_evidence_missing")
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
    the others none; the decision's ``reference`` (required). The item's status does not change. The same
    handling with the same reference (as ``comparable`` reads it) is recorded once: ``violation_twice``."""
    item = get_item(store, actor, item_id, RECTIFY_GENERATE)
    if handling not in HANDLINGS:
        raise LifecycleError(f"违规处理方式须为{'、'.join(HANDLINGS)}之一（不能是「{handling}」）。", code="handling_unknown")
    blank = amount is None or (isinstance(amount, str) and not amount.strip())
    if handling == RECOVERY and blank:
        raise LifecycleError(f"整改事项 {_label(item)}：{RECOVERY}须填写追回金额（万元）。", code="amount_missing")
    if handling != RECOVERY and not blank:
        raise LifecycleError(f"整改事项 {_label(item)}：只有{RECOVERY}填写金额，「{handling}」不填。", code="amount_not_allowed")
    value = None if blank else parsed("money", "amount", "追回金额（万元）", amount)
    if value is not None and not 0 < value <= MAX_AMOUNT:
        raise LifecycleError(f"整改事项 {_label(item)}：追回金额须大于 0 且不超过 {MAX_AMOUNT:,} 万元。", code="amount_invalid")
    reference = _text("text", "reference", "处理决定文号", reference, MAX_REFERENCE_CHARS)
    if not reference:
        raise LifecycleError(f"整改事项 {_label(item)}：须填写处理决定文号。", code="reference_missing")
    recorded = [v for v in item.values.get("violations") or [] if isinstance(v, dict)]
    if any(v.get("measure") == handling and comparable(v.get("reference")) == comparable(reference) for v in recorded):
        raise LifecycleError(f"整改事项 {_label(item)} 已记录过「{handling}」（{reference}），不再重复记录。", code="violation_twice")
    _fresh(store, item, base_rev)
    violation = dict(zip((c.key for c in VIOLATION_PARTS), (handling, value, reference), strict=True))
    shown = f"{handling}" + (f" {value:,.2f} 万元" if value is not None else "") + f"（{reference}）"
    return _update(store, actor, item, base_rev, {"violations": [*(item.values.get("violations") or []), violation]}, None,
                   _moved(item, None, f"记录违规处理：{shown}"))


def actions_for(actor: Actor, item: Record, today: dt.date, section: Rectification | None = None) -> tuple[str, ...]:
    """What waits for ``actor`` on ``item`` now, in the order of the lifecycle: keys of ``ACTION_NAMES``
    (SUBMIT once every party's step is ticked — ``section``, the campaign's, tells the party's steps from
    the city's; without it every stored step counts, so SUBMIT is offered late, never early —; ``submit``
    still checks the evidence; VERIFY includes writing the city's steps). An overdue item (``today``,
    the campaign clock, past its due date) is worked on, verified and closed all the same: 逾期 is shown,
    it blocks nothing. Recording a violation never waits for anyone (the province may record one on any
    item: ``can(actor, RECTIFY_GENERATE)``)."""
    if item.status in (PENDING, IN_PROGRESS) and can(actor, RECTIFY_ACT, row=item):
        steps = [s for s in item.values.get("steps") or [] if isinstance(s, dict)]
        city = _city_steps(section, item)
        ticked = bool(steps) and all(s.get("done") for s in steps if s.get("step") not in city)
        return (TICK, SUBMIT) if item.status == IN_PROGRESS and ticked else (TICK,)
    if item.status == SUBMITTED and can(actor, RECTIFY_VERIFY, row=item):
        return (VERIFY,)
    if item.status == VERIFIED and can(actor, RECTIFY_CLOSE, row=item):
        return (CLOSE,)
    return ()


def _city_steps(section: Rectification | None, item: Record) -> set[str]:
    category = next((c for c in section.categories if c.key == item.values.get("category")), None) if section else None
    return {s.key for s in category.steps if s.by == CITY_STEP} if category else set()


def works_on(step: Step, actions: Sequence[str]) -> bool:
    """Whether a viewer offered ``actions`` (``actions_for``) may tick ``step`` and change its evidence now:
    a party's step with TICK, a city's step with VERIFY."""
    return (TICK if step.by == PARTY_STEP else VERIFY) in actions
