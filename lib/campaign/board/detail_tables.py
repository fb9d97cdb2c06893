"""The reported rows of each form as the board's detail tables, with Chinese column names.

The rows are meaning frames (``lib.campaign.bound``). A column that shows a bound field's value is
headed with that field's label in the form (``Calendar.label``), so a table reads like the form; the
columns the board groups and filters by (地市, 使用状态, 检查方式, 检查结论, 建设状态) keep the board's
own names, and the filing unit of the projects form and of the benchmark reports is headed with the
name of the role that files it (``Calendar.filer_of``: the campaign's ``roles:``). Choice words stay the campaign's; their order is the binding's.
"""

from __future__ import annotations

import pandas as pd

from lib.campaign.register.reconcile import normalize_name
from lib.campaign.schedule import Calendar

SPENDING_BINS = ((0, 20), (20, 40), (40, 60), (60, 80), (80, 100.0001))
SPENDING_LABELS = ("0–20%", "20–40%", "40–60%", "60–80%", "80–100%")
EXEMPT_BAND = "免填（按月报送）"
NO_RATIO = "未填"
#: A choice the filer left blank (a table cell, a category of a breakdown).
NOT_FILLED = "未填"

#: The columns the board groups and filters by (the detail tables' own names).
CITY, USAGE, METHOD, CONCLUSION, BUILD_STATE = "地市", "使用状态", "检查方式", "检查结论", "建设状态"

#: The meanings of the projects form its detail table reads (only these are taken from the snapshot).
PROJECT_MEANINGS = ("city", "firm", "voucher", "project", "subsidy", "usage", "active_users", "reason")


def usage_words(calendar: Calendar) -> tuple[str, ...]:
    """The projects form's usage words, in the order the campaign declares them."""
    return tuple(calendar.bindings.of("projects").words("usage").values())


def conclusion_words(calendar: Calendar) -> tuple[str, ...]:
    """The checks' conclusion words, then the method word of a project never checked (it has no conclusion)."""
    checks = calendar.bindings.of("checks")
    return (*checks.words("conclusion").values(), checks.word("method", "none"))


def _labelled(calendar: Calendar, kind: str, rep: pd.DataFrame, meanings: tuple[str, ...]) -> dict[str, pd.Series]:
    return {calendar.label(kind, m): rep[m] for m in meanings}


def projects_table(rep: pd.DataFrame, provider: pd.Series, first: pd.Series, calendar: Calendar) -> pd.DataFrame:
    """The counted rows of the projects form (one per filing; ``first``: its voucher's first filing)."""
    return pd.DataFrame(
        {
            "记录编号": rep["_id"], "记录状态": rep["_status"], calendar.filer_of("projects"): provider, CITY: rep["city"].fillna(""),
            **_labelled(calendar, "projects", rep, ("firm", "voucher", "project", "subsidy")),
            USAGE: rep["usage"].fillna(NOT_FILLED),
            **_labelled(calendar, "projects", rep, ("active_users", "reason")),
            "填报账号": rep["_owner"].fillna(""), "填报时间": rep["_filed_at"], "首次报送": first,
        }
    ).reset_index(drop=True)


def checks_table(rep: pd.DataFrame, first: pd.Series, calendar: Calendar) -> pd.DataFrame:
    """The counted checks; a project never checked shows the method's word as its conclusion."""
    none = calendar.bindings.of("checks").word("method", "none")
    conclusion = rep["conclusion"].where(rep["method"] != none, none).fillna(NOT_FILLED)
    return pd.DataFrame(
        {
            "记录编号": rep["_id"], "记录状态": rep["_status"], CITY: rep["city"].where(rep["city"].notna(), rep["_city"]),
            **_labelled(calendar, "checks", rep, ("firm", "provider", "voucher")),
            METHOD: rep["method"], CONCLUSION: conclusion,
            **_labelled(calendar, "checks", rep, ("usage", "satisfaction", "complaint", "problems")),
            "填报账号": rep["_owner"].fillna(""), "填报时间": rep["_filed_at"], "首次报送": first,
        }
    ).reset_index(drop=True)


def spending_bin(ratio: pd.Series, exempt: pd.Series) -> pd.Series:
    """The spending-ratio band of each report; exempt reports and blanks get their own band.

    >>> spending_bin(pd.Series([0.0, 45.5, 100.0, None, None]), pd.Series([False, False, False, True, None])).tolist()
    ['0–20%', '40–60%', '80–100%', '免填（按月报送）', '未填']
    """
    ratio = pd.to_numeric(ratio, errors="coerce")
    edges = [lo for lo, _ in SPENDING_BINS] + [SPENDING_BINS[-1][1]]
    bands = pd.cut(ratio.clip(upper=100), bins=edges, labels=list(SPENDING_LABELS), right=False).astype(object)
    bands = bands.where(ratio.notna(), NO_RATIO)
    return bands.where(~(exempt.fillna(False).astype(bool)), EXEMPT_BAND)


#: The benchmarks table's column flagging a report whose programme is not the register's.
PROGRAMME_CHECK = "与台账不符"


def programme_mismatch(filed: pd.Series, registered: pd.Series, label: str) -> pd.Series:
    """For each report, what the register says of its programme where the report names another one
    (the register decides its exemption, ``units.build_units``), else "".

    >>> programme_mismatch(pd.Series(["乙", "甲", "甲", None]), pd.Series(["甲", "甲", None, "甲"]), "类别").tolist()
    ['类别：台账为「甲」', '', '', '']
    """
    differs = registered.notna().to_numpy(dtype=bool) & filed.notna().to_numpy(dtype=bool) & (filed.astype(object).to_numpy() != registered.astype(object).to_numpy())
    said = label + "：台账为「" + registered.astype(object).fillna("").astype(str) + "」"
    return said.where(differs, "")


def benchmarks_table(rep: pd.DataFrame, calendar: Calendar) -> pd.DataFrame:
    """The counted benchmark reports, with their spending band and, where the report's programme is
    not the register's (``register_programme``, when the caller knows it), what the register says."""
    lead = rep["lead_unit"].where(rep["lead_unit"].notna(), rep["_org"].fillna(""))
    ratio = pd.to_numeric(rep["spending_ratio"], errors="coerce")
    percent = calendar.label("benchmarks", "percent_complete")
    registered = rep["register_programme"] if "register_programme" in rep else pd.Series(None, index=rep.index, dtype=object)
    return pd.DataFrame(
        {
            "记录编号": rep["_id"], "记录状态": rep["_status"], **_labelled(calendar, "benchmarks", rep, ("project",)),
            calendar.filer_of("benchmarks"): normalize_name(lead), CITY: rep["city"].fillna(""),
            **_labelled(calendar, "benchmarks", rep, ("programme",)), BUILD_STATE: rep["status"],
            percent: rep["percent_complete"], calendar.label("benchmarks", "spending_ratio"): ratio.round(1),
            "支出区间": spending_bin(ratio, rep["exempt"]),
            PROGRAMME_CHECK: programme_mismatch(rep["programme"], registered, calendar.label("benchmarks", "programme")),
            "填报账号": rep["_owner"].fillna(""), "填报时间": rep["_filed_at"],
        }
    ).reset_index(drop=True)


def column_kinds(calendar: Calendar) -> dict[str, str]:
    """The kind (field type) of each detail-table column headed with a bound field's label, for the
    exports (``lib.campaign.board.export``): a money field's column is money whatever it is called."""
    shown = {"projects": ("subsidy", "active_users"), "benchmarks": ("percent_complete", "spending_ratio"), "checks": ()}
    return {calendar.label(kind, m): calendar.types[kind][m] for kind, meanings in shown.items() for m in meanings
            if m in calendar.types.get(kind, {})}
