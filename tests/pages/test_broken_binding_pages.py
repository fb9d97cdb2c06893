"""Pages that read the campaign's bindings while they do not fit the forms served (a form file without a
bound field, on a server that reads it: attack C15 of issue 16): the home page's 待办, the fill page's
import panel, its inspection companion and the complaint form's voucher check say what is wrong or step
aside, and the rest of each page serves, instead of the page ending in the problem list alone. (A page
that needs the bindings throughout, 抽样 or 看板, shows the problem list: lib.ui.errors.)"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lib.core.records import Actor

from .conftest import sign_in

ROOT = Path(__file__).resolve().parents[2]
PROVINCE = Actor("province", "province", "省厅")
PROVIDER = Actor("provider_x", "provider", "广州云智信息科技有限公司", "广州")


@pytest.fixture
def broken(app_env, tmp_path, monkeypatch):
    """The app on a copy of forms/ whose att1.yaml lacks the field campaign.yaml binds as the firm (read as files)."""
    forms = tmp_path / "forms"
    shutil.copytree(ROOT / "forms", forms)
    att1 = forms / "att1.yaml"
    text = att1.read_text(encoding="utf-8")
    i, j = text.index("      - key: client_name\n"), text.index("      - key: client_credit_code\n")
    att1.write_text((text[:i] + text[j:]).replace("summary: [client_name, project_name, voucher_no]",
                                                  "summary: [project_name, voucher_no]"), encoding="utf-8")
    monkeypatch.setenv("APP_FORMS_DIR", str(forms))
    monkeypatch.setenv("APP_FORMS_SOURCE", "files")
    return forms


def run(page: str, actor: Actor, **query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=60)
    sign_in(at, actor)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_home_page_lists_the_to_do_and_the_problem(broken):
    at = run("home.py", PROVINCE)
    assert at.subheader and any("campaign.yaml" in w.value for w in at.warning)


def test_the_fill_page_serves_the_form_and_says_why_its_import_is_unavailable(broken):
    at = run("fill.py", PROVIDER, form="att1")
    assert any("批量导入暂不可用" in w.value for w in at.warning) and at.button


def test_the_fill_page_of_the_complaint_form_serves_without_its_voucher_check(broken):
    at = run("fill.py", PROVINCE, form="complaint")
    assert at.text_input and any("批量导入暂不可用" in w.value for w in at.warning)


@pytest.mark.parametrize("actor", [PROVINCE, PROVIDER])
def test_the_router_serves_every_role_while_the_bindings_do_not_fit(broken, actor):
    """Through app.py (attack D7): the navigation it builds for the signed-in role must not read the broken
    bindings unguarded, or no page would run at all."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    sign_in(at, actor)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.subheader or at.title  # a page ran under the navigation
