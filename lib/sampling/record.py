"""Frames and draws in the store: freezing a frame, recording a draw (and a redraw), and verifying one.

Storage (every write audited by the store, nothing deleted):

* ``sampling_frames`` — one row per frozen frame: its id, source, fingerprint, the campaign's id, the
  sampling section it was built under (canonical JSON) and that section's SHA-256 (the campaign
  version), its row count. Who froze it and when: the row's ``_owner`` and ``_created_at``.
* ``sampling_frame_rows`` — the frame's projects, one row each, with the names of the rules they meet.
* ``sampling_draws`` — one row per draw: frame, seed (and whether it was announced or generated),
  algorithm version, ratio, size, the reason of a redraw; status 有效, or 已被替换 with ``superseded_by``.
* ``sampling_draw_rows`` — the drawn projects with their inclusion probability, how each was drawn and
  the rules that raised it.

A frame and its rows, and a draw and its rows, are each written as one ``Store.append_batch`` (all or
nothing, after a crash too). The seed is asked for after the frame is frozen: a draw names a frozen
frame. A redraw needs a reason; the draws in force are then marked 已被替换 (an update of their
record, so the old list stays, audited). ``verify`` re-draws from the recorded frame and seed.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from lib.auth.policy import SAMPLE, authorize
from lib.campaign.register.kinds import register_kinds
from lib.campaign.register.store import IMPORTS_SHEET, current_register
from lib.core.errors import AppError
from lib.core.records import Actor, Record
from lib.core.values import wall_time
from lib.forms.bindings import NEEDS
from lib.forms.loader import FormCatalog
from lib.forms.spec import Sampling
from lib.sampling.draw import ALGORITHM_VERSION, SELECTION_WORDS, Sample, draw, new_seed, parse_seed, sizes
from lib.sampling.frame import (
    COLUMNS,
    Frame,
    FrameError,
    build_frame,
    campaign_version,
    frame_xlsx,
    register_projects,
    reported_projects,
    sampling_json,
)
from lib.store.base import Column, SheetSpec, Store

FROZEN = "已冻结"
DRAWN = "已抽中"
DRAW_ACTIVE = "有效"
DRAW_SUPERSEDED = "已被替换"
SOURCE_WORDS = {"register": "服务券台账（在册、检查范围内）", "reported": "项目填报表（已提交，每券一条）"}
SEED_WORDS = {False: "公布的随机数", True: "系统生成"}


def _project_columns() -> tuple[Column, ...]:
    what = {m: NEEDS["projects"][m].what for m in COLUMNS}
    return (Column("voucher", what["voucher"]), Column("city", what["city"]), Column("provider", what["provider"]),
            Column("firm", what["firm"]), Column("subsidy", what["subsidy"] + "（万元）", "number", "money"))


FRAMES = SheetSpec("sampling_frames", "抽样框冻结记录", (
    Column("frame_id", "抽样框编号"),
    Column("source", "项目来源"),
    Column("fingerprint", "抽样框指纹（SHA-256）"),
    Column("campaign_id", "检查活动"),
    Column("campaign_version", "抽查规则版本（SHA-256）"),
    Column("sampling", "抽查规则（JSON）"),
    Column("rows", "项目数", "integer"),
))
FRAME_ROWS = SheetSpec("sampling_frame_rows", "抽样框", (
    Column("frame_id", "抽样框编号"), *_project_columns(), Column("rules", "符合的优先规则", "list")))
DRAWS = SheetSpec("sampling_draws", "抽样记录", (
    Column("draw_id", "抽样编号"),
    Column("frame_id", "抽样框编号"),
    Column("seed", "随机数种子"),
    Column("seed_source", "种子来源"),
    Column("algorithm_version", "抽样算法版本"),
    Column("ratio", "抽查比例", "number"),
    Column("drawn", "抽中项目数", "integer"),
    Column("reason", "重新抽样原因"),
    Column("superseded_by", "被替换为"),
    Column("seeds_generated", "抽样前为本抽样框生成随机数的次数", "integer"),
))
DRAW_ROWS = SheetSpec("sampling_draw_rows", "抽中项目", (
    Column("draw_id", "抽样编号"), *_project_columns(),
    Column("probability", "入样概率", "number"),
    Column("selection", "抽中方式"),
    Column("rules", "提高入样概率的规则", "list"),
))
SHEETS = (FRAMES, FRAME_ROWS, DRAWS, DRAW_ROWS)


class SamplingError(AppError):
    """A freeze, draw or verification refused; nothing was written."""

    code = "sampling"


class FrameNotFound(SamplingError):
    code = "frame_not_found"


class DrawNotFound(SamplingError):
    code = "draw_not_found"


class FrameOutdated(SamplingError):
    """The campaign's sampling section changed since the frame was frozen (its facts or weights may no
    longer be the campaign's), or a newer frame was frozen since."""

    code = "frame_outdated"


class FrameChanged(SamplingError):
    """The frame's stored rows no longer match its fingerprint: a row was changed after the freeze."""

    code = "frame_changed"


class RedrawReasonMissing(SamplingError):
    code = "redraw_reason_missing"


@dataclass(frozen=True)
class FrameInfo:
    """A frozen frame's record."""

    frame_id: str
    fingerprint: str
    campaign_version: str
    rows: int
    frozen_by: str
    frozen_at: dt.datetime


@dataclass(frozen=True)
class DrawInfo:
    """A recorded draw: its id, the sample, and the draws it replaced."""

    draw_id: str
    frame_id: str
    sample: Sample
    generated_seed: bool
    superseded: tuple[str, ...] = ()


def ensure_sheets(store: Store) -> None:
    for sheet in SHEETS:
        store.ensure_sheet(sheet)


#: The lock a draw holds while it reads the draws in force and records its own: a project draw, a
#: redraw and an inspector draw (``lib.sampling.assignments``) never interleave.
DRAW_LOCK = "sampling_draw"


def new_id(prefix: str, now: dt.datetime, taken: Iterable[str] = ()) -> str:
    """A record id: ``prefix`` (F a frame, D a draw, I an inspector draw), the time, 8 random hex digits,
    none of the ids in ``taken`` (two records made in one second never share an id, whatever the dice).

    >>> new_id("D", dt.datetime(2031, 5, 6, 9, 30))[:17]
    'D-20310506093000-'
    """
    taken = set(taken)
    while (made := f"{prefix}-{now:%Y%m%d%H%M%S}-{secrets.token_hex(4)}") in taken:
        pass
    return made


def frame_projects(store: Store, catalog: FormCatalog) -> pd.DataFrame:
    """The projects a frame would be built from now, without their facts (``register_projects`` or
    ``reported_projects``, as the campaign's ``sampling.frame`` says); empty before there are any.
    Raises FrameError when the campaign draws from a register it does not declare."""
    campaign, bindings = catalog.campaign, catalog.bindings
    if campaign.sampling.frame == "register":
        if campaign.registers is None:
            raise FrameError("活动配置规定以服务券台账为抽样框（sampling.frame: register），但没有声明台账（registers）："
                             "请声明 registers，或把 sampling.frame 改为 reported。")
        vouchers = register_kinds(campaign)["vouchers"]
        register = current_register(store.snapshot(vouchers.sheet_id), store.snapshot(IMPORTS_SHEET.form_id), vouchers)
        return register_projects(register)
    return reported_projects(store.snapshot(bindings.of("projects").form), bindings, tuple(campaign.outside_scheme))


def current_frame(store: Store, catalog: FormCatalog) -> Frame:
    """The frame as the store's data stand now, under the campaign's sampling section (not stored)."""
    return build_frame(frame_projects(store, catalog), store.snapshot, catalog.bindings, catalog.campaign.sampling)


def _rule_names(frame: Frame) -> list[list[str]]:
    rules = frame.sampling.priority_rules
    met = {r.key: frame.rows[r.key].to_numpy(dtype=bool) for r in rules}
    return [[r.name for r in rules if met[r.key][i]] for i in range(len(frame.rows))]


def project_values(rows: pd.DataFrame) -> list[dict]:
    out = rows[list(COLUMNS)].astype(object).to_dict("records")
    for values in out:
        if values["subsidy"] != values["subsidy"]:  # NaN: not known
            values["subsidy"] = None
    return out


def freeze(store: Store, catalog: FormCatalog, actor: Actor, *, now: dt.datetime | None = None) -> tuple[FrameInfo, Frame]:
    """Freeze the frame as the data stand now (``current_frame``) and store it (``store_frame``).

    Raises Forbidden (audited) unless ``actor`` is the province; FrameError (nothing written) when
    there is nothing to draw from, SizeUnknown when a row's size cannot be worked out."""
    authorize(store, actor, SAMPLE)
    frame = current_frame(store, catalog)
    return store_frame(store, frame, actor, campaign_id=catalog.campaign.id, now=now), frame


def store_frame(store: Store, frame: Frame, actor: Actor, *, campaign_id: str, now: dt.datetime | None = None) -> FrameInfo:
    """Write ``frame``'s rows and its record as one batch (nothing written when a value is refused)."""
    sizes(frame)  # a size that cannot be worked out is refused now, not at the draw
    now = now or dt.datetime.now()
    frame_id = new_id("F", now, (str(r.values.get("frame_id")) for r in store.records(FRAMES.form_id)))
    record = {"frame_id": frame_id, "source": SOURCE_WORDS[frame.sampling.frame], "fingerprint": frame.fingerprint,
              "campaign_id": campaign_id, "campaign_version": frame.campaign_version,
              "sampling": sampling_json(frame.sampling), "rows": len(frame.rows)}
    rows = [{"frame_id": frame_id, **values, "rules": names}
            for values, names in zip(project_values(frame.rows), _rule_names(frame))]
    ensure_sheets(store)
    [*_, stored] = store.append_batch([*((FRAME_ROWS.form_id, row, FROZEN) for row in rows),
                                       (FRAMES.form_id, record, FROZEN)], actor=actor)
    return FrameInfo(frame_id, frame.fingerprint, frame.campaign_version, len(rows), stored.owner, stored.created_at)


#: The audit action of a seed the system generated and showed (``generate_seed``).
SEED_GENERATED = "生成随机数种子"


def generate_seed(store: Store, actor: Actor, target: Record, what: str) -> int:
    """A new seed (``draw.new_seed``) for a draw to be made on ``target`` — a frozen frame's record, or
    for an inspector draw the project draw's — audited against that record with ``what`` and the seed,
    whether or not a draw follows: a seed generated again and again until one gives a wanted list
    leaves every one in the audit, and ``seeds_generated`` counts them beside the draw."""
    authorize(store, actor, SAMPLE)
    seed = new_seed()
    store.log_event(actor, SEED_GENERATED, form_id=target.form_id, row_id=target.id, note=f"{what}：{seed}")
    return seed


def generated_seeds(store: Store, target: Record) -> list[int]:
    """The seeds ``generate_seed`` made for draws on ``target``, oldest first (read back from the audit
    note it wrote, which ends with the seed)."""
    notes = [e.note for e in store.audit(target.form_id, target.id) if e.action == SEED_GENERATED]
    return [int(tail) for tail in (n.rsplit("：", 1)[-1].strip() for n in notes) if tail.isascii() and tail.isdecimal()]


def seeds_generated(store: Store, target: Record) -> int:
    """How many seeds ``generate_seed`` made for draws on ``target``."""
    return sum(1 for e in store.audit(target.form_id, target.id) if e.action == SEED_GENERATED)


def seed_source(store: Store, target: Record, seed: int, generated: bool) -> tuple[bool, int]:
    """(whether ``seed`` counts as system-generated, how many seeds were generated on ``target`` so far):
    a seed typed that equals any generated one — not only the latest — is one the system made and
    showed, and is recorded so (``generated`` as the page knew it otherwise)."""
    made = generated_seeds(store, target)
    return generated or seed in made, len(made)


def seeds_note(recorded, now: int, what: str) -> str:
    """What verify says of the seeds generated on ``what``: ``now`` so far, and ``recorded`` (the count
    the draw record wrote, before the draw; None for a record written before it was kept).

    >>> seeds_note(2, 3, "本抽样框")
    '本抽样框共生成过 3 次随机数，抽样时记录为 2 次（每次生成都记入审计日志，含未用于抽取的）。'
    """
    before = f"，抽样时记录为 {recorded} 次" if recorded not in (None, "") else ""
    return f"{what}共生成过 {now} 次随机数{before}（每次生成都记入审计日志，含未用于抽取的）。"


def frame_record(store: Store, frame_id: str) -> Record:
    """The frozen frame ``frame_id``'s record (its source, fingerprint, sampling section …)."""
    found = [r for r in store.records(FRAMES.form_id) if r.values.get("frame_id") == frame_id]
    if not found:
        raise FrameNotFound(f"没有编号为 {frame_id} 的抽样框。")
    return found[0]


def frame_info(record: Record) -> FrameInfo:
    v = record.values
    return FrameInfo(v["frame_id"], v["fingerprint"], v["campaign_version"], int(v["rows"]), record.owner, record.created_at)


def latest_frame(store: Store) -> FrameInfo | None:
    """The newest frozen frame's record; None before the first freeze."""
    found = store.records(FRAMES.form_id)
    return frame_info(max(found, key=lambda r: r.created_at)) if found else None


def frame_rows(store: Store, frame_id: str) -> list[Record]:
    return [r for r in store.records(FRAME_ROWS.form_id) if r.values.get("frame_id") == frame_id]


class RecordBroken(SamplingError):
    """A sampling record holds a value the program never writes there (a seed that is no number, rules
    that are no JSON): it was changed after it was written."""

    code = "record_broken"


def load_frame(store: Store, frame_id: str) -> Frame:
    """The frame ``frame_id`` as stored, under the sampling section recorded with it. Raises
    RecordBroken when the recorded section cannot be read, FrameError when the stored rows cannot
    make a frame (a voucher repeated or blank)."""
    record = frame_record(store, frame_id)
    try:
        sampling = Sampling.model_validate_json(str(record.values.get("sampling") or ""))
    except ValueError as err:  # pydantic's ValidationError is a ValueError; its text is English, so not shown
        raise RecordBroken(f"抽样框冻结记录 {frame_id} 的抽查规则（JSON）无法读取（记录被修改过？见审计日志）。") from err
    key_of = {r.name: r.key for r in sampling.priority_rules}
    rows = frame_rows(store, frame_id)
    table = pd.DataFrame([{c: r.values.get(c) for c in COLUMNS} for r in rows], columns=list(COLUMNS))
    met = [set(r.values.get("rules") or ()) for r in rows]
    for name, key in key_of.items():
        table[key] = [name in names for names in met]
    return Frame.of(table, sampling)


def frame_workbook(store: Store, frame_id: str) -> bytes:
    """The frozen frame ``frame_id`` as an .xlsx for publication (``frame_xlsx``), its 说明 sheet naming
    the frame, its source, the campaign, who froze it and when."""
    record = frame_record(store, frame_id)
    about = {"抽样框编号": frame_id, "项目来源": str(record.values.get("source", "")),
             "检查活动": str(record.values.get("campaign_id", "")), "冻结账号": record.owner,
             "冻结时间": f"{wall_time(record.created_at):%Y-%m-%d %H:%M:%S}"}
    return frame_xlsx(load_frame(store, frame_id), about)


def draw_rows(store: Store, draw_id: str) -> list[dict]:
    """The projects the draw ``draw_id`` recorded (their values), in the order stored."""
    return [r.values for r in store.records(DRAW_ROWS.form_id) if r.values.get("draw_id") == draw_id]


def active_draws(store: Store) -> list[Record]:
    """The draws in force (有效), oldest first: one, except after a crash in the middle of a redraw."""
    return sorted((r for r in store.records(DRAWS.form_id) if r.status == DRAW_ACTIVE), key=lambda r: r.created_at)


def record_draw(store: Store, catalog: FormCatalog, frame_id: str, seed_text: str | None, actor: Actor, *,
                reason: str = "", generated: bool = False, now: dt.datetime | None = None) -> DrawInfo:
    """Draw on the frozen frame ``frame_id`` with the seed typed (``seed_text``; ``generated``: one the
    system made and showed) and record it: its rows and record in one batch, then the draws it replaces
    marked 已被替换.

    Nothing is written when it raises: Forbidden (audited) unless the province; SeedInvalid for a seed
    that is empty, not a number or negative; FrameNotFound; FrameOutdated when the campaign's sampling
    section changed since the freeze or a newer frame exists; FrameChanged when its rows no longer
    match its fingerprint; RedrawReasonMissing when a draw is in
    force and ``reason`` is blank."""
    authorize(store, actor, SAMPLE)
    seed = parse_seed(seed_text)
    record = frame_record(store, frame_id)
    if record.values["campaign_version"] != campaign_version(catalog.campaign.sampling):
        raise FrameOutdated(f"抽样框 {frame_id} 冻结后，活动配置中的抽查规则（sampling）已修改：请重新冻结抽样框后再抽样。")
    newest = latest_frame(store)
    if newest is not None and newest.frame_id != frame_id:
        raise FrameOutdated(f"抽样框 {frame_id} 不是最新冻结的抽样框（最新为 {newest.frame_id}）：请在最新的抽样框上抽样。")
    frame = load_frame(store, frame_id)
    if frame.fingerprint != record.values["fingerprint"]:
        raise FrameChanged(f"抽样框 {frame_id} 现存的内容与冻结时的指纹不符（冻结后被修改过，见审计日志）：请重新冻结抽样框后再抽样。")
    sample = draw(frame, seed)
    generated, made = seed_source(store, record, seed, generated)
    now = now or dt.datetime.now()
    draw_id = new_id("D", now, (str(r.values.get("draw_id")) for r in store.records(DRAWS.form_id)))
    names = {r.key: r.name for r in frame.sampling.priority_rules}
    rows = [{"draw_id": draw_id, **values, "probability": float(p), "selection": SELECTION_WORDS[how],
             "rules": [names[k] for k in keys]}
            for values, p, how, keys in zip(project_values(sample.drawn), sample.drawn["probability"],
                                            sample.drawn["selection"], sample.drawn["rules"])]
    values = {"draw_id": draw_id, "frame_id": frame_id, "seed": str(seed), "seed_source": SEED_WORDS[generated],
              "algorithm_version": ALGORITHM_VERSION, "ratio": frame.sampling.ratio, "drawn": len(rows),
              "reason": reason.strip(), "superseded_by": "", "seeds_generated": made}
    with store.exclusive(DRAW_LOCK):
        replaced = active_draws(store)
        if replaced and not reason.strip():
            raise RedrawReasonMissing(f"已有有效的抽样结果（{replaced[-1].values.get('draw_id')}）：重新抽样须填写原因。")
        ensure_sheets(store)
        store.append_batch([*((DRAW_ROWS.form_id, row, DRAWN) for row in rows), (DRAWS.form_id, values, DRAW_ACTIVE)],
                           actor=actor)
        for old in replaced:
            store.update(DRAWS.form_id, old.id, base_rev=old.rev, actor=actor, status=DRAW_SUPERSEDED,
                         values={"superseded_by": draw_id}, note=f"重新抽样（{draw_id}）：{reason.strip()}")
    return DrawInfo(draw_id, frame_id, sample, generated, tuple(str(r.values.get("draw_id")) for r in replaced))


@dataclass(frozen=True)
class Difference:
    """One thing ``verify`` found different: ``code`` says what (frame_row_changed, frame_record_changed,
    draw_changed, draw_row_changed, inspector_draw_changed, inspector_group_changed, frame_unreadable,
    frame_size, fingerprint, campaign_version, algorithm_version, seed, drawn_count, not_recorded,
    not_redrawn, drawn_value, probability, selection, rules; of an inspector draw,
    ``verify.verify_inspectors``: inspector_input_changed, inputs_missing, inputs_digest, cities,
    record_broken, redraw_refused, group, group_count), ``voucher`` which project where it is about
    one, ``message`` in Chinese."""

    code: str
    message: str
    voucher: str = ""


@dataclass(frozen=True)
class Verification:
    """What ``verify`` found: no difference means 一致."""

    draw_id: str
    differences: list[Difference] = field(default_factory=list)
    #: Said with the verdict, not a difference: how many seeds were generated (``seeds_note``).
    note: str = ""

    @property
    def ok(self) -> bool:
        return not self.differences

    def lines(self) -> list[str]:
        if self.ok:
            return [f"抽样 {self.draw_id}：一致（按记录的抽样框和随机数种子重新抽样，结果与记录相同）。{self.note}"]
        return [f"抽样 {self.draw_id}：不一致，共 {len(self.differences)} 处：", *(f"  {d.message}" for d in self.differences),
                *([self.note] if self.note else [])]


def draw_record(store: Store, draw_id: str) -> Record:
    """The draw ``draw_id``'s record (its frame, seed, algorithm version …)."""
    found = [r for r in store.records(DRAWS.form_id) if r.values.get("draw_id") == draw_id]
    if not found:
        raise DrawNotFound(f"没有编号为 {draw_id} 的抽样记录。")
    return found[0]


#: What the app's own supersede update of a draw record changes (``record_draw``, and the inspector draw's).
_SUPERSEDE_CHANGES = frozenset({"superseded_by", "_status"})


def changed_after_writing(store: Store, form_id: str, rows: list[Record], *, id_column: str = "") -> list[Record]:
    """The ``rows`` (of the sampling sheet ``form_id``) changed after they were written: these sheets
    record what was decided, so any revision but the first is a change — except, for a draw record
    (``id_column`` naming its id), the app's own supersede, told apart by its audit: one update that
    changes only ``superseded_by`` and the status to 已被替换, made by whoever recorded the draw it names."""
    owners = {str(r.values.get(id_column)): r.owner for r in store.records(form_id)} if id_column else {}
    out = []
    for row in rows:
        if row.rev == 1:
            continue
        if id_column and row.status == DRAW_SUPERSEDED:
            later = [e for e in store.audit(form_id, row.id) if e.rev > 1]
            by = owners.get(str(row.values.get("superseded_by")))
            if len(later) == 1 and set(later[0].changes) <= _SUPERSEDE_CHANGES and by is not None and later[0].account == by:
                continue
        out.append(row)
    return out
