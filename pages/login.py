"""登录: sign in with an account and password, or through single sign-on (setting auth_mode)."""

import streamlit as st

from lib.core.roles import ADMIN
from lib.ui import auth, context, nav
from lib.ui.contacts import contacts_box

nav.ensure_router()
st.title("登录")
campaign = context.catalog().campaign
st.caption(campaign.title)
auth.sign_in_form()
st.caption(f"忘记密码或账号被锁定，请联系{campaign.roles[ADMIN]}。连续输错 "
           f"{context.settings().lockout_attempts} 次密码，账号将锁定 {context.settings().lockout_minutes} 分钟。")
contacts_box(campaign.contacts, title="联系方式")
