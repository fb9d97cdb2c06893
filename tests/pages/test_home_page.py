"""AppTest of pages/home.py: the campaign's phases and every form with its deadline."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def test_home_lists_phases_and_forms_with_deadlines(app_env, catalog):
    at = AppTest.from_file(str(ROOT / "pages" / "home.py"), default_timeout=60).run()
    assert not at.exception
    phases = at.dataframe[0].value
    assert list(phases["阶段"]) == [p.name for p in catalog.campaign.phases]
    text = "\n".join(m.value for m in at.markdown) + "\n".join(c.value for c in at.caption)
    for form in catalog.forms():
        assert form.title in text
        assert f"截止：{catalog.campaign.deadlines[form.deadline]:%Y-%m-%d}" in text
    assert [b.label for b in at.button] == ["去填报"] * len(catalog.forms())
