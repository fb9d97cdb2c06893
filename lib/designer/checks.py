"""Checking a draft as the catalog would serve it: its own problems by line and field, and what it does to
the campaign's bindings against the other files served.

A form's draft is parsed against the campaign served (its deadline must be one of the campaign's); the
bindings are checked with the draft in place of the form its file serves now, and only the problems the
draft brings count (a campaign broken already does not block an unrelated form); a bound field the draft
renames (``replaces:``) takes its binding along (``versions.rebound``: the publish writes the campaign's
next version with the form's, as one change). A campaign's draft is
checked against every form served: its bindings, and each form's deadline, which must stay declared; and it
must keep what the pages need (``versions.campaign_needs``: the registers).
"""

from __future__ import annotations

from dataclasses import dataclass

from lib.forms.errors import FormDefinitionError, FormProblem, problem
from lib.forms.loader import CAMPAIGN_FILE, FormCatalog, check_bindings, parse_campaign, parse_form
from lib.forms.spec import CampaignSpec, FormSpec
from lib.forms.versions import VersionError, campaign_needs, check_file_name, check_text, rebound, renames_of
from lib.forms.yamltext import load_yaml


@dataclass(frozen=True)
class DraftCheck:
    """What ``check_draft`` found: ``problems`` (each naming its file, line and field), and the draft's
    spec when it parses: ``form`` for a form file, ``campaign`` for campaign.yaml."""

    file: str
    problems: tuple[FormProblem, ...] = ()
    form: FormSpec | None = None
    campaign: CampaignSpec | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def check_draft(catalog: FormCatalog, file: str, text: str) -> DraftCheck:
    """The problems of ``text`` as the next version of ``file`` (see the module docstring); none when it
    may be published as far as the definitions go (the stored rows are ``lib.designer.impact``'s)."""
    try:
        check_file_name(file)
        check_text(file, text)
    except VersionError as exc:
        return DraftCheck(file, (FormProblem(code=exc.code, message=str(exc)),))  # the message names the file, quoted
    if file == CAMPAIGN_FILE:
        return _check_campaign(catalog, text)
    campaign = catalog.campaign_or_none()
    try:
        form = parse_form(text, file, campaign)
    except FormDefinitionError as exc:
        return DraftCheck(file, tuple(exc.problems))
    served = catalog.forms()
    before = _served_id(catalog, file)
    found: list[FormProblem] = []
    if form.id != before and any(f.id == form.id for f in served):
        found.append(problem("duplicate_form_id", where=_where(file, text, ("id",)), form_id=form.id, first="另一个表单文件"))
    elif campaign is not None:
        others = [f for f in served if f.id not in (before, form.id)]
        now = check_bindings(campaign, served)
        found += [p for p in check_bindings(_following(catalog, file, form) or campaign, [*others, form]) if p not in now]
    return DraftCheck(file, tuple(found), form=form)


def _check_campaign(catalog: FormCatalog, text: str) -> DraftCheck:
    try:
        campaign = parse_campaign(text, CAMPAIGN_FILE)
    except FormDefinitionError as exc:
        return DraftCheck(CAMPAIGN_FILE, tuple(exc.problems))
    lines = load_yaml(text, CAMPAIGN_FILE)[1]
    served = catalog.forms()
    found = check_bindings(campaign, served, lines, CAMPAIGN_FILE) + campaign_needs(campaign, CAMPAIGN_FILE)
    found += [problem("unknown_deadline", field="", where=f"表单「{f.id}」（{f.short_title}）", deadline=f.deadline)
              for f in served if f.deadline and f.deadline not in campaign.deadlines]
    return DraftCheck(CAMPAIGN_FILE, tuple(found), campaign=campaign)


def _following(catalog: FormCatalog, file: str, form: FormSpec) -> CampaignSpec | None:
    """The campaign served with its bindings following the renames ``form`` makes of the form ``file``
    serves (``versions.rebound``: the publish carries them along); None when none moves."""
    try:
        served = parse_form(catalog.source.text(file), file)
        text = catalog.source.text(CAMPAIGN_FILE)
    except (OSError, KeyError, FormDefinitionError):
        return None
    moved = renames_of(served, form, {}, lambda key: False) if served.id == form.id else []
    rebound_text = rebound(text, form.id, moved)
    if rebound_text == text:
        return None
    try:
        return parse_campaign(rebound_text, CAMPAIGN_FILE)
    except FormDefinitionError:
        return None


def _served_id(catalog: FormCatalog, file: str) -> str | None:
    """The id of the form ``file`` gives the catalog now (None: a new file, or one that does not read)."""
    try:
        data = load_yaml(catalog.source.text(file), file)[0]
    except (OSError, KeyError, FormDefinitionError):
        return None
    form_id = data.get("id") if isinstance(data, dict) else None
    return form_id if isinstance(form_id, str) else None


def _where(file: str, text: str, path: tuple) -> str:
    line = load_yaml(text, file)[1].line_of(path)
    return f"{file} 第 {line} 行" if line else file
