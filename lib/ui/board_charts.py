"""The board's charts: stacked bars and the colours of what a state or a choice means.

Colours are keyed by what a choice means (``lib.forms.bindings.NEEDS``), not by its word: the campaign's
words are given their colour by ``word_colors``, so a campaign that renames a choice keeps its colour.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from lib.campaign.board.detail_tables import NOT_FILLED
from lib.campaign.board.units import EXEMPT, LATE_FILED, MISSING, ON_TIME, OVERDUE, RETURNED_STATE
from lib.campaign.schedule import Calendar

STATE_COLORS = {
    ON_TIME: "#4c9f70", LATE_FILED: "#e0a526", RETURNED_STATE: "#8e6bbf", MISSING: "#9aa5b1",
    OVERDUE: "#d64545", EXEMPT: "#cfd6dd",
}
#: Colours by what a choice means (``lib.forms.bindings.NEEDS``); ``word_colors`` gives them the campaign's words.
USAGE_COLORS = {"in_use": "#4c9f70", "low_use": "#e0a526", "idle": "#f08c3a", "stopped": "#d64545"}
CONCLUSION_COLORS = {"pass": "#4c9f70", "basic": "#e0a526", "fail": "#d64545"}
NONE_COLOR, BLANK_COLOR = "#9aa5b1", "#cfd6dd"  # a project never checked; a choice left blank


def word_colors(words: dict[str, str], colors: dict[str, str], blank: str = NONE_COLOR) -> dict[str, str]:
    """Word -> colour, in the campaign's order of the words (``binding.words``: meaning -> word),
    then 未填 (a choice left blank).

    >>> word_colors({"pass": "通过", "fail": "不通过"}, {"pass": "#0f0", "fail": "#f00"})
    {'通过': '#0f0', '不通过': '#f00', '未填': '#9aa5b1'}
    """
    return {**{word: colors[meaning] for meaning, word in words.items() if meaning in colors}, NOT_FILLED: blank}


def usage_colors(cal: Calendar) -> dict[str, str]:
    return word_colors(cal.bindings.of("projects").words("usage"), USAGE_COLORS)


def conclusion_colors(cal: Calendar) -> dict[str, str]:
    checks = cal.bindings.of("checks")
    never = {checks.word("method", "none"): NONE_COLOR}
    return {**word_colors(checks.words("conclusion"), CONCLUSION_COLORS, BLANK_COLOR), **never}


def stacked(data: pd.DataFrame, y: str, color: str, value: str, colors: dict[str, str], normalize: bool = False):
    domain = [c for c in colors if c in set(data[color])] + sorted(set(data[color]) - set(colors))
    scale = alt.Scale(domain=domain, range=[colors.get(d, "#cccccc") for d in domain])
    order = list(dict.fromkeys(data[y]))
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y(f"{y}:N", sort=order, title=None, axis=alt.Axis(labelOverlap=False, labelLimit=220)),
            x=alt.X(f"sum({value}):Q", stack="normalize" if normalize else True, title="占比" if normalize else value,
                    axis=alt.Axis(format="%") if normalize else alt.Axis()),
            color=alt.Color(f"{color}:N", scale=scale, title=color, sort=domain),
            order=alt.Order(f"{color}_order:Q"),
            tooltip=[y, color, value],
        )
        .transform_calculate(**{f"{color}_order": f"indexof({domain!r}, datum['{color}'])"})
        .properties(height=max(160, 24 * len(order)))
    )


def show(chart) -> None:
    """A chart drawn across the page's width."""
    st.altair_chart(chart, width="stretch")
