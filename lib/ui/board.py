"""The boards' panels: the summary, one tab per figure, filter-down tables with their Excel exports.

What they draw comes from ``lib.ui.board_data`` (one board per scope and data change, shared by its
viewers; what a panel derives from it is computed once per board, ``memo``); the open page is drawn and
watched by ``lib.ui.board_live``; the charts are ``lib.ui.board_charts``.
"""

from __future__ import annotations

import datetime as dt

import altair as alt
import pandas as pd
import streamlit as st

from lib.campaign import archive
from lib.campaign.board import export, figures
from lib.campaign.board.scope import Scope
from lib.campaign.board.units import EXEMPT, OVERDUE, RETURNED_STATE
from lib.campaign.register import reconcile as rc
from lib.campaign.schedule import Calendar
from lib.core import roles
from lib.core.statuses import NOT_FILED
from lib.ui import board_charts as charts
from lib.ui import context, locale, rectification_board, sampling_board, state
from lib.ui.board_data import REFRESH_SECONDS, forwards_counter, memo, register_note, shared_frames
from lib.ui.contacts import contacts_box
from lib.ui.rows import xlsx_download

TABLE_HEIGHT = 320
#: Rows a filter-down table draws (a person narrows with the filters; the export has every row): the
#: browser gets a small table and the page does not pay for tens of thousands of rows on each draw.
#: The first rows with the count and the export, rather than pages with a picker: the filters are how
#: a person finds rows here, a page number means nothing in a table sorted by register order, and
#: each page turned would be one more rerun.
SHOWN_ROWS = locale.SHOWN_ROWS


def as_of_input() -> dt.date:
    """The campaign clock (setting campaign_today, else today); a viewer may look at another date."""
    default = context.settings().campaign_today or dt.date.today()
    return st.date_input("截至日期（活动时钟）", value=default, key=state.BOARD_AS_OF, format="YYYY-MM-DD",
                         help="看板按此日期当天结束时各记录的状态显示：此日期之后创建或提交的记录不计入，逾期按提交时间和此日期计算。")


# --- building blocks ---------------------------------------------------------------------------


def filter_options(frame: pd.DataFrame, column: str) -> list[str]:
    """The distinct values of ``column`` as text, sorted (the choices of a drill selectbox): pandas'
    ``unique`` on the column, then the few distinct values sorted, never a Python walk over every row.

    >>> filter_options(pd.DataFrame({"地市": ["乙", None, "甲", "乙"]}), "地市")
    ['乙', '甲']
    """
    if column not in frame:
        return []
    return sorted(frame[column].dropna().astype(str).unique().tolist())


def drill(frame: pd.DataFrame, columns: list[str], key: str, file_name: str, label: str = "明细",
          kinds: dict[str, str] | None = None) -> pd.DataFrame:
    """Selectboxes (one per column) that narrow ``frame``; the narrowed rows, with an Excel export
    (``kinds``: the kinds of columns named after a form's fields, ``Board.kinds``)."""
    picks = {}
    if columns:
        cols = st.columns(len(columns))
        for col, name in zip(cols, columns, strict=True):
            options = [figures.ALL, *memo(frame, ("options", name), lambda name=name: filter_options(frame, name))]
            picks[name] = col.selectbox(name, options, key=state.drill_filter_key(key, name))
    # narrowed and made ready to draw once per board and choice of filters, for every viewer and redraw
    rows = memo(frame, ("narrow", tuple(picks.items())), lambda: figures.narrow(frame, **picks))
    head = memo(rows, "head", lambda: rows.head(SHOWN_ROWS))
    more = f"（显示前 {SHOWN_ROWS:,} 行；全部行请导出为 Excel）" if len(rows) > SHOWN_ROWS else ""
    st.caption(f"{label}：{len(rows):,} 行" + "".join(f"　{k}={v}" for k, v in picks.items() if v != figures.ALL) + more)
    locale.table(head, displayed=memo(head, "displayed", lambda: locale.display(head)), hide_index=True,
                 height=min(TABLE_HEIGHT, 38 + 35 * len(rows)), width="stretch")
    xlsx_download("导出为 Excel", lambda: export.workbook({label: rows}, kinds), file_name=file_name, key=state.drill_export_key(key),
                  rows=len(rows))
    return rows



# --- the board ---------------------------------------------------------------------------------

#: The tabs by key; the key of the projects form's filers' tab is not its label (``tab_label``).
UNITS_TAB = "填报单位"
TABS = ("进度", UNITS_TAB, "逾期清单", "台账核对", "使用情况", "检查结论", "资金支出", "抽查进度", "整改进度", "时间轴")
#: The tabs about a provider's or a lead unit's own work (the others are about other units' forms).
OWN_TABS = {
    roles.PROVIDER: ("进度", "逾期清单", "台账核对", "使用情况", "时间轴"),
    roles.LEAD_UNIT: ("进度", "逾期清单", "资金支出", "时间轴"),
    roles.INSPECTOR: ("进度", "台账核对", "使用情况", "检查结论", "时间轴"),  # what it inspects: the sampled projects
}
#: How the board's texts name the viewer's scope.
WHOSE = {"all": "全省", roles.CITY: "本市", **dict.fromkeys(roles.ORG_ROLES, "本单位"), roles.INSPECTOR: "检查任务内"}


def tabs_for(scope: Scope) -> tuple[str, ...]:
    """The tabs a viewer of ``scope`` sees: all of them for the province and a city.

    >>> tabs_for(Scope("lead_unit"))
    ('进度', '逾期清单', '资金支出', '时间轴')
    """
    return OWN_TABS.get(scope.kind, TABS)


def tab_label(name: str, cal: Calendar) -> str:
    """What a tab is called: its key, but the filers' tab takes the name of the role that files the
    projects form (the campaign's ``roles:``)."""
    return cal.filer_of("projects") if name == UNITS_TAB else name


def summary(board: figures.Board) -> None:
    t = board.totals
    shown = [("应报", t["应报"]), ("已报", t["已报"]), ("未报", t["未报"]), ("逾期未报", t["逾期未报"]), (RETURNED_STATE, t[RETURNED_STATE])]
    if t.get("免报"):
        shown.append(("免报", t["免报"]))
    if "台账核对" in tabs_for(board.scope):
        shown.append(("台账核对问题", t["核对问题"]))
    for col, (label, value) in zip(st.columns(len(shown)), shown, strict=True):
        col.metric(label, f"{value:,}")
    whose = WHOSE.get(board.scope.kind, "")
    if t.get("台账外"):
        where = "" if board.scope.kind == "all" else whose
        see = "；见“台账核对”" if "台账核对" in tabs_for(board.scope) else ""
        st.caption(f"已报 {t['已报']:,} 条中有 {t['台账外']:,} 条不在{where}台账中（台账未列出，或列在其他单位名下{see}），"
                   f"不计入应报：应报 {t['应报']:,} ＝ 台账内已报 {t['已报'] - t['台账外']:,} ＋ 未报 {t['未报']:,}。")
    if t.get("免报"):
        st.caption(f"另有 {t['免报']:,} 项按通知无需报送（{EXEMPT}），不计入应报，也不会逾期。")
    if t.get("截至日期后创建"):
        st.info(f"{whose}有 {t['截至日期后创建']:,} 条记录创建于 {board.as_of:%Y-%m-%d} 之后，按活动时钟未计入。")
    st.caption(register_note(board.as_of))
    phase = f"　当前阶段：{board.current_phase}" if board.current_phase else ""
    st.caption(f"范围：{board.scope.label}　截至 {board.as_of:%Y-%m-%d}{phase}　页面可见时每 {REFRESH_SECONDS} 秒自动刷新"
               f"　{'、'.join(NOT_FILED)}不计入已报")


def render_board(board: figures.Board, cal: Calendar) -> None:
    """Summary metrics and one tab per figure the viewer's scope has; only the open tab is built."""
    summary(board)
    names = tabs_for(board.scope)
    tabs = st.tabs([tab_label(n, cal) for n in names], key=state.BOARD_TAB, on_change="rerun")
    for name, tab in zip(names, tabs, strict=True):
        if tab.open is not False:
            with tab:
                PANELS[name](board, cal)


def progress_tab(board: figures.Board, cal: Calendar) -> None:
    titles = [cal.title(f) for f in cal.forms if f in cal.titles and (board.progress["表单"] == cal.title(f)).any()]
    if not titles:
        st.info("没有需要显示的表单。")
        return
    form = st.selectbox("表单", titles, key=state.BOARD_PROGRESS_FORM)
    data = memo(board, ("state_counts", form), lambda: figures.state_counts(board, form))
    if data.empty:
        st.info("该表单在当前范围内没有应报或已报项目（台账尚未导入时，应报为 0）。")
    else:  # the chart once per board (altair's encoding is dear), drawn by each viewer
        charts.show(memo(board, ("chart", form), lambda: charts.stacked(data, "地市", "状态", "数量", charts.STATE_COLORS)))
    st.markdown("**地市 × 表单进度**")
    drill(board.progress, ["地市", "表单"], state.board_table_key("progress:table"), "进度_地市表单.xlsx", "进度")
    archive_forwarding(board)
    st.markdown("**明细（台账项目与报送记录）**")
    drill(board.units, ["地市", "表单", "状态"], state.board_table_key("progress:units"), "进度明细.xlsx", "进度明细")


def archive_forwarding(board: figures.Board) -> None:
    """报告汇总 (``lib.campaign.archive``): whether each city confirmed its archive forwarded, on a board of
    cities (the province's: every city; a city bureau's: its own), as it stood at the end of the board's day
    (a later confirmation does not count; one after the deadline reads 逾期报送)."""
    catalog = context.catalog()
    cities = {"all": list(catalog.campaign.cities), roles.CITY: [board.scope.city]}.get(board.scope.kind)
    if catalog.campaign.office.archive is None or not cities:
        return
    st.markdown("**报告汇总报送情况**")
    locale.table(_forwarding(forwards_counter(), tuple(cities), board.as_of), hide_index=True, width="stretch")


@st.cache_resource(max_entries=64, show_spinner=False)
def _forwarding(counter: tuple, cities: tuple[str, ...], as_of: dt.date) -> pd.DataFrame:
    """报告汇总's table of ``cities`` as of a day, once per change of the confirmations (it reads their audit)."""
    found = archive.states(context.store(), context.catalog(), list(cities), as_of, as_of=True)
    return archive.state_table(found, counted=False)


def providers_tab(board: figures.Board, cal: Calendar) -> None:
    provider = cal.filer_of("projects")
    top = board.providers.head(25)
    if not top.empty:
        long = top.melt(id_vars=provider, value_vars=["已报送", "未报送"], var_name="状态", value_name="项目数")
        charts.show(charts.stacked(long, provider, "状态", "项目数", {"已报送": "#4c9f70", "未报送": "#d64545"}))
        st.caption(f"按未报送项目数排序的前 25 家{provider}")
    drill(board.providers, [provider], state.board_table_key("providers"), f"{provider}完成情况.xlsx", f"{provider}完成情况")


def late_tab(board: figures.Board, cal: Calendar) -> None:
    if board.scope.kind != "all":  # the province's office is whom the late units call
        contacts_box(context.catalog().campaign.contacts, title="有疑问请联系", note="逾期或无法按时报送的，请先与以下联系人沟通。")
    if board.late.empty:
        st.success(f"截至 {board.as_of:%Y-%m-%d} 没有逾期的单位。")
        return
    drill(board.late, ["角色", "表单"], state.board_table_key("late"), "逾期清单.xlsx", "逾期清单")
    st.markdown("**逾期明细（每个项目一行）**")
    late_units = memo(board, "late_units", lambda: board.units[
        board.units["状态"].isin((OVERDUE, RETURNED_STATE)) | (board.units["逾期"] == True)])  # noqa: E712
    drill(late_units, ["表单", "地市", "状态"], state.board_table_key("late:units"), "逾期明细.xlsx", "逾期明细")


def conflict_columns(cal: Calendar) -> list[str]:
    """The columns of the conflicts table, the filers' named as the campaign names their role."""
    named = rc.issue_headers(cal.filer_of("projects"))
    return ["服务券编号", named[rc.FILED_UNIT], named[rc.REGISTER_UNIT], "填报地市", "台账地市", "企业名称", "填报奖补金额",
            "台账奖补金额", "记录编号", "填报账号"]


def conflicts(board: figures.Board, cal: Calendar) -> None:
    """For the province: the vouchers a provider reported that the register gives another provider."""
    rows = board.issues[board.issues["问题类型"] == rc.PROVIDER]
    if rows.empty:
        return
    provider, shown = cal.filer_of("projects"), conflict_columns(cal)
    st.markdown(f"**待核定：{rc.PROVIDER}（{len(rows)} 条）**")
    st.caption(f"以下记录所填服务券编号在台账中属于另一家{provider}。该记录不计入台账所列{provider}的进度，"
               "填报单位也看不到台账信息。请核实后通知填报单位更正服务券编号，或更正台账。")
    locale.table(rows[shown], hide_index=True, width="stretch")
    xlsx_download("导出待核定清单", lambda: export.workbook({"待核定": rows[shown]}), file_name="服务券归属待核定.xlsx",
                  key=state.BOARD_CONFLICTS_EXPORT)


def reconcile_tab(board: figures.Board, cal: Calendar) -> None:
    issues = board.issues
    if issues.empty:
        st.info("台账核对没有发现问题（或尚未导入服务券兑现清单）。")
        return
    if board.scope.kind == "all":
        conflicts(board, cal)
    long = board.issues_by_city.melt(id_vars="地市", value_vars=list(rc.ISSUE_TYPES), var_name="问题类型", value_name="数量")
    long = long[long["数量"] > 0]
    palette = dict(zip(rc.ISSUE_TYPES, ("#d64545", "#f08c3a", "#e0a526", "#8e6bbf", "#4c78a8", "#72b7b2", "#9aa5b1"), strict=True))
    charts.show(charts.stacked(long, "地市", "问题类型", "数量", palette))
    left, right = st.columns(2)
    provider = cal.filer_of("projects")
    left.markdown(f"**按{provider}**")
    with left:
        locale.table(board.issues_by_provider, hide_index=True, height=240)
    right.markdown("**按地市**")
    with right:
        locale.table(board.issues_by_city, hide_index=True, height=240)
    drill(issues, ["问题类型", "地市", provider], state.board_table_key("issues"), "台账核对问题.xlsx", "核对问题")


def usage_tab(board: figures.Board, cal: Calendar) -> None:
    if board.usage_by_city.empty:
        st.info(f"{WHOSE.get(board.scope.kind, '')}还没有已报送的{cal.title(cal.form_id('projects'))}记录。")
        return
    charts.show(charts.stacked(board.usage_by_city, "地市", "使用状态", "项目数", charts.usage_colors(cal), normalize=True))
    provider = cal.filer_of("projects")
    with st.expander(f"按{provider}"):
        wide = board.usage_by_provider.pivot_table(index=provider, columns="使用状态", values="项目数", fill_value=0, observed=True)
        locale.table(wide.reset_index(), hide_index=True, height=TABLE_HEIGHT)
    drill(board.project_rows, ["地市", provider, "使用状态"], state.board_table_key("usage"), f"{cal.title(cal.form_id('projects'))}使用情况.xlsx",
          f"{cal.title(cal.form_id('projects'))}记录", board.kinds)


def conclusions_tab(board: figures.Board, cal: Calendar) -> None:
    if board.conclusions.empty:
        st.info(f"{WHOSE.get(board.scope.kind, '')}还没有已报送的{cal.title(cal.form_id('checks'))}记录。")
        return
    charts.show(charts.stacked(board.conclusions, "地市", "检查结论", "项目数", charts.conclusion_colors(cal)))
    drill(board.check_rows, ["地市", "检查方式", "检查结论"], state.board_table_key("conclusions"), f"{cal.title(cal.form_id('checks'))}检查结论.xlsx",
          f"{cal.title(cal.form_id('checks'))}记录", board.kinds)


def spending_tab(board: figures.Board, cal: Calendar) -> None:
    if board.spending.empty:
        st.info(f"{WHOSE.get(board.scope.kind, '')}还没有已报送的{cal.title(cal.form_id('benchmarks'))}报告。")
        return
    bins = board.spending_bins[board.spending_bins["报告数"] > 0]
    chart = alt.Chart(bins).mark_bar(color="#4c78a8").encode(
        x=alt.X("支出区间:N", sort=list(bins["支出区间"]), title="资金支出比例"), y=alt.Y("报告数:Q"),
        tooltip=["支出区间", "报告数"],
    ).properties(height=240)
    charts.show(chart)
    drill(board.spending, ["地市", "支出区间", "建设状态"], state.board_table_key("spending"), f"{cal.title(cal.form_id('benchmarks'))}资金支出.xlsx",
          f"{cal.title(cal.form_id('benchmarks'))}报告", board.kinds)


def timeline_tab(board: figures.Board, cal: Calendar) -> None:
    phases = board.phases.assign(开始=lambda f: pd.to_datetime(f["开始"]), 结束=lambda f: pd.to_datetime(f["结束"]) + pd.Timedelta(days=1))
    bars = alt.Chart(phases).mark_bar(cornerRadius=3).encode(
        x=alt.X("开始:T", title=None, axis=alt.Axis(format="%m-%d")), x2="结束:T", y=alt.Y("阶段:N", sort=list(phases["阶段"]), title=None),
        color=alt.Color("状态:N", scale=alt.Scale(domain=["已结束", "进行中", "未开始"], range=["#b8c4ce", "#4c78a8", "#dde5ec"])),
        tooltip=["阶段", alt.Tooltip("开始:T", format="%Y-%m-%d"), "状态"],
    )
    deadlines = pd.DataFrame([{"表单": cal.title(f), "截止日期": pd.Timestamp(d) + pd.Timedelta(hours=23)} for f, d in cal.deadlines.items()])
    marks = alt.Chart(deadlines).mark_tick(color="#d64545", thickness=2, size=30).encode(
        x="截止日期:T", tooltip=["表单", alt.Tooltip("截止日期:T", format="%Y-%m-%d")])
    today = alt.Chart(pd.DataFrame({"今天": [pd.Timestamp(board.as_of) + pd.Timedelta(hours=12)]})).mark_rule(
        color="#111111", strokeDash=[4, 3], size=2).encode(x="今天:T", tooltip=[alt.Tooltip("今天:T", format="%Y-%m-%d")])
    charts.show((bars + marks + today).properties(height=160))
    st.caption(f"虚线：截至日期 {board.as_of:%Y-%m-%d}；红色刻度：各表单截止日期")
    locale.table(board.phases, hide_index=True)
    locale.table(pd.DataFrame([{"表单": cal.title(f), "截止日期": d} for f, d in cal.deadlines.items()]), hide_index=True)


def sampling_tab(board: figures.Board, cal: Calendar) -> None:
    """抽查进度 (``lib.ui.sampling_board``) on this board's shared snapshot, with its filter-down tables."""
    sampling_board.render(board, shared_frames(), drill)


def rectification_tab(board: figures.Board, cal: Calendar) -> None:
    """整改进度 (``lib.ui.rectification_board``), with the board's filter-down tables."""
    rectification_board.render(board, drill)


PANELS = {"进度": progress_tab, UNITS_TAB: providers_tab, "逾期清单": late_tab, "台账核对": reconcile_tab, "使用情况": usage_tab,
          "检查结论": conclusions_tab, "资金支出": spending_tab, "抽查进度": sampling_tab, "整改进度": rectification_tab,
          "时间轴": timeline_tab}
