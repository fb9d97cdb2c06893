"""The sampling frame: the in-scope projects a draw is made from, each with its priority facts, and the
SHA-256 fingerprint of its canonical form.

A frame row is one project: ``voucher`` (upper case, no spaces, as the register compares it), ``city``,
``provider``, ``firm``, ``subsidy`` (万元, two decimals; missing when not known) and one boolean
column per declared priority rule, named by the rule's key (``lib.campaign.priority.facts``: whether
the project meets the rule's ``when``). Rows
are sorted by voucher. The campaign declares where the projects come from (``sampling.frame``):
``register`` — the voucher register's in-scope entries in force (``current_register``: its exclusions
and the cities outside the scheme already left out); ``reported`` — the filed rows of the projects
form, one per voucher (the first filed), outside-scheme cities left out.

The canonical form (docs/sampling.md, "指纹") is UTF-8 text: a header line with the column names, then
one line per row in voucher order; fields separated by a tab, lines ended by a line feed; a text as
it is, with ``\\`` ``tab`` ``line feed`` ``carriage return`` written ``\\\\`` ``\\t`` ``\\n`` ``\\r``; a
missing value empty; a subsidy with two decimals (``12.50``); a fact ``1`` or ``0``.

>>> from lib.forms.spec import PriorityRule, Sampling
>>> sampling = Sampling(ratio=0.2, priority_rules=[PriorityRule(key="high_subsidy", name="高额", when="subsidy >= 30")])
>>> rows = pd.DataFrame({"voucher": ["B-2", "A-1"], "city": ["甲市", "甲市"], "provider": ["P", "P"],
...                      "firm": ["F\\tX", "G"], "subsidy": [30.0, None], "high_subsidy": [True, False]})
>>> print(canonical_text(Frame.of(rows, sampling)).replace("\\t", " | "), end="")  # tabs shown as |
voucher | city | provider | firm | subsidy | high_subsidy
A-1 | 甲市 | P | G |  | 0
B-2 | 甲市 | P | F\\tX | 30.00 | 1
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import pandas as pd

from lib.campaign.bound import meaning_frame
from lib.campaign.priority import facts
from lib.campaign.register.reconcile import normalize_code
from lib.core.errors import AppError
from lib.core.statuses import FILED
from lib.forms.bindings import NEEDS, Bindings
from lib.forms.spec import FRAME_COLUMNS, Sampling
from lib.office.excel import to_xlsx

#: The project's columns of a frame, in canonical order; the rules' facts follow, in declared order.
COLUMNS = FRAME_COLUMNS
_TEXTS = ("voucher", "city", "provider", "firm")
#: The largest subsidy a frame takes (万元; 1 万亿元): no project comes near it, so a larger amount, like
#: a negative or an infinite one, is a broken record whose size would break the draw (attack K6).
MAX_SUBSIDY = 10**8
#: The kinds of bound form the priority facts read besides the projects (lib.campaign.priority).
FACT_FORMS = ("checks", "inspections", "complaints")


class FrameError(AppError):
    """A frame that cannot be built; nothing was written."""

    code = "frame_invalid"


class FrameEmpty(FrameError):
    """No project to draw from: the register is not imported, or no project is in scope."""

    code = "frame_empty"


@dataclass(frozen=True)
class Frame:
    """A frame's rows (canonical columns, sorted by voucher, index 0..N-1) and the sampling section it was
    built under (its rules name the fact columns; a draw follows its ratio and weights)."""

    rows: pd.DataFrame
    sampling: Sampling

    @classmethod
    def of(cls, rows: pd.DataFrame, sampling: Sampling) -> Frame:
        """``rows`` in canonical shape: the columns in order, texts as text, subsidy rounded, facts as
        booleans, sorted by voucher. Raises FrameError on a blank or repeated voucher, or a subsidy that
        is negative, not finite or above MAX_SUBSIDY."""
        keys = rule_keys(sampling)
        out = pd.DataFrame(index=rows.index)
        for col in _TEXTS:
            out[col] = pd.Series([_text(v) for v in rows[col].tolist()], index=rows.index, dtype=object)
        amounts = pd.to_numeric(rows["subsidy"], errors="coerce").astype(float)
        absurd = (amounts.notna() & ~amounts.between(0, MAX_SUBSIDY)).to_numpy()  # checked before rounding: 1e308 overflows
        if absurd.any():
            shown = "、".join(out["voucher"][absurd].head(5))
            raise FrameError(f"抽样框有 {int(absurd.sum())} 个项目的奖补金额为负数、无穷大或超过 {MAX_SUBSIDY} 万元（服务券编号 {shown}），"
                             "请核对台账或填报记录。")
        out["subsidy"] = amounts.round(2)
        for key in keys:
            out[key] = rows[key].fillna(False).astype(bool)
        blank = out["voucher"] == ""
        if blank.any():
            raise FrameError(f"抽样框有 {int(blank.sum())} 个项目没有服务券编号，无法抽样。")
        twice = out["voucher"][out["voucher"].duplicated()]
        if len(twice):
            raise FrameError(f"抽样框中服务券编号重复：{'、'.join(sorted(set(twice))[:5])}。")
        vouchers = out["voucher"].tolist()
        out = out.iloc[sorted(range(len(out)), key=vouchers.__getitem__)].reset_index(drop=True)
        return cls(out, sampling)

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 (hex) of :func:`canonical_text`."""
        return hashlib.sha256(canonical_text(self).encode("utf-8")).hexdigest()

    @property
    def campaign_version(self) -> str:
        return campaign_version(self.sampling)


def _text(value) -> str:
    return "" if value is None or value != value else str(value)  # None or NaN: not known


def rule_keys(sampling: Sampling) -> list[str]:
    return [rule.key for rule in sampling.priority_rules]


def campaign_version(sampling: Sampling) -> str:
    """SHA-256 (hex) of the campaign's sampling section as the application reads it (:func:`sampling_json`):
    a change of ratio, frame source, weight or rule changes it."""
    return hashlib.sha256(sampling_json(sampling).encode("utf-8")).hexdigest()


#: What of the sampling section the project draw does not read: the inspectors' group size belongs to
#: the inspector draw (which records its own), so changing it asks for no new freeze.
NOT_OF_THE_DRAW = {"inspector_group_size"}


def sampling_json(sampling: Sampling) -> str:
    """The sampling section the project draw reads as canonical JSON (keys sorted, no spaces), as a
    frame record keeps it: without ``NOT_OF_THE_DRAW``."""
    return json.dumps(sampling.model_dump(mode="json", exclude=NOT_OF_THE_DRAW), ensure_ascii=False, sort_keys=True,
                      separators=(",", ":"))


def _escaped(texts: pd.Series) -> pd.Series:
    return (texts.str.replace("\\", "\\\\", regex=False).str.replace("\t", "\\t", regex=False)
            .str.replace("\n", "\\n", regex=False).str.replace("\r", "\\r", regex=False))


def canonical_text(frame: Frame) -> str:
    """The frame as the text its fingerprint is taken of (see the module's docstring)."""
    rows = frame.rows
    keys = rule_keys(frame.sampling)
    parts = [_escaped(rows[col].astype(object).astype(str)).tolist() for col in _TEXTS]
    parts.append(["" if v != v else f"{v:.2f}" for v in rows["subsidy"].tolist()])
    parts += [["1" if v else "0" for v in rows[key].tolist()] for key in keys]
    lines = ["\t".join(fields) for fields in zip(*parts)]
    return "".join(line + "\n" for line in ["\t".join([*COLUMNS, *keys]), *lines])


def register_projects(register: pd.DataFrame) -> pd.DataFrame:
    """The projects of the voucher register in force (``current_register``: in scope, outside-scheme cities
    already left out): its meaning columns."""
    return register.reindex(columns=COLUMNS)


def reported_projects(snapshot: pd.DataFrame, bindings: Bindings, outside: tuple[str, ...] = ()) -> pd.DataFrame:
    """One row per voucher of the projects form's filed rows (a draft or a withdrawn row is no report):
    the first filed of a voucher reported twice; rows without a voucher and rows of a city outside the
    scheme left out."""
    rows = meaning_frame(snapshot, bindings.of("projects"))
    rows = rows[rows["_status"].isin(FILED)] if "_status" in rows else rows.iloc[0:0]
    rows = rows.assign(voucher=normalize_code(rows["voucher"]))
    rows = rows[(rows["voucher"] != "") & ~rows["city"].isin(outside)]
    if "_created_at" in rows:
        rows = rows.sort_values("_created_at", kind="stable")
    return rows.drop_duplicates("voucher").reindex(columns=COLUMNS).reset_index(drop=True)


def build_frame(projects: pd.DataFrame, snapshot: Callable[[str], pd.DataFrame], bindings: Bindings,
                sampling: Sampling) -> Frame:
    """The frame of ``projects`` (``register_projects`` or ``reported_projects``) with the facts of the
    declared rules, read from ``snapshot(form_id)`` (``Store.snapshot``) of each bound form of
    ``FACT_FORMS``. Raises FrameEmpty when there is no project, RuleFailed when a rule cannot be
    worked out, FrameError for a value no frame holds."""
    if projects.empty:
        raise FrameEmpty("没有可抽查的项目：" + ("尚未导入服务券台账，或台账中没有检查范围内的项目。" if sampling.frame == "register"
                                          else "项目填报表还没有已提交的记录。"))
    forms = {kind: meaning_frame(snapshot(bindings.of(kind).form), bindings.of(kind)) for kind in FACT_FORMS if bindings.has(kind)}
    projects = projects.reset_index(drop=True).assign(voucher=lambda f: normalize_code(f["voucher"]))
    found = facts(projects, forms, bindings, sampling)
    return Frame.of(pd.concat([projects, found.drop(columns="voucher")], axis=1), sampling)


def frame_table(frame: Frame) -> pd.DataFrame:
    """The frame as a person reads it: Chinese headers (the meanings' names, the rules' names)."""
    labels = {m: NEEDS["projects"][m].what for m in COLUMNS} | {r.key: r.name for r in frame.sampling.priority_rules}
    labels["subsidy"] += "（万元）"
    return frame.rows.rename(columns=labels)


def frame_xlsx(frame: Frame, about: dict[str, str] | None = None) -> bytes:
    """The frame for publication: sheet 抽样框 (one row per project) and sheet 说明 (its fingerprint,
    the rules' version, ``about``: who froze it and when, its id ..., and what an auditor needs to
    write the canonical text from the 抽样框 sheet by hand: the header line verbatim, how the rule
    columns and the amounts are written, each rule's condition; docs/sampling.md §2)."""
    header = "\t".join([*COLUMNS, *rule_keys(frame.sampling)])
    facts_about = {"抽样框指纹（SHA-256）": frame.fingerprint, "抽查规则版本（SHA-256）": frame.campaign_version,
                   "项目数": str(len(frame.rows)), **(about or {}),
                   "规范文本第一行（列名，制表符分隔）": header,
                   "规范文本的列（按顺序）": " ".join([*COLUMNS, *rule_keys(frame.sampling)]),
                   "规范文本中的规则列": "是 写作 1，否 写作 0",
                   "规范文本中的奖补金额": "写两位小数（10 写作 10.00），空白写空",
                   "规范文本的行": "按服务券编号（逐字符按 Unicode 码位）排序，字段以制表符分隔，每行以换行符结尾；"
                               "文字中的 \\、制表符、换行、回车分别写作 \\\\、\\t、\\n、\\r",
                   **{f"优先规则 {r.key}": f"{r.name}：{r.when}" for r in frame.sampling.priority_rules}}
    about_table = pd.DataFrame({"项目": list(facts_about), "内容": list(facts_about.values())})
    table = frame_table(frame)
    money = NEEDS["projects"]["subsidy"].what + "（万元）"
    return to_xlsx({"抽样框": table, "说明": about_table}, kinds={"抽样框": {money: "money"}})
