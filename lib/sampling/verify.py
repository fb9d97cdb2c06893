"""Verifying a recorded draw: re-draw it from its recorded frame and seed, compare, and name every
sampling record changed after it was written; the same for an inspector draw, from the inputs recorded
with it (``python -m lib.sampling verify``, the sampling page)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from lib.core.records import Record
from lib.core.values import wall_time
from lib.sampling import assignments as asg
from lib.sampling.assignments import inspector_changes
from lib.sampling.draw import ALGORITHM_VERSION, SELECTION_WORDS, SeedInvalid, draw, parse_seed
from lib.sampling.frame import COLUMNS, FrameError
from lib.sampling.inspectors import ALGORITHM_VERSION as INSPECTORS_ALGORITHM
from lib.sampling.inspectors import InspectorDrawError, draw_groups, inputs_digest
from lib.sampling.record import (
    DRAW_ROWS,
    DRAWS,
    FRAME_ROWS,
    FRAMES,
    Difference,
    DrawNotFound,
    SamplingError,
    Verification,
    changed_after_writing,
    draw_record,
    draw_rows,
    frame_record,
    frame_rows,
    load_frame,
    project_values,
    seeds_generated,
    seeds_note,
)
from lib.store.base import Store

#: How close a recorded probability must be to the re-drawn one (the workbook keeps 15 digits).
PROBABILITY_TOLERANCE = 1e-9


def _when(row: Record) -> str:
    return f"第 {row.rev} 版，{row.updated_by}，{wall_time(row.updated_at):%Y-%m-%d %H:%M:%S}"


def _same(stored, again) -> bool:
    """A stored project value against the re-drawn one: amounts as numbers (the sheet may keep 10 as 10.0)."""
    if isinstance(again, float) or isinstance(stored, float):
        try:
            return stored is not None and again is not None and math.isclose(float(stored), float(again), rel_tol=0, abs_tol=0.005)
        except (TypeError, ValueError):
            return False
    return (stored if stored is not None else "") == (again if again is not None else "")


def verify(store: Store, draw_id: str) -> Verification:
    """Re-draw ``draw_id`` from its recorded frame and seed and compare with the recorded list, every
    stored column of every drawn project; also check the frame against its fingerprint, the rules
    against their version, and that no frame row, no draw record or drawn row, and no record or group
    row of an inspector draw made for it was changed after it was written (``changed_after_writing``).
    A record that cannot be read (changed into something the program never writes) is a difference,
    not an error. Raises DrawNotFound, FrameNotFound."""
    drawn = draw_record(store, draw_id)
    v = drawn.values
    frame_id = str(v["frame_id"])
    frozen = frame_record(store, frame_id)
    note = seeds_note(v.get("seeds_generated"), seeds_generated(store, frozen), f"本抽样框（{frame_id}）")
    out: list[Difference] = []
    for row in changed_after_writing(store, FRAME_ROWS.form_id, frame_rows(store, frame_id)):
        out.append(Difference("frame_row_changed", f"抽样框中服务券编号 {row.values.get('voucher')} 的一行（记录 {row.id}）在冻结后被修改过"
                              f"（{_when(row)}）。", str(row.values.get("voucher") or "")))
    for row in changed_after_writing(store, FRAMES.form_id, [frozen]):
        out.append(Difference("frame_record_changed", f"抽样框冻结记录 {frame_id} 在冻结后被修改过（{_when(row)}）。"))
    for row in changed_after_writing(store, DRAWS.form_id, [drawn], id_column="draw_id"):
        out.append(Difference("draw_changed", f"抽样记录 {draw_id} 在抽样后被修改过（{_when(row)}）。"))
    stored_rows = [r for r in store.records(DRAW_ROWS.form_id) if r.values.get("draw_id") == draw_id]
    for row in changed_after_writing(store, DRAW_ROWS.form_id, stored_rows):
        out.append(Difference("draw_row_changed", f"抽中名单中服务券编号 {row.values.get('voucher')} 的一行（记录 {row.id}）在抽样后被修改过"
                              f"（{_when(row)}）。", str(row.values.get("voucher") or "")))
    out += inspector_changes(store, draw_id)
    try:
        frame = load_frame(store, frame_id)
    except (SamplingError, FrameError) as err:  # a frame no draw could be made from: say why, nothing to re-draw
        out.append(Difference("frame_unreadable", f"无法按记录的抽样框 {frame_id} 重新抽样：{err}"))
        return Verification(draw_id, out, note)
    recorded = frozen.values
    if str(recorded.get("rows")) != str(len(frame.rows)):
        out.append(Difference("frame_size", f"抽样框记录 {recorded.get('rows')} 个项目，现存 {len(frame.rows)} 个。"))
    if frame.fingerprint != recorded.get("fingerprint"):
        out.append(Difference("fingerprint", f"抽样框指纹不符：记录为 {recorded.get('fingerprint')}，按现存的抽样框计算为 {frame.fingerprint}。"))
    if frame.campaign_version != recorded.get("campaign_version"):
        out.append(Difference("campaign_version", f"抽查规则版本不符：记录为 {recorded.get('campaign_version')}，按记录的规则计算为 {frame.campaign_version}。"))
    if str(v.get("algorithm_version")) != ALGORITHM_VERSION:
        out.append(Difference("algorithm_version", f"抽样算法版本不同：记录为 {v.get('algorithm_version')}，本程序为 {ALGORITHM_VERSION}，无法按同一算法重新抽样。"))
        return Verification(draw_id, out, note)
    try:
        seed = parse_seed(str(v.get("seed") or ""))
    except SeedInvalid:
        out.append(Difference("seed", f"抽样记录 {draw_id} 的随机数种子「{v.get('seed')}」不是非负整数（记录被修改过？），无法重新抽样。"))
        return Verification(draw_id, out, note)
    sample = draw(frame, seed)
    again = sample.drawn.set_index("voucher")
    again_values = {values["voucher"]: values for values in project_values(sample.drawn)}
    stored = {row.get("voucher"): row for row in draw_rows(store, draw_id)}
    if str(v.get("drawn")) != str(len(stored)):
        out.append(Difference("drawn_count", f"抽样记录写明抽中 {v.get('drawn')} 个项目，现存抽中名单 {len(stored)} 个。"))
    for voucher in sorted(set(again.index) - set(stored)):
        out.append(Difference("not_recorded", f"重新抽样抽中服务券编号 {voucher}（{again.at[voucher, 'city']}），记录的名单中没有。", voucher))
    for voucher in sorted(set(stored) - set(again.index), key=str):
        out.append(Difference("not_redrawn", f"记录的名单中有服务券编号 {voucher}，重新抽样没有抽中它。", str(voucher)))
    names = {r.key: r.name for r in frame.sampling.priority_rules}
    titles = {c.key: c.label for c in DRAW_ROWS.columns}
    for voucher in sorted(set(stored) & set(again.index)):
        mine, theirs = again.loc[voucher], stored[voucher]
        for column in COLUMNS:
            if column != "voucher" and not _same(theirs.get(column), again_values[voucher][column]):
                out.append(Difference("drawn_value", f"服务券编号 {voucher} 的{titles[column]}：记录为「{theirs.get(column)}」，"
                                      f"抽样框中为「{again_values[voucher][column]}」。", voucher))
        try:
            probability = float(theirs.get("probability") or 0)
        except (TypeError, ValueError):
            probability = math.nan
        if not math.isclose(probability, float(mine["probability"]), rel_tol=0, abs_tol=PROBABILITY_TOLERANCE):
            out.append(Difference("probability", f"服务券编号 {voucher} 的入样概率：记录为 {theirs.get('probability')}，"
                                  f"重新计算为 {mine['probability']:.12g}。", voucher))
        if theirs.get("selection") != SELECTION_WORDS[mine["selection"]]:
            out.append(Difference("selection", f"服务券编号 {voucher} 的抽中方式：记录为「{theirs.get('selection')}」，"
                                  f"重新抽样为「{SELECTION_WORDS[mine['selection']]}」。", voucher))
        if list(theirs.get("rules") or []) != [names[k] for k in mine["rules"]]:
            out.append(Difference("rules", f"服务券编号 {voucher} 提高入样概率的规则与记录不同。", voucher))
    return Verification(draw_id, out, note)


@dataclass(frozen=True)
class InspectorVerification(Verification):
    """What ``verify_inspectors`` found (``draw_id`` holds the inspector draw's id): none means 一致."""

    def lines(self) -> list[str]:
        if self.ok:
            return [f"检查员抽取 {self.draw_id}：一致（按记录的检查员信息、抽中地市涉及的单位和随机数种子重新抽取，检查组与记录相同）。{self.note}"]
        return [f"检查员抽取 {self.draw_id}：不一致，共 {len(self.differences)} 处：", *(f"  {d.message}" for d in self.differences),
                *([self.note] if self.note else [])]


class AssignmentNotFound(SamplingError):
    code = "assignment_not_found"


def verify_inspectors(store: Store, assignment_id: str) -> InspectorVerification:
    """Re-draw the inspector draw ``assignment_id`` from the inputs recorded with it (``assignments.POOL``,
    ``CONFLICTS``, ``PARTIES``, the place names) and its seed, day and group size, and compare the groups with the
    recorded ones; also check the inputs against their recorded SHA-256, the sampled cities against
    the project draw's, that no record, group row or input row was changed after it was written, and
    that the group and input rows are those written with the record (``assignments.not_written_with``).
    A record that cannot be read is a difference, not an error. Raises AssignmentNotFound."""
    found = [r for r in store.records(asg.ASSIGNMENTS.form_id) if r.values.get("assignment_id") == assignment_id]
    if not found:
        raise AssignmentNotFound(f"没有编号为 {assignment_id} 的检查员抽取记录。")
    record = found[0]
    v = record.values
    draw_id = str(v.get("draw_id") or "")
    try:
        note = seeds_note(v.get("seeds_generated"), seeds_generated(store, draw_record(store, draw_id)), f"为项目抽样 {draw_id} 抽取检查员")
    except DrawNotFound:  # said below, by the cities it serves
        note = ""
    out = list(asg.inspector_changes(store, draw_id, assignment_id))
    out += [Difference("inspector_rows_added", f"{why}。") for why in asg.not_written_with(store, record)]
    inputs = asg.recorded_inputs(store, assignment_id)
    pool_rows, party_rows = inputs[asg.POOL], inputs[asg.PARTIES]
    for sheet, rows in inputs.items():
        for row in changed_after_writing(store, sheet.form_id, rows):
            out.append(Difference("inspector_input_changed", f"检查员抽取 {assignment_id} 的抽取依据（{sheet.title}，记录 {row.id}）"
                                  f"在抽取后被修改过（{_when(row)}）。"))
    if str(v.get("algorithm")) != INSPECTORS_ALGORITHM:
        out.append(Difference("algorithm_version", f"检查员抽取算法版本不同：记录为 {v.get('algorithm')}，本程序为 {INSPECTORS_ALGORITHM}，"
                              "无法按同一算法重新抽取。"))
        return InspectorVerification(assignment_id, out, note)
    if not party_rows:
        out.append(Difference("inputs_missing", f"检查员抽取 {assignment_id} 没有记录抽取依据（检查员信息和抽中地市涉及的单位），无法重新抽取。"))
        return InspectorVerification(assignment_id, out, note)
    people = asg.recorded_pool((r.values for r in pool_rows), (r.values for r in inputs[asg.CONFLICTS]))
    parties = asg.recorded_parties(r.values for r in party_rows)
    where = tuple(str(p) for p in v.get("places") or ())
    digest = inputs_digest(people, parties, where)
    if digest != v.get("inputs_sha256"):
        out.append(Difference("inputs_digest", f"抽取依据的指纹不符：记录为 {v.get('inputs_sha256')}，按记录的抽取依据计算为 {digest}。"))
    drawn_cities = {str(row.get("city") or "") for row in draw_rows(store, draw_id)}
    if drawn_cities != set(parties):
        out.append(Difference("cities", f"抽取依据的地市（{'、'.join(sorted(parties))}）与项目抽样 {draw_id} 抽中项目的地市"
                              f"（{'、'.join(sorted(drawn_cities))}）不同。"))
    try:
        seed = parse_seed(str(v.get("seed") or ""))
        day = dt.date.fromisoformat(str(v.get("day") or ""))
        size = int(v.get("group_size"))
    except (SeedInvalid, TypeError, ValueError):
        out.append(Difference("record_broken", f"检查员抽取记录 {assignment_id} 的随机数种子「{v.get('seed')}」、抽取日期「{v.get('day')}」"
                              f"或每组人数「{v.get('group_size')}」无法读取（记录被修改过？），无法重新抽取。"))
        return InspectorVerification(assignment_id, out, note)
    try:
        again = draw_groups(people, parties, size, seed, day, where)
    except InspectorDrawError as err:
        out.append(Difference("redraw_refused", f"按记录的抽取依据重新抽取检查员未能成功：{err}"))
        return InspectorVerification(assignment_id, out, note)
    recorded: dict[str, set[str]] = {}
    for row in store.records(asg.MEMBERS.form_id):
        if row.values.get("assignment_id") == assignment_id:
            recorded.setdefault(str(row.values.get("city") or ""), set()).add(str(row.values.get("account") or ""))
    for city in sorted(set(recorded) | {g.city for g in again.groups}):
        mine, theirs = set(again.members(city)), recorded.get(city, set())
        if mine != theirs:
            out.append(Difference("group", f"「{city}」检查组：记录为 {'、'.join(sorted(theirs)) or '（无）'}，"
                                  f"重新抽取为 {'、'.join(sorted(mine)) or '（无）'}。"))
    if str(v.get("groups")) != str(len(recorded)):
        out.append(Difference("group_count", f"检查员抽取记录写明 {v.get('groups')} 个检查组，现存检查组 {len(recorded)} 个。"))
    return InspectorVerification(assignment_id, out, note)


def verify_record(store: Store, record_id: str) -> Verification:
    """``verify`` of a project draw, or ``verify_inspectors`` of an inspector draw, by its id (D-… / I-…).
    Raises DrawNotFound when it is neither."""
    if any(r.values.get("assignment_id") == record_id for r in store.records(asg.ASSIGNMENTS.form_id)):
        return verify_inspectors(store, record_id)
    try:
        return verify(store, record_id)
    except DrawNotFound:
        raise DrawNotFound(f"没有编号为 {record_id} 的抽样记录或检查员抽取记录。") from None
