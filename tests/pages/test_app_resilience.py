"""AppTest of the router (app.py) when what reaches it is broken: a store that cannot be opened and a
session cookie or token that is garbage. A person sees a Chinese message, never a traceback, and
the sidebar (the account and 退出登录) keeps working."""

from __future__ import annotations

import datetime as dt

import pytest
from streamlit.runtime.context import ContextProxy, StreamlitCookies
from streamlit.testing.v1 import AppTest

import lib.store.factory
from lib.core.records import Actor
from lib.store.base import Unavailable
from lib.ui import auth, health, state

from .conftest import ROOT, sign_in

APP = str(ROOT / "app.py")
PROVINCE = Actor("province", "province", "广东省工业和信息化厅工业互联网处")
PROVIDER = Actor("provider_001", "provider", "云智科技有限公司")
REASON = "找不到 Google 表格 demo-key：请检查 [gsheets] spreadsheet_key。"


def shown(at: AppTest) -> str:
    return "\n".join(str(e.value) for e in [*at.error, *at.warning, *at.markdown, *at.title, *at.exception])


@pytest.fixture
def store_down(monkeypatch):
    """Every attempt to open the store fails as an unreachable spreadsheet does; ``up()`` ends it."""
    real = lib.store.factory.open_store

    def refuse(*args, **kwargs):
        raise Unavailable(REASON, code="sheets_not_found")

    monkeypatch.setattr(lib.store.factory, "open_store", refuse)
    return lambda: monkeypatch.setattr(lib.store.factory, "open_store", real)


@pytest.mark.parametrize("actor", [PROVINCE, PROVIDER], ids=lambda a: a.role)
def test_a_store_that_cannot_be_opened_is_a_chinese_message_and_the_sidebar_still_works(app_env, store_down, actor):
    at = sign_in(AppTest.from_file(APP, default_timeout=60), actor).run()
    assert not at.exception
    [error] = at.error
    assert error.value == health.UNAVAILABLE.format(reason=REASON)
    assert "Traceback" not in shown(at) and not at.title  # the page did not run under the message
    assert "退出登录" in [b.label for b in at.sidebar.button]

    at = next(b for b in at.sidebar.button if b.label == "退出登录").click().run()
    assert not at.exception and state.SESSION not in at.session_state
    assert at.session_state[state.SIGN_IN_NOTICE] == "您已退出登录。"  # signed out at once, though the audit entry could not be written

    store_down()  # the spreadsheet is back: the next run opens the store, nothing to restart
    at = sign_in(AppTest.from_file(APP, default_timeout=60), actor).run()
    assert not at.exception and not at.error and at.title


@pytest.mark.parametrize("token", [
    "签名.ä€𝄞",  # non-ASCII, where a signature is expected
    "x" * 5000,
    "eyJhIjoicHJvdmluY2UifQ.garbage",
    "\x00\ud800",
    "..",
])
def test_a_garbage_session_cookie_or_token_opens_the_sign_in_page(app_env, monkeypatch, token):
    with monkeypatch.context() as patch:
        patch.setattr(ContextProxy, "cookies", property(lambda self: StreamlitCookies({auth.COOKIE: token})))
        at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception and not at.error, shown(at)
    assert at.title[0].value == "登录"
    assert at.session_state[state.CLEAR_COOKIE]  # the browser is told to drop it

    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[state.SESSION] = token
    at.run()
    assert not at.exception and at.title[0].value == "登录"
    assert state.SESSION not in at.session_state


CLOCK = dt.date(2020, 9, 25)  # the campaign clock of a demo replayed in the inspection phase


def test_the_first_start_fills_an_empty_store_and_accounts_file_as_app_py_says(app_env, monkeypatch, reopen):
    """The embedded default (``./dev run``): app.py hands the demo campaign and its accounts to the
    first start; lib.ui itself never imports lib.demo."""
    from lib.auth.accounts import AccountsFile
    from lib.demo.accounts import DEMO_PASSWORD

    monkeypatch.setenv("APP_DEMO_DATA", "true")
    monkeypatch.setenv("APP_DEMO_ROWS", "40")
    monkeypatch.setenv("APP_CAMPAIGN_TODAY", CLOCK.isoformat())
    monkeypatch.setenv("APP_DEMO_PASSWORD_ROUNDS", "5")
    # The first run of a server process may be a page's alone (Streamlit's legacy pages/ wrapper),
    # which opens the store before it is sent through app.py: the store is filled all the same.
    AppTest.from_file(str(ROOT / "pages" / "fill.py"), default_timeout=60).run()
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception and at.title[0].value == "登录"
    accounts = AccountsFile(app_env / "accounts.json")
    assert {"province", "admin", "inspector", "city_gz"} <= {a.account for a in accounts.all()}
    assert {a.password_hash[:7] for a in accounts.all()} == {"$2b$05$"}  # the demo accounts' cost, a setting
    store = reopen()
    assert len(store.records("att1")) == 40
    assert all(accounts.get(r.owner) for r in store.records("att1"))  # every demo filer can sign in
    # the demo inspectors declared their health in the week before the campaign clock the draw judges them on
    declared = [dt.date.fromisoformat(a.health_declared_on) for a in accounts.all() if a.health_declared_on]
    assert declared and all(dt.timedelta(0) <= CLOCK - d <= dt.timedelta(days=6) for d in declared)

    at.text_input(key=state.SIGN_IN_ACCOUNT).input("province")
    at.text_input(key=state.SIGN_IN_PASSWORD).input(DEMO_PASSWORD)
    at = next(b for b in at.button if b.label == "登录").click().run()
    assert not at.exception and not at.error and at.session_state[state.SESSION]


def test_a_first_start_on_another_campaign_creates_the_accounts_and_says_why_no_demo_data(app_env, monkeypatch, tmp_path, reopen):
    """G1: with the second campaign served and demo data on, the demo refused it with an AppError that
    stopped the first start before the accounts, on every run: nobody could sign in."""
    import shutil

    from lib.auth.accounts import AccountsFile
    from lib.demo.accounts import DEMO_PASSWORD
    from lib.forms import load_catalog

    forms = tmp_path / "other"
    shutil.copytree(ROOT / "tests" / "campaigns" / "other", forms)
    monkeypatch.setenv("APP_FORMS_DIR", str(forms))
    monkeypatch.setenv("APP_DEMO_DATA", "true")
    monkeypatch.setenv("APP_DEMO_ROWS", "40")
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception and not at.error, shown(at)
    assert at.title[0].value == "登录"
    [note] = [w.value for w in at.warning if "演示数据" in w.value]
    assert "gd_cloud_2021" in note and "可以登录" in note
    accounts = AccountsFile(app_env / "accounts.json")
    cities = load_catalog(forms).campaign.cities
    made = accounts.all()
    assert {"province", "admin", "inspector"} <= {a.account for a in made}
    assert {a.city for a in made if a.role == "city"} == set(cities)  # one bureau per city
    store = reopen()
    assert not any(store.records(form_id) for form_id in ("cloud_projects", "bench_reports", "city_inspections", "att1"))

    at.text_input(key=state.SIGN_IN_ACCOUNT).input("province")
    at.text_input(key=state.SIGN_IN_PASSWORD).input(DEMO_PASSWORD)
    at = next(b for b in at.button if b.label == "登录").click().run()
    assert not at.exception and not at.error and at.session_state[state.SESSION]
    assert "gd_cloud_2021" in "".join(w.value for w in at.warning)  # the setting to correct stays said


def test_a_write_the_store_cannot_make_is_a_chinese_message_on_the_page(app_env, monkeypatch):
    from lib.store.local.store import LocalStore

    def refuse(self, *args, **kwargs):
        raise Unavailable("无法写入数据日志（磁盘已满），本次提交未保存，请稍后重试或联系管理员。", code="log_write")

    monkeypatch.setattr(LocalStore, "append", refuse)
    at = sign_in(AppTest.from_file(str(ROOT / "pages" / "fill.py"), default_timeout=60), PROVIDER).run()
    at = next(b for b in at.button if b.label == "保存草稿").click().run()
    assert not at.exception
    assert "无法写入数据日志（磁盘已满）" in "\n".join(e.value for e in at.error)
    assert "保存草稿" in [b.label for b in at.button]  # the form stays, with what was typed, for another try


ADMIN = Actor("admin", "admin", "广东省工业和信息化厅")
#: Every page behind the sign-in, with an account that may open it.
SIGNED_IN_PAGES = {"home": PROVINCE, "fill": PROVIDER, "my_submissions": PROVIDER, "review": PROVINCE, "board": PROVINCE,
                   "register": PROVINCE, "sampling": PROVINCE, "audit": PROVINCE, "admin": ADMIN}


@pytest.mark.parametrize("key", SIGNED_IN_PAGES)
def test_a_page_opened_by_address_as_the_first_request_with_the_store_down_is_a_chinese_message(app_env, store_down, key):
    """Attack finding F17: a page opened by address as a server's first request runs in Streamlit's
    legacy pages/ wrapper (AppTest's switch_page runs it so), before app.py's router. The page asks for
    the router before the store, so the person reads the store's Chinese message, not a traceback."""
    at = sign_in(AppTest.from_file(APP, default_timeout=60), SIGNED_IN_PAGES[key]).run()
    assert not at.exception
    at.switch_page(f"pages/{key}.py").run()
    assert not at.exception, shown(at)
    assert [e.value for e in at.error] == [health.UNAVAILABLE.format(reason=REASON)]
    assert not at.title  # the page did not run under the message


@pytest.mark.parametrize("key", SIGNED_IN_PAGES)
def test_a_page_run_without_app_py_reports_a_store_it_cannot_open(app_env, store_down, key):
    """A page that runs without app.py's check of the store (the first request before its switch, a
    page tested alone) opens it through lib.ui.page: the same Chinese message, and the page stops."""
    at = sign_in(AppTest.from_file(str(ROOT / "pages" / f"{key}.py"), default_timeout=60), SIGNED_IN_PAGES[key]).run()
    assert not at.exception, shown(at)
    assert [e.value for e in at.error] == [health.UNAVAILABLE.format(reason=REASON)]
    assert not at.title

    store_down()  # back: the same page opens
    at.run()
    assert not at.exception and not at.error and at.title


@pytest.mark.parametrize("name, value", [("APP_SESSION_HOURS", "nan"), ("APP_UPLOAD_MAX_ROWS", "0"), ("APP_DATA_DIR", "a\x01b")])
def test_a_setting_that_cannot_be_used_is_said_once_naming_it(app_env, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    [error] = [e.value for e in at.error]
    assert name.removeprefix("APP_").lower() in error and name in error
