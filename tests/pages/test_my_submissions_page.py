"""AppTest of pages/my_submissions.py: one's own rows only, and withdrawing one."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from lib.demo.seed import generate
from lib.forms.columns import sheet_spec

from .conftest import sign_in

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "my_submissions.py")


def test_lists_own_rows_only_and_withdraws_one(app_env, catalog, reopen):
    rows = generate(catalog, rows=40, seed=3)["att1"]
    mine = rows[0].actor
    other = next(r for r in rows if r.actor.account != mine.account)
    store = reopen()
    store.ensure_sheet(sheet_spec(catalog.form("att1")))
    own = [store.append("att1", r.values, actor=mine, status="已提交") for r in [r for r in rows if r.actor == mine][:3]]
    foreign = store.append("att1", other.values, actor=other.actor, status="已提交")

    at = AppTest.from_file(PAGE, default_timeout=60)
    sign_in(at, mine)
    at.run()
    assert not at.exception
    listed = set(at.dataframe[0].value["记录编号"])
    assert listed == {r.id for r in own}
    assert foreign.id not in listed

    target = own[0]
    next(s for s in at.selectbox if s.label == "选择一条记录").set_value(target.id).run()
    next(c for c in at.checkbox if c.label == "确认撤回这条记录").check().run()
    next(b for b in at.button if b.label == "撤回").click().run()
    assert not at.exception
    assert reopen().get("att1", target.id).status == "已撤回"
    assert reopen().get("att1", foreign.id).status == "已提交"
