"""待办: what waits for a signed-in account across the whole campaign, each with its due date and where to open it.

One list for every role, from five sources, each read through the access rule (``lib.auth``):

* the forms the account fills (``can(CREATE)``) that have a deadline: due while, in its scope, register
  entries are not filed yet (``unfiled``: the board's 未报, which the caller passes) or, for a form the
  board does not count, while the account has filed no row of it; its drafts not submitted, one entry each;
* its rows returned for correction (退回修改), one entry each, with the reviewer's reason;
* the rows waiting for its review (``lib.review.queue``), one entry per form with their count;
* an inspector's assigned inspections: the projects of its group's cities in the draw in force that no
  inspection record names yet (``lib.campaign.inspection.candidates``);
* the rectification items it may act on, verify or close now (``lib.rectification``): one entry each
  while few wait for the same action(s) and are equally late; beyond ``ITEMS_EACH`` such items are one
  entry with their count and the earliest due date, opening the rectification page's 待我办理 list
  (``view``) — a province or city with 2,000 items to close or verify gets a few entries, not 2,000.

Each entry names the page to open (``page``: the app's page key, as ``app.py`` routes them) and the
query that opens the row or item there (``?form=&row=`` as the fill page reads it; ``?item=`` on the
rectification page), or the list it shows there (``view``). Ordered overdue first, then by due date
(none last). Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from lib import review
from lib.auth.policy import CREATE, RECTIFY_GENERATE, RECTIFY_READ, REVIEW, Assignments, can, reach
from lib.auth.scope import editable_records, visible_records
from lib.campaign import inspection
from lib.core.records import Actor, Record
from lib.core.statuses import DRAFT, FILED, RETURNED
from lib.forms import FormDefinitionError, FormSpec
from lib.forms.bindings import Bindings
from lib.forms.loader import FormCatalog
from lib.listing import summary
from lib.rectification import lifecycle
from lib.rectification.admin import unmatched
from lib.rectification.records import overdue
from lib.rectification.scope import visible_items
from lib.sampling.record import active_draws, draw_rows
from lib.store.base import Store

# The kinds of entry, as the list names them.
FORM, DRAFTED, RETURNED_ROW, TO_REVIEW, TO_INSPECT, ITEM = "待填报", "草稿未提交", RETURNED, "待审核", "待检查", "整改事项"
KINDS = (FORM, DRAFTED, RETURNED_ROW, TO_REVIEW, TO_INSPECT, ITEM)
#: The query key of the rectification page that opens one item (its record id).
ITEM_QUERY = "item"
#: Items waiting for the same action(s), equally late, beyond this many are one entry (``_items``).
ITEMS_EACH = 3
#: The rectification page's list a grouped entry opens: 待我办理 (a key of ``lib.rectification.lists.LISTS``).
WAITING = "waiting"


@dataclass(frozen=True)
class Entry:
    """One thing waiting: its kind (``KINDS``), what it is, more about it, its due date (None: none),
    whether it is overdue on the day the list was made, the page and query that open it, and the list
    the page is to show (``view``: ``WAITING`` for several items in one entry; "" for none)."""

    kind: str
    what: str
    detail: str
    due: dt.date | None
    overdue: bool
    page: str
    query: tuple[tuple[str, str], ...] = ()
    view: str = ""

    @property
    def order(self) -> tuple:
        """Overdue first, then by due date, then those with none.

        >>> a = Entry(FORM, "a", "", dt.date(2020, 9, 18), False, "fill")
        >>> b = Entry(ITEM, "b", "", dt.date(2020, 10, 31), True, "rectification")
        >>> c = Entry(TO_REVIEW, "c", "", None, False, "review")
        >>> [e.what for e in sorted([c, a, b], key=lambda e: e.order)]
        ['b', 'a', 'c']
        """
        return (not self.overdue, self.due is None, self.due or dt.date.max)


def _late(due: dt.date | None, today: dt.date) -> bool:
    return due is not None and today > due


def _day(value) -> dt.date | None:
    """A stored date as a day (a store may hand back a datetime); None for a blank."""
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def _deadline(catalog: FormCatalog, form: FormSpec) -> dt.date | None:
    return catalog.campaign.deadlines.get(form.deadline) if form.deadline else None


def _line(form: FormSpec, record: Record) -> str:
    """The row as its lists name it: its summary texts that are filled, then its id."""
    return "｜".join([*(t for t in summary(form, record).values() if t), record.id])


def _bindings(catalog: FormCatalog) -> Bindings | None:
    """The campaign's bindings; None while they do not fit the forms served (the home page lists why,
    under campaign.yaml): the to-do list goes on without what only they tell (the inspections)."""
    try:
        return catalog.bindings
    except FormDefinitionError:
        return None


def _forms(store: Store, catalog: FormCatalog, actor: Actor, today: dt.date, assignments: Assignments | None,
           unfiled: Mapping[str, int] | None) -> list[Entry]:
    bindings = _bindings(catalog)
    inspections = bindings.of("inspections").form if bindings is not None and bindings.has("inspections") else None
    out = []
    for form in catalog.forms():
        if not can(actor, CREATE, form, assignments=assignments):
            continue
        due = _deadline(catalog, form)
        mine = editable_records(store, actor, form, assignments=assignments)
        at = (("form", form.id),)
        counted = unfiled is not None and form.id in unfiled
        if due is not None and form.id != inspections:  # an inspector's inspections are listed per project
            if counted and unfiled[form.id] > 0:
                out.append(Entry(FORM, f"填报「{form.title}」", f"尚有 {unfiled[form.id]:,} 项未报送", due, _late(due, today), "fill", at))
            elif not counted and not any(r.status in FILED for r in mine):
                out.append(Entry(FORM, f"填报「{form.title}」", "尚未报送", due, _late(due, today), "fill", at))
        for r in mine:
            if r.status == DRAFT:
                out.append(Entry(DRAFTED, f"提交「{form.title}」草稿", _line(form, r), due, _late(due, today), "fill", (*at, ("row", r.id))))
        returned = [r for r in mine if r.status == RETURNED]
        reasons = review.open_return_reasons(store, form, returned)
        for r in returned:
            reason = reasons.get(r.id, "")
            detail = _line(form, r) + (f"　退回原因：{reason}" if reason else "")
            out.append(Entry(RETURNED_ROW, f"修改后重新提交「{form.title}」", detail, due, _late(due, today), "fill", (*at, ("row", r.id))))
    return out


def _reviews(store: Store, catalog: FormCatalog, actor: Actor) -> list[Entry]:
    out = []
    for form in catalog.forms():
        if can(actor, REVIEW, form):
            waiting = review.queue(store, actor, form)
            if waiting:
                out.append(Entry(TO_REVIEW, f"审核「{form.title}」", f"{len(waiting):,} 条待审核", None, False, "review",
                                 (("form", form.id),)))
    return out


def _inspections(store: Store, catalog: FormCatalog, actor: Actor, today: dt.date, assignments: Assignments | None) -> list[Entry]:
    """The projects the actor's group still has to inspect (none without an assignment that reaches it)."""
    bindings = _bindings(catalog)
    if assignments is None or bindings is None or not bindings.has("inspections"):
        return []
    r = reach(actor, assignments)
    if r.how != "cities":
        return []
    binding = bindings.of("inspections")
    form = catalog.form(binding.form)
    draws = active_draws(store)
    drawn = draw_rows(store, str(draws[-1].values.get("draw_id"))) if draws else []
    filed = visible_records(store, actor, form, assignments=assignments)
    due = _deadline(catalog, form)
    return [Entry(TO_INSPECT, f"现场检查：{c.firm or c.voucher}", c.caption, due, _late(due, today), "fill", (("form", form.id),))
            for c in inspection.candidates(drawn, {city: r.sampled_in(city) for city in r.cities}, filed, binding)]


def _items(store: Store, catalog: FormCatalog, actor: Actor, today: dt.date) -> list[Entry]:
    """The rectification items waiting for the actor's action (what ``lifecycle.actions_for`` offers it),
    one entry each, or one per action(s) and lateness beyond ``ITEMS_EACH`` items (see the module)."""
    section = catalog.campaign.rectification
    if section is None or not can(actor, RECTIFY_READ):
        return []
    names = {c.key: c.name for c in section.categories}
    groups: dict[tuple[str, bool], list[tuple[Record, dt.date | None]]] = {}
    for item in visible_items(store, actor):
        actions = lifecycle.actions_for(actor, item, today, section)
        if actions:
            due = _day(item.values.get("due"))
            groups.setdefault(("、".join(lifecycle.ACTION_NAMES[a] for a in actions), overdue(item.status, due, today)), []).append((item, due))
    out = []
    for (doing, late), waiting in groups.items():
        if len(waiting) > ITEMS_EACH:
            out.append(_several(doing, late, waiting, names))
            continue
        for item, due in waiting:
            v = item.values
            detail = "｜".join(str(t) for t in (v.get("party"), v.get("project") or v.get("voucher"), item.status, v.get("item_id")) if t)
            out.append(Entry(ITEM, f"{doing}：{names.get(v.get('category'), v.get('category') or '')}", detail, due, late,
                             "rectification", ((ITEM_QUERY, item.id),)))
    return out


def _several(doing: str, late: bool, waiting: list[tuple[Record, dt.date | None]], names: Mapping[str, str]) -> Entry:
    """One entry for many items waiting for the same action(s), equally late: their count, the earliest
    due date, how many of each category; it opens the 待我办理 list, where each is picked.

    >>> from types import SimpleNamespace
    >>> rec = lambda c: SimpleNamespace(values={"category": c})
    >>> e = _several("销号", True, [(rec("b"), dt.date(2020, 11, 2)), (rec("a"), dt.date(2020, 10, 31)), (rec("a"), None)],
    ...              {"a": "甲类", "b": "乙类"})
    >>> e.what, e.detail, e.due, e.overdue, e.query, e.view
    ('销号：3 项整改事项', '甲类 2 项、乙类 1 项；在「全面整改」的「待我办理」中逐项办理', datetime.date(2020, 10, 31), True, (), 'waiting')
    """
    counts = Counter(str(names.get(item.values.get("category"), item.values.get("category") or "")) for item, _ in waiting)
    kinds = "、".join(f"{name or '未分类'} {n:,} 项" for name, n in counts.most_common())
    earliest = min((due for _, due in waiting if due is not None), default=None)
    return Entry(ITEM, f"{doing}：{len(waiting):,} 项整改事项", f"{kinds}；在「全面整改」的「待我办理」中逐项办理", earliest, late,
                 "rectification", view=WAITING)


def _unanswered(store: Store, catalog: FormCatalog, actor: Actor, accounts) -> list[Entry]:
    """The province's: the open items no account acts on (无对应账号), one entry with their count — nobody else
    will ever see them in a 待办, and only the province can 改派 or 撤销 them."""
    if accounts is None or catalog.campaign.rectification is None or not can(actor, RECTIFY_GENERATE):
        return []
    orphans = unmatched(visible_items(store, actor), accounts)
    if not orphans:
        return []
    return [Entry(ITEM, f"无对应账号的整改事项：{len(orphans):,} 项", "没有账号能办理这些事项：请在「全面整改」中改派给有账号的单位，或撤销",
                  None, False, "rectification")]


def todo(store: Store, catalog: FormCatalog, actor: Actor, today: dt.date, *, assignments: Assignments | None = None,
         unfiled: Mapping[str, int] | None = None, accounts=None) -> list[Entry]:
    """What waits for ``actor`` on ``today`` (the campaign clock), overdue first, then by due date.

    ``assignments``: an inspector's draw in force (``lib.sampling.assignments.assignments_in_force``);
    ``unfiled``: form id -> register entries in the actor's scope not yet filed (the board's 未报), for
    the forms the board counts; a form not in it is due while the actor has filed no row of it;
    ``accounts``: the accounts (``AccountsFile.all()``), to tell the province of items no account acts on."""
    entries = [*_forms(store, catalog, actor, today, assignments, unfiled), *_reviews(store, catalog, actor),
               *_inspections(store, catalog, actor, today, assignments), *_items(store, catalog, actor, today),
               *_unanswered(store, catalog, actor, accounts)]
    return sorted(entries, key=lambda e: e.order)
