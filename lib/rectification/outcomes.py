"""The outcome lists of the rectification phase (标杆培育企业, 优秀服务商培育对象, benchmark projects to publicise,
the violations list): computed by the rules of ``rectification.outcomes`` in campaign.yaml, shown with the
facts that qualify each entry, confirmed by the province, exported to Excel.

Each list declares what an entry is (``of``) and the condition an entry is listed by (``when``, over the
variables ``lib.forms.rectification.OUTCOME_VARIABLES`` names for that kind). ``universe`` works out every
candidate entry of a kind with its variables, once per kind:

* a firm or a provider: the names (compared as the register compares them) on the FILED rows of the
  list's source form (the inspections, or the checks: not those recorded as not checked), with their
  counts and worst conclusions; a provider's projects are its distinct vouchers, each judged by its
  worst conclusion. A row's provider is the one its voucher's data name (the voucher register in force,
  else the account that filed the voucher's projects row: ``lib.rectification.match.Vouchers``), the
  typed name only for a voucher they do not know: a failure typed with a variant name (乙云科技 for
  乙云科技有限公司) counts for the provider that served the project;
* a benchmark project: each filed row of the benchmarks form, its meanings as filed (a choice with bound
  meanings as its meaning);
* an item: each rectification item, with its violations;
* ``open_items`` and ``violations`` count the items about the entry: those on the firm's vouchers or
  naming it as party, those the provider answers for or acts on, those opened from the benchmark row or
  naming its project and lead unit. A violation on a closed item still counts.

Each list's ``when`` is evaluated once per distinct tuple of the variables it names. The province
confirms a list (``confirm``): it removes an entry the rule listed, or adds one the rule did not, always
with a reason; each confirmation is a row of ``rectification_outcomes`` (the store audits it; who and when
are the record's). The list shown is computed − removed + added, the latest confirmation of an entry
deciding, each entry marked 规则计算 or 人工添加. Only the province reads and confirms the lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from lib.auth.policy import OUTCOMES, authorize
from lib.campaign.bound import meaning_frame
from lib.campaign.register.reconcile import normalize_code, normalize_name
from lib.core.errors import AppError
from lib.core.records import Actor, Record
from lib.core.statuses import FILED
from lib.core.values import LIST_SEPARATOR, is_missing, text
from lib.forms.bindings import NEEDS, FormBinding
from lib.forms.expressions import ConditionFailed, holds_for_rows
from lib.forms.loader import FormCatalog
from lib.forms.rectification import OUTCOME_VARIABLES, Outcome
from lib.office.excel import to_xlsx
from lib.store.base import Column, SheetSpec, Store

from . import match
from .lifecycle import parsed
from .records import ENDED, ITEMS, VIOLATION_PARTS

#: Who confirms the lists: the province, as it decides everything else of the phase (the policy's action).
CONFIRM = OUTCOMES
REMOVED = "移除"
ADDED = "添加"
CONFIRMED = "已确认"  # the status of a confirmation's record
BY_RULE = "规则计算"
BY_HAND = "人工添加"
#: Longest reason a confirmation keeps (a cell people read).
MAX_REASON = 500

CONFIRMATIONS = SheetSpec("rectification_outcomes", "成果清单确认", (
    Column("list", "成果清单"),
    Column("entry", "条目"),
    Column("name", "条目名称"),
    Column("action", "操作"),
    Column("reason", "理由"),
))

#: The column that holds an entry's key in every list's table (a firm's or provider's normalised name,
#: a benchmark row's id, an item's id), and the marks beside it.
ENTRY = "条目"
MARK = "来源"
REASON = "确认理由"
#: The column that names an entry, per kind (its header in every table of the kind).
NAME_COLUMNS = {"firm": "企业名称", "provider": "服务商名称", "benchmark": "项目名称", "item": "整改编号"}


class OutcomeError(AppError):
    """A confirmation refused; nothing was written."""

    code = "outcome"


class OutcomeUnknown(OutcomeError):
    code = "outcome_unknown"


class OutcomeReasonMissing(OutcomeError):
    code = "outcome_reason_missing"


class OutcomeReasonRefused(OutcomeError):
    """A reason with characters no reason may hold (direction overrides, control characters): its code is
    the value's (bidi_text, bad_text)."""

    code = "outcome_reason_refused"


class OutcomeEntryRefused(OutcomeError):
    """Removing an entry the list does not show, or adding one it shows or that is no candidate."""

    code = "outcome_entry_refused"


class OutcomeUnbound(OutcomeError):
    """A list's entries come from a kind of form the campaign does not bind (the loader refuses that first:
    ``lib.forms.rectification.outcome_problems``)."""

    code = "outcome_unbound"


class OutcomeFailed(OutcomeError):
    """A list's ``when`` could not be worked out for an entry, or gave something other than 是/否."""

    code = "outcome_rule_failed"


@dataclass(frozen=True)
class OutcomeList:
    """One list as shown: ``rows`` (one per entry shown: ``ENTRY``, the name, the facts its ``when`` reads,
    ``MARK`` and, for a confirmed entry, ``REASON``) and ``candidates`` (the kind's entries not shown, with
    the same facts: what the province may add)."""

    outcome: Outcome
    rows: pd.DataFrame
    candidates: pd.DataFrame


def ensure_sheet(store: Store) -> None:
    store.ensure_sheet(CONFIRMATIONS)


def _filed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["_status"].isin(FILED)] if "_status" in frame else frame.iloc[0:0]


def _source_rows(store: Store, catalog: FormCatalog, kind: str) -> tuple[pd.DataFrame, FormBinding]:
    binding = catalog.bindings.of(kind)
    return _filed(meaning_frame(store.snapshot(binding.form), binding)), binding


def _meanings(rows: pd.DataFrame, binding: FormBinding, meaning: str) -> pd.Series:
    """The column ``meaning`` as its choice meanings where the binding declares them (else as filed)."""
    words = binding.words(meaning)
    if not words:
        return rows[meaning].astype(object)
    return rows[meaning].map({w: m for m, w in words.items()}).astype(object)


def _worst(values: pd.Series, order: tuple[str, ...]) -> Any:
    """The last of ``order`` among ``values`` (None when none is known)."""
    ranks = [order.index(v) for v in values if v in order]
    return order[max(ranks)] if ranks else None


def _same(values: pd.Series) -> Any:
    """The one value all of ``values`` hold (None when they differ or one is blank)."""
    known = set(values.tolist())
    return known.pop() if len(known) == 1 and None not in known and "" not in known else None


def _violation_text(violation: dict) -> str:
    """One recorded violation as a person reads it: each part with its title (处理方式：追回资金；追回金额（万元）：5.00；…)."""
    return LIST_SEPARATOR.join(f"{part.label}：{text(violation.get(part.key), part.display)}" for part in VIOLATION_PARTS
                               if not is_missing(violation.get(part.key)))


def _items(store: Store) -> pd.DataFrame:
    """Every item with what the lists read of it (names as compared)."""
    store.ensure_sheet(ITEMS)
    rows = []
    for r in store.records(ITEMS.form_id):
        v = r.values
        violations = [x for x in (v.get("violations") or []) if isinstance(x, dict)]
        amounts = [x.get("amount") for x in violations]
        rows.append({"item_id": v.get("item_id") or r.id, "status": r.status, "open": r.status not in ENDED,
                     "violations": len(violations), "amount": round(sum(float(a) for a in amounts if isinstance(a, (int, float))), 2),
                     "violations_text": "\n".join(_violation_text(x) for x in violations),
                     "category": v.get("category"), "rule": v.get("rule"), "party_kind": v.get("party_kind"), "city": v.get("city"),
                     "party_as_filed": v.get("party"), "project_as_filed": v.get("project"),
                     "party": v.get("party"), "actor_org": v.get("actor_org"), "voucher": v.get("voucher"), "project": v.get("project"),
                     "source_kind": v.get("source_kind"), "source_row": v.get("source_row")})
    frame = pd.DataFrame(rows, columns=["item_id", "status", "open", "violations", "amount", "violations_text", "category", "rule",
                                        "party_kind", "city", "party_as_filed", "project_as_filed", "party", "actor_org",
                                        "voucher", "project", "source_kind", "source_row"])
    for col in ("party", "actor_org", "project"):
        frame[col] = normalize_name(frame[col])
    frame["voucher"] = normalize_code(frame["voucher"])
    return frame


def _item_counts(items: pd.DataFrame, about: pd.DataFrame) -> pd.DataFrame:
    """``open_items`` and ``violations`` per entry of ``about`` (pairs: entry key, item id; an item once per entry)."""
    pairs = about.drop_duplicates().merge(items[["item_id", "open", "violations"]], on="item_id")
    counts = pairs.groupby("entry").agg(open_items=("open", "sum"), violations=("violations", "sum"))
    return counts.astype(int)


def _with_item_counts(table: pd.DataFrame, counts: pd.DataFrame) -> pd.DataFrame:
    out = table.join(counts, how="left")
    for col in ("open_items", "violations"):
        out[col] = out[col].fillna(0).astype(int)
    return out


def _parties(rows: pd.DataFrame, binding: FormBinding, kind: str, of: str, items: pd.DataFrame,
             vouchers: match.Vouchers | None = None) -> pd.DataFrame:
    """The firms or providers (``of``) named on the filed ``rows`` of ``kind``, with their variables; a
    provider as ``vouchers`` name the row's voucher's (see the module's docstring)."""
    if kind == "checks" and binding.key("method") is not None:  # a check recorded as 未检查 (method meaning none) inspected nothing
        rows = rows[_meanings(rows, binding, "method") != "none"]
    names = rows[of]
    if of == "provider" and vouchers is not None:
        names = pd.Series([vouchers.provider(v, p) or p for v, p in zip(rows["voucher"].tolist(), names.tolist())],
                          index=rows.index, dtype=object)
    rows = rows.assign(entry=normalize_name(names), _voucher=normalize_code(rows["voucher"]))
    rows = rows[rows["entry"] != ""]
    conclusions = NEEDS[kind]["conclusion"].choices
    rows = rows.assign(_conclusion=_meanings(rows, binding, "conclusion"))
    groups = rows.groupby("entry", sort=True)
    # the name as the boards show it (``normalize_name``), which is also the entry's key
    table = pd.DataFrame({NAME_COLUMNS[of]: groups["entry"].first(), "地市": groups["city"].agg(lambda s: "、".join(sorted(set(s.dropna().astype(str)))))})
    if of == "firm":
        table[NAME_COLUMNS["provider"]] = groups["provider"].agg(lambda s: "、".join(sorted(set(s.dropna().astype(str)))))
        table["inspected"] = groups.size()
        table["conclusion"] = groups["_conclusion"].agg(lambda s: _worst(s, conclusions))
        usage = rows.assign(_usage=_meanings(rows, binding, "usage")).groupby("entry")["_usage"]
        table["usage"] = usage.agg(lambda s: _worst(s, NEEDS[kind]["usage"].choices))
        table["satisfaction"] = groups["satisfaction"].agg(lambda s: _same(s.where(s.notna(), None)))
        about = pd.concat([rows[["entry", "_voucher"]].rename(columns={"_voucher": "voucher"}).merge(items[["voucher", "item_id"]], on="voucher")[["entry", "item_id"]],
                           items[items["party_kind"] == "firm"][["party", "item_id"]].rename(columns={"party": "entry"})])
    else:
        # a provider's project is a voucher (a row without one is a project of its own), judged by its worst conclusion
        project = rows["_voucher"].where(rows["_voucher"] != "", "\x1f" + rows["_id"].astype(str))
        worst = rows.assign(_project=project).groupby(["entry", "_project"])["_conclusion"].agg(lambda s: _worst(s, conclusions))
        per = worst.groupby(level="entry")
        table["inspected"] = per.size()
        for name, meaning in (("passed", "pass"), ("basic", "basic"), ("failed", "fail")):
            table[name] = per.agg(lambda s, m=meaning: int((s == m).sum()))
        about = pd.concat([items[["party", "item_id"]].rename(columns={"party": "entry"}),
                           items[["actor_org", "item_id"]].rename(columns={"actor_org": "entry"})])
    return _with_item_counts(table, _item_counts(items, about[about["entry"] != ""]))


def _benchmarks(rows: pd.DataFrame, binding: FormBinding, items: pd.DataFrame) -> pd.DataFrame:
    """Each filed benchmark row, with its meanings (choices as meanings) and its items' counts."""
    table = pd.DataFrame({NAME_COLUMNS["benchmark"]: rows["project"], "牵头单位": rows["lead_unit"], "地市": rows["city"]})
    table.index = rows["_id"].astype(str).to_numpy()
    for meaning in NEEDS["benchmarks"]:
        table[meaning] = _meanings(rows, binding, meaning).to_numpy()
    keyed = pd.DataFrame({"entry": table.index, "project": normalize_name(rows["project"]).to_numpy(),
                          "party": normalize_name(rows["lead_unit"]).to_numpy()})
    by_row = keyed.merge(items[items["source_kind"] == "benchmarks"][["source_row", "item_id"]], left_on="entry", right_on="source_row")
    by_name = keyed[keyed["project"] != ""].merge(items[["project", "party", "item_id"]], on=["project", "party"])
    about = pd.concat([by_row[["entry", "item_id"]], by_name[["entry", "item_id"]]])
    return _with_item_counts(table, _item_counts(items, about))


def _item_table(items: pd.DataFrame) -> pd.DataFrame:
    table = pd.DataFrame({NAME_COLUMNS["item"]: items["item_id"].astype(str), "责任主体": items["party_as_filed"], "督办地市": items["city"],
                          "项目名称": items["project_as_filed"], "违规处理": items["violations_text"]})
    for name in OUTCOME_VARIABLES["item"]:
        table[name] = items[name]
    table.index = items["item_id"].astype(str).to_numpy()
    return table


def universe(store: Store, catalog: FormCatalog, outcome: Outcome, items: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every candidate entry of ``outcome``'s kind (index: its entry key) with its names and every variable
    of its kind (see the module's docstring). ``items``: ``_items(store)`` when the caller has it."""
    items = _items(store) if items is None else items
    if outcome.of == "item":
        return _item_table(items)
    if not catalog.bindings.has(outcome.form_kind):
        raise OutcomeUnbound(f"成果清单「{outcome.name}」的条目来自 {outcome.form_kind} 表单，但本次活动没有绑定它：请管理员修正 campaign.yaml。")
    rows, binding = _source_rows(store, catalog, outcome.form_kind)
    if outcome.of == "benchmark":
        return _benchmarks(rows, binding, items)
    return _parties(rows, binding, outcome.form_kind, outcome.of, items,
                    match.Vouchers.of(store, catalog) if outcome.of == "provider" else None)


def met(outcome: Outcome, table: pd.DataFrame) -> pd.Series:
    """Whether each entry of ``table`` meets ``outcome``'s ``when``, evaluated once per distinct tuple of
    the variables it names; blank is not met. OutcomeFailed names the list and the values."""
    expr = outcome.expression
    names = sorted(expr.names)
    values = table[names].astype(object).where(table[names].notna(), None) if names else table.iloc[:, :0]
    try:
        out = holds_for_rows(expr, names, values.itertuples(index=False, name=None))
    except ConditionFailed as err:
        raise OutcomeFailed(f"成果清单「{outcome.name}」（{outcome.key}）的 when {err}。") from None
    return pd.Series(out, index=table.index, dtype=bool)


def _confirmations(store: Store) -> list[Record]:
    ensure_sheet(store)
    return store.records(CONFIRMATIONS.form_id)


def _latest(confirmations: list[Record], key: str) -> dict[str, Record]:
    """Entry key -> the latest confirmation of list ``key`` (records come in creation order)."""
    latest: dict[str, Record] = {}
    for r in confirmations:
        if r.values.get("list") == key:
            latest[str(r.values.get("entry"))] = r
    return latest


def _facts(outcome: Outcome, table: pd.DataFrame, catalog: FormCatalog) -> pd.DataFrame:
    """The names and the facts ``outcome``'s ``when`` reads, headed in Chinese; a choice meaning shown as its word."""
    names = [c for c in table.columns if c not in OUTCOME_VARIABLES[outcome.of]]
    out = table[names].copy()
    binding = catalog.bindings.of(outcome.form_kind) if outcome.form_kind else None
    for name in sorted(outcome.expression.names):
        column = table[name]
        if binding is not None and binding.words(name):
            column = column.map(binding.words(name)).where(column.notna(), None)
        title = OUTCOME_VARIABLES[outcome.of][name].title
        if title not in out:  # a name column shows it already (an item's city, a project's name)
            out[title] = column
    return out


def _shown_list(outcome: Outcome, table: pd.DataFrame, listed: pd.Series, confirmations: list[Record],
                catalog: FormCatalog) -> OutcomeList:
    latest = _latest(confirmations, outcome.key)
    facts = _facts(outcome, table, catalog)
    keys = [str(k) for k in table.index]
    removed = {k for k, r in latest.items() if r.values.get("action") == REMOVED}
    added = {k for k, r in latest.items() if r.values.get("action") == ADDED}
    shown = [k for k, is_listed in zip(keys, listed.tolist()) if (is_listed and k not in removed) or k in added]
    rows = facts.loc[[k for k in shown]] if shown else facts.iloc[0:0]
    rows = rows.copy()
    rows.insert(0, ENTRY, shown)
    by_rule = dict(zip(keys, listed.tolist()))
    rows[MARK] = [BY_RULE if by_rule[k] else BY_HAND for k in shown]
    rows[REASON] = [latest[k].values.get("reason", "") if k in latest and not by_rule[k] else "" for k in shown]
    # an entry added by hand whose source row is gone since keeps its name, with no facts
    gone = [k for k in sorted(added - set(keys))]
    if gone:
        extra = pd.DataFrame({ENTRY: gone, NAME_COLUMNS[outcome.of]: [latest[k].values.get("name", k) for k in gone],
                              MARK: BY_HAND, REASON: [latest[k].values.get("reason", "") for k in gone]}, index=gone)
        rows = pd.concat([rows, extra])
    candidates = facts.loc[[k for k in keys if k not in set(shown)]].copy()
    candidates.insert(0, ENTRY, list(candidates.index.astype(str)))
    return OutcomeList(outcome, rows.reset_index(drop=True), candidates.reset_index(drop=True))


def outcome_lists(store: Store, catalog: FormCatalog, actor: Actor) -> list[OutcomeList]:
    """Every outcome list the campaign declares, as shown (computed − removed + added). The province only
    (Forbidden, audited, otherwise); none when the campaign declares no rectification section."""
    authorize(store, actor, CONFIRM)
    section = catalog.campaign.rectification
    if section is None or not section.outcomes:
        return []
    items = _items(store)
    confirmations = _confirmations(store)
    tables: dict[tuple, pd.DataFrame] = {}
    out = []
    for outcome in section.outcomes:
        kind = (outcome.of, outcome.form_kind)
        if kind not in tables:  # each kind of entry worked out once for every list of it
            tables[kind] = universe(store, catalog, outcome, items)
        table = tables[kind]
        out.append(_shown_list(outcome, table, met(outcome, table), confirmations, catalog))
    return out


def confirm(store: Store, catalog: FormCatalog, actor: Actor, key: str, entry: str, action: str, reason: str) -> Record:
    """The province removes (``REMOVED``) an entry list ``key`` shows, or adds (``ADDED``) a candidate it
    does not, with ``reason``: one confirmation record, audited by the store. Refused with a Chinese message,
    nothing written: another role (Forbidden), an unknown list, a blank or overlong reason or one with
    direction-override or control characters (``lifecycle.parsed``, as a step's text), an entry the
    list does not show (remove) or that it shows or is no candidate (add)."""
    authorize(store, actor, CONFIRM)
    section = catalog.campaign.rectification
    outcome = next((o for o in (section.outcomes if section else ()) if o.key == key), None)
    if outcome is None:
        raise OutcomeUnknown(f"没有成果清单「{key}」：活动配置的 rectification.outcomes 中没有声明它。")
    if action not in (REMOVED, ADDED):
        raise OutcomeEntryRefused(f"成果清单只能{REMOVED}或{ADDED}条目，不能「{action}」。")
    reason = parsed("textarea", "reason", f"{action}理由", reason or "", error=OutcomeReasonRefused)  # the phase's one text check
    if not reason:
        raise OutcomeReasonMissing(f"请填写{action}条目的理由：成果清单的每次人工调整都要写明理由。")
    if len(reason) > MAX_REASON:
        raise OutcomeReasonMissing(f"理由不能超过 {MAX_REASON} 个字（现有 {len(reason)} 个字），请精简。", code="outcome_reason_too_long")
    with store.exclusive(CONFIRMATIONS.form_id):
        shown = next(lst for lst in outcome_lists(store, catalog, actor) if lst.outcome.key == key)
        listed = entry in set(shown.rows[ENTRY])
        if action == REMOVED and not listed:
            raise OutcomeEntryRefused(f"「{outcome.name}」中没有条目「{entry}」，无法移除。")
        if action == ADDED:
            if listed:
                raise OutcomeEntryRefused(f"「{outcome.name}」中已有条目「{entry}」，无需添加。")
            if entry not in set(shown.candidates[ENTRY]):
                raise OutcomeEntryRefused(f"「{entry}」不是「{outcome.name}」可添加的条目：只能从{NAME_COLUMNS[outcome.of]}中已有的记录里选择。")
        pool = shown.rows if listed else shown.candidates
        name = pool.loc[pool[ENTRY] == entry, NAME_COLUMNS[outcome.of]].iloc[0]
        values = {"list": key, "entry": entry, "name": "" if name is None or name != name else str(name), "action": action, "reason": reason}
        return store.append(CONFIRMATIONS.form_id, values, actor=actor, status=CONFIRMED)


def export_xlsx(lists: list[OutcomeList]) -> bytes:
    """One sheet per list (named by the list), each entry with its facts, its mark and the reason of a confirmation."""
    return to_xlsx({lst.outcome.name: lst.rows for lst in lists})
