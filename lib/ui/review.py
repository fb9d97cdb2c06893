"""The review page's actions, run as button callbacks so they may clear the selection and the reason."""

from __future__ import annotations

import streamlit as st

from lib import review
from lib.forms import FormSpec
from lib.store.base import Actor, Store, StoreError
from lib.ui import state

PICKED = "review:picked"  # row ids chosen in the multiselect
ALL = "review:all"  # "select every waiting row" checkbox
REASON = "review:reason"
REVS = "review:revs"  # {row id: revision shown} of the rows on screen, set by the page


def _picks() -> dict[str, int]:
    revs = st.session_state.get(REVS, {})
    ids = list(revs) if st.session_state.get(ALL) else st.session_state.get(PICKED, [])
    return {i: revs[i] for i in ids if i in revs}


def act(store: Store, form: FormSpec, actor: Actor, approve: bool) -> None:
    """Approve, or return with the reason typed, every row picked; the outcome goes to FLASH."""
    try:
        if approve:
            outcome = review.approve(store, form, actor, _picks())
        else:
            outcome = review.return_for_changes(store, form, actor, _picks(), st.session_state.get(REASON, ""))
    except (review.ReviewError, StoreError) as exc:
        st.session_state[state.FLASH] = ("error", str(exc))
        return
    kind = "success" if outcome.done and not outcome.skipped else "warning"
    st.session_state[state.FLASH] = (kind, outcome.summary("通过" if approve else "退回"))
    st.session_state[PICKED] = []
    st.session_state[ALL] = False
    if outcome.done and not approve:
        st.session_state[REASON] = ""
