"""The acting account. Until sign-in lands, a sidebar selector (演示身份) picks a role and
organisation taken from the data, and every row still records who acted."""

from __future__ import annotations

from dataclasses import asdict

import streamlit as st

from lib.demo import CITY_INFO
from lib.forms import FormCatalog
from lib.store.base import Actor, Store
from lib.ui import state

#: Roles that fill no form get one fixed demo account each.
FIXED = {
    "province": Actor(account="province", role="province", org="广东省工业和信息化厅工业互联网处"),
    "inspector": Actor(account="inspector", role="inspector", org="省检查组"),
    "admin": Actor(account="admin", role="admin", org="系统管理员"),
}


def demo_actors(store: Store, catalog: FormCatalog) -> dict[str, list[Actor]]:
    """Role -> the accounts that filled that role's forms in the data (plus fixed accounts)."""
    found: dict[str, dict[str, Actor]] = {role: {} for role in catalog.campaign.roles}
    for form in catalog.forms():
        for record in store.records(form.id):
            found.setdefault(form.filled_by, {}).setdefault(
                record.owner, Actor(account=record.owner, role=form.filled_by, org=record.org, city=record.city)
            )
    for city in catalog.campaign.cities:  # every city bureau can act, even before it filed anything
        account = f"city_{CITY_INFO[city].account}" if city in CITY_INFO else f"city_{city}"
        if not any(a.city == city for a in found.get("city", {}).values()):
            found.setdefault("city", {})[account] = Actor(account=account, role="city", org=f"{city}市工业和信息化局", city=city)
    for role, actor in FIXED.items():
        found.setdefault(role, {})[actor.account] = actor
    return {role: sorted(accounts.values(), key=lambda a: (a.city, a.org)) for role, accounts in found.items()}


def current_actor() -> Actor:
    """The actor chosen in this session (the provincial office until someone picks another)."""
    chosen = st.session_state.get(state.ACTOR)
    return Actor(**chosen) if chosen else FIXED["province"]


def identity_selector(store: Store, catalog: FormCatalog) -> Actor:
    """Sidebar selector labelled 演示身份 (one searchable list of every demo account); returns the actor."""
    roles = catalog.campaign.roles
    everyone = {a.account: a for role in roles for a in demo_actors(store, catalog).get(role, [])}
    current = current_actor()
    accounts = list(everyone)
    def describe(account: str) -> str:
        actor = everyone[account]
        where = f"（{actor.city}）" if actor.city else ""
        return f"{roles.get(actor.role, actor.role)}｜{actor.org}{where}"

    with st.sidebar:
        # No widget key: the index follows the session's actor, so the choice survives page switches.
        account = st.selectbox(
            "演示身份",
            accounts,
            index=accounts.index(current.account) if current.account in everyone else 0,
            format_func=describe,
            help="登录功能上线前，用于切换角色和单位",
        )
        st.caption(f"当前账号：{account}")
    actor = everyone[account]
    st.session_state[state.ACTOR] = asdict(actor)
    return actor
