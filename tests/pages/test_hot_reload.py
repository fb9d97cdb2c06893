"""No redeploy: a form file edited on disk changes the form on the next page run; a broken edit
keeps the last valid version serving and shows the problem on the page."""

from __future__ import annotations

import shutil
from pathlib import Path

from streamlit.testing.v1 import AppTest

from lib.core.records import Actor

from .conftest import sign_in

PROVIDER = Actor("provider_001", "provider", "广州云智信息科技有限公司", "广州")
ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "fill.py")


def labels(at: AppTest) -> list[str]:
    return [w.label for w in at.text_input]


def test_an_edited_form_file_changes_the_form_on_the_next_run(app_env, tmp_path, monkeypatch):
    forms = tmp_path / "forms"
    shutil.copytree(ROOT / "forms", forms)
    monkeypatch.setenv("APP_FORMS_DIR", str(forms))
    at = AppTest.from_file(PAGE, default_timeout=60)
    sign_in(at, PROVIDER)
    at.query_params["form"] = "att1"
    at.run()
    assert "服务商名称 *" in labels(at)

    att1 = forms / "att1.yaml"
    att1.write_text(att1.read_text(encoding="utf-8").replace("label: 服务商名称\n", "label: 服务商全称\n"), encoding="utf-8")
    at.run()
    assert "服务商全称 *" in labels(at) and "服务商名称 *" not in labels(at)
    assert not at.warning

    # a broken edit: the last valid version keeps serving, the page names file, line and field
    good = att1.read_text(encoding="utf-8")
    att1.write_text(good.replace("type: credit_code", "type: credit_kode", 1), encoding="utf-8")
    at.run()
    assert not at.exception
    assert "服务商全称 *" in labels(at)
    warning = "\n".join(w.value for w in at.warning)
    assert "att1.yaml" in warning and "credit_kode" in warning and "第" in warning and "provider_credit_code" in warning

    att1.write_text(good, encoding="utf-8")  # mended: the warning goes away
    at.run()
    assert not at.warning


def test_a_field_added_to_a_form_becomes_a_column_of_its_sheet(app_env, tmp_path, monkeypatch, reopen):
    forms = tmp_path / "forms"
    shutil.copytree(ROOT / "forms", forms)
    monkeypatch.setenv("APP_FORMS_DIR", str(forms))
    at = AppTest.from_file(PAGE, default_timeout=60)
    sign_in(at, PROVIDER)
    at.query_params["form"] = "att1"
    at.run()
    assert "wechat_group" not in [c.key for c in reopen().sheet_spec("att1").columns]

    att1 = forms / "att1.yaml"
    att1.write_text(att1.read_text(encoding="utf-8") + """      - key: wechat_group
        label: 项目微信群
        type: text
""", encoding="utf-8")
    at.run()
    assert "项目微信群" in labels(at)
    columns = {c.key: c.label for c in reopen().sheet_spec("att1").columns}
    assert columns["wechat_group"] == "项目微信群"
    assert "provider_name" in columns  # nothing dropped
