"""What the notice's priority rules say of each project: the facts the random draw weighs.

The notice (一、监督检查范围（一）) puts weight on projects never checked on site, on other projects of
a provider that already has a failed one, on highly subsidised projects and on projects with a
complaint. ``campaign.yaml`` declares which of these rules the campaign uses and what each reads
(``sampling.priority_rules``, ``lib.forms.spec.PriorityRule``); ``facts`` answers them per project,
one boolean column per declared rule, named by the rule's key:

* ``never_checked`` — no filed check of the project has a method among the rule's ``on_site``
  meanings. A project whose only check was a desk review (the ``desk`` method) was never checked on
  site; neither was one no city reported.
* ``provider_failed`` — the project's provider has a failed check (a conclusion among the rule's
  ``fail`` meanings) on ANOTHER of its projects: the notice asks for the provider's other projects.
  A failed check's provider is the provider of the project its voucher names, else the one it states.
* ``high_subsidy`` — the project's subsidy is at least the rule's ``threshold`` (万元).
* ``complaint`` — a filed check of the project records a complaint.

Inputs are meaning frames (``lib.campaign.bound``), so no form's field key or choice word appears
here: ``projects`` one row per in-scope project with ``voucher``, ``provider`` and ``subsidy`` — the
voucher register's in-scope entries (the province's list, with its amounts) or the projects form's
meaning frame; ``checks`` the checks form's meaning frame (``voucher``, ``provider``, ``method``,
``conclusion``, ``complaint``, ``_status``), of which only filed rows count (statuses.FILED: a draft
or a withdrawn check is no check). Vouchers and providers are compared as the register compares them.

>>> from lib.forms.bindings import Bindings, FormBinding
>>> from lib.forms.spec import PriorityRule, Sampling
>>> bindings = Bindings(projects=FormBinding(form="p", filed_by="provider"),
...     benchmarks=FormBinding(form="b", filed_by="lead_unit"),
...     checks=FormBinding(form="c", filed_by="city", choices={"method": {"on_site": "现场", "desk": "书面"}}))
>>> sampling = Sampling(ratio=0.2, priority_rules=[PriorityRule(key="never_checked", name="未实地检查", on_site=["on_site"])])
>>> projects = pd.DataFrame({"voucher": ["V1", "V2", "V3"], "provider": ["甲", "甲", "乙"], "subsidy": [10.0, 40.0, 5.0]})
>>> checks = pd.DataFrame({"voucher": ["V1", "v2 "], "provider": ["甲", "甲"], "method": ["现场", "书面"],
...     "conclusion": [None, None], "_status": ["已提交", "已提交"]})
>>> facts(projects, checks, bindings, sampling).values.tolist()
[['V1', False], ['V2', True], ['V3', True]]
"""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd

from lib.campaign.register.reconcile import normalize_code, normalize_name
from lib.core.errors import AppError
from lib.core.statuses import FILED
from lib.forms.bindings import Bindings, FormBinding
from lib.forms.spec import PriorityRule, Sampling


class PriorityUnbound(AppError):
    """A declared priority rule reads a meaning the campaign's bindings leave unbound (the complaint
    flag of the checks form): its fact cannot be known, and a column of False would hide that."""

    code = "priority_unbound"


def facts(projects: pd.DataFrame, checks: pd.DataFrame, bindings: Bindings, sampling: Sampling) -> pd.DataFrame:
    """Per row of ``projects`` (same index): ``voucher`` as given and, for each rule of ``sampling``
    in its order, a boolean column named by the rule's key (see the module's docstring)."""
    binding = bindings.of("checks")
    filed = checks[checks["_status"].isin(FILED)]
    project = _Keys(normalize_code(projects["voucher"]), normalize_name(projects["provider"]))
    checked = _Keys(normalize_code(filed["voucher"]), normalize_name(filed["provider"]))
    out = pd.DataFrame({"voucher": projects["voucher"]}, index=projects.index)
    for rule in sampling.priority_rules:
        if rule.key == "never_checked":
            visited = checked.voucher[filed["method"].isin(_words(binding, "method", rule.on_site))]
            out[rule.key] = ~_among(project.voucher, visited)
        elif rule.key == "provider_failed":
            out[rule.key] = _provider_failed(project, checked, filed["conclusion"].isin(_words(binding, "conclusion", rule.fail)))
        elif rule.key == "high_subsidy":
            out[rule.key] = pd.to_numeric(projects["subsidy"], errors="coerce") >= rule.threshold  # no amount: not high
        elif rule.key == "complaint":
            out[rule.key] = _among(project.voucher, checked.voucher[_complained(filed, binding, rule)])
    return out


class _Keys(NamedTuple):
    """Vouchers and providers of a frame's rows, as compared."""

    voucher: pd.Series
    provider: pd.Series


def _words(binding: FormBinding, meaning: str, choices: tuple[str, ...]) -> list[str]:
    return [binding.word(meaning, choice) for choice in choices]


def _among(vouchers: pd.Series, pool: pd.Series) -> pd.Series:
    """Whether each voucher is in ``pool`` (a blank voucher never is)."""
    return vouchers.isin(set(pool) - {""}) & (vouchers != "")


def _provider_failed(project: _Keys, checked: _Keys, failed: pd.Series) -> pd.Series:
    """Whether each project's provider has a failed check on one of its other projects."""
    owners = pd.Series(project.provider.to_numpy(), index=project.voucher.to_numpy())
    owners = owners[~owners.index.duplicated() & (owners.index != "")]
    bad = pd.DataFrame({"provider": checked.provider[failed], "voucher": checked.voucher[failed]})
    bad["provider"] = bad["voucher"].map(owners).fillna(bad["provider"])
    bad = bad[bad["provider"] != ""].drop_duplicates()
    per_provider = bad.groupby("provider")["voucher"].nunique()  # each provider's failed projects
    own = pd.MultiIndex.from_arrays([project.provider, project.voucher]).isin(pd.MultiIndex.from_frame(bad))
    others = project.provider.map(per_provider).fillna(0).to_numpy() - own
    return pd.Series(others > 0, index=project.voucher.index)


def _complained(filed: pd.DataFrame, binding: FormBinding, rule: PriorityRule) -> pd.Series:
    if binding.key("complaint") is None:
        raise PriorityUnbound(f"抽查优先规则「{rule.name}」要读取检查记录的投诉举报字段，但活动配置的 bindings.checks.fields "
                              "没有绑定 complaint：请绑定该字段，或删除这条规则。")
    return filed["complaint"].eq(True)
