"""The fill page's companion for the on-site inspection record (the form bound as ``inspections``): the group's projects still to inspect, its members, and the provider's declaration beside the inspector's findings.

Drawn above the form, for an inspector within its assignment, and for no other form:

* a picker of the projects sampled in the group's cities that have no inspection record yet (voucher,
  firm, provider, city, as the draw recorded them); choosing one fills the voucher, city, firm and
  provider fields that are still empty (``lib.campaign.inspection.fills``);
* the members field, while never touched, holds the names of the group's members (the inspector draw
  in force), still editable;
* what the provider declared in the projects form for the voucher typed — its filed row, never a
  draft (``inspection.declaration``) — read through the policy, and a warning naming both words when
  the usage found differs in meaning from the usage declared.
"""

from __future__ import annotations

import streamlit as st

from lib.auth.policy import Assignments, reach
from lib.auth.scope import visible_records
from lib.campaign import inspection
from lib.core.records import Actor
from lib.core.statuses import DRAFT, WITHDRAWN
from lib.forms import FormCatalog, FormDefinitionError, FormSpec
from lib.forms.display import value_text
from lib.sampling.record import active_draws, draw_rows
from lib.store.base import Store
from lib.ui import errors, state, widgets
from lib.ui.record_view import plain_text


def _pick_key(form: FormSpec) -> str:
    return state.fill_button_key(form.id, "inspection_pick")


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _fill_empty(form: FormSpec, values: dict[str, str], cities: tuple[str, ...]) -> None:
    """Put ``values`` (field key -> value) into the fields still empty, as their widgets hold them."""
    for key, value in values.items():
        widget = state.field_key(form.id, key)
        if _blank(st.session_state.get(widget)):
            held, why = widgets.fit(form.field(key), value, cities)
            if not why:
                st.session_state[widget] = held


def _picked(form: FormSpec, options: dict[str, inspection.Candidate], binding, cities: tuple[str, ...]) -> None:
    chosen = options.get(st.session_state.get(_pick_key(form)) or "")
    if chosen is not None:
        _fill_empty(form, inspection.fills(chosen, binding), cities)


def _prefill_members(form: FormSpec, key: str | None, names: tuple[str, ...]) -> None:
    """The group's names into the members field while it was never touched (None: a new or reloaded
    blank row; a field the inspector cleared holds "" and stays so). A new form stays "unsaved-free"."""
    widget = state.field_key(form.id, key) if key else ""
    if not widget or not names or st.session_state.get(widget) is not None:
        return
    clean = not widgets.has_unsaved_input(form)
    st.session_state[widget] = "、".join(names)
    if clean:
        widgets.mark_saved(form)


def _drawn(store: Store) -> list[dict]:
    """The projects of the draw in force as the sampling recorded them (the draw the assignment serves)."""
    draws = active_draws(store)
    return draw_rows(store, str(draws[-1].values.get("draw_id"))) if draws else []


def panel(store: Store, catalog: FormCatalog, form: FormSpec, actor: Actor, assignments: Assignments | None,
          cities: tuple[str, ...]) -> None:
    """Draw the companion of ``form`` when it is the campaign's inspections form and ``actor`` an
    inspector with an assignment (see the module); nothing otherwise."""
    try:
        bindings = catalog.bindings
    except FormDefinitionError:  # the bindings do not fit the forms: no companion, the form itself still serves
        return
    r = reach(actor, assignments)
    if bindings.kind_of(form.id) != "inspections" or r.how != "cities" or assignments is None:
        return
    binding = bindings.of("inspections")
    _prefill_members(form, binding.key("members"), assignments.members_of(actor.account))
    filed = visible_records(store, actor, form, assignments=assignments)
    options = {c.voucher: c for c in inspection.candidates(_drawn(store), {c: r.sampled_in(c) for c in r.cities}, filed, binding)}
    where = "、".join(r.cities)
    if st.session_state.get(_pick_key(form)) not in options:  # inspected since it was picked (or never picked)
        st.session_state.pop(_pick_key(form), None)
    if options:
        st.selectbox(f"本组待检查的抽中项目（{where}，共 {len(options)} 个）", ["", *options],
                     format_func=lambda v: options[v].caption if v else "选择项目，自动填写服务券编号、地市、企业和服务商",
                     key=_pick_key(form), on_change=errors.guarded(_picked), args=(form, options, binding, cities))
    else:
        st.caption(f"本组在{where}抽中的项目都已有检查记录。")
    voucher = st.session_state.get(state.field_key(form.id, binding.key("voucher")))
    if _blank(voucher):  # the policy refuses a row of no sampled project, a draft too: say so before the click
        st.caption(f"请先选择本组抽中的项目（或填写「{form.field(binding.key('voucher')).label}」），再保存草稿或提交。")
    else:
        _declaration(store, catalog, actor, assignments, form, voucher)


def _declaration(store: Store, catalog: FormCatalog, actor: Actor, assignments: Assignments, form: FormSpec, voucher) -> None:
    """What the provider declared for ``voucher`` (the rows the inspector may read), the usage compared."""
    declared_binding, binding = catalog.bindings.of("projects"), catalog.bindings.of("inspections")
    projects = catalog.form(declared_binding.form)
    found = inspection.declaration(visible_records(store, actor, projects, assignments=assignments), declared_binding, voucher)
    label = projects.field(declared_binding.key("voucher")).label
    with st.container(border=True):
        st.markdown(f"**服务商申报情况（{projects.short_title}）**")
        if found is None:
            st.info(f"{projects.short_title}中没有{label} {plain_text(str(voucher))} 的正式申报"
                    f"（服务商未报送或{WITHDRAWN}，{DRAFT}不算；本组只能查看本组抽中项目的申报）。")
            return
        facts = {projects.field(declared_binding.key(m)).label: value_text(projects.field(declared_binding.key(m)), v)
                 for m, v in found.facts.items()}
        st.caption(f"记录 {found.row_id}（{found.status}）")
        for name, text in facts.items():
            st.markdown(f"- {name}：{plain_text(text) if text else '（未填）'}")
    seen = st.session_state.get(state.field_key(form.id, binding.key("usage")))
    differs = inspection.usage_mismatch(found.usage, seen, declared_binding, binding)
    if differs is not None:
        usage = form.field(binding.key("usage")).label
        st.warning(f"「{usage}」与申报不一致：检查组看到的是「{plain_text(differs[1])}」，"
                   f"服务商在{projects.short_title}中申报的是「{plain_text(differs[0])}」。")
