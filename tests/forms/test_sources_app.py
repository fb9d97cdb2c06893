"""The app's catalog on the store (lib/ui/context.py with setting forms_source): the first page run
publishes forms_dir as version 1 with demo data off, a version published by another session is served
on the filler's next run, and forms_source = files keeps no version in the store (issue 16, outcome 1
and 6)."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from lib.core.records import Actor
from lib.forms import versions
from lib.forms.store_source import SEEN_FILE
from lib.forms.versions import publish_version
from tests.pages import conftest as pages

#: The page tests' fixtures: the app's settings aimed at an empty store in tmp_path, and a second view of it.
app_env, reopen, sign_in = pages.app_env, pages.reopen, pages.sign_in

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "fill.py")
PROVIDER = Actor("provider_001", "provider", "广州云智信息科技有限公司", "广州")
PROVINCE = Actor("province_admin", "province", "省厅", "")


def fill_page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    sign_in(at, PROVIDER)
    at.query_params["form"] = "att1"
    return at


def test_the_first_run_seeds_the_store_and_a_published_version_reaches_the_next_run(app_env, reopen):
    at = fill_page()
    at.run()
    assert "服务商名称 *" in [w.label for w in at.text_input]
    store = reopen()
    rows = versions.versions(store)
    assert sorted(r.values["file"] for r in rows) == sorted(p.name for p in (ROOT / "forms").glob("*.yaml"))
    assert {(versions.number(r), r.values["origin"], r.owner) for r in rows} == {(1, "seed", "开发者文件")}
    assert json.loads((app_env / SEEN_FILE).read_text(encoding="utf-8"))["files"].keys() == {r.values["file"] for r in rows}

    text = versions.latest(store, "att1.yaml").values["text"].replace("label: 服务商名称\n", "label: 服务商全称\n")
    publish_version(store, PROVINCE, "att1.yaml", text, form_id="att1", based_on=1, origin="designer")
    at.run()
    labels = [w.label for w in at.text_input]
    assert "服务商全称 *" in labels and "服务商名称 *" not in labels and not at.exception


def test_with_forms_source_files_the_store_keeps_no_version(app_env, reopen, monkeypatch):
    monkeypatch.setenv("APP_FORMS_SOURCE", "files")
    at = fill_page()
    at.run()
    assert "服务商名称 *" in [w.label for w in at.text_input]
    assert reopen().sheet_spec(versions.VERSIONS.form_id) is None and not (app_env / SEEN_FILE).exists()
