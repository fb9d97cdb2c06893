"""The audit page's table, shared by every session that reads it and brought up to date by the entries
added since it was last built, never rebuilt whole while the trail only grows.

Building it turns every entry into a line (its 变更内容 text included): 1.4 s of CPU at 20,000 rows and 6.9 s
at 100,000 on every run of the page (issue 17). Its length (``Store.audit_count``) says when entries were
added, and only those are turned into lines (``audit.merged``): a sign-in or a submission anywhere adds
one, so a rebuild per change would still cost seconds on most opens. The access rule is asked on every run.
"""

from __future__ import annotations

import threading
import weakref
from typing import NamedTuple

import pandas as pd
import streamlit as st

from lib import audit
from lib.core.records import Actor
from lib.forms import FormSpec
from lib.store.base import Store


class Trail(NamedTuple):
    """The whole trail as ``audit.audit_frame`` gives it (never changed: a caller filters a copy), the labels
    it was read with, and the actions it holds, sorted (the page's 操作 filter)."""

    frame: pd.DataFrame
    labels: audit.Labels
    actions: tuple[str, ...]


def trail(store: Store, actor: Actor, forms: list[FormSpec]) -> Trail:
    """The trail as it stands now. Raises Forbidden (audited) for an account that may not read it, as
    ``audit.entries`` does."""
    audit.authorize_trail(store, actor)
    labels = audit.Labels.of(forms)
    frame, actions = _built(id(store), _versions(forms), labels).at(store, store.audit_count())
    return Trail(frame, labels, actions)


def warm(store: Store, forms: list[FormSpec]) -> None:
    """Build the table as the page would for ``forms`` (the catalog's), with no access check: what the first
    open after a server start would pay (4.4-4.9 CPU-s at 100,000 rows), done in the background when the
    store opens (``lib.ui.context``). Nothing is shown to anyone here."""
    labels = audit.Labels.of(forms)
    _built(id(store), _versions(forms), labels).at(store, store.audit_count())


def _versions(forms: list[FormSpec]) -> tuple:
    """What the table's labels depend on: each form's id, version and title (``_built``'s key)."""
    return tuple((f.id, f.version, f.short_title) for f in forms)


class _Built:
    """The table of one store's trail read with one set of labels, and how many entries it holds."""

    def __init__(self, labels: audit.Labels) -> None:
        self._labels = labels
        self._store: weakref.ref | None = None  # whose trail it is: an id() may name another store later
        self._lock = threading.Lock()  # two sessions that find it behind build the entries once
        self._count = 0
        self._frame = pd.DataFrame()  # read only after the first build
        self._actions: tuple[str, ...] = ()

    def at(self, store: Store, count: int) -> tuple[pd.DataFrame, tuple[str, ...]]:
        """The table and its actions once the trail holds ``count`` entries: the entries after those already
        in it are turned into lines and merged in (every entry when it was built from another store, or
        never)."""
        with self._lock:
            ours = self._store is not None and self._store() is store
            if ours and count != self._count:
                entries = store.audit_since(self._count)  # the trail only grows: the entries added since
                newer = audit.audit_frame(entries, self._labels)
                self._frame = audit.merged(newer, self._frame)
                self._actions = tuple(sorted({*self._actions, *newer["操作"]}))
                self._count += len(entries)
            elif not ours:
                entries = store.audit()
                self._frame = audit.audit_frame(entries, self._labels)
                self._actions = tuple(sorted(set(self._frame["操作"])))
                self._count, self._store = len(entries), weakref.ref(store)
            return self._frame, self._actions


@st.cache_resource(max_entries=2, show_spinner=False)
def _built(store_id: int, versions: tuple, _labels: audit.Labels) -> _Built:
    """Keyed by the store's identity and the forms' versions and titles (new labels: built again from the
    first entry); ``_labels`` is not part of the key."""
    del store_id, versions  # the key
    return _Built(_labels)
