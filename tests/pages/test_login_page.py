"""AppTest of pages/login.py: before signing in, a person sees whom to call."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from .conftest import ROOT


def test_the_sign_in_page_lists_the_campaigns_contacts(app_env, catalog):
    at = AppTest.from_file(str(ROOT / "pages" / "login.py"), default_timeout=60).run()
    assert not at.exception
    text = "\n".join(m.value for m in at.markdown)
    for contact in catalog.campaign.contacts:
        assert contact.name in text and contact.topic in text and f"tel:{contact.phone.replace('-', '')}" in text
