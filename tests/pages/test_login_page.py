"""AppTest of pages/login.py: before signing in, a person sees whom to call."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from lib.ui import state

from .conftest import ROOT


def test_the_sign_in_page_lists_the_campaigns_contacts(app_env, catalog):
    at = AppTest.from_file(str(ROOT / "pages" / "login.py"), default_timeout=60).run()
    assert not at.exception
    text = "\n".join(m.value for m in at.markdown)
    for contact in catalog.campaign.contacts:
        assert contact.name in text and contact.topic in text and f"tel:{contact.phone.replace('-', '')}" in text


def test_an_unexpected_error_while_signing_in_is_said_in_chinese_with_an_error_id(app_env, catalog):
    """The 登录 callback runs before the page script: an accounts file left invalid by a clumsy hand
    edit must not show Streamlit's English error page."""
    app_env.mkdir(parents=True, exist_ok=True)
    (app_env / "accounts.json").write_text('{"accounts": [],}', encoding="utf-8")  # a stray comma
    at = AppTest.from_file(str(ROOT / "pages" / "login.py"), default_timeout=60).run()
    at.text_input(key=state.SIGN_IN_ACCOUNT).input("provider_001")
    at.text_input(key=state.SIGN_IN_PASSWORD).input("Demo@2020")
    at = next(b for b in at.button if b.label == "登录").click().run()
    assert not at.exception
    shown = "\n".join(e.value for e in at.error)
    assert "错误编号" in shown or "accounts.json" in shown, shown
    assert "This app has encountered an error" not in shown
