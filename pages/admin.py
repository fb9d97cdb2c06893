"""账号管理 (admin only): the accounts, create one, disable / re-enable, reset a password, set the
organisation's credit code."""

import datetime as dt

import streamlit as st

from lib.auth import admin
from lib.auth.accounts import Account
from lib.auth.errors import AccountError
from lib.core.errors import AppError
from lib.core.roles import ORG_ROLES
from lib.ui import context, page, state

actor, catalog, store = page.start()
accounts = context.accounts()
roles, cities = catalog.campaign.roles, tuple(catalog.campaign.cities)

st.title("账号管理")
try:
    everyone = admin.list_accounts(store, actor, accounts)
except AppError as exc:  # Forbidden (not an administrator), the store unavailable
    st.error(str(exc))
    st.stop()
list_tab, create_tab, change_tab = st.tabs(["账号列表", "新建账号", "停用 / 启用 / 重置密码 / 信用代码"])
CODE_HELP = f"{'、'.join(roles[r] for r in ORG_ROLES)}填写；表单中的本单位信用代码按此自动填写并锁定"

with create_tab, st.form(state.ADMIN_CREATE, clear_on_submit=True):
    c1, c2, c3 = st.columns(3)
    new_id = c1.text_input("账号")
    role = c2.selectbox("角色", list(roles), format_func=roles.get)
    city = c3.selectbox("所属地市", ["", *cities], format_func=lambda c: c or "（无）")
    org = c1.text_input("单位名称")
    name = c2.text_input("姓名或显示名")
    email = c3.text_input("电子邮箱（统一身份认证按此匹配）")
    org_code = c1.text_input("单位统一社会信用代码", help=CODE_HELP)
    pw1 = c1.text_input("初始密码", type="password", help="至少 8 位，含字母和数字；留空则只能用统一身份认证登录")
    pw2 = c2.text_input("再次输入密码", type="password")
    if st.form_submit_button("创建账号", type="primary"):
        try:
            if pw1 != pw2:
                raise AccountError("两次输入的密码不一致。")
            new = Account(new_id.strip(), role, org=org.strip(), city=city, name=name.strip(), email=email.strip(), org_code=org_code)
            admin.create_account(store, actor, accounts, new, pw1 or None, roles=roles, cities=cities, now=dt.datetime.now())
            st.success(f"已创建账号 {new.account}。")
        except AppError as exc:  # AccountError (refused change), the store unavailable
            st.error(str(exc))

with change_tab:
    ids = [a.account for a in everyone]
    target = st.selectbox("选择账号", ids, key=state.ADMIN_TARGET)
    left, right = st.columns(2)
    try:
        if left.button("停用账号", key=state.ADMIN_DISABLE):
            admin.set_disabled(store, actor, accounts, target, True, now=dt.datetime.now())
            st.success(f"账号 {target} 已停用，其登录会话已全部失效。")
        if right.button("启用账号（并解除锁定）", key=state.ADMIN_ENABLE):
            admin.set_disabled(store, actor, accounts, target, False, now=dt.datetime.now())
            st.success(f"账号 {target} 已启用。")
        with st.form(state.ADMIN_PASSWORD, clear_on_submit=True):
            pw1 = st.text_input("新密码", type="password")
            pw2 = st.text_input("再次输入新密码", type="password")
            if st.form_submit_button("重置密码"):
                if pw1 != pw2:
                    raise AccountError("两次输入的密码不一致。")
                admin.reset_password(store, actor, accounts, target, pw1, now=dt.datetime.now())
                st.success(f"已重置账号 {target} 的密码，并解除锁定；该账号需用新密码重新登录。")
        with st.form(state.ADMIN_ORG_CODE):
            current = next((a.org_code for a in everyone if a.account == target), "")
            code = st.text_input("单位统一社会信用代码（留空则清除）", value=current, help=CODE_HELP)
            if st.form_submit_button("保存信用代码"):
                changed = admin.set_org_code(store, actor, accounts, target, code)
                st.success(f"账号 {target} 的单位统一社会信用代码已设为「{changed.org_code or '（空）'}」。")
    except AppError as exc:  # AccountError (refused change), the store unavailable
        st.error(str(exc))

with list_tab:
    table = admin.account_table(admin.list_accounts(store, actor, accounts), roles, now=dt.datetime.now())
    st.caption(f"共 {len(table)} 个账号（密码只以加盐哈希保存在账号文件中，任何页面都不显示）")
    st.dataframe(table, hide_index=True, width="stretch")
