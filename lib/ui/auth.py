"""Sign-in for the app: who is signed in (from this session, or from the browser's session cookie
after a refresh), signing in and out, the sidebar account box, and the cookie itself.

The session token (lib.auth.sessions) travels in the cookie ``COOKIE``: Streamlit reads cookies of
the first request of a browser session (``st.context.cookies``), so a refreshed or new tab signs in
from it; the cookie is written by a tiny script (``st.html``), which Streamlit cannot do otherwise.
The token is checked on every run, so an expired, revoked or disabled session ends at once; a
fragment that reruns on a timer checks it too (``require_live_session``), since its runs skip app.py.
With ``auth_mode = oidc`` the identity comes from ``st.login`` and is mapped to an account.
"""

from __future__ import annotations

import datetime as dt
import json

import streamlit as st

from lib.auth.accounts import Account
from lib.auth.errors import SessionInvalid, SignInError
from lib.auth.oidc import map_identity
from lib.auth.policy import page_keys
from lib.auth.signin import Lockout, authenticate
from lib.core.roles import CITY
from lib.forms import FormDefinitionError
from lib.ui import context, errors, state

COOKIE = "gd_session"


def _now() -> dt.datetime:
    return dt.datetime.now()


def current_account() -> Account | None:
    """The signed-in account, or None."""
    if context.settings().auth_mode == "oidc":
        return _oidc_account()
    token = st.session_state.get(state.SESSION) or st.context.cookies.get(COOKIE)
    if not token:
        return None
    try:
        account = context.sessions().check(token, now=_now())
    except (SessionInvalid, ValueError, KeyError) as exc:
        if st.session_state.pop(state.SESSION, None):
            st.session_state[state.SIGN_IN_NOTICE] = str(exc) if isinstance(exc, SessionInvalid) else "请重新登录。"
        st.session_state[state.CLEAR_COOKIE] = True
        return None
    st.session_state[state.SESSION] = token
    return account


def _oidc_account() -> Account | None:
    if not st.user.is_logged_in:
        return None
    try:
        account = map_identity(st.user.to_dict(), context.accounts(), claim=context.settings().oidc_claim)
    except SignInError as exc:
        st.session_state[state.SIGN_IN_NOTICE] = str(exc)
        return None
    if not st.session_state.get(state.SSO_LOGGED):
        context.store().log_event(account.actor(), "登录", note="统一身份认证登录")
        st.session_state[state.SSO_LOGGED] = True
    return account


def sign_in() -> None:
    """Callback of the sign-in form: check the account and password, start a session."""
    cfg = context.settings()
    account = st.session_state.get(state.SIGN_IN_ACCOUNT, "")
    password = st.session_state.get(state.SIGN_IN_PASSWORD, "")
    st.session_state[state.SIGN_IN_PASSWORD] = ""  # never kept in the session
    try:
        signed = authenticate(context.accounts(), account, password, now=_now(),
                              lockout=Lockout(cfg.lockout_attempts, cfg.lockout_minutes), store=context.store())
    except SignInError as exc:
        st.session_state[state.SIGN_IN_NOTICE] = str(exc)
        return
    st.session_state[state.SESSION] = context.sessions().issue(signed.account, now=_now(), hours=cfg.session_hours)
    st.session_state.pop(state.SIGN_IN_NOTICE, None)
    st.session_state.pop(state.CLEAR_COOKIE, None)


def sign_out() -> None:
    """Callback of 退出登录: revoke the session, forget everything this session held."""
    token = st.session_state.get(state.SESSION)
    account = current_account()
    try:
        if token:
            context.sessions().revoke(token, now=_now())
    finally:  # a revocation list that cannot be written must not keep the session open on a shared computer
        _forget_session("您已退出登录。")  # and before the audit entry: nor must a store that is down
    if account:
        context.store().log_event(account.actor(), "退出登录")


def _forget_session(notice: str) -> None:
    """Drop everything this browser session held (another person may sign in next) but ``notice``,
    and tell the browser to drop its session cookie."""
    for key in list(st.session_state):
        del st.session_state[key]
    st.session_state[state.CLEAR_COOKIE] = True
    st.session_state[state.SIGN_IN_NOTICE] = notice


def require_live_session() -> None:
    """First call of a fragment that reruns on a timer (the live board): a fragment run does not pass
    through app.py's sign-in gate, so check the session again, as every full run does. When it has
    ended (signed out elsewhere, account disabled, password reset, expired) forget what this session
    held and send the person to the sign-in page with a full rerun: the fragment draws nothing more."""
    had_session = bool(st.session_state.get(state.SESSION)) or (context.settings().auth_mode == "oidc" and st.user.is_logged_in)
    if current_account() is not None:
        return
    _forget_session(st.session_state.get(state.SIGN_IN_NOTICE) or "登录已失效，请重新登录。")
    if had_session:
        st.rerun(scope="app")  # app.py's gate now shows the sign-in page
    st.stop()  # a run without a session to end (e.g. the page opened outside app.py): draw nothing


def _cookie_script(value: str, max_age: int) -> str:
    return ("<script>document.cookie = " + json.dumps(f"{COOKIE}={value}; Max-Age={max_age}; Path=/; SameSite=Strict")
            + " + (location.protocol === 'https:' ? '; Secure' : '');</script>")


def sync_cookie() -> None:
    """Write the session cookie (signed in) or drop it (signed out), when the browser's differs."""
    token = st.session_state.get(state.SESSION)
    if context.settings().auth_mode != "local":
        return
    if token and st.context.cookies.get(COOKIE) != token:
        st.html(_cookie_script(token, int(context.settings().session_hours * 3600)), unsafe_allow_javascript=True)
    elif not token and st.session_state.get(state.CLEAR_COOKIE):
        st.html(_cookie_script("", 0), unsafe_allow_javascript=True)


def pages_for(account: Account) -> list[str]:
    catalog = context.catalog()
    archive = catalog.campaign.office.archive  # its reports' form: who files them sees 报告汇总 too
    try:
        reports = catalog.form(catalog.bindings.of(archive.source).form) if archive is not None else None
    except (FormDefinitionError, KeyError):  # bindings that do not fit: the pages that read them say why
        reports = None
    return page_keys(account.actor(), catalog.forms(), reports, city_drafts=catalog.campaign.designer.city_drafts)


def account_box(account: Account) -> None:
    """Sidebar: who is signed in, and 退出登录."""
    roles = context.catalog().campaign.roles
    with st.sidebar:
        where = f"（{account.city}）" if account.city and account.role == CITY else ""
        st.markdown(f"**{account.name or account.org or account.account}**{where}")
        st.caption(f"{roles.get(account.role, account.role)}　账号：{account.account}")
        if context.settings().auth_mode == "oidc":
            st.button("退出登录", on_click=errors.guarded(st.logout), key=state.SIGN_OUT)
        else:
            st.button("退出登录", on_click=errors.guarded(sign_out), key=state.SIGN_OUT)
        sync_cookie()


def sign_in_form() -> None:
    """The sign-in page's body (local accounts or single sign-on)."""
    notice = st.session_state.get(state.SIGN_IN_NOTICE)
    cfg = context.settings()
    if cfg.auth_mode == "oidc":
        if notice:
            st.error(notice)
        if st.user.is_logged_in:
            st.button("退出统一身份认证", on_click=errors.guarded(st.logout))
        else:
            st.button("使用统一身份认证登录", type="primary", on_click=errors.guarded(st.login), args=(cfg.oidc_provider or None,) if cfg.oidc_provider else ())
        return
    if notice:
        (st.info if notice == "您已退出登录。" else st.error)(notice)
    with st.form(state.SIGN_IN_FORM):
        st.text_input("账号", key=state.SIGN_IN_ACCOUNT)
        st.text_input("密码", type="password", key=state.SIGN_IN_PASSWORD)
        st.form_submit_button("登录", type="primary", on_click=errors.guarded(sign_in))
    sync_cookie()
