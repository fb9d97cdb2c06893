"""The lists the office works from (全面整改, issue 14 outcome 4): 问题清单 (one row per item), 任务清单 (one row
per step of each open item), 责任清单 (per responsible party: its items by status and how many are overdue),
the overdue items and the items waiting for the viewer's action — each a DataFrame with Chinese headers.

Every list is built from the items the viewer may see (``scope.visible_items``: the province all, a city
its city's, an organisation its own), narrowed by city, status and category (``Narrowing``); category
and step names come from the campaign's ``rectification:`` section, 逾期 from the campaign clock
(``records.overdue``). An item's history is its row's audit trail, shown to whoever may see the item.

>>> Narrowing(city="甲").keeps({"city": "甲", "category": "c"}, "待整改"), Narrowing(status="已销号").keeps({"city": "甲"}, "待整改")
(True, False)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from lib.audit import CREATED
from lib.core.records import Actor, Record
from lib.core.values import change_text, wall_time
from lib.forms.loader import FormCatalog
from lib.forms.rectification import Rectification
from lib.store.base import Store
from lib.store.state import STATUS_LABEL

from .generate import PARTY_WORDS
from .lifecycle import ACTION_NAMES, actions_for
from .records import ALL_STATUSES, ENDED, ITEMS, OVERDUE, overdue
from .scope import visible_items

#: The items' column titles (the sheet's), so a list and the workbook name a column alike.
TITLE = {c.key: c.label for c in ITEMS.columns}
ITEM_ID, CATEGORY, CITY, PARTY, FINDING, DUE = (TITLE[k] for k in ("item_id", "category", "city", "party", "finding", "due"))
PARTY_KIND = TITLE["party_kind"]
PROJECT = "项目/服务券"
STATUS = "状态"
LATE = OVERDUE
STEP = "整改步骤"
EVIDENCE = "所需材料"
DONE = "已完成"
TOTAL = "合计"
ACTIONS = "待办理"
#: What each kind of step evidence is called (lib.forms.rectification.EVIDENCE).
EVIDENCE_NAMES = {"text": "文字说明", "file": "上传文件", "none": "勾选确认"}
YES, NO = "是", "否"

PROBLEM_COLUMNS = [ITEM_ID, CATEGORY, CITY, PARTY, PROJECT, FINDING, STATUS, LATE, DUE]
TASK_COLUMNS = [ITEM_ID, CATEGORY, CITY, PARTY, STEP, EVIDENCE, DONE, STATUS, DUE]
PARTY_COLUMNS = [CITY, PARTY_KIND, PARTY, *ALL_STATUSES, LATE, TOTAL]
WAITING_COLUMNS = [*PROBLEM_COLUMNS, ACTIONS]
#: How an export writes the columns that are not text.
KINDS = {DUE: "date"}


@dataclass(frozen=True)
class Narrowing:
    """What the viewer narrowed the lists to; an empty part keeps every item."""

    city: str = ""
    status: str = ""
    category: str = ""

    def keeps(self, values: Mapping[str, Any], status: str) -> bool:
        return ((not self.city or values.get("city") == self.city) and (not self.status or status == self.status)
                and (not self.category or values.get("category") == self.category))


def project_text(values: Mapping[str, Any]) -> str:
    """The project and its voucher as one text: ``项目（券号）``, either alone when the other is blank.

    >>> project_text({"project": "云上", "voucher": "V1"}), project_text({"voucher": "V1"}), project_text({})
    ('云上（V1）', 'V1', '')
    """
    project, voucher = values.get("project") or "", values.get("voucher") or ""
    return f"{project}（{voucher}）" if project and voucher else project or voucher


def _late(item: Record, today: dt.date) -> bool:
    return overdue(item.status, item.values.get("due"), today)


class _Rows:
    """Builds the rows of one list: the category names looked up once, not once per item."""

    def __init__(self, section: Rectification, today: dt.date):
        self.categories = {c.key: c for c in section.categories}
        self.today = today

    def category_name(self, key: str) -> str:
        found = self.categories.get(key)
        return found.name if found else key  # a category since taken out of campaign.yaml is named by its key

    def problem(self, item: Record) -> dict[str, Any]:
        v = item.values
        return {ITEM_ID: v.get("item_id"), CATEGORY: self.category_name(v.get("category", "")), CITY: v.get("city"),
                PARTY: v.get("party"), PROJECT: project_text(v), FINDING: v.get("finding"), STATUS: item.status,
                LATE: LATE if _late(item, self.today) else "", DUE: v.get("due")}

    def steps(self, item: Record) -> list[tuple[str, str, str]]:
        """(key, name, evidence needed) of each step of the item's category, in its order; for a category
        since taken out of campaign.yaml, the steps the item stores, by their keys."""
        category = self.categories.get(item.values.get("category", ""))
        if category is None:
            return [(s.get("step"), s.get("step"), "") for s in item.values.get("steps") or () if isinstance(s, dict)]
        return [(s.key, s.name, EVIDENCE_NAMES[s.evidence]) for s in category.steps]


def narrow(items: Iterable[Record], narrowing: Narrowing) -> list[Record]:
    """The items ``narrowing`` keeps, in their order."""
    return [i for i in items if narrowing.keeps(i.values, i.status)]


def items_for(store: Store, actor: Actor, narrowing: Narrowing = Narrowing()) -> list[Record]:
    """The items ``actor`` may see (``scope.visible_items``; Forbidden, audited, for a role that sees
    none), those ``narrowing`` keeps: what every list of the viewer is built from."""
    return narrow(visible_items(store, actor), narrowing)


def problem_list(items: Iterable[Record], section: Rectification, today: dt.date) -> pd.DataFrame:
    """问题清单: one row per item."""
    rows = _Rows(section, today)
    return pd.DataFrame([rows.problem(i) for i in items], columns=PROBLEM_COLUMNS)


def overdue_list(items: Iterable[Record], section: Rectification, today: dt.date) -> pd.DataFrame:
    """逾期事项: the items past their due date and not closed, on ``today``."""
    return problem_list([i for i in items if _late(i, today)], section, today)


def task_list(items: Iterable[Record], section: Rectification) -> pd.DataFrame:
    """任务清单: one row per step of each open item (not closed nor cancelled), the steps in their category's order."""
    build = _Rows(section, dt.date.min)
    rows = []
    for item in items:
        if item.status in ENDED:
            continue
        v = item.values
        done = {s.get("step"): bool(s.get("done")) for s in v.get("steps") or () if isinstance(s, dict)}
        base = (v.get("item_id"), build.category_name(v.get("category", "")), v.get("city"), v.get("party"))
        rows += [(*base, name, evidence, YES if done.get(key) else NO, item.status, v.get("due")) for key, name, evidence in build.steps(item)]
    return pd.DataFrame(rows, columns=TASK_COLUMNS)


def responsibility_list(items: Iterable[Record], today: dt.date) -> pd.DataFrame:
    """责任清单: per supervising city and responsible party, its items by status, how many are overdue, in all.

    >>> from lib.core.records import Record
    >>> day = dt.datetime(2020, 10, 1)
    >>> def item(status, party, due):
    ...     return Record("rectification_items", party + status, 1, status, 1, "p", "", "", day, day, "p",
    ...                   {"city": "甲", "party_kind": "provider", "party": party, "due": due})
    >>> table = responsibility_list([item("待整改", "A", dt.date(2020, 10, 5)), item("已销号", "A", dt.date(2020, 10, 5)),
    ...                              item("整改中", "B", None)], dt.date(2020, 10, 9))
    >>> table[["责任主体", "待整改", "已销号", "逾期", "合计"]].values.tolist()
    [['A', 1, 1, 1, 2], ['B', 0, 0, 0, 1]]
    """
    counts: dict[tuple, dict[str, int]] = {}
    for item in items:
        v = item.values
        key = (v.get("city") or "", PARTY_WORDS.get(v.get("party_kind", ""), v.get("party_kind") or ""), v.get("party") or "")
        row = counts.setdefault(key, dict.fromkeys([*ALL_STATUSES, LATE, TOTAL], 0))
        row[item.status] = row.get(item.status, 0) + 1
        row[LATE] += _late(item, today)
        row[TOTAL] += 1
    rows = [dict(zip((CITY, PARTY_KIND, PARTY), key, strict=True)) | row for key, row in sorted(counts.items())]
    return pd.DataFrame(rows, columns=PARTY_COLUMNS).astype({c: int for c in PARTY_COLUMNS[3:]})


def waiting_list(items: Iterable[Record], section: Rectification, actor: Actor, today: dt.date) -> pd.DataFrame:
    """待我办理: the items on which ``actor`` has something to do today (``lifecycle.actions_for``), with what."""
    build = _Rows(section, today)
    rows = []
    for item in items:
        actions = actions_for(actor, item, today, section)  # the section: a city's step does not hold up 提交
        if actions:
            rows.append(build.problem(item) | {ACTIONS: "、".join(ACTION_NAMES[a] for a in actions)})
    return pd.DataFrame(rows, columns=WAITING_COLUMNS)


#: The lists by key, with their names (the page's choice, the export's file names).
LISTS = {"problems": "问题清单", "tasks": "任务清单", "parties": "责任清单", "overdue": "逾期事项", "waiting": "待我办理"}
#: The columns each list's table narrows by on the page, beyond the city, status and category every list
#: is narrowed by (``Narrowing``).
FILTERS = {"problems": [LATE], "tasks": [STEP, DONE], "parties": [PARTY_KIND], "overdue": [], "waiting": [ACTIONS]}


def office_list(name: str, items: list[Record], catalog: FormCatalog, actor: Actor, today: dt.date) -> pd.DataFrame:
    """The list ``name`` (a key of ``LISTS``) of ``items`` (``items_for``) as ``actor`` reads it on ``today``.
    One list at a time: a page shows the one its viewer opened, not five built for nothing. The campaign
    must declare ``rectification:`` (the page says so where it does not)."""
    section = catalog.campaign.rectification
    if name == "problems":
        return problem_list(items, section, today)
    if name == "tasks":
        return task_list(items, section)
    if name == "parties":
        return responsibility_list(items, today)
    if name == "overdue":
        return overdue_list(items, section, today)
    if name == "waiting":
        return waiting_list(items, section, actor, today)
    raise KeyError(name)


HISTORY_COLUMNS = ["时间", "账号", "操作", "变更内容", "备注"]


def history(store: Store, item: Record) -> pd.DataFrame:
    """Every change of ``item``, oldest first, as its audit trail recorded it (who, when, what changed):
    the responsible party sees each transition of its item. The caller shows only an item the viewer may see."""
    label = (TITLE | {"_status": STATUS_LABEL}).get
    rows = [{"时间": wall_time(e.at), "账号": e.account, "操作": e.action,
             "变更内容": change_text(e.changes, label, created=e.action == CREATED), "备注": e.note}
            for e in store.audit(ITEMS.form_id, item.id)]
    return pd.DataFrame(rows, columns=HISTORY_COLUMNS)
