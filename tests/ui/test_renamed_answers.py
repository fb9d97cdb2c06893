"""An answer typed, not yet saved, under a field's old key when a rename is published moves to the renamed field
with a note (attack C17 of issue 16): the fill page never drops it unsaid."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def fill_app(renamed: bool, retyped: bool = False) -> None:
    import streamlit as st

    from lib.forms import parse_form
    from lib.ui import state, widgets

    text = """
id: notes_form
title: 说明表
short_title: 说明表
version: 1
filled_by: provider
sections:
  - key: main
    title: 基本情况
    fields:
      - {key: project, label: 项目名称, type: text}
      - {key: %s, label: 情况说明, type: text%s}
"""
    kind = ", replaces: remarks" + (", choices: [甲, 乙]" if retyped else "")
    text = text % (("notes", kind) if renamed else ("remarks", ""))
    form = parse_form(text.replace("type: text, replaces: remarks, choices", "type: select, replaces: remarks, choices"),
                      "notes_form.yaml")
    if not renamed:
        st.session_state[state.field_key(form.id, "remarks")] = "还没保存的说明"
    widgets.render_form(form, ())
    st.write(repr(widgets.current_answers(form)))


def test_an_unsaved_answer_follows_its_field_renamed_meanwhile():
    at = AppTest.from_function(fill_app, args=(False,), default_timeout=30).run()
    assert "还没保存的说明" in at.markdown[-1].value
    at.args = (True,)  # the next run serves the published version with the rename
    at.run()
    assert not at.exception
    assert "'notes': '还没保存的说明'" in at.markdown[-1].value
    assert "情况说明" in at.info[0].value


def test_an_unsaved_answer_that_no_longer_fits_its_renamed_field_is_said_lost():
    at = AppTest.from_function(fill_app, args=(False,), default_timeout=30).run()
    at.args = (True, True)  # renamed and made a choice of 甲 / 乙: the text typed fits none
    at.run()
    assert not at.exception
    assert "'notes': None" in at.markdown[-1].value
    assert not at.info and "无法沿用" in at.warning[0].value
