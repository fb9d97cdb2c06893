"""AppTest of sign-in (app.py), 审核, 审计日志 and 账号管理 on a real local store with demo rows."""

from __future__ import annotations

import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

from lib.auth.accounts import Account, AccountsFile
from lib.core.records import Actor
from lib.demo.seed import seed_store
from lib.ui import state

from .conftest import ROOT, sign_in

APP = str(ROOT / "app.py")
PROVINCE = Actor("province", "province", "广东省工业和信息化厅工业互联网处")
ADMIN = Actor("admin", "admin", "系统管理员")
PASSWORD = "Test@2020"


def page(name: str) -> str:
    return str(ROOT / "pages" / f"{name}.py")


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


@pytest.fixture
def seeded(app_env, catalog, reopen):
    store = reopen()
    seed_store(store, catalog, rows=40, seed=9)
    accounts = AccountsFile(app_env / "accounts.json")
    accounts.create(Account("province", "province", org=PROVINCE.org), PASSWORD, now=dt.datetime.now(), rounds=4)
    return store


def sign_in_with(at: AppTest, account: str, password: str) -> AppTest:
    at.text_input(key=state.SIGN_IN_ACCOUNT).input(account)
    at.text_input(key=state.SIGN_IN_PASSWORD).input(password)
    return next(b for b in at.button if b.label == "登录").click().run()


def test_sign_in_shows_the_role_pages_and_sign_out_ends_the_session(seeded, catalog):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception and at.title[0].value == "登录"
    at = sign_in_with(at, "province", "wrong-password1")
    assert "账号或密码错误" in texts(at.error)
    assert at.session_state[state.SIGN_IN_PASSWORD] == ""  # the typed password is not kept
    at = sign_in_with(at, "province", PASSWORD)
    assert not at.exception and not at.error
    token = at.session_state[state.SESSION]
    assert token and PASSWORD not in token

    # the router with that session (AppTest runs a page alone after a page switch, so start anew)
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[state.SESSION] = token
    at.run()
    assert at.title[0].value == catalog.campaign.title
    assert "退出登录" in [b.label for b in at.sidebar.button]
    at = next(b for b in at.sidebar.button if b.label == "退出登录").click().run()
    assert state.SESSION not in at.session_state and at.session_state[state.SIGN_IN_NOTICE] == "您已退出登录。"
    assert "请先登录" in texts(at.warning) or at.title[0].value == "登录"
    again = AppTest.from_file(APP, default_timeout=60)
    again.session_state[state.SESSION] = token  # the old token (e.g. a copied cookie) no longer works
    again.run()
    assert again.title[0].value == "登录"
    actions = [e.action for e in seeded.audit() if e.account == "province"]
    assert actions == ["登录失败", "登录", "退出登录"]


def test_sign_out_forgets_the_session_even_when_the_revocation_list_cannot_be_written(seeded, monkeypatch):
    """退出登录 on a shared computer must end the session whatever happens to the revocation list."""
    from lib.auth import sessions
    from lib.auth.errors import DataFileError

    at = AppTest.from_file(APP, default_timeout=60).run()
    at = sign_in_with(at, "province", PASSWORD)
    token = at.session_state[state.SESSION]
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[state.SESSION] = token
    at.run()

    def refuse(self, token, *, now):
        raise DataFileError("会话撤销清单 sessions_revoked.json 无法写入", code="file_unwritable")

    monkeypatch.setattr(sessions.SessionTokens, "revoke", refuse)
    at = next(b for b in at.sidebar.button if b.label == "退出登录").click().run()
    assert state.SESSION not in at.session_state and at.session_state[state.CLEAR_COOKIE]  # the browser drops it too
    assert not at.exception and at.session_state[state.SIGN_IN_NOTICE] == "您已退出登录。"


def test_five_wrong_passwords_lock_the_account(seeded):
    at = AppTest.from_file(APP, default_timeout=60).run()
    for i in range(5):
        at = sign_in_with(at, "province", f"wrong-{i}-pass")
    assert "锁定" in texts(at.error)
    at = sign_in_with(at, "province", PASSWORD)
    assert "锁定" in texts(at.error) and at.title[0].value == "登录"


def test_review_page_returns_rows_with_a_reason_the_filler_sees(seeded, reopen):
    at = sign_in(AppTest.from_file(page("review"), default_timeout=60), PROVINCE).run()
    assert not at.exception
    waiting = at.dataframe[0].value
    picked = list(waiting["记录编号"][:2])
    at.multiselect(key=state.REVIEW_PICKED).set_value(picked)
    at.text_area(key=state.REVIEW_REASON).input("请补充企业联系人电话。")
    at.run()
    at = next(b for b in at.button if b.label.startswith("退回修改")).click().run()
    assert not at.exception and "已退回 2 条记录" in texts(at.success)
    store = reopen()
    returned = [store.get("att1", rid) for rid in picked]
    assert {r.status for r in returned} == {"退回修改"}

    owner = returned[0]
    filler = Actor(owner.owner, "provider", owner.org, owner.city)
    mine = sign_in(AppTest.from_file(page("my_submissions"), default_timeout=60), filler).run()
    mine.selectbox[1].set_value(owner.id).run()
    assert "请补充企业联系人电话。" in texts(mine.warning)
    assert "请补充企业联系人电话。" in set(mine.dataframe[0].value["退回原因"])


def test_audit_page_for_the_province_and_not_for_a_city(seeded):
    at = sign_in(AppTest.from_file(page("audit"), default_timeout=60), PROVINCE).run()
    assert not at.exception and len(at.dataframe[0].value) == len(seeded.audit())
    row = seeded.records("att1")[0]
    at.selectbox(key=state.AUDIT_FORM).set_value("att1")
    at.text_input(key=state.AUDIT_ROW).input(row.id)
    at.run()
    assert list(at.dataframe[0].value["记录编号"]) == [row.id]
    assert "项目名称" in set(at.dataframe[1].value["字段"])

    city = Actor("city_gz", "city", "广州市工业和信息化局", "广州")
    denied = sign_in(AppTest.from_file(page("audit"), default_timeout=60), city).run()
    assert "无权查看审计日志" in texts(denied.error) and not denied.dataframe
    assert seeded.audit()[-1].action == "拒绝访问"


def test_the_audit_page_sends_a_page_of_rows_and_exports_them_all(seeded, monkeypatch):
    """Issue 17: the whole audit (100,000 entries and more) went to the browser on every run."""
    from lib.ui import locale, state

    monkeypatch.setattr(locale, "PAGE_ROWS", 5)
    at = sign_in(AppTest.from_file(page("audit"), default_timeout=60), PROVINCE).run()
    total = len(seeded.audit())
    assert not at.exception and total > 10 and len(at.dataframe[0].value) == 5
    assert any(f"筛选后 {total:,} 条" in c.value for c in at.caption)
    assert any(f"本页列出第 1–5 条（共 {total:,} 条" in c.value for c in at.caption)
    newest = at.dataframe[0].value
    at.selectbox(key=state.AUDIT_PAGE).set_value(1).run()  # the next five, older
    assert len(at.dataframe[0].value) == 5 and not at.dataframe[0].value.equals(newest)
    assert any(f"本页列出第 6–10 条（共 {total:,} 条" in c.value for c in at.caption)


def test_the_audit_table_is_built_once_per_change_of_the_trail(seeded, catalog, monkeypatch):
    """Issue 17: every run of the page turned the whole trail into lines (6.9 s of CPU at 100,000 rows)."""
    from lib import audit as audit_module

    built = []
    real = audit_module.audit_frame
    monkeypatch.setattr(audit_module, "audit_frame", lambda items, labels: built.append(len(items)) or real(items, labels))
    first = sign_in(AppTest.from_file(page("audit"), default_timeout=60), PROVINCE).run()
    sign_in(AppTest.from_file(page("audit"), default_timeout=60), PROVINCE).run()  # another session, nothing changed
    first.run()
    assert built == [len(seeded.audit())] and not first.exception
    row = seeded.records("att1")[0]
    seeded.update("att1", row.id, base_rev=row.rev, actor=PROVINCE, status="已通过")
    again = sign_in(AppTest.from_file(page("audit"), default_timeout=60), PROVINCE).run()
    assert built[1:] == [1]  # only the entry added since is turned into a line: the trail only grows
    assert again.dataframe[0].value["记录编号"][0] == row.id  # the newest entry first
    whole = real(seeded.audit(), audit_module.Labels.of(catalog.forms()))
    shown = again.dataframe[0].value
    assert len(shown) == len(whole) and shown.astype(str).equals(whole[audit_module.COLUMNS].astype(str))


def test_admin_page_creates_an_account(seeded, app_env):
    at = sign_in(AppTest.from_file(page("admin"), default_timeout=60), ADMIN).run()
    assert not at.exception
    form_inputs = {t.label: t for t in at.text_input}
    form_inputs["账号"].input("city_st")
    at.selectbox[0].set_value("city")
    at.selectbox[1].set_value("汕头")
    form_inputs["单位名称"].input("汕头市工业和信息化局")
    form_inputs["初始密码"].input("Shantou2020")
    form_inputs["再次输入密码"].input("Shantou2020")
    at = next(b for b in at.button if b.label == "创建账号").click().run()
    assert "已创建账号 city_st" in texts(at.success)
    created = AccountsFile(app_env / "accounts.json").get("city_st")
    assert created.city == "汕头" and created.password_hash
    shown = "\n".join(str(d.value.to_dict()) for d in at.dataframe)
    assert created.password_hash not in shown and "Shantou2020" not in shown

    city = Actor("city_gz", "city", "广州市工业和信息化局", "广州")
    denied = sign_in(AppTest.from_file(page("admin"), default_timeout=60), city).run()
    assert "无权管理账号" in texts(denied.error)


def test_admin_page_creates_a_provider_with_its_credit_code_and_changes_it(seeded, app_env):
    at = sign_in(AppTest.from_file(page("admin"), default_timeout=60), ADMIN).run()
    form_inputs = {t.label: t for t in at.text_input}
    form_inputs["账号"].input("prov_new")
    at.selectbox[0].set_value("provider")
    form_inputs["单位名称"].input("广州某科技有限公司")
    form_inputs["单位统一社会信用代码"].input("91440101ma59abcdem")
    at = next(b for b in at.button if b.label == "创建账号").click().run()
    assert "已创建账号 prov_new" in texts(at.success)
    assert AccountsFile(app_env / "accounts.json").get("prov_new").org_code == "91440101MA59ABCDEM"

    at = at.run()  # the account list is read at the top of the run that created it
    at.selectbox(key=state.ADMIN_TARGET).set_value("prov_new").run()
    code = next(t for t in at.text_input if t.label.startswith("单位统一社会信用代码（"))
    assert code.value == "91440101MA59ABCDEM"
    code.input("91440101MA59ABCDE1")
    at = next(b for b in at.button if b.label == "保存信用代码").click().run()
    assert "统一社会信用代码" in texts(at.error)
    assert AccountsFile(app_env / "accounts.json").get("prov_new").org_code == "91440101MA59ABCDEM"


def _live_board():
    """A page whose fragment reruns on a timer, as the live board's does."""
    import streamlit as st

    from lib.ui.auth import require_live_session

    @st.fragment(run_every=3600)
    def live():
        require_live_session()
        st.markdown("看板数据：全省已报 100 条")

    live()


def _end_by(how: str, app_env, token: str, monkeypatch) -> None:
    from lib.auth.sessions import SessionTokens
    from lib.ui import auth

    accounts = AccountsFile(app_env / "accounts.json")
    now = dt.datetime.now() + dt.timedelta(seconds=1)
    if how == "disabled":
        accounts.set_disabled("province", True, now=now)
    elif how == "password reset":
        accounts.set_password("province", "Another2020", now=now, rounds=4)
    elif how == "signed out elsewhere":
        SessionTokens(app_env, accounts).revoke(token, now=now)
    else:  # expired: the clock passes the token's end
        monkeypatch.setattr(auth, "_now", lambda: dt.datetime.now() + dt.timedelta(hours=2))


@pytest.mark.parametrize("how", ["disabled", "password reset", "signed out elsewhere", "expired"])
def test_a_timed_fragment_stops_drawing_data_once_the_session_ends(seeded, app_env, monkeypatch, how):
    at = sign_in(AppTest.from_function(_live_board, default_timeout=60), PROVINCE)
    at.session_state["board:filter"] = "广州"  # something this person's session held
    at.run()
    assert not at.exception and "看板数据" in texts(at.markdown)
    token = at.session_state[state.SESSION]

    _end_by(how, app_env, token, monkeypatch)
    at.run()  # the next tick
    assert not at.exception
    assert "看板数据" not in texts(at.markdown)
    assert state.SESSION not in at.session_state and "board:filter" not in at.session_state
    assert at.session_state[state.CLEAR_COOKIE] is True
    said = {"disabled": "已停用", "password reset": "已变更", "signed out elsewhere": "已退出", "expired": "已过期"}[how]
    assert said in at.session_state[state.SIGN_IN_NOTICE]  # what the sign-in page tells the person



def test_entries_without_a_version_merged_in_keep_the_versions_numbers(seeded, catalog):
    """Issue 17: sign-ins merged into the built table turned its 版本 column into Python objects, which the
    browser's table took only after a slow fix-up on every draw ("Conversion failed for column 版本")."""
    from lib import audit as audit_module
    from lib.ui import audit_log

    forms = list(catalog.forms())
    audit_log.trail(seeded, PROVINCE, forms)  # built from every entry
    seeded.log_event(PROVINCE, "登录")  # an entry without a version, merged in alone
    merged = audit_log.trail(seeded, PROVINCE, forms).frame
    whole = audit_module.audit_frame(seeded.audit(), audit_module.Labels.of(forms))
    assert merged["操作"][0] == "登录" and merged["版本"].dtype == whole["版本"].dtype != object
    assert merged["版本"].equals(whole["版本"])
