"""The board's 整改进度 tab: per city the rectification items by status and overdue, the closed share over
time, and the items, as of the board's day (``lib.rectification.progress``); the province sees every city,
a city its own.

Cheap per viewer like the other tabs: the items' sheet is read at most once per SNAPSHOT_TTL seconds per
process, its audit once per change of it, and the figures once per change, day and scope.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd
import streamlit as st

from lib.campaign.board.figures import Board
from lib.campaign.board.preparation import change_counter
from lib.core.records import AuditEntry
from lib.rectification import progress as pg
from lib.rectification.records import CLOSED, ITEMS, STATUSES
from lib.ui import context, state

#: As the board's own (``lib.ui.board_data.SNAPSHOT_TTL``): a change of an item shows within it.
SNAPSHOT_TTL = 2
#: Colours of the statuses, in the lifecycle's order (waiting → closed).
STATUS_COLORS = ["#9aa5b1", "#e0a526", "#4c78a8", "#72b7b2", "#4c9f70"]


@st.cache_resource(ttl=SNAPSHOT_TTL, show_spinner=False)
def _items_snapshot() -> tuple[tuple, pd.DataFrame]:
    """The items' sheet, shared by all sessions, with its change counter."""
    frame = context.store().snapshot(ITEMS.form_id)
    return change_counter({ITEMS.form_id: frame}), frame


@st.cache_resource(max_entries=4, show_spinner=False)
def _audit(counter: tuple) -> list[AuditEntry]:
    """The items' audit, read once per change of the sheet."""
    return context.store().audit(ITEMS.form_id)


@st.cache_resource(max_entries=64, show_spinner=False)
def _progress(counter: tuple, as_of: dt.date, cities: tuple[str, ...] | None, order: tuple[str, ...], _frame: pd.DataFrame) -> pg.Progress:
    return pg.progress(_frame, _audit(counter), as_of, cities, order)


def current_progress(board: Board) -> pg.Progress:
    """The 整改进度 of the board viewer's scope as of the board's day."""
    counter, frame = _items_snapshot()
    cities = None if board.scope.kind == "all" else (board.scope.city,)
    return _progress(counter, board.as_of, cities, tuple(context.catalog().campaign.cities), frame)


def render(board: Board, drill: Callable[..., pd.DataFrame]) -> None:
    """The tab, with the board's filter-down tables (``drill``: ``lib.ui.board.drill``)."""
    if context.catalog().campaign.rectification is None:
        st.info("本次检查活动没有配置整改（campaign.yaml 未声明 rectification）。")
        return
    p = current_progress(board)
    st.caption(f"范围：{board.scope.label}　截至 {board.as_of:%Y-%m-%d}（各整改事项按当天结束时的状态统计；"
               f"{pg.LATE}：超过整改期限仍未{CLOSED}）")
    if p.later:  # opened on the wall clock after a campaign-clock day: said, never taken for "no items"
        st.info(f"有 {p.later:,} 项整改事项生成于 {board.as_of:%Y-%m-%d} 之后，按截至日期未计入；"
                f"将上方“截至日期”调到 {p.last_opened:%Y-%m-%d} 或之后即可看到。")
    if not p.total:
        if not p.later:
            st.info(f"截至 {board.as_of:%Y-%m-%d} 还没有整改事项：省厅在“全面整改”页面生成整改事项后，这里显示各市整改进度。")
        return
    closed, late = int(p.cities[CLOSED].sum()), int(p.cities[pg.LATE].sum())
    shown = [("整改事项", p.total), (CLOSED, closed), (pg.LATE, late), (pg.RATE, f"{100 * closed / p.total:.1f}")]
    for col, (label, value) in zip(st.columns(len(shown)), shown, strict=True):
        col.metric(label, f"{value:,}" if isinstance(value, int) else value)
    st.markdown("**各市整改进度**")
    with_items = p.cities[p.cities[pg.TOTAL] > 0]
    if len(with_items):
        st.bar_chart(with_items.set_index(pg.CITY)[list(STATUSES)], color=STATUS_COLORS, horizontal=True, stack=True)
    drill(p.cities, [pg.CITY], state.board_table_key("rectify:cities"), "整改进度_各市.xlsx", "各市整改进度")
    st.markdown(f"**{pg.RATE}变化**")
    line = p.closed[p.closed[pg.CITY] == (pg.ALL if board.scope.kind == "all" else board.scope.city)]
    if len(line):
        st.line_chart(line.set_index(pg.DAY)[[pg.RATE]], color=["#4c9f70"])
    drill(p.closed, [pg.CITY], state.board_table_key("rectify:closed"), "销号率变化.xlsx", f"{pg.RATE}变化")
    st.markdown("**整改事项**")
    drill(p.items, [pg.TITLE["city"], pg.STATUS, pg.LATE], state.board_table_key("rectify:items"), "整改事项.xlsx", "整改事项", pg.KINDS)
