"""The board's 抽查进度 tab: the draw in force per city (N, n, drawn how, inspected, returned for
correction, overdue, conclusions, usage), the drawn projects and, for the province, the estimates with
their 95% intervals — or why none is made yet — and the method's note (``lib.sampling.progress``).

Cheap per viewer like the other tabs: the sampling sheets are read at most once per SNAPSHOT_TTL seconds
per process, and the progress is computed once per change of them (or of the inspection form, whose
snapshot is the board's shared one) per day and scope.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd
import streamlit as st

from lib.campaign.board.figures import Board
from lib.campaign.board.preparation import change_counter
from lib.core.statuses import NOT_FILED, RETURNED
from lib.sampling import progress as pg
from lib.ui import context, locale, state

#: As the board's own (``lib.ui.board_data.SNAPSHOT_TTL``): a draw or an inspection shows within it.
SNAPSHOT_TTL = 2
#: The export format of the drawn projects' money column.
KINDS = {pg.heading("subsidy"): "money"}


@st.cache_resource(ttl=SNAPSHOT_TTL, show_spinner=False)
def _sampling_snapshots() -> tuple[tuple, dict[str, pd.DataFrame]]:
    """The draw records, drawn rows and frame rows, shared by all sessions, with their change counter."""
    store = context.store()
    frames = {sheet.form_id: store.snapshot(sheet.form_id) for sheet in pg.SHEETS}
    return change_counter(frames), frames


def counter() -> tuple:
    """The change counter of the sampling sheets (shared snapshot): what the open board watches."""
    return _sampling_snapshots()[0]


@st.cache_resource(max_entries=64, show_spinner=False)
def _progress(counter: tuple, setting_key: str, as_of: dt.date, cities: tuple[str, ...] | None, _setting: pg.Setting,
              _frames: dict[str, pd.DataFrame], _inspections: pd.DataFrame | None) -> pg.Progress:
    return pg.progress(_setting, _frames[pg.DRAWS.form_id], _frames[pg.DRAW_ROWS.form_id], _frames[pg.FRAME_ROWS.form_id],
                       _inspections, as_of, cities)


def current_progress(board: Board, forms: dict[str, pd.DataFrame]) -> pg.Progress:
    """The progress of the viewer's scope as of the board's day (``forms``: the board's shared snapshot
    of the bound forms); the province's has the estimates, a city's its own city's rows only."""
    setting = pg.Setting.of(context.catalog())
    inspections = forms.get(setting.binding.form) if setting.binding is not None else None
    counter, frames = _sampling_snapshots()
    counter = (counter, change_counter({"inspections": inspections}) if inspections is not None else ())
    cities = None if board.scope.kind == "all" else (board.scope.city,)
    return _progress(counter, repr(setting), board.as_of, cities, setting, frames, inspections)


def render(board: Board, forms: dict[str, pd.DataFrame], drill: Callable[..., pd.DataFrame]) -> None:
    """The tab, with the board's filter-down tables (``drill``: ``lib.ui.board.drill``)."""
    p = current_progress(board, forms)
    setting = p.setting
    if not p.inspections:
        st.info("本次检查活动没有现场检查记录表（活动配置未绑定 inspections）：只显示抽样情况，不统计检查进度和估计。")
    if p.draw_id is None:
        st.info("省厅尚未抽样：在“随机抽查”页面冻结抽样框并抽取项目后，这里显示各市抽查进度。")
        return
    when = ""
    if setting.deadline is not None:
        phase = f"（{setting.phase}阶段结束）" if setting.phase else ""
        when = f"　现场检查截止 {setting.deadline:%Y-%m-%d}{phase}，之后未检查的抽中项目记为{pg.OVERDUE}"
    st.caption(f"抽样编号 {p.draw_id}　范围：{board.scope.label}　截至 {board.as_of:%Y-%m-%d}{when}"
               f"　已检查按现有的现场检查记录统计（{'、'.join((*NOT_FILED, RETURNED))}不计）")
    shown = [pg.DRAWN, pg.INSPECTED, pg.OVERDUE]
    totals = p.cities[[*shown, pg.SENT_BACK]].sum() if len(p.cities) else pd.Series(0, index=[*shown, pg.SENT_BACK])
    for col, label in zip(st.columns(3), shown, strict=True):
        col.metric(label, f"{int(totals[label]):,}")
    if totals[pg.SENT_BACK]:
        st.info(f"{int(totals[pg.SENT_BACK]):,} 个抽中项目的现场检查记录已被省厅{RETURNED}：不计为已检查，其结论不计入统计和估计，"
                f"检查组修改后重新提交即计入（各市表中“{pg.SENT_BACK}”一列）。")
    if p.estimates:
        _estimates(p)
    if p.unmatched:
        st.warning(f"另有 {p.unmatched} 条现场检查记录（{'、'.join(NOT_FILED)}不计）的服务券编号不在本次抽中名单中，未计入。")
    st.markdown("**各市抽查进度**")
    if len(p.cities):
        st.bar_chart(p.cities.set_index(pg.CITY)[list(pg.STATES)], color=["#4c9f70", "#e0a030", "#9aa5b1", "#d64545"],
                     horizontal=True, stack=True)
    drill(p.cities, [pg.CITY], state.board_table_key("sampling:cities"), "抽查进度_各市.xlsx", "各市抽查进度")
    st.markdown("**抽中项目**")
    place, way = pg.heading("city"), pg.heading("selection")
    drill(p.projects, [place, way, "检查情况"], state.board_table_key("sampling:projects"), "抽中项目检查情况.xlsx", "抽中项目", KINDS)


def _estimates(p: pg.Progress) -> None:
    """The province-wide estimates, each with its interval and the number inspected (or why none is made
    yet: ``EstimateRow.reason``), what they cover, and the method's note."""
    st.markdown("**全省估计（由已检查的抽中项目推算）**")
    rows = pd.DataFrame([{"估计项": e.label, "估计（95% 置信区间）": e.text,
                          "依据的已检查项目数": e.estimate.n if e.estimate is not None else 0} for e in p.estimates])
    locale.table(rows, hide_index=True, width="stretch")
    if p.unreachable:
        st.caption(f"估计范围：抽样框中可能被抽中的项目。另有 {p.unreachable:,} 个项目所在地市的名额已被规则要求必抽的项目占满，"
                   "入样概率为 0，不在估计范围内。")
    st.caption(f"方法：{p.note}")
