"""What the campaign's priority rules say of each project: the facts the random draw weighs.

The notice (一、监督检查范围（一）) puts weight on projects never checked on site, on other projects of
a provider that already has a failed one, on highly subsidised projects and on projects with a
complaint. ``campaign.yaml`` declares each rule as a condition (``sampling.priority_rules[].when``, an
expression of ``lib.forms.expressions``) over the variables ``lib.forms.spec.RULE_VARIABLES`` names;
``facts`` works the variables out once per frame and answers every rule per project, one boolean
column per rule, named by the rule's key. The variables:

* ``subsidy``, ``city``, ``provider``, ``firm`` — the project's own (the subsidy rounded to two
  decimals, as the frame writes it; blank when not known).
* ``checked_on_site`` — a filed check of the project has a method among ``sampling.facts.on_site``.
  A project whose only check was a desk review (the ``desk`` method) was not checked on site; neither
  was one no city reported.
* ``provider_failed`` — the project's provider has a failed conclusion (among ``sampling.facts.fail``)
  on ANOTHER of its projects: a filed check, or, when the campaign binds inspections, a filed
  inspection of this campaign. A failed row's provider is the provider of the project its voucher
  names, else the one the check states (an inspection states none).
* ``complaints`` — how many complaints are recorded against the project: the filed rows of the
  complaints form naming its voucher (when the campaign binds one) plus the filed checks of it that
  record a complaint (when the checks bind that flag).
* ``subsidy_top_share`` — the share of the frame's projects whose subsidy is at least the project's:
  k / N, k counting the project itself and every project tied with it, N every project of the frame
  (those with no known amount too, which never count towards k). The top 10% is ``<= 0.1``; a project
  with no known amount has none (blank).

A rule is met when its ``when`` gives 是; blank (an amount not known) is not met; anything else than
是/否/blank is refused naming the rule (RuleFailed). Each rule is evaluated once per distinct tuple of the
variables it names, not once per project.

Inputs are meaning frames (``lib.campaign.bound``), so no form's field key or choice word appears
here: ``projects`` one row per in-scope project with ``voucher``, ``city``, ``provider``, ``firm`` and
``subsidy``; ``forms`` the meaning frame of each other bound form a variable reads (``checks``;
``inspections`` and ``complaints`` when bound), of which only filed rows count (statuses.FILED: a draft
or a withdrawn row is no record). Vouchers and providers are compared as the register compares them.

>>> from lib.forms.bindings import Bindings, FormBinding
>>> from lib.forms.spec import PriorityFacts, PriorityRule, Sampling
>>> bindings = Bindings(projects=FormBinding(form="p", filed_by="provider"),
...     benchmarks=FormBinding(form="b", filed_by="lead_unit"),
...     checks=FormBinding(form="c", filed_by="city", choices={"method": {"on_site": "现场", "desk": "书面"}}))
>>> sampling = Sampling(ratio=0.2, facts=PriorityFacts(on_site=["on_site"]), priority_rules=[
...     PriorityRule(key="never_checked", name="未实地检查", when="not checked_on_site"),
...     PriorityRule(key="top", name="金额居前", when="subsidy_top_share <= 0.34")])
>>> projects = pd.DataFrame({"voucher": ["V1", "V2", "V3"], "provider": ["甲", "甲", "乙"], "subsidy": [10.0, 40.0, None]})
>>> checks = pd.DataFrame({"voucher": ["V1", "v2 "], "provider": ["甲", "甲"], "method": ["现场", "书面"],
...     "conclusion": [None, None], "_status": ["已提交", "已提交"]})
>>> facts(projects, {"checks": checks}, bindings, sampling).values.tolist()
[['V1', False, False], ['V2', True, True], ['V3', True, False]]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd

from lib.campaign.register.reconcile import normalize_code, normalize_name
from lib.core.errors import AppError
from lib.core.statuses import FILED
from lib.forms.bindings import Bindings, FormBinding
from lib.forms.expressions import ConditionFailed, holds_for_rows
from lib.forms.spec import FRAME_COLUMNS, PriorityRule, Sampling


class PriorityUnbound(AppError):
    """A declared priority rule reads a variable none of whose forms or fields the campaign's bindings
    bind (complaints with neither a complaints form nor the checks' complaint flag): its fact cannot be
    known, and a column of zeros would hide that. The loader refuses such a campaign first."""

    code = "priority_unbound"


class RuleFailed(AppError):
    """A rule's ``when`` could not be worked out for a project, or gave something other than 是/否."""

    code = "priority_rule_failed"


def facts(projects: pd.DataFrame, forms: Mapping[str, pd.DataFrame], bindings: Bindings, sampling: Sampling) -> pd.DataFrame:
    """Per row of ``projects`` (same index): ``voucher`` as given and, for each rule of ``sampling`` in
    its order, a boolean column named by the rule's key (see the module's docstring). ``forms``: kind
    of bound form -> its meaning frame (``checks`` always; ``inspections``, ``complaints`` when bound)."""
    named = {name for rule in sampling.priority_rules for name in rule.expression.names}
    table = variables(projects, forms, bindings, sampling, named)
    out = pd.DataFrame({"voucher": projects["voucher"]}, index=projects.index)
    for rule in sampling.priority_rules:
        out[rule.key] = _met(rule, table)
    return out


def variables(projects: pd.DataFrame, forms: Mapping[str, pd.DataFrame], bindings: Bindings, sampling: Sampling,
              names: set[str]) -> pd.DataFrame:
    """The variables ``names`` per row of ``projects`` (same index), worked out once for the frame."""
    project = _Keys(normalize_code(projects["voucher"]), normalize_name(projects["provider"]))
    subsidy = pd.to_numeric(projects["subsidy"], errors="coerce").astype(float).round(2)
    out = pd.DataFrame(index=projects.index)
    for name in sorted(names):
        if name == "subsidy":
            out[name] = subsidy
        elif name in FRAME_COLUMNS:
            out[name] = projects[name].where(projects[name].notna() & (projects[name].astype(str) != ""), None)
        elif name == "checked_on_site":
            checks = _filed(forms["checks"])
            on_site = checks["method"].isin(_words(bindings.of("checks"), "method", sampling.facts.on_site))
            out[name] = _among(project.voucher, normalize_code(checks["voucher"][on_site]))
        elif name == "provider_failed":
            out[name] = _provider_failed(project, _failed(forms, bindings, sampling))
        elif name == "complaints":
            out[name] = _complaints(project.voucher, forms, bindings)
        elif name == "subsidy_top_share":
            out[name] = _top_share(subsidy)
    return out


def _top_share(subsidy: pd.Series) -> pd.Series:
    """k / N per project: k the projects with a known amount at least its own (ties included), N all;
    blank for an unknown amount.

    >>> _top_share(pd.Series([50.0, 50.0, 40.0, None])).tolist()
    [0.5, 0.5, 0.75, nan]
    """
    amounts = subsidy.to_numpy(dtype=float)
    known = np.sort(amounts[~np.isnan(amounts)])
    at_least = len(known) - np.searchsorted(known, amounts, side="left")
    return pd.Series(np.where(np.isnan(amounts), np.nan, at_least / max(len(amounts), 1)), index=subsidy.index)


def _met(rule: PriorityRule, table: pd.DataFrame) -> pd.Series:
    """Whether each row meets ``rule``: its ``when`` evaluated once per distinct tuple of the variables it names."""
    expr = rule.expression
    names = sorted(expr.names)
    used = table[names]
    if names:
        group = used.groupby(names, dropna=False, sort=False).ngroup().to_numpy()
        _, first = np.unique(group, return_index=True)  # first row of each group, in group order
    else:
        group, first = np.zeros(len(used), dtype=int), np.zeros(min(len(used), 1), dtype=int)
    columns = [[None if v is None or v != v else v for v in used[name].to_numpy()[first].tolist()] for name in names]
    try:  # the groups' first rows are the distinct tuples: the grouping is pandas', the evaluation the engine's
        results = np.array(holds_for_rows(expr, names, list(zip(*columns)) if names else [()] * len(first)), dtype=bool)
    except ConditionFailed as err:
        raise RuleFailed(f"优先规则「{rule.name}」（{rule.key}）的 when {err}。") from None
    return pd.Series(results[group] if len(group) else np.zeros(0, dtype=bool), index=table.index)


class _Keys(NamedTuple):
    """Vouchers and providers of a frame's rows, as compared."""

    voucher: pd.Series
    provider: pd.Series


def _filed(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[rows["_status"].isin(FILED)] if "_status" in rows else rows.iloc[0:0]


def _words(binding: FormBinding, meaning: str, choices: tuple[str, ...]) -> list[str]:
    return [binding.word(meaning, choice) for choice in choices]


def _among(vouchers: pd.Series, pool: pd.Series) -> pd.Series:
    """Whether each voucher is in ``pool`` (a blank voucher never is)."""
    return vouchers.isin(set(pool) - {""}) & (vouchers != "")


def _failed(forms: Mapping[str, pd.DataFrame], bindings: Bindings, sampling: Sampling) -> pd.DataFrame:
    """(voucher, provider stated) of every filed failed conclusion: checks, and inspections when bound."""
    found = []
    for kind in ("checks", "inspections"):
        if not bindings.has(kind):
            continue
        rows = _filed(forms[kind])
        failed = rows[rows["conclusion"].isin(_words(bindings.of(kind), "conclusion", sampling.facts.fail))]
        stated = failed["provider"] if "provider" in failed else pd.Series("", index=failed.index)
        found.append(pd.DataFrame({"voucher": normalize_code(failed["voucher"]), "provider": normalize_name(stated)}))
    return pd.concat(found, ignore_index=True)


def _provider_failed(project: _Keys, failed: pd.DataFrame) -> pd.Series:
    """Whether each project's provider has a failed conclusion on one of its other projects."""
    owners = pd.Series(project.provider.to_numpy(), index=project.voucher.to_numpy())
    owners = owners[~owners.index.duplicated() & (owners.index != "")]
    bad = failed.assign(provider=failed["voucher"].map(owners).fillna(failed["provider"]))
    bad = bad[bad["provider"] != ""].drop_duplicates()
    per_provider = bad.groupby("provider")["voucher"].nunique()  # each provider's failed projects
    # whether the project's own failure is among its provider's (a unit separator joins the pair: it is in no name)
    own = (project.provider + "\x1f" + project.voucher).isin(set(bad["provider"] + "\x1f" + bad["voucher"])).to_numpy()
    others = project.provider.map(per_provider).fillna(0).to_numpy() - own
    return pd.Series(others > 0, index=project.voucher.index)


def _complaints(vouchers: pd.Series, forms: Mapping[str, pd.DataFrame], bindings: Bindings) -> pd.Series:
    """How many complaints are recorded against each voucher (see the module's docstring)."""
    counted = []
    if bindings.has("complaints"):
        counted.append(normalize_code(_filed(forms["complaints"])["voucher"]))
    if bindings.of("checks").key("complaint") is not None:
        checks = _filed(forms["checks"])
        counted.append(normalize_code(checks["voucher"][checks["complaint"].eq(True)]))
    if not counted:
        raise PriorityUnbound("抽查优先规则用到投诉举报件数（complaints），但活动配置既没有绑定投诉举报登记表（bindings.complaints），"
                              "也没有绑定检查记录的投诉举报字段（bindings.checks.fields.complaint）：请绑定其一，或删除用到它的规则。")
    per_voucher = pd.concat(counted, ignore_index=True).value_counts()
    per_voucher = per_voucher[per_voucher.index != ""]
    return vouchers.map(per_voucher).fillna(0).astype(int)
