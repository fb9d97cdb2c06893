"""The sampling page's sections (随机抽查): the frame as the data stand and its freeze, the draw with a
published or generated seed, redraws with a reason, the inspector draw (双随机: groups to the sampled
cities, with 回避) and the check of a draw — all through lib.sampling.

Each action runs in its button's callback and leaves its outcome (plain text) under its own key, shown in
its section until the next action; the callback can then empty the seed and reason fields before they are
drawn. What the page shows of a draw is what the store recorded (its rows, seed and status), not a draw
made again for the screen: 核验 is the one place that draws again.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from lib.auth.accounts import CONFLICT_HELP
from lib.auth.policy import SAMPLE, can
from lib.core import roles
from lib.core.errors import AppError
from lib.core.records import Actor, Record
from lib.core.values import wall_time
from lib.office.excel import to_xlsx
from lib.sampling import assignments as asg
from lib.sampling import record as rec
from lib.sampling.draw import city_size
from lib.sampling.frame import Frame, FrameError
from lib.sampling.parties import Known, places, unmatched_conflicts
from lib.sampling.verify import verify, verify_inspectors
from lib.store.base import SheetSpec
from lib.ui import board, complaints, context, errors, state
from lib.ui.rows import xlsx_download

#: The drawn list's headers: the titles of the sheet that records it.
LABELS = {c.key: c.label for c in rec.DRAW_ROWS.columns}
#: The inspector draw's widget keys. They belong beside the other SAMPLING_* keys in lib/ui/state.py
#: (requested of its owner); until they move, they are named once, here.
INSPECTORS_SEED = "sampling:inspectors:seed"  # the seed typed (or generated and shown)
INSPECTORS_SEED_GENERATE = "sampling:inspectors:seed_generate"  # 系统生成随机数
INSPECTORS_SEED_GENERATED = "sampling:inspectors:seed_generated"  # the seed the system generated, while unchanged
INSPECTORS_REASON = "sampling:inspectors:reason"  # the reason of a redraw
INSPECTORS_DRAW = "sampling:inspectors:draw"  # 抽取检查员 / 重新抽取检查员
INSPECTORS_VERIFY_PICK = "sampling:inspectors:verify_pick"  # which inspector draw 核验 checks
INSPECTORS_VERIFY = "sampling:inspectors:verify"  # 核验 of an inspector draw


def samplers() -> str:
    """Who may freeze and draw (the policy's SAMPLE), as the served campaign names those roles."""
    names = context.catalog().campaign.roles
    return "、".join(names[role] for role in roles.ALL if can(Actor("", role), SAMPLE))


def ratio_text(ratio: float) -> str:
    """A ratio as a percentage, as written (0.2 is 20%, 0.333 is 33.3%).

    >>> ratio_text(0.2), ratio_text(0.333)
    ('20%', '33.3%')
    """
    return f"{round(ratio * 100, 6):g}%"


def _when(moment) -> str:
    return f"{wall_time(moment):%Y-%m-%d %H:%M:%S}"


def _outcome(step: str, kind: str, *lines: str) -> None:
    st.session_state[state.sampling_outcome_key(step)] = {"kind": kind, "lines": list(lines)}


def _show_outcome(step: str) -> None:
    said = st.session_state.get(state.sampling_outcome_key(step))
    if said:
        {"success": st.success, "error": st.error, "info": st.info}[said["kind"]]("\n\n".join(said["lines"]))


def _titled(sheet: SheetSpec, values: dict, skip: tuple[str, ...] = ()) -> dict:
    """A stored row's values under its sheet's Chinese column titles; a list read as one text."""
    out = {}
    for column in sheet.columns:
        if column.key in skip:
            continue
        value = values.get(column.key)
        out[column.label] = "、".join(map(str, value)) if isinstance(value, list | tuple) else value
    return out


# 一、抽样框
def city_table(frame: Frame) -> pd.DataFrame:
    """Per city: its projects, the fewest a draw inspects there, and how many meet each priority rule;
    a last row 合计."""
    rows = frame.rows
    rules = frame.sampling.priority_rules
    table = pd.DataFrame({"地市": sorted(set(rows["city"]))})
    grouped = rows.groupby("city")
    table["项目数"] = [int(grouped.size()[c]) for c in table["地市"]]
    table["最少抽查数"] = [city_size(frame.sampling.ratio, n) for n in table["项目数"]]
    for rule in rules:
        table[rule.name] = [int(grouped[rule.key].sum()[c]) for c in table["地市"]]
    total = {"地市": "合计", **{c: int(table[c].sum()) for c in table.columns[1:]}}
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)


def _frame_values(frame_id: str) -> dict:
    """The frozen frame's record (its source, fingerprint …)."""
    try:
        return rec.frame_record(context.store(), frame_id).values
    except rec.FrameNotFound:
        return {}


def _ask_freeze() -> None:
    st.session_state[state.SAMPLING_FREEZE_ASKED] = True
    st.session_state.pop(state.sampling_outcome_key("freeze"), None)


def _cancel_freeze() -> None:
    st.session_state[state.SAMPLING_FREEZE_ASKED] = False


def _freeze(actor: Actor) -> None:
    st.session_state[state.SAMPLING_FREEZE_ASKED] = False
    st.session_state.pop(state.sampling_outcome_key("draw"), None)  # said of the frame before
    try:
        info, _ = rec.freeze(context.store(), context.catalog(), actor)
    except AppError as exc:  # nothing was written
        _outcome("freeze", "error", str(exc))
        return
    _outcome("freeze", "success", f"已冻结抽样框 {info.frame_id}：{info.rows} 个项目。现在可以填写随机数种子并抽取样本。")


def frame_section(actor: Actor) -> rec.FrameInfo | None:
    """一、抽样框: the frame as the data stand now (per city), 冻结抽样框 with a confirmation, and the
    frozen frame's record with its download. Returns the newest frozen frame (None before the first)."""
    st.subheader("一、抽样框")
    catalog = context.catalog()
    sampling = catalog.campaign.sampling
    st.caption(f"项目来源：{rec.SOURCE_WORDS[sampling.frame]}。每个地市至少抽查 {ratio_text(sampling.ratio)}（向上取整，至少 1 个）。")
    complaints.complaints_panel(actor)  # before the frame below: the complaints imported count in it
    try:
        current = rec.current_frame(context.store(), catalog)
    except FrameError as exc:
        current = None
        st.info(str(exc))
    if current is not None:
        st.markdown(f"**按当前数据，抽样框共 {len(current.rows)} 个项目**（各市项目数与符合各优先规则的项目数）：")
        st.dataframe(city_table(current), hide_index=True, height=board.TABLE_HEIGHT)
        complaints.unmatched_section(current)
        if not st.session_state.get(state.SAMPLING_FREEZE_ASKED):
            st.button("冻结抽样框", key=state.SAMPLING_FREEZE, type="primary", on_click=errors.guarded(_ask_freeze))
        else:
            st.warning(f"冻结后，将以此时的 {len(current.rows)} 个项目作为抽样框并记录其指纹（SHA-256），此后的抽样都在这个抽样框上进行。确认冻结？")
            yes, no = st.columns(2)
            yes.button("确认冻结", key=state.SAMPLING_FREEZE_YES, type="primary", on_click=errors.guarded(_freeze), args=(actor,))
            no.button("取消", key=state.SAMPLING_FREEZE_NO, on_click=errors.guarded(_cancel_freeze))
    _show_outcome("freeze")
    frozen = rec.latest_frame(context.store())
    if frozen is None:
        st.info("尚未冻结抽样框：冻结后才能抽取样本。")
        return None
    values = _frame_values(frozen.frame_id)
    st.markdown(f"**已冻结的抽样框：{frozen.frame_id}**")
    st.dataframe(pd.DataFrame({"项目": ["抽样框编号", "项目数", "抽样框指纹（SHA-256）", "冻结账号", "冻结时间", "项目来源"],
                               "内容": [frozen.frame_id, str(frozen.rows), frozen.fingerprint, frozen.frozen_by,
                                        _when(frozen.frozen_at), str(values.get("source", ""))]}), hide_index=True)
    if current is not None and (current.fingerprint, current.campaign_version) != (frozen.fingerprint, frozen.campaign_version):
        st.info("冻结之后，当前数据或抽查规则已有变化，与已冻结的抽样框不同。如需按当前数据抽样，请重新冻结抽样框。")
    xlsx_download("下载抽样框（.xlsx，用于公示）", lambda: rec.frame_workbook(context.store(), frozen.frame_id),
                  file_name=f"抽样框_{frozen.frame_id}.xlsx", key=state.SAMPLING_FRAME_EXPORT)
    return frozen


# 二、抽取样本
def _generated(target: Record, what: str) -> None:
    """How many seeds were generated for draws on ``target`` (each one audited), when any."""
    n = rec.seeds_generated(context.store(), target)
    if n:
        st.caption(f"{what}已生成 {n} 次随机数（每次生成都记入审计日志，含未用于抽取的）。")


def _generate_seed(actor: Actor, frame_id: str) -> None:
    store = context.store()
    seed = str(rec.generate_seed(store, actor, rec.frame_record(store, frame_id), f"为抽样框 {frame_id} 生成"))
    st.session_state[state.SAMPLING_SEED] = seed
    st.session_state[state.SAMPLING_SEED_GENERATED] = seed


def _draw(actor: Actor, frame_id: str) -> None:
    typed = st.session_state.get(state.SAMPLING_SEED) or ""
    generated = bool(typed) and typed == st.session_state.get(state.SAMPLING_SEED_GENERATED)
    try:
        done = rec.record_draw(context.store(), context.catalog(), frame_id, typed, actor,
                               reason=st.session_state.get(state.SAMPLING_REASON) or "", generated=generated)
    except AppError as exc:  # a bad seed, a missing reason, a frame changed since: nothing was written
        _outcome("draw", "error", str(exc))
        return
    for key in (state.SAMPLING_SEED, state.SAMPLING_REASON, state.SAMPLING_SEED_GENERATED):
        st.session_state.pop(key, None)
    replaced = f"原抽样结果 {'、'.join(done.superseded)} 已标记为“{rec.DRAW_SUPERSEDED}”。" if done.superseded else ""
    _outcome("draw", "success", f"已抽取样本 {done.draw_id}：随机数种子 {done.sample.seed}，抽中 {len(done.sample.drawn)} 个项目。{replaced}")


def drawn_table(rows: list[dict]) -> pd.DataFrame:
    """The drawn projects as recorded, under the sheet's Chinese titles."""
    return pd.DataFrame([_titled(rec.DRAW_ROWS, r, skip=("draw_id",)) for r in rows],
                        columns=[c.label for c in rec.DRAW_ROWS.columns if c.key != "draw_id"])


def draw_cities(frame: Frame, ratio: float, rows: list[dict]) -> pd.DataFrame:
    """Per city of the frame: N, the minimum n the ratio gives, how many were drawn, and by which way."""
    population = frame.rows.groupby("city").size()
    drawn = pd.DataFrame(rows, columns=["city", "selection"])
    table = pd.DataFrame({"地市": list(population.index), "项目数 N": [int(n) for n in population],
                          "最少抽查数 n": [city_size(ratio, int(n)) for n in population]})
    table["抽中"] = [int((drawn["city"] == c).sum()) for c in table["地市"]]
    for word in rec.SELECTION_WORDS.values():
        table[word] = [int(((drawn["city"] == c) & (drawn["selection"] == word)).sum()) for c in table["地市"]]
    return table


def _about(draw: Record) -> pd.DataFrame:
    v = draw.values
    frame = _frame_values(str(v.get("frame_id")))
    facts = {"抽样编号": v.get("draw_id"), "抽样框编号": v.get("frame_id"), "抽样框指纹（SHA-256）": frame.get("fingerprint", ""),
             "随机数种子": v.get("seed"), "种子来源": v.get("seed_source"), "抽样算法版本": v.get("algorithm_version"),
             "抽查比例": ratio_text(float(v.get("ratio") or 0)), "抽中项目数": v.get("drawn"), "状态": draw.status,
             "重新抽样原因": v.get("reason") or "", "抽样账号": draw.owner, "抽样时间": _when(draw.created_at)}
    return pd.DataFrame({"项目": list(facts), "内容": [str(x) for x in facts.values()]})


def draw_section(actor: Actor, frozen: rec.FrameInfo | None) -> None:
    """二、抽取样本: the seed (typed, or generated and shown before drawing), 抽取 or 重新抽取 (with its
    reason), and the draw in force: per city N, n and how drawn, each project with its π and rules."""
    st.subheader("二、抽取样本")
    if frozen is None:
        st.info("请先冻结抽样框，再填写随机数种子抽取样本。")
        return
    in_force = rec.active_draws(context.store())
    st.caption("随机数种子请在冻结抽样框之后确定：填写公开公布的随机数（非负整数），或由系统生成（生成后显示在此，并随抽样结果记录）。"
               "同一抽样框、同一抽查规则和同一种子，抽中的名单总是相同。")
    seed_at, make_at = st.columns([3, 1], vertical_alignment="bottom")
    seed_at.text_input("随机数种子", key=state.SAMPLING_SEED, max_chars=60, placeholder="公布的随机数，例如 83721954")
    make_at.button("系统生成随机数", key=state.SAMPLING_SEED_GENERATE, on_click=errors.guarded(_generate_seed),
                   args=(actor, frozen.frame_id))
    _generated(rec.frame_record(context.store(), frozen.frame_id), "本抽样框")
    if in_force:
        st.text_area("重新抽样原因（必填）", key=state.SAMPLING_REASON, max_chars=500,
                     help="已有有效的抽样结果：重新抽取会记录新的抽样，原结果保留并标记为已被替换。")
    st.button("重新抽取" if in_force else "抽取", key=state.SAMPLING_DRAW, type="primary", on_click=errors.guarded(_draw),
              args=(actor, frozen.frame_id))
    _show_outcome("draw")
    if not in_force:
        return
    draw = in_force[-1]
    v = draw.values
    rows = rec.draw_rows(context.store(), str(v.get("draw_id")))
    st.markdown(f"**现行抽样结果：{v.get('draw_id')}**（抽样框 {v.get('frame_id')}，随机数种子 {v.get('seed')}（{v.get('seed_source')}），"
                f"{draw.owner} 于 {_when(draw.created_at)} 抽取，共 {len(rows)} 个项目）")
    try:
        st.dataframe(draw_cities(rec.load_frame(context.store(), str(v.get("frame_id"))), float(v.get("ratio") or 0), rows),
                     hide_index=True)
    except AppError as exc:  # the stored frame cannot make a frame any more (changed after the freeze): say so, go on
        st.warning(f"无法按地市汇总：{exc} 抽样框冻结后可能被修改过，请在下方“核验”本次抽样。")
    table = drawn_table(rows)
    st.dataframe(table, hide_index=True, height=board.TABLE_HEIGHT, column_config={LABELS["probability"]: st.column_config.NumberColumn(format="%.4f")})
    xlsx_download("下载抽中名单（.xlsx）", lambda: _sample_workbook(draw, table), file_name=f"抽中名单_{v.get('draw_id')}.xlsx",
                  key=state.SAMPLING_SAMPLE_EXPORT)


def _sample_workbook(draw: Record, table: pd.DataFrame) -> bytes:
    return to_xlsx({"抽中项目": table, "说明": _about(draw)}, kinds={"抽中项目": {LABELS["subsidy"]: "money"}})


# 三、抽取检查员
def draw_day() -> dt.date:
    """The day the health declarations are judged on: the campaign clock, else today."""
    return context.settings().campaign_today or dt.date.today()


def _generate_inspector_seed(actor: Actor, draw: Record) -> None:
    seed = str(rec.generate_seed(context.store(), actor, draw, f"为项目抽样 {draw.values.get('draw_id')} 的检查员抽取生成"))
    st.session_state[INSPECTORS_SEED] = seed
    st.session_state[INSPECTORS_SEED_GENERATED] = seed


def _draw_inspectors(actor: Actor) -> None:
    typed = st.session_state.get(INSPECTORS_SEED) or ""
    generated = bool(typed) and typed == st.session_state.get(INSPECTORS_SEED_GENERATED)
    try:
        done = asg.draw_inspectors(context.store(), context.catalog(), context.accounts().all(), typed, actor, day=draw_day(),
                                   reason=st.session_state.get(INSPECTORS_REASON) or "", generated=generated)
    except AppError as exc:  # a bad seed, a missing reason, a city the pool cannot serve (named): nothing was written
        _outcome("inspectors", "error", str(exc))
        return
    for key in (INSPECTORS_SEED, INSPECTORS_REASON, INSPECTORS_SEED_GENERATED):
        st.session_state.pop(key, None)
    replaced = f"原检查员抽取结果 {'、'.join(done.superseded)} 已标记为“{rec.DRAW_SUPERSEDED}”。" if done.superseded else ""
    _outcome("inspectors", "success", f"已抽取检查员 {done.assignment_id}：随机数种子 {done.assignment.seed}，"
                                      f"{len(done.assignment.groups)} 个检查组分派到抽中项目的地市。{replaced}")


def unmatched_section() -> None:
    """Before a draw: the inspectors' declared conflicts that name no organisation of the registers
    and forms (``parties.unmatched_conflicts``), which would keep nobody away — most likely a typo."""
    catalog = context.catalog()
    found = unmatched_conflicts(context.accounts().all(), Known.of(context.store(), catalog), places(catalog))
    if not found:
        return
    st.warning(f"有 {len(found)} 个申报的回避单位与服务券台账、标杆项目清单和各填报表中的任何单位名称或统一社会信用代码都对不上"
               "（比较时不计空格、全半角、开头的省市名和末尾的有限公司等组织形式）：可能有笔误，对不上的名称不会使任何检查员回避。"
               "请核对后在检查员账号中更正，再抽取检查员。")
    st.dataframe(pd.DataFrame([{"检查员账号": u.account, "检查员": u.name, "回避类别": u.kind, "申报的名称": u.declared} for u in found]),
                 hide_index=True)


def groups_table(store, current: asg.AssignmentInfo) -> pd.DataFrame:
    """Per city of the inspector draw in force: its group's members (name and account), as recorded."""
    names = {str(r.values.get("account")): str(r.values.get("name") or "") for r in store.records(asg.MEMBERS.form_id)
             if r.values.get("assignment_id") == current.assignment_id}
    return pd.DataFrame([{"检查地市": g.city, "检查员": "、".join(names.get(m) or m for m in g.members), "检查员账号": "、".join(g.members)}
                         for g in current.assignment.groups], columns=["检查地市", "检查员", "检查员账号"])


def inspectors_section(actor: Actor) -> None:
    """三、抽取检查员: for the project draw in force, the seed (typed, or generated and shown), 抽取检查员
    or 重新抽取检查员 (with its reason), and the groups in force per city."""
    st.subheader("三、抽取检查员")
    store = context.store()
    if not rec.active_draws(store):
        st.info("请先抽取项目样本，再抽取检查员。")
        return
    size = context.catalog().campaign.sampling.inspector_group_size
    st.caption(f"每个抽中项目的地市随机分派一个 {size} 人检查组。不分派到检查员本人所在地市或所在单位的地市，不分派到抽中项目涉及其申报回避单位的地市，"
               f"健康申报须在 {draw_day():%Y-%m-%d} 前 14 天内。随机数种子在项目抽取之后确定，随结果记录。",
               help=f"回避单位按名称或统一社会信用代码比对（抽中项目的企业、服务商，以及牵头单位就是该企业的标杆项目牵头单位）：{CONFLICT_HELP}。")
    try:
        current, broken = asg.current_assignment(store), None
        if current is not None:
            asg.assignments_in_force(store, context.catalog())  # what inspectors are given: refused when tampered with
    except asg.AssignmentChanged as exc:  # shown, and the rest of the page (核验 included) still drawn
        current, broken = None, exc
        st.error(str(exc))
    unmatched_section()
    draw = rec.active_draws(store)[-1]
    seed_at, make_at = st.columns([3, 1], vertical_alignment="bottom")
    seed_at.text_input("检查员抽取随机数种子", key=INSPECTORS_SEED, max_chars=60, placeholder="公布的随机数，例如 51937406")
    make_at.button("系统生成随机数", key=INSPECTORS_SEED_GENERATE, on_click=errors.guarded(_generate_inspector_seed),
                   args=(actor, draw))
    _generated(draw, f"为项目抽样 {draw.values.get('draw_id')} 抽取检查员")
    if current is not None or broken is not None:
        st.text_area("重新抽取检查员原因（必填）", key=INSPECTORS_REASON, max_chars=500,
                     help="已有有效的检查员抽取结果：重新抽取会记录新的结果，原结果保留并标记为已被替换。")
    st.button("重新抽取检查员" if current is not None or broken is not None else "抽取检查员", key=INSPECTORS_DRAW, type="primary",
              on_click=errors.guarded(_draw_inspectors), args=(actor,))
    _show_outcome("inspectors")
    if current is None:
        return
    a = current.assignment
    st.markdown(f"**现行检查员分派：{current.assignment_id}**（项目抽样 {current.draw_id}，随机数种子 {a.seed}"
                f"（{rec.SEED_WORDS[current.generated_seed]}），健康申报按 {a.day:%Y-%m-%d} 判断，每组 {a.group_size} 人，"
                f"{current.drawn_by} 于 {_when(current.drawn_at)} 抽取）")
    st.dataframe(groups_table(store, current), hide_index=True)


# 四、抽样记录与核验
def history_table(draws: list[Record]) -> pd.DataFrame:
    """Every recorded draw, newest first: its record, status (有效 / 已被替换, and by which), who and when."""
    out = []
    for draw in sorted(draws, key=lambda r: r.created_at, reverse=True):
        out.append({**_titled(rec.DRAWS, draw.values), "状态": draw.status, "抽样账号": draw.owner, "抽样时间": _when(draw.created_at)})
    return pd.DataFrame(out)


def _verify() -> None:
    draw_id = st.session_state.get(state.SAMPLING_VERIFY_PICK)
    try:
        found = verify(context.store(), str(draw_id))
    except AppError as exc:
        _outcome("verify", "error", str(exc))
        return
    _outcome("verify", "success" if found.ok else "error", *found.lines())


def _verify_inspectors() -> None:
    try:
        found = verify_inspectors(context.store(), str(st.session_state.get(INSPECTORS_VERIFY_PICK)))
    except AppError as exc:
        _outcome("verify_inspectors", "error", str(exc))
        return
    _outcome("verify_inspectors", "success" if found.ok else "error", *found.lines())


def verify_section() -> None:
    """四、抽样记录与核验: every draw (a redraw's old one marked 已被替换), and 核验 of any of them."""
    st.subheader("四、抽样记录与核验")
    draws = context.store().records(rec.DRAWS.form_id)
    if not draws:
        st.info("尚无抽样记录。")
        return
    history = history_table(draws)
    st.dataframe(history, hide_index=True)
    ids = [str(i) for i in history[next(c.label for c in rec.DRAWS.columns if c.key == "draw_id")]]
    st.selectbox("核验哪一次抽样", ids, key=state.SAMPLING_VERIFY_PICK,
                 help="按记录的抽样框和随机数种子重新抽样，与记录的名单逐项核对（同 python -m lib.sampling verify）。")
    st.button("核验", key=state.SAMPLING_VERIFY, on_click=errors.guarded(_verify))
    _show_outcome("verify")
    ids = [str(r.values.get("assignment_id")) for r in sorted(context.store().records(asg.ASSIGNMENTS.form_id),
                                                              key=lambda r: r.created_at, reverse=True)]
    if ids:
        st.selectbox("核验哪一次检查员抽取", ids, key=INSPECTORS_VERIFY_PICK,
                     help="按抽取时记录的检查员信息、抽中地市涉及的单位和随机数种子重新抽取，与记录的检查组逐市核对"
                          "（同 python -m lib.sampling verify 检查员抽取编号）。")
        st.button("核验检查员抽取", key=INSPECTORS_VERIFY, on_click=errors.guarded(_verify_inspectors))
        _show_outcome("verify_inspectors")
