"""Load form and campaign files, report problems by file and line, and hot-reload them.

``FormCatalog.refresh()`` is cheap (one stamp per file: a ``stat`` of a folder's file, a version number of
the store's) and is called on every page run: an edited file is re-read, and an invalid edit keeps the
last valid version serving while its problems are listed for the page to show. Where the texts come
from is the catalog's source (``lib.forms.sources``): a folder, or the store's published versions.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

from .bindings import Bindings
from .crosscheck import campaign_problems
from .errors import FormDefinitionError, FormProblem, problem
from .sources import Check, FolderSource
from .spec import CampaignSpec, FormSpec, campaign_semantic_problems, semantic_problems
from .yamltext import LineMap, load_yaml

CAMPAIGN_FILE = "campaign.yaml"
_log = logging.getLogger(__name__)


def _where(filename: str, lines: LineMap, path: tuple) -> str:
    line = lines.line_of(path)
    return f"{filename} 第 {line} 行" if line else filename


def _field_name(data: Any, path: tuple) -> str:
    """The ``key`` of the innermost field (or section, phase, priority rule) on ``path``, for messages."""
    name, node = "", data
    for step in path:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, dict) and isinstance(node.get("key"), str):
            name = node["key"]
    return name


#: What a keyed item is called in a message, by where it sits in campaign.yaml (a form's are fields).
_KEYED_ITEMS = {("phases",): "阶段", ("sampling", "priority_rules"): "优先规则"}


def _named(data: Any, loc: tuple) -> str:
    """「字段「usage」的 choices 第 2 项」: the keyed item a problem is in, and the attribute at fault
    (a list's item counted from 1, as a person reads the file)."""
    name = _field_name(data, loc)
    if len(loc) >= 2 and isinstance(loc[-1], int):
        attr = f"{loc[-2]} 第 {loc[-1] + 1} 项"
    else:
        attr = ".".join(str(p) for p in loc[-1:])
    kind = next((word for prefix, word in _KEYED_ITEMS.items() if loc[: len(prefix)] == prefix), "字段")
    return f"{kind}「{name}」的 {attr}" if name else ".".join(map(str, loc)) or "整个文件"


#: Chinese wording of the pydantic errors a form author meets most.
_MESSAGES = {
    "extra_forbidden": "不支持的属性（请检查拼写）",
    "missing": "缺少必填属性",
    "string_type": "应为文字",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "float_parsing": "应为数字",
    "date_from_datetime_parsing": "应为日期 YYYY-MM-DD",
    "date_parsing": "应为日期 YYYY-MM-DD",
    "string_pattern_mismatch": "只能用小写英文字母、数字和下划线，且以字母开头",
    "literal_error": "取值不在允许范围内",
    "too_short": "不能为空",
    "string_too_short": "不能为空",  # every text with a min_length (a label, a role's name) needs one character
    "greater_than_equal": "取值太小",
    "less_than_equal": "取值太大",
    "tuple_type": "应为列表",
    "dict_type": "应为键值对",
    "model_type": "应为键值对",
    "list_type": "应为列表",
    "float_type": "应为数字",
    "finite_number": "应为有限的数字",
}


def _in_document(data: Any, loc: tuple) -> tuple:
    """The part of a pydantic error location the author wrote: a union adds its member's type name
    under a scalar (``max.float``), which names nothing in the file."""
    node = data
    for depth, step in enumerate(loc):
        if isinstance(node, dict):
            if step not in node:
                return loc[: depth + 1]  # a missing or unknown key is still one the author names
            node = node[step]
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
        else:
            return loc[:depth]
    return loc


def _validate(model: type[BaseModel], data: Any, lines: LineMap, filename: str) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        errors = exc.errors()
        # Every proper prefix of a location: a container failing because of a problem inside it is
        # not reported, the inner problem is (a set, so thousands of errors stay linear).
        containers = {tuple(e["loc"])[:i] for e in errors for i in range(len(e["loc"]))}
        reported: set[tuple] = set()
        for err in errors:
            if tuple(err["loc"]) in containers:
                continue
            loc = _in_document(data, tuple(err["loc"]))
            if loc in reported:
                continue  # one value failing each member of a union (`max: float | date`): say it once
            reported.add(loc)
            detail = f"{_named(data, loc)}：{_MESSAGES.get(err['type'], err['msg'])}"
            problems.append(problem("invalid_definition", field=_field_name(data, loc), where=_where(filename, lines, loc), detail=detail))
        raise FormDefinitionError(filename, problems) from None


def parse_form(text: str, filename: str, campaign: CampaignSpec | None = None) -> FormSpec:
    """YAML text of one form -> FormSpec, or FormDefinitionError listing every problem."""
    data, lines = load_yaml(text, filename)
    form = _validate(FormSpec, data, lines, filename)
    problems = [
        problem(code, field=params.pop("field", ""), where=_where(filename, lines, path), **params)
        for path, code, params in semantic_problems(form)
    ]
    if campaign is not None and form.deadline and form.deadline not in campaign.deadlines:
        problems.append(problem("unknown_deadline", where=_where(filename, lines, ("deadline",)), deadline=form.deadline))
    if problems:
        raise FormDefinitionError(filename, problems)
    return form


def parse_campaign(text: str, filename: str = CAMPAIGN_FILE) -> CampaignSpec:
    return _parse_campaign(text, filename)[0]


def _parse_campaign(text: str, filename: str) -> tuple[CampaignSpec, LineMap]:
    data, lines = load_yaml(text, filename)
    campaign = _validate(CampaignSpec, data, lines, filename)
    problems = [problem(code, where=_where(filename, lines, path), **params) for path, code, params in campaign_semantic_problems(campaign)]
    if problems:
        raise FormDefinitionError(filename, problems)
    return campaign, lines


def check_bindings(campaign: CampaignSpec, forms: list[FormSpec], lines: LineMap | None = None,
                   filename: str = CAMPAIGN_FILE) -> list[FormProblem]:
    """The problems of ``campaign``'s bindings against ``forms``, located in ``filename`` by ``lines``."""
    found = campaign_problems(campaign, {f.id: f for f in forms})
    where = (lambda path: _where(filename, lines, path)) if lines is not None else (lambda path: filename)
    return [problem(code, where=where(path), **params) for path, code, params in found]


class Source(Protocol):
    """Where a catalog reads its files (``lib.forms.sources``: a folder, the store's versions)."""

    def sync(self, check: Check) -> None: ...
    def names(self) -> list[str]: ...
    def stamp(self, name: str) -> Any: ...  # changes whenever the text does; OSError when the name is gone
    def text(self, name: str) -> str: ...  # FormDefinitionError when it cannot be read


@dataclass(frozen=True)
class _Entry:
    stamp: Any = None  # the source's stamp of the text ``spec`` was read from; None: read it again
    spec: Any = None
    problems: tuple[FormProblem, ...] = ()
    lines: LineMap | None = None  # of the text ``spec`` came from: binding problems name their line
    #: The file's text is valid alone but was refused for breaking the bindings: it is tried again
    #: whenever another file changes, since that file may be the other half of a rename saved in two steps.
    held: bool = False


class FormCatalog:
    """The forms of one source (a folder, or the store's versions: ``lib.forms.sources``), reloaded
    when their texts change; safe to share across sessions.

    Concurrency: readers never wait. ``refresh`` builds a new table of entries and swaps it in, so a
    reader sees the old table or the new one, never half of one. Only one refresh reads the files at
    a time; a session that calls ``refresh`` meanwhile does not wait for it and serves the versions
    it has (a parse is bounded anyway: see lib.forms.yamltext).
    """

    def __init__(self, source: Source | Path | str):
        self.source: Source = FolderSource(source) if isinstance(source, (str, Path)) else source
        self._entries: dict[str, _Entry] = {}
        self._binding_problems: list[FormProblem] = []
        #: What the last binding check read (``_check_inputs``) and found: the same files, the same answer.
        self._checked: tuple[tuple, list[FormProblem]] | None = None
        self._refreshing = threading.Lock()
        self._campaign_of: tuple[str | None, CampaignSpec | None] = (None, None)  # a campaign text, parsed

    def _publishable(self, name: str, text: str, campaign_text: str | None) -> str:
        """The source's :data:`lib.forms.sources.Check`: the form id of a valid ``text`` ("" for the
        campaign), its form checked against the campaign of ``campaign_text``; FormDefinitionError if not."""
        if name == CAMPAIGN_FILE:
            parse_campaign(text)
            return ""
        if campaign_text is not None and self._campaign_of[0] != campaign_text:
            try:
                self._campaign_of = (campaign_text, parse_campaign(campaign_text))
            except FormDefinitionError:
                self._campaign_of = (campaign_text, None)
        campaign = self._campaign_of[1] if campaign_text is not None else None
        return parse_form(text, name, campaign).id

    def refresh(self) -> list[FormSpec]:
        """Re-read changed files; keep the last valid version of any file that became invalid.

        Returns the forms that have a new valid version (all of them on the first call), so the
        caller can bring the sheets they are stored in up to date. Returns [] at once when another
        session is refreshing.
        """
        if not self._refreshing.acquire(blocking=False):
            return []
        try:
            self.source.sync(self._publishable)
            entries = dict(self._entries)
            before = _served(self._entries)
            changed = self._reload_all(entries, force=False)
            held = {name for name, e in entries.items() if e.held} - changed
            if changed and held:
                for name in held:
                    entries[name] = replace(entries[name], stamp=None)
                changed |= self._reload_all(entries, force=False)
            self._keep_bindings(entries, changed)
            self._entries = entries
            # A form served now whose version is new, or which was not served before (the file that
            # held its id first is gone): the caller brings its sheet up to date.
            return [spec for name, spec in _served(self._entries).items() if before.get(name) != spec]
        finally:
            self._refreshing.release()

    def _reload_all(self, entries: dict[str, _Entry], force: bool, campaign_too: bool = True) -> set[str]:
        """Re-read the campaign (unless told not to), then every form against it; drop entries of
        files gone, except a form the campaign binds (see ``_gone``). Returns the names of the files read anew."""
        changed = set()
        if campaign_too and self._reload(entries, CAMPAIGN_FILE,
                                         lambda text: _parse_campaign(text, CAMPAIGN_FILE), force=force):
            changed.add(CAMPAIGN_FILE)
        campaign = entries[CAMPAIGN_FILE].spec
        names = [n for n in self.source.names() if n != CAMPAIGN_FILE]
        for name in names:
            if self._reload(entries, name, lambda text, n=name: parse_form(text, n, campaign),
                            force=force or CAMPAIGN_FILE in changed):
                changed.add(name)
        present = {*names, CAMPAIGN_FILE}
        for name in [n for n in entries if n not in present]:
            self._gone(entries, name)
        return changed

    @staticmethod
    def _gone(entries: dict[str, _Entry], name: str) -> None:
        """Forget a file that is gone, unless it is a form the campaign binds that no other file now
        gives: a bound form missing for a moment (an editor saving by delete and rename) would otherwise
        take every board down. Its last valid version keeps serving while the file is missing, until
        the campaign binds another form."""
        entry, campaign = entries[name], entries[CAMPAIGN_FILE].spec
        bound = set(campaign.bindings.form_ids().values()) if campaign is not None and campaign.bindings is not None else set()
        given = {e.spec.id for n, e in entries.items() if n not in (name, CAMPAIGN_FILE) and e.spec is not None}
        if entry.spec is None or entry.spec.id not in bound or entry.spec.id in given:
            del entries[name]
            return
        # stamp None: the file, when back, is read again whatever its stamp
        entries[name] = replace(entry, stamp=None, held=False,
                                problems=(problem("bound_form_missing", where=name, form_id=entry.spec.id),))

    def _keep_bindings(self, entries: dict[str, _Entry], changed: set[str]) -> None:
        """A new version that breaks the campaign's bindings is refused like an invalid one: a new
        campaign.yaml (the last valid one keeps serving, the forms are read again against it), else a
        new form version (its last valid one keeps serving). A refused version is ``held`` and tried
        again with the newest versions of all files when any file changes (``refresh``): when they fit
        together, all are served. What still fails — a first start, or a form that never had a valid
        version — is listed under campaign.yaml and ``bindings`` refuses."""
        old = self._entries
        inputs = _check_inputs(entries)
        if self._checked is not None and _same_inputs(inputs, self._checked[0]):
            self._binding_problems = list(self._checked[1])  # nothing read anew: the check reads the same specs
            return
        found = _binding_check(entries)
        if found and CAMPAIGN_FILE in changed and old.get(CAMPAIGN_FILE, _Entry()).spec is not None:
            refused = entries[CAMPAIGN_FILE]
            entries[CAMPAIGN_FILE] = replace(old[CAMPAIGN_FILE], stamp=refused.stamp, problems=tuple(found), held=True)
            for name in set(entries) | set(old):  # a bound form gone is kept or dropped by the old campaign
                if name != CAMPAIGN_FILE:
                    entries[name] = old.get(name, _Entry())
            changed = self._reload_all(entries, force=True, campaign_too=False)
            found = _binding_check(entries)
        if found:
            declared = entries[CAMPAIGN_FILE].spec.bindings
            bound = set(declared.form_ids().values()) if declared is not None else set()
            for name in sorted(changed - {CAMPAIGN_FILE}):
                entry, previous = entries.get(name), old.get(name)
                if entry is None or entry.spec is None or previous is None or previous.spec is None:
                    continue
                if entry.spec.id not in bound and previous.spec.id not in bound:  # a bound id renamed away is held too
                    continue
                alone = dict(entries)
                alone[name] = replace(entry, spec=previous.spec)
                after = _binding_check(alone)
                if len(after) < len(found):
                    detail = "；".join(p.message for p in found if p not in after)
                    entries[name] = replace(entry, spec=previous.spec, held=True,
                                            problems=(problem("binding_breaks_form", where=name, detail=detail),))
                    found = _binding_check(entries)
        self._binding_problems = found
        self._checked = (_check_inputs(entries), list(found))

    def _reload(self, entries: dict[str, _Entry], name: str, parse, force: bool = False) -> bool:
        """Re-read file ``name`` into ``entries`` when it changed; every failure becomes a problem of the file."""
        entry = entries.get(name, _Entry())
        try:
            stamp = self.source.stamp(name)
        except OSError as exc:  # gone, or unreadable (permissions): the last valid version keeps serving
            detail = "文件不存在" if isinstance(exc, FileNotFoundError) else f"文件无法读取（{type(exc).__name__}）"
            entries[name] = replace(entry, problems=(problem("invalid_definition", where=name, detail=detail),))
            return False
        if not force and entry.stamp is not None and stamp == entry.stamp:
            return False
        entry = replace(entry, stamp=stamp, held=False)
        try:
            parsed = parse(self.source.text(name))
            spec, lines = parsed if isinstance(parsed, tuple) else (parsed, None)
            entry = replace(entry, spec=spec, lines=lines, problems=())
        except FormDefinitionError as exc:
            entry = replace(entry, problems=tuple(exc.problems))  # the previous spec, if any, keeps serving
        except Exception as exc:  # noqa: BLE001 - whatever a hostile file triggers, the other forms keep serving
            _log.exception("reading form file %s of %s failed", name, self.source)
            entry = replace(entry, problems=(problem("load_failed", where=name, error=type(exc).__name__),))
        entries[name] = entry
        return True

    def campaign_or_none(self) -> CampaignSpec | None:
        entry = self._entries.get(CAMPAIGN_FILE)
        return entry.spec if entry else None

    @property
    def campaign(self) -> CampaignSpec:
        """The campaign; when campaign.yaml has never been valid since start, FormDefinitionError whose
        first problem (``campaign_unavailable``) says so in Chinese, followed by the file's problems:
        a page that needs the campaign shows ``str(exc)``; every other page keeps serving."""
        spec = self.campaign_or_none()
        if spec is None:
            found = self.problems().get(CAMPAIGN_FILE, [])
            raise FormDefinitionError(CAMPAIGN_FILE, [problem("campaign_unavailable", where=CAMPAIGN_FILE, file=CAMPAIGN_FILE), *found])
        return spec

    @property
    def bindings(self) -> Bindings:
        """The campaign's bindings, checked against the forms served; FormDefinitionError naming
        campaign.yaml's line and key when they are missing or do not fit the forms, so a page that
        reads forms through them shows why instead of a silent zero."""
        campaign = self.campaign
        if campaign.bindings is None:
            raise FormDefinitionError(CAMPAIGN_FILE, [problem("campaign_no_bindings", where=CAMPAIGN_FILE, file=CAMPAIGN_FILE)])
        if self._binding_problems:
            raise FormDefinitionError(CAMPAIGN_FILE, list(self._binding_problems))
        return campaign.bindings

    def forms(self) -> list[FormSpec]:
        """Every form that has a valid version, in file-name order; of files giving the same ``id``
        only one, ``<id>.yaml`` or else the first by name (its rows' sheet is named by the id: two
        column sets must not share it)."""
        return list(_served(self._entries).values())

    def form(self, form_id: str) -> FormSpec:
        for spec in self.forms():
            if spec.id == form_id:
                return spec
        raise KeyError(form_id)

    def problems(self) -> dict[str, list[FormProblem]]:
        """File name -> problems of its current text, and of a valid form not served because another
        file serves the same ``id`` (see ``forms``) (empty dict when all files are valid and served)."""
        served = _served(self._entries)
        found = {name: list(e.problems) for name, e in sorted(self._entries.items()) if e.problems}
        if self._binding_problems:
            found.setdefault(CAMPAIGN_FILE, [])
            found[CAMPAIGN_FILE] += [p for p in self._binding_problems if p not in found[CAMPAIGN_FILE]]
        for name, e in sorted(self._entries.items()):
            if name != CAMPAIGN_FILE and e.spec is not None and name not in served:
                first = next(n for n, spec in served.items() if spec.id == e.spec.id)
                found.setdefault(name, []).append(problem("duplicate_form_id", where=name, form_id=e.spec.id, first=first))
        return found


def _served(entries: dict[str, _Entry]) -> dict[str, FormSpec]:
    """File name -> form, for the forms served (in file-name order): valid ones, of the files giving
    one ``id`` the one named ``<id>.yaml``, else the first by name. A copy of a form file (Windows'
    "att1 - 副本.yaml", "att1.bak.yaml", "att1 (2).yaml") sorts before its original: it must not
    take the form over, nor break the bindings on the next start."""
    serving: dict[str, str] = {}  # id -> the file serving it
    for name, e in sorted(entries.items()):
        if name != CAMPAIGN_FILE and e.spec is not None and (e.spec.id not in serving or name == f"{e.spec.id}.yaml"):
            serving[e.spec.id] = name
    return {name: entries[name].spec for name in sorted(serving.values())}


def _check_inputs(entries: dict[str, _Entry]) -> tuple:
    """What ``_binding_check`` reads from ``entries``: the campaign (and its lines) and the served forms."""
    campaign = entries.get(CAMPAIGN_FILE, _Entry())
    return (campaign.spec, campaign.lines, *_served(entries).items())


def _same_inputs(a: tuple, b: tuple) -> bool:
    """Whether two ``_check_inputs`` hold the very same objects (a file read anew gives new ones): checking the
    bindings again on every page run's refresh cost 13 % of a busy server's CPU (issue 17)."""
    return len(a) == len(b) and a[0] is b[0] and a[1] is b[1] and all(x[0] == y[0] and x[1] is y[1] for x, y in zip(a[2:], b[2:], strict=True))


def _binding_check(entries: dict[str, _Entry]) -> list[FormProblem]:
    campaign = entries.get(CAMPAIGN_FILE, _Entry())
    if campaign.spec is None:
        return []
    return check_bindings(campaign.spec, list(_served(entries).values()), campaign.lines)


def load_catalog(source: Source | Path | str) -> FormCatalog:
    """A catalog of ``source`` (a folder's path, or a source of lib.forms.sources), read once."""
    catalog = FormCatalog(source)
    catalog.refresh()
    return catalog
