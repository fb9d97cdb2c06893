"""The store's problems (writes it keeps retrying) reach the province and the administrator."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def sidebar_app(role: str, problems: list[str]):
    import streamlit as st

    from lib.auth.accounts import Account
    from lib.ui import health

    class Store:
        def problems(self):
            return problems

    health.store_problems(Account("someone", role), Store())
    st.write("页面")


def run(role, problems):
    return AppTest.from_function(sidebar_app, args=(role, problems), default_timeout=30).run()


def test_province_and_admin_see_what_the_store_keeps_retrying():
    for role in ("province", "admin"):
        at = run(role, ["Google 拒绝写入「附件1」视图：超出 1000 万个单元格"])
        assert not at.exception
        [warning] = at.sidebar.warning
        assert "超出 1000 万个单元格" in warning.value


def test_fillers_do_not_see_it_and_nothing_shows_without_problems():
    assert not run("provider", ["x"]).sidebar.warning
    assert not run("province", []).sidebar.warning


def test_every_store_answers_problems(tmp_path):
    from lib.store.factory import open_store

    store = open_store("local", data_dir=tmp_path)
    try:
        assert store.problems() == []
    finally:
        store.close()
