"""Publishing a definition: the checked text becomes the file's next version, served by every server.

``publish`` refuses, with nothing written: an account that may not (Forbidden, audited), a bad file name or
a text too long (VersionError), a note too long or with control characters (``design_note``), a draft with
problems (``design_invalid``, by line and field), a new field taking a key renamed away before
(``design_key_renamed``), an edit started from an older version than the one served now
(``design_stale``: who published which version when), the text of the version served
(``design_unchanged``), a rename onto a key that holds values (``design_rename_clash``), and a change that
touches stored rows without ``confirmed`` (``design_unconfirmed``, carrying the impact). All of it is decided under the store lock ``versions.LOCK`` after reading the store
anew, so two publishes of one file queue and the second is told the first came in between.

Then, still under the lock: the version row is written first (``versions.append_together``): the text with
its top-level ``version:`` set to the form's next number (``versions.numbered``; a leading BOM dropped), so
the rows filed from now on say which definition they were filed under; when a rename moves a field the
campaign binds, the campaign's next version with the binding following it (``versions.rebound``) is
written in the same change, so neither is served without the other. Only then the form's sheet follows
(``versions.apply_form_change``, shared with a developer's changed file): the renames applied
(``Store.rename_field``), new columns and labels declared, a removed field's column headed
``<label>（已停用）`` — columns are never dropped. A publish refused, or lost to another server's version of
the same number (``version_race``, two servers on one Google spreadsheet within a cache period), so leaves
no rename in force; one that fails after its row is written is mended by the next publish, which applies
the served version's ``replaces`` still not in force (``versions.renames_of``). The publisher's live draft
of the file, now published, is closed (已放弃, noting the version). Audited as 发布表单 (恢复表单版本 for a
rollback) with the file, the version and the note.
"""

from __future__ import annotations

import difflib

from lib.auth.policy import DESIGN_PUBLISH, authorize
from lib.core.records import Actor, Record
from lib.forms import versions
from lib.forms.errors import FormDefinitionError
from lib.forms.loader import CAMPAIGN_FILE, FormCatalog, parse_form
from lib.forms.spec import FormSpec
from lib.forms.store_source import served_catalog
from lib.forms.types import REGISTRY, ValueProblem
from lib.store.base import Store

from .checks import DraftCheck
from .drafts import check_based_on, draft_of, drafting, served_spec
from .errors import DesignError
from .impact import checked, served_form, stored_impact

PUBLISHED = "发布表单"  # the audit's action for a version published
ROLLED_BACK = "恢复表单版本"  # the audit's action for an earlier version published again
WITHDRAWN = "停用表单文件"  # the audit's action for a file withdrawn


def publish(store: Store, catalog: FormCatalog, actor: Actor, file: str, text: str, based_on: int, note: str = "",
            confirmed: bool = False) -> Record:
    """Publish ``text`` as the next version of ``file``, edited from version ``based_on`` (0: a new
    file), with the publisher's ``note``; ``confirmed``: the publisher saw the impact on the stored rows
    (``lib.designer.impact``) and confirmed it. Returns the new version's row. See the module docstring."""
    return _publish(store, catalog, actor, file, text, based_on, note, confirmed, "designer")


def _publish(store: Store, catalog: FormCatalog, actor: Actor, file: str, text: str, based_on: int, note: str,
             confirmed: bool, origin: str) -> Record:
    versions.check_file_name(file)
    authorize(store, actor, DESIGN_PUBLISH, served_spec(catalog, versions.latest(store, file)), drafting(catalog))
    versions.check_text(file, text)
    note = _note(note)
    based_on = check_based_on(based_on)
    versions.ensure_sheet(store)
    with store.exclusive(versions.LOCK):
        store.refresh()
        check = checked(served_catalog(store), file, text)  # against what the store serves now, not this server's view
        current = versions.latest(store, file)
        top = versions.newest(versions.versions(store, file)).get(file)  # the served one, or a withdrawal after it
        last = versions.number(top) if top is not None else 0
        if based_on != last:
            since = versions.published_by(top) if top is not None else "该文件已没有已发布的版本"
            raise DesignError(f"{file} 已有更新的版本：{since}（您的修改基于第 {based_on} 版）。"
                              "请先查看最新版本，在其基础上重新修改后再发布。", code="design_stale", current=current)
        if current is not None and current.values.get("text") == text:
            raise DesignError(f"内容与 {file} 当前的第 {last} 版相同，无需发布。", code="design_unchanged")
        found = stored_impact(store, catalog, file, check, current)
        if found.clashes:
            raise DesignError("；".join(f"字段「{c.detail}」不能改名为「{c.key}」：{c.rows} 条记录在「{c.key}」下已有值"
                                       f"（例如 {'、'.join(c.examples)}），两列会混在一起。请另起一个字段键"
                                       for c in found.clashes) + "。", code="design_rename_clash", impact=found)
        if found.needs_confirmation and not confirmed:
            listed = "\n".join(f"- {line}" for line in found.lines())
            raise DesignError(f"发布 {file} 会影响已填报的数据，请确认后再发布：\n{listed}", code="design_unconfirmed", impact=found)
        before = served_form(catalog, file, current)
        body, form = _numbered_form(check, file, text, before)
        versions.check_text(file, body)
        # The version row first: a publish refused or lost to another server's (version_race) leaves no
        # rename in force under a form that does not declare it.
        rows = [{"file": file, "form_id": form.id if form is not None else "", "version": last + 1, "text": body,
                 "based_on": based_on, "origin": origin, "note": note}]
        if form is not None:
            rows += _bindings_following(store, form, found.renames, f"随 {file} 第 {last + 1} 版的字段改名更新绑定")
        row = versions.append_together(store, actor, rows)[0]
        if form is not None:
            versions.apply_form_change(store, actor, before, form, found.renames, found.retired)
        own = draft_of(store, actor, file)
        if own is not None:
            store.update(versions.VERSIONS.form_id, own.id, base_rev=own.rev, actor=actor, status=versions.DISCARDED,
                         note=f"已发布为第 {last + 1} 版")
    store.log_event(actor, ROLLED_BACK if origin == "rollback" else PUBLISHED, form_id=versions.VERSIONS.form_id, row_id=row.id,
                    note=f"{file} 第 {last + 1} 版" + (f"：{note}" if note else ""))
    return row


def rollback(store: Store, catalog: FormCatalog, actor: Actor, file: str, version: int, note: str = "", confirmed: bool = False,
             based_on: int | None = None) -> Record:
    """Publish the text of ``file``'s earlier published ``version`` again, as the newest version, with
    every check of ``publish`` (``confirmed`` included: restoring an older form may retire fields or add
    required ones again). ``based_on``: the version served when the restore (and its impact) was shown;
    another published since is ``design_stale``, as for ``publish`` (None: the one served now). A restore
    across a rename moves the values back (``versions.renames_of``). DesignError ``design_no_version`` when
    no such version was published, or it is the one served."""
    current = versions.latest(store, file)
    authorize(store, actor, DESIGN_PUBLISH, served_spec(catalog, current), drafting(catalog))
    target = next((r for r in history(store, file) if versions.number(r) == version), None)
    if target is None:
        raise DesignError(f"{file} 没有已发布的第 {version} 版，无法恢复。", code="design_no_version")
    if current is not None and target.id == current.id:
        raise DesignError(f"第 {version} 版就是 {file} 当前使用的版本，无需恢复。", code="design_no_version")
    served = versions.last_number(store, file)
    return _publish(store, catalog, actor, file, target.values["text"], served if based_on is None else based_on,
                    note or f"恢复第 {version} 版", confirmed, "rollback")


def withdraw(store: Store, catalog: FormCatalog, actor: Actor, file: str, based_on: int, note: str = "") -> Record:
    """停用此文件: ``file`` is served no more, on every server (a stray file a developer dropped into forms/, a
    copy of a form). Only a copy of a form another file serves, or a form the campaign binds to nothing and
    no stored row uses, so nothing is hidden;
    its rows would otherwise vanish from every page (``design_withdraw_bound``, ``design_withdraw_rows``),
    and campaign.yaml never (``design_withdraw_campaign``). The withdrawal is a version row (status
    ``versions.WITHDRAWN``, the next number, the text withdrawn kept), so the history keeps it and a later
    publish of the file — from 表单设计 or a developer's changed file — brings it back. Refused, nothing
    written, like ``publish``: not allowed (Forbidden, audited), ``design_stale``. Audited as 停用表单文件."""
    versions.check_file_name(file)
    if file == CAMPAIGN_FILE:
        raise DesignError(f"{CAMPAIGN_FILE} 是活动配置，不能停用。", code="design_withdraw_campaign")
    authorize(store, actor, DESIGN_PUBLISH, served_spec(catalog, versions.latest(store, file)), drafting(catalog))
    note = _note(note)
    based_on = check_based_on(based_on)
    with store.exclusive(versions.LOCK):
        store.refresh()
        current = versions.latest(store, file)
        last = versions.last_number(store, file)
        if current is None or based_on != last:
            since = versions.published_by(versions.newest(versions.versions(store, file))[file]) if last else "该文件没有已发布的版本"
            raise DesignError(f"{file} 已有更新的版本：{since}（您看到的是第 {based_on} 版）。请刷新后再决定是否停用。",
                              code="design_stale", current=current)
        form_id = current.values.get("form_id") or ""
        twins = [f for f, r in versions.served(versions.versions(store)).items() if f != file and r.values.get("form_id") == form_id]
        # a copy of a form another file serves hides nothing; else the campaign the store serves now decides
        campaign = served_catalog(store).campaign_or_none() if not twins else None
        bound = campaign.bindings.form_ids() if campaign is not None and campaign.bindings is not None else {}
        kinds = [kind for kind, bound_id in bound.items() if bound_id == form_id]
        if kinds:
            raise DesignError(f"表单「{form_id}」是活动配置 campaign.yaml 的绑定（{'、'.join(kinds)}）所用的表单，不能停用："
                              "请先在 campaign.yaml 中改掉这些绑定。", code="design_withdraw_bound")
        held = store.records(form_id) if form_id and not twins else []
        if held:
            raise DesignError(f"表单「{form_id}」已有 {len(held)} 条记录（例如 {'、'.join(r.id for r in held[:3])}），停用后这些记录"
                              "在任何页面都看不到，不能停用。", code="design_withdraw_rows")
        row = versions.append_version(store, actor, file, current.values["text"], form_id=form_id, version=last + 1,
                                      based_on=last, origin="designer", note=note or "停用此文件",
                                      status=versions.WITHDRAWN)
    store.log_event(actor, WITHDRAWN, form_id=versions.VERSIONS.form_id, row_id=row.id,
                    note=f"{file} 第 {last + 1} 版（停用）" + (f"：{note}" if note else ""))
    return row


def history(store: Store, file: str) -> list[Record]:
    """The published versions of ``file``, oldest first (who and when: each row's owner and updated_at;
    the note: its ``note``)."""
    rows = [r for r in versions.versions(store, file) if r.status == versions.PUBLISHED]
    return sorted(rows, key=versions.number)


def diff(a_text: str, b_text: str, a_name: str = "旧版本", b_name: str = "新版本") -> str:
    """The unified diff from ``a_text`` to ``b_text`` ("" when they are the same).

    >>> print(diff("a: 1\\nb: 2\\n", "a: 1\\nb: 3\\n"), end="")
    --- 旧版本
    +++ 新版本
    @@ -1,2 +1,2 @@
     a: 1
    -b: 2
    +b: 3
    """
    lines = difflib.unified_diff(_lines(a_text), _lines(b_text), fromfile=a_name, tofile=b_name)
    return "".join(lines)


def _bindings_following(store: Store, form: FormSpec, renames: tuple[tuple[str, str], ...], note: str) -> list[dict]:
    """The campaign's next version when a rename moves a field the campaign binds (``versions.rebound``):
    published with the form as one change, so the binding never points at a key gone. None needed: []."""
    campaign = versions.latest(store, CAMPAIGN_FILE)
    if campaign is None or not renames:
        return []
    text = versions.rebound(campaign.values["text"], form.id, renames)
    if text == campaign.values["text"]:
        return []
    versions.check_text(CAMPAIGN_FILE, text)
    last = versions.last_number(store, CAMPAIGN_FILE)
    return [{"file": CAMPAIGN_FILE, "form_id": "", "version": last + 1, "text": text, "based_on": last, "origin": "designer",
             "note": note}]


def _numbered_form(check: DraftCheck, file: str, text: str, old: FormSpec | None) -> tuple[str, FormSpec | None]:
    """The text to publish and its form: a form's ``version:`` set to the next number (one more than the
    served form's, or the draft's own when it says more), read back to make sure nothing else moved."""
    form = check.form
    if form is None:
        return text, None
    number = versions.next_number(form, old)
    if number == form.version:
        return text.removeprefix(versions.BOM), form
    body = versions.numbered(text, file, number)
    try:
        again = parse_form(body, file)
    except FormDefinitionError:
        again = None
    if again is None or again != form.model_copy(update={"version": number}):
        raise DesignError(f"{file} 的 version 写法特殊，无法自动改为 {number}：请把顶层的 version 直接写成 {number} 后再发布。",
                          code="design_version_line")
    return body, again


def _note(note: str) -> str:
    """The publisher's note as it is kept: one text, no control or direction characters, not too long."""
    spec_type = REGISTRY["textarea"]
    try:
        kept = spec_type.parse(note or "", None, {}) or ""
    except ValueProblem:
        raise DesignError("「发布说明」含有控制字符或改变文字方向的字符，请删除后再发布。", code="design_note") from None
    if len(kept) > versions.MAX_NOTE_CHARS:
        raise DesignError(f"「发布说明」有 {len(kept)} 个字，超过上限 {versions.MAX_NOTE_CHARS}，请精简。", code="design_note")
    return kept


def _lines(text: str) -> list[str]:
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += "\n"
    return lines
