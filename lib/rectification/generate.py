"""Opening rectification items: from the findings the campaign's rules declare (``generate``), and by hand
(``add_item``), both the province's.

A finding is a filed row (``lib.core.statuses.FILED``: a draft or a withdrawn row is none) of a rule's
source form whose ``when`` holds (``lib.forms.rectification``). The rule's ``when`` reads the row through
its meaning frame (``lib.campaign.bound``): a choice whose meanings the binding declares reads as its
meaning (``conclusion == 'fail'``; a word the binding does not know reads as blank), any other meaning as
stored; blank is not met, anything but 是/否/blank is refused naming the rule (RuleFailed). Each rule is
evaluated once per distinct tuple of the meanings it names, not once per row. A finding names the
party (the rule's ``responsible`` meaning, with its credit code where the source binds one), the city,
the voucher and the project (for a source that names no project, the filed project row of its voucher
names it), and says in Chinese what was found: the rule's name and the facts that met it, in the
form's own labels and words (``检查结论：不合格；发现的问题：…``).

``generate`` opens one item per finding not opened before, keyed by rule, source form and source row,
whatever the item's status since (a closed or cancelled item's finding is not opened again): running it
again adds only the new findings. Given the accounts, each new item's acting organisation is the account
organisation the party stands for (``lib.rectification.match``: by credit code, the voucher register,
the voucher's filer, the name), recorded with how it was found; a party no account stands for keeps its
typed name and is 无对应账号 until an account of that name exists or the province names another or cancels
it (``lib.rectification.admin``). An
item whose source row was since corrected or withdrawn is stale (``stale_sources``): kept open for the
province to cancel, counted in the summary, never opened again. All the new items are written as one ``append_batch`` (all or none), then a
生成整改事项 event records the summary. Item ids (``RT-000001`` …) are numbered under the items' lock,
which generation and a manual add share.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from lib.auth.policy import RECTIFY_GENERATE, authorize, comparable
from lib.campaign.bound import meaning_frame
from lib.campaign.register.reconcile import normalize_code
from lib.core.errors import AppError
from lib.core.records import Actor, Record
from lib.core.statuses import FILED
from lib.core.text import quotable
from lib.forms.bindings import FormBinding
from lib.forms.display import value_text
from lib.forms.expressions import ConditionFailed, Context, cache_key, holds_for_rows
from lib.forms.loader import FormCatalog
from lib.forms.rectification import PARTIES, ItemRule, Rectification
from lib.forms.types import ValueProblem, clean_text, is_credit_code
from lib.store.base import NotFound, Store

from . import match
from .records import CANCELLED, ENDED, ITEMS, MANUAL, PENDING

#: The columns of ``findings``: what an item copies from its finding.
FINDING_COLUMNS = ("rule", "source_kind", "source_form", "source_row", "category", "city", "party_kind", "party",
                   "party_code", "actor_org", "voucher", "project", "finding")
#: The meaning that carries each party's credit code, where its source binds one.
PARTY_CODES = {"provider": "provider_code", "firm": "firm_code", "lead_unit": "lead_unit_code"}
#: What the party kinds are called where a person picks or reads one (a manual item's form, the lists).
PARTY_WORDS = {"provider": "责任服务商", "firm": "责任企业", "lead_unit": "责任牵头单位"}
#: Longest text of what was found, generated or typed; a longer generated one is cut with "…".
FINDING_MAX = 2000
#: Longest name of a party, a project or a voucher typed for a manual item.
NAME_MAX = 200
#: Latest due date of a manual item, in days from today: a slip of the year (9999) would hide it from
#: every overdue list.
DUE_MAX_DAYS = 366
#: Why an item's source no longer opens it (``stale_sources``).
WITHDRAWN = "来源已撤回"
CORRECTED = "来源已更正"
#: The audit event of a generation (its note: the summary).
GENERATED = "生成整改事项"
#: Held while the opened items are read and the new ones numbered and written.
ITEMS_LOCK = "rectification_items"
ID_PREFIX = "RT-"


class RectificationError(AppError):
    """Items could not be opened; nothing was written."""

    code = "rectification_generate"


class NoRectification(RectificationError):
    """The campaign declares no ``rectification:`` section."""

    code = "no_rectification"


class RuleFailed(RectificationError):
    """A rule's ``when`` could not be worked out for a row, or gave something other than 是/否."""

    code = "rectification_rule_failed"


class DuePassed(RectificationError):
    """The default due date is before today: every item generated now would be due before it was opened."""

    code = "rectification_due_passed"


class ItemRefused(RectificationError):
    """A manual item's value refused; ``field`` names it (a key of ``ITEMS``), ``code`` what is wrong
    (``item_required``, ``item_due_past`` …; ``item_refused`` is only the class's default)."""

    code = "item_refused"

    def __init__(self, message: str, *, field: str, code: str):
        super().__init__(message, code=code)
        self.field = field


@dataclass(frozen=True)
class RuleCount:
    """What one rule found and opened in a generation."""

    key: str
    name: str
    found: int = 0
    created: int = 0


@dataclass(frozen=True)
class Summary:
    """What a generation did: the items created (their ids), the findings already opened, per rule."""

    created: tuple[str, ...] = ()
    already: int = 0
    rules: tuple[RuleCount, ...] = field(default_factory=tuple)
    unmatched: int = 0  # new items whose party no account stands for
    stale: int = 0  # open items whose source row no longer meets its rule, or was withdrawn

    def text(self) -> str:
        """The summary in Chinese (the page's message and the event's note).

        >>> Summary(("RT-000001",), 2, (RuleCount("a", "停用", 3, 1),)).text()
        '新生成整改事项 1 条，已生成过的 2 条未重复生成。停用：发现 3 条，新生成 1 条'
        >>> Summary(("RT-000001",), 0, (), unmatched=1, stale=2).text()
        '新生成整改事项 1 条，已生成过的 0 条未重复生成。其中 1 条找不到对应账号（无对应账号）：请指定整改办理单位或撤销。来源已不再符合规则或已撤回的 2 条未处理：请核对后撤销。'
        """
        head = f"新生成整改事项 {len(self.created)} 条，已生成过的 {self.already} 条未重复生成。"
        if self.unmatched:
            head += f"其中 {self.unmatched} 条找不到对应账号（{match.UNMATCHED}）：请指定整改办理单位或撤销。"
        if self.stale:
            head += f"来源已不再符合规则或已撤回的 {self.stale} 条未处理：请核对后撤销。"
        return head + "；".join(f"{r.name}：发现 {r.found} 条，新生成 {r.created} 条" for r in self.rules)


def section_of(catalog: FormCatalog) -> Rectification:
    """The campaign's ``rectification:`` section; NoRectification when it declares none."""
    section = catalog.campaign.rectification
    if section is None:
        raise NoRectification("活动配置（campaign.yaml）没有 rectification 部分：请先声明整改类别和生成规则。")
    return section


def findings(catalog: FormCatalog, snapshot: Callable[[str], pd.DataFrame], *, today: dt.date | None = None) -> pd.DataFrame:
    """One row per finding (columns ``FINDING_COLUMNS``), rule by rule in the section's order, each
    rule's in its source's row order. ``snapshot``: form id -> its rows (``store.snapshot``); ``today``
    is what a ``when`` calling ``today()`` reads (the campaign clock)."""
    section, bindings, cities = section_of(catalog), catalog.bindings, catalog.campaign.cities
    context = Context(today=today, city_codes=cities.codes, outside_scheme=frozenset(catalog.campaign.outside_scheme))
    frames: dict[str, pd.DataFrame] = {}
    projects: dict[str, str] | None = None
    found = []
    for rule in section.rules:
        binding = bindings.of(rule.source)
        if rule.source not in frames:
            frames[rule.source] = _filed(meaning_frame(snapshot(binding.form), binding))
        rows = frames[rule.source]
        if binding.key("voucher") is not None and "city" in rows:  # a voucher project outside the scheme is no subsidy's
            rows = rows[~rows["city"].isin(catalog.campaign.outside_scheme)]
        hit = rows[_met(rule, rows, binding, context)] if len(rows) else rows
        if hit.empty:
            continue
        if binding.key("project") is None and binding.key("voucher") is not None and projects is None:
            projects = _project_names(snapshot, catalog)
        found.append(_finding_rows(rule, hit, binding, catalog, projects or {}))
    if not found:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in FINDING_COLUMNS})
    return pd.concat(found, ignore_index=True)[list(FINDING_COLUMNS)]


def _filed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["_status"].isin(FILED)] if "_status" in frame else frame.iloc[0:0]


def _blank(value: Any) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (type(value) is float and value != value)


def _met(rule: ItemRule, rows: pd.DataFrame, binding: FormBinding, context: Context) -> pd.Series:
    """Whether each row meets ``rule``: its ``when`` evaluated once per distinct tuple of the meanings it names."""
    expr, names = rule.expression, sorted(rule.expression.names)
    columns = []
    for name in names:
        words = {word: meaning for meaning, word in binding.words(name).items()}
        values = [None if _blank(v) else v for v in rows[name].tolist()]
        columns.append([words.get(v) for v in values] if words else values)
    try:
        met = holds_for_rows(expr, names, list(zip(*columns)) if names else [()] * len(rows), context)
    except ConditionFailed as err:
        raise RuleFailed(f"整改规则「{rule.name}」（{rule.key}）的 when {err}。") from None
    return pd.Series(met, index=rows.index, dtype=bool)


def _project_names(snapshot: Callable[[str], pd.DataFrame], catalog: FormCatalog) -> dict[str, str]:
    """Voucher (as compared) -> project name, from the filed rows of the projects form (the first one wins)."""
    binding = catalog.bindings.of("projects")
    rows = _filed(meaning_frame(snapshot(binding.form), binding, ("voucher", "project")))
    out: dict[str, str] = {}
    for voucher, project in zip(normalize_code(rows["voucher"]).tolist(), rows["project"].tolist()):
        if voucher and not _blank(project):
            out.setdefault(voucher, str(project))
    return out


def _texts(column: pd.Series) -> list[str]:
    return ["" if _blank(v) else str(v).strip() for v in column.tolist()]


def _finding_rows(rule: ItemRule, hit: pd.DataFrame, binding: FormBinding, catalog: FormCatalog,
                  projects: Mapping[str, str]) -> pd.DataFrame:
    n = len(hit)

    def meaning(name: str | None) -> list[str]:
        return _texts(hit[name]) if name is not None and binding.key(name) is not None and name in hit else [""] * n

    party = meaning(rule.responsible)
    vouchers = meaning("voucher")
    if binding.key("project") is not None:
        project = meaning("project")
    else:
        keys = normalize_code(pd.Series(vouchers, dtype=object)).tolist() if n else []
        project = [projects.get(k, "") for k in keys]
    return pd.DataFrame({
        "rule": rule.key, "source_kind": rule.source, "source_form": binding.form,
        "source_row": _texts(hit["_id"]), "category": rule.category, "city": meaning("city"),
        "party_kind": rule.responsible, "party": party, "party_code": meaning(PARTY_CODES[rule.responsible]),
        "actor_org": meaning("provider") if rule.responsible == "firm" else party,
        "voucher": vouchers, "project": project, "finding": _finding_texts(rule, hit, binding, catalog),
    })


def _finding_texts(rule: ItemRule, hit: pd.DataFrame, binding: FormBinding, catalog: FormCatalog) -> list[str]:
    """The rule's name and, in the form's labels and stored words, each fact its ``when`` named that is not blank."""
    form = catalog.form(binding.form)
    keys = {binding.key(name): name for name in rule.expression.names if binding.key(name) is not None}
    columns = [(spec, hit[keys[spec.key]].tolist()) for spec in form.all_fields() if spec.key in keys]  # in the form's order
    shown: dict[tuple[str, Any], str] = {}  # (field, value) -> its text: most values are a few choice words
    out = []
    for i in range(len(hit)):
        facts = []
        for spec, values in columns:
            if _blank(values[i]):
                continue
            key = (spec.key, cache_key(values[i]))
            if key not in shown:
                text = _one_line(value_text(spec, values[i]))
                shown[key] = f"{spec.label}：{text}" if text else ""
            if shown[key]:
                facts.append(shown[key])
        text = rule.name + ("。" + "；".join(facts) if facts else "")
        out.append(text if len(text) <= FINDING_MAX else text[: FINDING_MAX - 1] + "…")
    return out


def _one_line(text: str) -> str:
    """A table's rows (one line each) numbered on one line, so a list reads them apart.

    >>> _one_line("类别：闲置；描述：甲\\n类别：其他；描述：乙"), _one_line("停用")
    ('（1）类别：闲置；描述：甲（2）类别：其他；描述：乙', '停用')
    """
    lines = text.split("\n")
    return "".join(f"（{i}）{line}" for i, line in enumerate(lines, 1)) if len(lines) > 1 else text


def _opened(store: Store) -> set[tuple[str, str, str]]:
    """(rule, source form, source row) of every item ever opened from a finding, whatever its status — but a
    finding whose items were all cancelled and whose source row changed since the last cancellation is a
    finding again (attack P4: withdrawn to be corrected, cancelled as 来源已撤回, refiled still failing)."""
    frame = store.snapshot(ITEMS.form_id)
    if frame.empty or "rule" not in frame:
        return set()
    keys = list(zip(_texts(frame["rule"]), _texts(frame["source_form"]), _texts(frame["source_row"])))
    cancelled: dict[tuple[str, str, str], Any] = {}
    live: set[tuple[str, str, str]] = set()
    for key, status, at in zip(keys, frame["_status"].tolist(), frame["_updated_at"].tolist()):
        if status == CANCELLED:
            cancelled[key] = max(cancelled.get(key, at), at)
        else:
            live.add(key)
    opened = set(keys)
    for key, at in cancelled.items():
        if key in live or key[0] == MANUAL:
            continue
        try:
            source = store.get(key[1], key[2])
        except (NotFound, KeyError):
            continue
        if source.updated_at > at:
            opened.discard(key)
    return opened


def _next_number(store: Store) -> int:
    frame = store.snapshot(ITEMS.form_id)
    if frame.empty or "item_id" not in frame:
        return 1
    numbers = pd.to_numeric(frame["item_id"].astype(str).str.removeprefix(ID_PREFIX), errors="coerce")
    return int(numbers.max()) + 1 if numbers.notna().any() else 1


def _item_id(number: int) -> str:
    """The id of the ``number``-th item opened.

    >>> _item_id(12)
    'RT-000012'
    """
    return f"{ID_PREFIX}{number:06d}"


def stale_sources(store: Store, catalog: FormCatalog, items: list[Record], today: dt.date,
                  found: pd.DataFrame | None = None) -> dict[str, str]:
    """Record id -> WITHDRAWN or CORRECTED, for each open item of ``items`` opened from a finding whose source
    row is no longer filed (withdrawn, returned, gone), no longer meets its rule (corrected, or the rule
    taken out of campaign.yaml) or now names another city or party (attack P2: its item would go on being
    verified and worked by the wrong ones). Worked out at read from the rows as they are now (``found``: ``findings``
    when the caller has them)."""
    found = findings(catalog, store.snapshot, today=today) if found is None else found
    # a finding as it stands now: the city and party its row names (a corrected provider or city moves it)
    keys = dict(zip(zip(found["rule"].tolist(), found["source_form"].tolist(), found["source_row"].tolist()),
                    zip(found["city"].tolist(), found["party"].tolist())))
    statuses: dict[str, dict[str, str]] = {}
    forms = {f.id for f in catalog.forms()}
    out = {}
    for item in items:
        v = item.values
        if item.status in ENDED or v.get("rule") == MANUAL or not v.get("source_row"):
            continue
        now = keys.get((v.get("rule"), v.get("source_form"), v.get("source_row")))
        if now is not None and (now == (v.get("city"), v.get("party")) or  # as opened: compared as typed first
                                (comparable(now[0]), comparable(now[1])) == (comparable(v.get("city")), comparable(v.get("party")))):
            continue
        if now is not None:  # still a finding, but of another city or party: the item no longer says who
            out[item.id] = CORRECTED
            continue
        form = str(v.get("source_form") or "")
        if form not in statuses:
            frame = store.snapshot(form) if form in forms else pd.DataFrame()
            statuses[form] = dict(zip(_texts(frame["_id"]), _texts(frame["_status"]))) if "_status" in frame else {}
        out[item.id] = CORRECTED if statuses[form].get(str(v.get("source_row"))) in FILED else WITHDRAWN
    return out


def generate(store: Store, catalog: FormCatalog, actor: Actor, today: dt.date, *, accounts: Iterable[Any] | None = None) -> Summary:
    """Open an item (待整改) for every finding not opened before, as one batch; the province only
    (Forbidden, audited, otherwise). Due: the rule's ``due_days`` from ``today``, else the section's
    ``due`` (DuePassed when that is before ``today``: nothing written). Records a 生成整改事项 event.

    ``accounts`` (``Account`` or ``Actor``): each item's acting organisation is found among them
    (``match.acting``), an item none stands for keeps the typed name, ``actor_match`` 无对应账号. Without
    them (a caller that has no accounts file, e.g. a test of the findings) the typed name is kept and
    ``actor_match`` is blank."""
    authorize(store, actor, RECTIFY_GENERATE)
    section = section_of(catalog)
    store.ensure_sheet(ITEMS)
    with store.exclusive(ITEMS_LOCK):
        found = findings(catalog, store.snapshot, today=today)
        opened = _opened(store)
        keys = list(zip(found["rule"].tolist(), found["source_form"].tolist(), found["source_row"].tolist()))
        new = [k not in opened for k in keys]
        rules = {r.key: r for r in section.rules}
        if any(new) and today > section.due and any(rules[k[0]].due_days is None for k, n in zip(keys, new) if n):
            raise DuePassed(f"整改期限 {section.due:%Y-%m-%d}（rectification.due）已早于今天 {today:%Y-%m-%d}：此时生成的整改事项一开始就逾期。"
                            "请先在 campaign.yaml 中设定新的整改期限，再生成。")
        number = _next_number(store)
        before = store.records(ITEMS.form_id)  # the items a source may have gone stale under: a new one cannot
        acting = _matcher(store, catalog, accounts)
        rows: list[dict[str, Any]] = []
        columns = {c: found[c].tolist() for c in FINDING_COLUMNS}  # column lists: DataFrame.to_dict is 10 times slower
        for i in (i for i, is_new in enumerate(new) if is_new):
            values = {c: columns[c][i] for c in FINDING_COLUMNS}
            rule = rules[values["rule"]]
            due = today + dt.timedelta(days=rule.due_days) if rule.due_days is not None else section.due
            values["actor_org"], values["actor_match"] = acting(values)
            rows.append({"item_id": _item_id(number + len(rows)), **values, "due": due})  # no checklist yet: records.py
        if rows:
            store.append_batch([(ITEMS.form_id, row, PENDING) for row in rows], actor=actor)
        created = Counter(r["rule"] for r in rows)
        per_rule = Counter(found["rule"].tolist())
        stale = stale_sources(store, catalog, before, today, found)
        summary = Summary(tuple(r["item_id"] for r in rows), len(keys) - len(rows),
                          tuple(RuleCount(r.key, r.name, per_rule[r.key], created[r.key]) for r in section.rules),
                          unmatched=sum(r["actor_match"] == match.UNMATCHED for r in rows), stale=len(stale))
        store.log_event(actor, GENERATED, form_id=ITEMS.form_id, note=summary.text())
    return summary


def _matcher(store: Store, catalog: FormCatalog, accounts: Iterable[Any] | None) -> Callable[[Mapping[str, Any]], tuple[str, str]]:
    """A finding's values -> (acting organisation, how found); the typed one and "" without ``accounts``."""
    if accounts is None:
        return lambda values: (values["actor_org"], "")
    orgs, vouchers = match.Orgs.of(accounts), match.Vouchers.of(store, catalog)
    return lambda v: match.acting(orgs, vouchers, v["party_kind"], name=v["actor_org"], code=v["party_code"], voucher=v["voucher"])


def _text(values: Mapping[str, Any], key: str, label: str, *, required: bool, limit: int, multiline: bool = False) -> str:
    try:
        text = clean_text(values.get(key) if values.get(key) is not None else "", multiline=multiline)
    except ValueProblem:
        raise ItemRefused(f"「{label}」含有无法保存的字符（控制字符、换行或改变文字方向的字符），或不是文字：请修改。",
                          field=key, code="item_bad_text") from None
    if required and not text:
        raise ItemRefused(f"「{label}」为必填项。", field=key, code="item_required")
    if len(text) > limit:
        raise ItemRefused(f"「{label}」不能超过 {limit} 个字，现有 {len(text)} 个字。", field=key, code="item_too_long")
    return text


def _due(raw: Any, today: dt.date) -> dt.date:
    """A manual item's due date: from today to ``DUE_MAX_DAYS`` later."""
    label = ITEMS_LABELS["due"]
    if isinstance(raw, dt.datetime):
        raw = raw.date()
    if isinstance(raw, str) and raw.strip():
        try:
            raw = dt.date.fromisoformat(raw.strip())
        except ValueError:
            raise ItemRefused(f"「{label}」应为日期，格式 YYYY-MM-DD。", field="due", code="item_bad_due") from None
    if not isinstance(raw, dt.date):
        raise ItemRefused(f"「{label}」为必填项：请选择日期。", field="due", code="item_required")
    if raw < today:
        raise ItemRefused(f"「{label}」{raw:%Y-%m-%d} 早于今天 {today:%Y-%m-%d}：整改期限不能早于整改事项的生成日期。",
                          field="due", code="item_due_past")
    if raw > today + dt.timedelta(days=DUE_MAX_DAYS):
        raise ItemRefused(f"「{label}」{raw:%Y-%m-%d} 晚于今天起 {DUE_MAX_DAYS} 天：请核对年份（整改期限应在一年之内）。",
                          field="due", code="item_due_far")
    return raw


ITEMS_LABELS = {c.key: c.label for c in ITEMS.columns}


def _served(store: Store, catalog: FormCatalog, firm: str, code: str, provider: str) -> bool:
    """Whether a filed projects row names the firm (by credit code where both have one, else by name) and
    ``provider`` as its provider (typed, or the organisation of the account that filed it)."""
    if not catalog.bindings.has("projects"):
        return False
    binding = catalog.bindings.of("projects")
    rows = _filed(meaning_frame(store.snapshot(binding.form), binding, ("firm", "firm_code", "provider")))
    want = comparable(provider)
    for f, c, p, org in zip(*(_texts(rows[k]) if k in rows else [""] * len(rows) for k in ("firm", "firm_code", "provider", "_org"))):
        same_firm = comparable(c) == comparable(code) if c and code else comparable(f) == comparable(firm)
        if same_firm and want in (comparable(p), comparable(org)):
            return True
    return False


def add_item(store: Store, catalog: FormCatalog, actor: Actor, values: Mapping[str, Any], today: dt.date,
             *, accounts: Iterable[Any] | None = None) -> Record:
    """Open an item by hand (rule ``manual``, 待整改); the province only (Forbidden, audited, otherwise).

    ``values``: ``category`` (a key of the section), ``city`` (one of the campaign's), ``party_kind``
    (provider, firm or lead_unit), ``party`` and optionally ``party_code`` (a valid credit code),
    ``actor_org`` (the provider acting for a firm: required then; otherwise the party itself),
    ``voucher``, ``project``, ``finding`` (what was found) and ``due`` (a date from ``today`` to
    ``DUE_MAX_DAYS`` later). A firm's acting provider must have served it (a filed projects row of the
    firm by that provider), else ``actor_reason`` says why the province names it (kept in ``actor_match``).
    Given ``accounts``, the acting organisation is found among them (``match.acting``) and written as the
    account writes it; none found, the item is 无对应账号 (listed for the province). A refused value raises ItemRefused naming its field in
    Chinese; nothing is written."""
    authorize(store, actor, RECTIFY_GENERATE)
    section = section_of(catalog)
    label = ITEMS_LABELS
    category = values.get("category")
    if category not in {c.key for c in section.categories}:
        known = "、".join(c.name for c in section.categories)
        raise ItemRefused(f"「{label['category']}」应为本次活动的整改类别之一：{known}。", field="category", code="item_unknown_category")
    city = values.get("city")
    if city not in catalog.campaign.cities:
        raise ItemRefused(f"「{label['city']}」「{quotable(city) or '（未填）'}」不是本次检查的地市。",
                          field="city", code="item_unknown_city")
    kind = values.get("party_kind")
    if kind not in PARTIES:
        raise ItemRefused(f"「{label['party_kind']}」应为{'、'.join(PARTY_WORDS[p] for p in PARTIES)}之一。",
                          field="party_kind", code="item_unknown_party_kind")
    party = _text(values, "party", label["party"], required=True, limit=NAME_MAX)
    code = _text(values, "party_code", label["party_code"], required=False, limit=NAME_MAX)
    if code and not is_credit_code(code):
        raise ItemRefused(f"「{label['party_code']}」不是有效的统一社会信用代码（18 位，校验位须相符）。",
                          field="party_code", code="item_bad_credit_code")
    actor_org = _text(values, "actor_org", label["actor_org"], required=kind == "firm", limit=NAME_MAX) if kind == "firm" else party
    how = ""
    if accounts is not None:
        actor_org, how = match.acting(match.Orgs.of(accounts), match.Vouchers({}, {}), kind, name=actor_org, code=code)
    if kind == "firm" and not _served(store, catalog, party, code, actor_org):
        why = _text(values, "actor_reason", "指定理由", required=False, limit=FINDING_MAX)
        if not why:
            raise ItemRefused(f"「{label['actor_org']}」{quotable(actor_org)} 没有为企业 {quotable(party)} 报送过项目：请核对，"
                              "或在「指定理由」中说明为何由它办理。", field="actor_org", code="item_not_served")
        how = f"{match.BY_PROVINCE}：{why}"
    row = {
        "rule": MANUAL, "source_kind": "", "source_form": "", "source_row": "", "category": category, "city": city,
        "party_kind": kind, "party": party, "party_code": code, "actor_org": actor_org, "actor_match": how,
        "voucher": _text(values, "voucher", label["voucher"], required=False, limit=NAME_MAX),
        "project": _text(values, "project", label["project"], required=False, limit=NAME_MAX),
        "finding": _text(values, "finding", label["finding"], required=True, limit=FINDING_MAX, multiline=True),
        "due": _due(values.get("due"), today),
    }  # no checklist, evidence, reason or violation yet (lib.rectification.records)
    store.ensure_sheet(ITEMS)
    with store.exclusive(ITEMS_LOCK):
        [record] = store.append_batch([(ITEMS.form_id, {"item_id": _item_id(_next_number(store)), **row}, PENDING)], actor=actor)
    return record
