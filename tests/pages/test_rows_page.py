"""AppTest of ``lib.ui.rows.page``: a long list goes to the browser a page at a time (issue 17), and a page
the rows no longer fill gives way to the first."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest


def _paged():
    import streamlit as st

    from lib.ui import rows

    part = rows.page(st.session_state["total"], key="pager")
    st.text(f"{part.start}:{min(part.stop, st.session_state['total'])}")


@pytest.fixture
def page_of_five(monkeypatch):
    from lib.ui import locale

    monkeypatch.setattr(locale, "PAGE_ROWS", 5)


def _run(at, total):
    at.session_state["total"] = total
    at.run()
    assert not at.exception
    return at.text[0].value


@pytest.mark.parametrize("total", [0, 1, 5])
def test_rows_that_fit_one_page_are_all_listed_without_a_pager(page_of_five, total):
    at = AppTest.from_function(_paged, default_timeout=30)
    assert _run(at, total) == f"0:{total}"
    assert not at.selectbox and not at.caption


def test_each_page_lists_its_rows_and_says_which(page_of_five):
    at = AppTest.from_function(_paged, default_timeout=30)
    assert _run(at, 14) == "0:5"
    assert at.selectbox(key="pager").options == [f"第 {n} 页（共 3 页）" for n in (1, 2, 3)]
    at.selectbox(key="pager").set_value(2)
    assert _run(at, 14) == "10:14"
    assert "本页列出第 11–14 条（共 14 条，每页 5 条）" in at.caption[0].value
    assert _run(at, 12) == "10:12"  # rows changed, the page chosen stays while it exists


def test_a_page_the_rows_no_longer_reach_gives_way_to_the_first(page_of_five):
    at = AppTest.from_function(_paged, default_timeout=30)
    _run(at, 14)
    at.selectbox(key="pager").set_value(2)
    assert _run(at, 14) == "10:14"
    assert _run(at, 8) == "0:5"  # two pages left: the third is gone
    assert at.selectbox(key="pager").value == 0 and len(at.selectbox(key="pager").options) == 2
