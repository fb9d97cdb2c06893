"""AppTest of pages/home.py: the campaign's phases and every form with its deadline."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from lib.core.records import Actor

from .conftest import sign_in

ROOT = Path(__file__).resolve().parents[2]


def test_home_lists_phases_and_forms_with_deadlines(app_env, catalog):
    city = Actor("city_gz", "city", "广州市工业和信息化局", "广州")
    at = sign_in(AppTest.from_file(str(ROOT / "pages" / "home.py"), default_timeout=60), city).run()
    assert not at.exception
    phases = at.dataframe[0].value
    assert list(phases["阶段"]) == [p.name for p in catalog.campaign.phases]
    text = "\n".join(m.value for m in at.markdown) + "\n".join(c.value for c in at.caption)
    for form in catalog.forms():
        assert form.title in text
        if form.deadline:  # the province's complaint register has none: a complaint is recorded when it comes
            assert f"截止：{catalog.campaign.deadlines[form.deadline]:%Y-%m-%d}" in text
    # only the forms this account fills offer 去填报 (a city bureau: 附件3)
    assert [b.label for b in at.button] == ["去填报"] * len([f for f in catalog.forms() if f.filled_by == "city"])


def test_home_says_whom_to_call_in_plain_words(app_env, catalog):
    provider = Actor("provider_x", "provider", "广州云智信息科技有限公司", "广州")
    at = sign_in(AppTest.from_file(str(ROOT / "pages" / "home.py"), default_timeout=60), provider).run()
    assert not at.exception
    text = "\n".join(m.value for m in at.markdown) + "\n".join(c.value for c in at.caption)
    assert catalog.campaign.contacts  # the shipped campaign declares them
    for contact in catalog.campaign.contacts:
        assert contact.name in text and f"tel:{contact.phone.replace('-', '')}" in text and contact.email in text
    assert "字段数" not in text  # no developer words
