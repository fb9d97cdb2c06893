"""Router only: page config, the sign-in gate, and the pages the signed-in role may open; and, as the
composition root, what fills an empty store on first start (the demo campaign and its accounts)."""

import streamlit as st

from lib.demo.accounts import seed_demo_accounts
from lib.demo.campaign import seed_demo
from lib.ui import auth, browser, context, errors, fill, health, locale, nav, warm_up

FIRST_START = context.FirstStart(
    rows=lambda open_with_clock, catalog, rows: seed_demo(open_with_clock, catalog, rows=rows),
    # the demo inspectors' health declarations are dated on the campaign clock the inspector draw judges them on
    accounts=lambda accounts, store, catalog: seed_demo_accounts(accounts, store, catalog, today=context.settings().campaign_today,
                                                                 rounds=context.settings().demo_password_rounds),
)

st.set_page_config(page_title="广东省上云上平台监督检查", page_icon="📋", layout="wide")
nav.keep_input_on_page_change()  # a value typed just before a sidebar click is not dropped on a busy server
locale.apply()  # the page language zh-CN and Streamlit's own words in Chinese
if errors.guarded(context.settings)() is None:
    st.stop()  # a setting that cannot be used: its message, naming it and where it was set, is on the page once
context.warm_up_with(warm_up.warm_up)  # once the store opens: the board's and the audit page's tables
errors.guarded(context.first_start)(FIRST_START)  # demo data and accounts, before anyone can sign in

PAGES = {  # key = url path
    "home": ("pages/home.py", "首页", "🏠"),
    "fill": ("pages/fill.py", "在线填报", "📝"),
    "my_submissions": ("pages/my_submissions.py", "我的填报", "🗂️"),
    "review": ("pages/review.py", "审核", "✅"),
    "board": ("pages/board.py", "进度看板", "📊"),
    "archive": ("pages/archive.py", "报告汇总", "🗃️"),
    "register": ("pages/register.py", "台账导入与核对", "🧾"),
    "sampling": ("pages/sampling.py", "随机抽查", "🎲"),
    "rectification": ("pages/rectification.py", "全面整改", "🛠️"),
    "designer": ("pages/designer.py", "表单设计", "🧩"),
    "audit": ("pages/audit.py", "审计日志", "🔎"),
    "admin": ("pages/admin.py", "账号管理", "👥"),
}

account = errors.guarded(auth.current_account)()  # None, with the reason shown, when it cannot be told
if account is None:
    # The sign-in page answers at every page's address too (no "page not found"), so after signing
    # in the same address opens that page if the role may see it; otherwise the home page opens.
    pages = [st.Page("pages/login.py", title="登录", icon="🔐", url_path="login", default=True)]
    pages += [st.Page("pages/login.py", title="登录", url_path=key) for key in PAGES if key != "home"]
    navigation = nav.navigation(pages, position="hidden")
else:
    pages = [st.Page(PAGES[key][0], title=PAGES[key][1], icon=PAGES[key][2], url_path=key, default=key == "home")
             for key in auth.pages_for(account)]
    navigation = nav.navigation(pages)
if account is not None:
    auth.account_box(account)
    browser.close_sidebar_on_phones()
    store = health.open_store()
    if store is None:
        st.stop()  # the reason is on the page; the sidebar (pages, account, 退出登录) still works
    health.store_problems(account, store)
    browser.warn_before_leaving(fill.unsaved_anywhere(context.catalog().forms()))
errors.run_page(navigation)
