"""The audit page's table, built once per change of the trail and shared by every session that reads it.

Building it turns every entry into a line (its 变更内容 text included): 1.4 s of CPU at 20,000 rows and 6.9 s
at 100,000 on every run of the page (issue 17). The trail only grows, so its length
(``Store.audit_count``) says when to build again; the access rule is still asked on every run.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lib import audit
from lib.core.records import Actor
from lib.forms import FormSpec
from lib.store.base import Store


def trail(store: Store, actor: Actor, forms: list[FormSpec]) -> tuple[pd.DataFrame, audit.Labels]:
    """The whole trail as ``audit.audit_frame`` gives it, and the labels it was read with. Raises Forbidden
    (audited) for an account that may not read it, as ``audit.entries`` does."""
    audit.authorize_trail(store, actor)
    labels = audit.Labels.of(forms)
    versions = tuple((f.id, f.version, f.short_title) for f in forms)
    return _frame(store, id(store), store.audit_count(), versions, labels), labels


@st.cache_resource(max_entries=2, show_spinner=False)
def _frame(_store: Store, store_id: int, count: int, versions: tuple, _labels: audit.Labels) -> pd.DataFrame:
    """Keyed by the store's identity, the trail's length and the forms' versions (the arguments with a
    leading underscore are not part of the key). A caller filters a copy: the frame itself is never changed."""
    del store_id, count, versions  # the key
    return audit.audit_frame(_store.audit(), _labels)
