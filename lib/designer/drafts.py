"""Drafts: a definition's text saved while it is edited, not served to anyone until published.

A draft is a row of ``form_versions`` (``lib.forms.versions``) with the row status 草稿, version 0 (it
gets its number when published), the whole text and the published version it started from
(``based_on``). An account keeps at most one live draft per file: saving again updates it in place
(from the revision the caller read, when given: a second tab's older text is refused, not written over
the first's). A draft may have problems: it is unfinished work; only publishing checks it. Every save is
audited (保存表单草稿) besides the store's own record of the change.
"""

from __future__ import annotations

from lib.auth.policy import DESIGN_DRAFT, authorize
from lib.core.records import Actor, Record
from lib.core.statuses import DRAFT
from lib.forms import versions
from lib.forms.errors import FormDefinitionError
from lib.forms.loader import CAMPAIGN_FILE, FormCatalog
from lib.forms.spec import FormSpec
from lib.forms.yamltext import load_yaml
from lib.store.base import Store

from .errors import DesignError

SAVED = "保存表单草稿"  # the audit's action for a draft saved


def save_draft(store: Store, catalog: FormCatalog, actor: Actor, file: str, text: str, based_on: int, *,
               base_rev: int | None = None) -> Record:
    """Save ``text`` as ``actor``'s draft of ``file``, started from published version ``based_on`` (0: a
    new file), and return the draft's row. ``base_rev``: the revision of the draft the caller read (a
    ConflictError when it changed since); None: whatever the draft holds now is replaced.

    Refused, nothing written: not allowed (Forbidden, audited), a bad file name or a text too long
    (VersionError), ``based_on`` not a version number (DesignError ``design_based_on``)."""
    versions.check_file_name(file)
    authorize(store, actor, DESIGN_DRAFT, served_spec(catalog, versions.latest(store, file)), drafting(catalog))
    versions.check_text(file, text)
    based_on = check_based_on(based_on)
    values = {"file": file, "form_id": _form_id(file, text), "version": 0, "text": text, "sha256": versions.sha256(text),
              "based_on": based_on, "origin": "designer", "note": ""}
    versions.ensure_sheet(store)
    with store.exclusive(versions.LOCK):
        store.refresh()
        own = draft_of(store, actor, file)
        if own is None:
            record = store.append(versions.VERSIONS.form_id, values, actor=actor, status=DRAFT)
        else:
            record = store.update(versions.VERSIONS.form_id, own.id, base_rev=own.rev if base_rev is None else base_rev,
                                  actor=actor, values=values, note=SAVED)
    store.log_event(actor, SAVED, form_id=versions.VERSIONS.form_id, row_id=record.id, note=f"{file}（基于第 {based_on} 版）")
    return record


def draft_of(store: Store, actor: Actor, file: str) -> Record | None:
    """``actor``'s live draft of ``file`` (neither published nor discarded), if any."""
    return next((r for r in versions.versions(store, file) if r.status == DRAFT and r.owner == actor.account), None)


def drafting(catalog: FormCatalog) -> dict[str, bool]:
    """The campaign's say in who drafts: the ``row`` the policy's DESIGN_* actions read."""
    campaign = catalog.campaign_or_none()
    return {"city_drafts": campaign is not None and campaign.designer.city_drafts}


def served_spec(catalog: FormCatalog, current: Record | None) -> FormSpec | None:
    """The catalog's form of the version row ``current`` (None: campaign.yaml, a new file, or a form the
    catalog does not serve): what the policy judges a draft or a publish by."""
    form_id = current.values.get("form_id") if current is not None else None
    if not form_id:
        return None
    try:
        return catalog.form(form_id)
    except KeyError:
        return None


def check_based_on(based_on: object) -> int:
    """``based_on`` as a version number (0 or more); DesignError ``design_based_on`` otherwise."""
    if isinstance(based_on, bool) or not isinstance(based_on, int) or based_on < 0:
        raise DesignError(f"「基于版本」应为 0 或正整数，收到「{str(based_on)[:20]}」：请重新打开文件后再保存。", code="design_based_on")
    return based_on


def _form_id(file: str, text: str) -> str:
    """The id the text gives its form ("" for campaign.yaml, or a text that does not say one yet)."""
    if file == CAMPAIGN_FILE:
        return ""
    try:
        data = load_yaml(text, file)[0]
    except FormDefinitionError:
        return ""
    form_id = data.get("id") if isinstance(data, dict) else None
    return form_id if isinstance(form_id, str) and len(form_id) <= 100 else ""
