"""run_page: an unexpected error is a Chinese message with an id that is in the server log; a
traceback or the exception's text never reaches the page; st.stop, st.rerun and st.switch_page
still work through it."""

from __future__ import annotations

import logging
import re
import tomllib
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def failing_app():
    import streamlit as st

    from lib.ui.errors import run_page

    def broken():
        st.write("表单前半部分")
        raise RuntimeError("secret detail: /srv/data/campaign.xlsx")

    run_page(st.navigation([st.Page(broken, title="坏页面")]))


def control_flow_app():
    import streamlit as st

    from lib.ui.errors import run_page

    def first():
        st.session_state.runs = st.session_state.get("runs", 0) + 1
        if st.session_state.runs == 1:
            st.rerun()
        st.write(f"第 {st.session_state.runs} 次运行")
        if st.session_state.get("go"):
            st.switch_page(second_page)
        st.stop()
        st.write("不会显示")

    def second():
        st.write("第二页")

    second_page = st.Page(second, title="第二页", url_path="second")
    run_page(st.navigation([st.Page(first, title="第一页"), second_page]))


@pytest.fixture
def server_log():
    """The records lib.ui.errors logs (Streamlit's loggers do not propagate to the root)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("lib.ui.errors")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def test_an_unexpected_error_shows_a_chinese_message_with_an_id_that_is_in_the_log(server_log):
    at = AppTest.from_function(failing_app, default_timeout=30).run()
    assert not at.exception
    [error] = at.error
    match = re.fullmatch(r"系统出现意外错误，请稍后重试。如需协助请提供错误编号 ([0-9A-F]{8})。", error.value)
    assert match, error.value
    assert "表单前半部分" in [m.value for m in at.markdown]
    shown = "\n".join(str(e.value) for e in [*at.markdown, *at.error])
    assert "secret detail" not in shown and "Traceback" not in shown
    [record] = [r for r in server_log if match.group(1) in r.getMessage()]
    assert record.levelno == logging.ERROR and record.exc_info and "secret detail" in str(record.exc_info[1])


def test_each_error_gets_its_own_id(server_log):
    first = AppTest.from_function(failing_app, default_timeout=30).run().error[0].value
    second = AppTest.from_function(failing_app, default_timeout=30).run().error[0].value
    assert first != second and len(server_log) == 2


def test_stop_rerun_and_switch_page_are_not_errors(server_log):
    at = AppTest.from_function(control_flow_app, default_timeout=30).run()
    assert not at.exception and not at.error and not server_log
    assert [m.value for m in at.markdown] == ["第 2 次运行"]  # st.rerun ran the page again; st.stop ended it
    at.session_state["go"] = True
    at = at.run()
    assert not at.exception and not at.error and not server_log
    assert [m.value for m in at.markdown] == ["第二页"]


def test_error_details_are_off_unless_development_turns_them_on():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["showErrorDetails"] == "none"


def fragment_app():
    import streamlit as st

    from lib.ui.errors import guarded

    @st.fragment
    @guarded
    def live_figures():
        st.write("看板")
        raise ZeroDivisionError("division by zero in a figure")

    live_figures()
    st.write("页面其余部分")


def test_a_guarded_fragment_fails_alone_with_the_same_message(server_log):
    at = AppTest.from_function(fragment_app, default_timeout=30).run()
    assert not at.exception
    assert at.error[0].value.startswith("系统出现意外错误") and "页面其余部分" in [m.value for m in at.markdown]
    assert len(server_log) == 1 and "live_figures" in server_log[0].getMessage()


def broken_campaign_app():
    import streamlit as st

    from lib.forms import FormDefinitionError
    from lib.forms.errors import problem
    from lib.ui.errors import run_page

    def needs_campaign():
        raise FormDefinitionError("campaign.yaml", [problem("campaign_unavailable", where="campaign.yaml", file="campaign.yaml")])

    run_page(st.navigation([st.Page(needs_campaign, title="首页")]))


def test_a_broken_form_file_is_said_in_chinese_not_as_an_unexpected_error(server_log):
    at = AppTest.from_function(broken_campaign_app, default_timeout=30).run()
    assert not at.exception
    [error] = at.error
    assert "campaign.yaml" in error.value and "无法使用" in error.value
    assert "错误编号" not in error.value


def callback_app():
    import streamlit as st

    from lib.ui.errors import guarded, run_page

    def save():
        raise OSError("secret detail: /srv/data/accounts.json")

    def page():
        st.write("填报页")
        st.button("提交", on_click=guarded(save))

    run_page(st.navigation([st.Page(page, title="填报")]))


def test_an_error_in_a_button_callback_shows_the_chinese_message_with_an_id_that_is_in_the_log(server_log):
    at = AppTest.from_function(callback_app, default_timeout=30).run()
    assert not at.error
    at = at.button[0].click().run()
    assert not at.exception
    [error] = at.error
    match = re.fullmatch(r"系统出现意外错误，请稍后重试。如需协助请提供错误编号 ([0-9A-F]{8})。", error.value)
    assert match, error.value
    assert "填报页" in [m.value for m in at.markdown]  # the page still runs after the failed callback
    [record] = [r for r in server_log if match.group(1) in r.getMessage()]
    assert "save" in record.getMessage() and "secret detail" in str(record.exc_info[1])


# A callback is anything after on_click= / on_change=: a string ("ignore", "rerun") is Streamlit's own
# behaviour, not code; everything else must be wrapped where it is registered.
_CALLBACK = re.compile(r"\bon_(?:click|change)\s*=\s*(?!errors\.guarded\(|guarded\(|\"(?:ignore|rerun)\")")


def test_every_widget_callback_in_the_app_goes_through_guarded():
    sources = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "lib").rglob("*.py"))]
    bare = [f"{p.relative_to(ROOT)}:{n}" for p in sources
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if _CALLBACK.search(line)]
    assert not bare, f"callbacks not wrapped in errors.guarded: {bare}"
    assert sum("errors.guarded(" in p.read_text(encoding="utf-8") for p in sources) >= 5  # the scan sees the app's callbacks


def refused_app():
    import streamlit as st

    from lib.auth.errors import Forbidden
    from lib.ui.errors import run_page

    def audit_page():
        st.write("审计日志")
        raise Forbidden("您的账号（city_gz）无权查看审计日志。", action="查看审计日志")

    run_page(st.navigation([st.Page(audit_page, title="审计日志")]))


def test_one_of_our_errors_a_page_left_unhandled_is_its_own_message_and_its_code_is_logged(server_log):
    at = AppTest.from_function(refused_app, default_timeout=30).run()
    assert not at.exception
    assert [e.value for e in at.error] == ["您的账号（city_gz）无权查看审计日志。"]  # not the unexpected-error message
    [record] = server_log
    assert record.levelno == logging.WARNING and "forbidden" in record.getMessage()
