"""Scoped reads: the rows of a form an account may see, edit or review; one row, checked.

Pages and lib functions read rows through these, never through ``store.records`` / ``store.get``
directly, so a city's data holds only its city's rows whatever page asks. An inspector's rows are
those of its assignment: the caller passes the ``Assignments`` in force
(``lib.sampling.assignments.assignments_in_force``); without them an inspector is refused.

A read costs what the account reaches, not what the form holds: the store's indexes
(``Store.records_where``) give the rows that may be in reach (``policy.narrowing``: a provider's own,
a city's, an inspector's sampled projects; a reviewer's queue by status), and ``can`` decides each of
those as it would in a scan of every row — the same rows, in the same (creation) order. A page run again
with the rows unchanged (the very Record objects: an update swaps in a new one) reuses the last
judgement instead of asking ``can`` again for each row: a province's queue is most of the form.
"""

from __future__ import annotations

import operator
import threading
from collections import OrderedDict
from collections.abc import Iterable

from lib.core.records import Actor, Record
from lib.forms import FormSpec
from lib.store.base import Store

from .policy import EDIT, READ, REVIEW, Assignments, authorize, can, narrowing


def _rows(store: Store, user: Actor, form: FormSpec, action: str, assignments: Assignments | None,
          statuses: Iterable[str] | None = None) -> list[Record]:
    authorize(store, user, action, form, assignments=assignments)
    where = narrowing(user, form, assignments)
    if where is None and statuses is None:
        rows = store.records(form.id)
    else:
        rows = store.records_where(form.id, where, statuses=statuses)
    return _judged(user, form, action, assignments, statuses, rows)


#: The last judgements, by who asked what: (the form, the assignments, the rows judged, the rows kept).
_JUDGED: OrderedDict[tuple, tuple[FormSpec, Assignments | None, list[Record], list[Record]]] = OrderedDict()
_JUDGED_KEPT = 64
_JUDGED_LOCK = threading.Lock()


def _judged(user: Actor, form: FormSpec, action: str, assignments: Assignments | None,
            statuses: Iterable[str] | None, rows: list[Record]) -> list[Record]:
    """The ``rows`` ``can`` lets ``user`` do ``action`` to: the last answer when the same question was asked
    of the same Record objects (``can`` is pure: same rows, same answer), else judged row by row."""
    key = (user, form.id, action, None if statuses is None else tuple(statuses))
    with _JUDGED_LOCK:
        last = _JUDGED.get(key)
    if (last is not None and last[0] is form and last[1] == assignments and len(last[2]) == len(rows)
            and all(map(operator.is_, last[2], rows))):
        return list(last[3])
    kept = [r for r in rows if can(user, action, form, r, assignments)]
    with _JUDGED_LOCK:
        _JUDGED[key] = (form, assignments, rows, kept)
        _JUDGED.move_to_end(key)
        while len(_JUDGED) > _JUDGED_KEPT:
            _JUDGED.popitem(last=False)
    return list(kept)


def visible_records(store: Store, user: Actor, form: FormSpec, *, assignments: Assignments | None = None) -> list[Record]:
    """Every row of ``form`` the user may see, in creation order. Forbidden when none may be seen."""
    return _rows(store, user, form, READ, assignments)


def editable_records(store: Store, user: Actor, form: FormSpec, *, assignments: Assignments | None = None) -> list[Record]:
    """The rows the user may correct, resubmit or withdraw as their filler."""
    return _rows(store, user, form, EDIT, assignments)


def reviewable_records(store: Store, user: Actor, form: FormSpec, *, statuses: Iterable[str] | None = None) -> list[Record]:
    """The rows the user may approve or return (of ``statuses`` only, when given)."""
    return _rows(store, user, form, REVIEW, None, statuses)


def get_record(store: Store, user: Actor, form: FormSpec, row_id: str, action: str = READ, *,
               assignments: Assignments | None = None) -> Record:
    """One row, if the user may do ``action`` to it; Forbidden (audited) otherwise; NotFound if none."""
    record = store.get(form.id, row_id)
    authorize(store, user, action, form, record, assignments=assignments)
    return record
