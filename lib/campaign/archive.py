"""The archive a city bureau forwards to the province (campaign.yaml ``office.archive``): every report of
its city as a Word document plus a summary workbook in one zip, and whether the city has confirmed it
forwarded.

The reports are the FILED rows of the form bound as ``archive.source`` (``catalog.bindings.of``); a
report's city is its bound ``city`` answer, else its filer's city (``lib.auth.policy.place``), and its
document is named by its bound ``project`` (made safe as a file name, unique within the zip, the row id
when blank). The zip is ``archive.file_name(city)``: ``<project>.docx`` per report and
``<form's short title>汇总表.xlsx``, one row per report (its summary fields and its document's name);
names are UTF-8 (the zip's language flag set, so Windows and WPS show Chinese names), entries deflated.

Who (``lib.auth.policy``: ``ARCHIVE``, ``ARCHIVE_FORWARD``; refusals audited): a city bureau downloads its
own city's archive and confirms it; the province downloads every city's, one at a time or all in one zip
with a folder per city — the folders hold exactly what each city's own zip holds, and one file opens in
Windows, WPS or any unzip tool at once, which a zip of zips would not; the role that files the reports
downloads its own as Word (``own_reports``, ``report_file``, which reads through the policy's READ).

Forwarding is a small system sheet, ``archive_forwards``, one row per city (its status :data:`FORWARDED`
or :data:`RECALLED`; when and by whom are the record's; the store audits each change). The city confirms
with an optional note; it may withdraw its confirmation up to the deadline (``archive.deadline``, a key
of the campaign's deadlines) — say a report came in late — and confirm again; after the deadline the
province has counted on it, so a confirmation stands. On the campaign clock a city is :data:`FORWARDED`
(:data:`LATE` when confirmed after the deadline), :data:`NOT_FORWARDED`, or :data:`OVERDUE` once the deadline
has passed without a confirmation; a confirmation says how many of the city's reports changed after it
(filed, corrected or withdrawn), so the city forwards again. Reports of no campaign city (a city renamed in
campaign.yaml after they were filed) go into the province's zip under 未注明地市, never dropped.

>>> safe_name(' 智能/工厂:改造 "一期" ') , safe_name("CON"), safe_name("..."), safe_name("a\\u202eb\\n")
('智能_工厂_改造 _一期_', '_CON', '', 'a_b_')
>>> safe_name("CON .1"), safe_name("com¹"), safe_name("CONIN$"), safe_name("cafe\\u0301") == "caf\\u00e9"
('_CON .1', '_com¹', '_CONIN$', True)
>>> unique_names(["甲", "乙", "甲", "甲"])
['甲', '乙', '甲（2）', '甲（3）']
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from lib.auth.policy import ARCHIVE, ARCHIVE_FORWARD, READ, authorize, can, place
from lib.auth.scope import get_record
from lib.core.errors import AppError
from lib.core.records import Actor, Record
from lib.core.statuses import FILED, WITHDRAWN
from lib.core.text import BIDI_CHARS, CONTROL_CHARS, INVISIBLE_CHARS, LINE_BREAKS, comparable
from lib.core.values import text, wall_time
from lib.forms import FormSpec
from lib.forms.bindings import FormBinding
from lib.forms.display import value_text
from lib.forms.errors import problem
from lib.forms.loader import FormCatalog
from lib.forms.office import Archive
from lib.forms.spec import FieldSpec
from lib.forms.types import REGISTRY, ValueProblem
from lib.office.docx_report import report_docx
from lib.office.excel import to_xlsx
from lib.office.official import NO_CITY
from lib.store.base import Column, SheetSpec, Store
from lib.submissions import my_records

FORWARDS = SheetSpec("archive_forwards", "报告汇总报送", (Column("city", "地市"), Column("note", "备注")))
FORWARDED = "已报送"  # a city's row: the city confirmed its archive forwarded (also what the overview says)
LATE = "逾期报送"  # a city's row: the city confirmed after the deadline (on the campaign clock); it counts as forwarded
RECALLED = "撤回确认"  # a city's row: the city withdrew its confirmation before the deadline
NOT_FORWARDED = "未报送"  # the overview: no confirmation, the deadline not passed
OVERDUE = "逾期未报送"  # the overview: no confirmation, the deadline passed
#: Longest note a confirmation keeps.
MAX_NOTE = 500
#: Longest file name (without its extension) a document gets: Windows paths stay short inside a folder.
MAX_NAME = 80
#: What the province's one zip of every city's archive stands for in ``archive.name``'s ``{city}``.
ALL_CITIES = "全部地市"
DOCX = ".docx"

_NOT_IN_NAMES = re.compile(f'[/\\\\:*?"<>|]|{CONTROL_CHARS.pattern}|{BIDI_CHARS.pattern}|{LINE_BREAKS.pattern}')
# Windows' device names, also with blanks before an extension ("CON .txt" opens the console): Microsoft lists
# COM0-9 and LPT0-9 with the superscript digits ¹²³, and CONIN$ / CONOUT$.
_RESERVED = re.compile(r"(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$) *(\..*)?", re.IGNORECASE)
#: The statuses a city's row may have; a row in any other is none of this module's (see ``_rows``).
_ROW_STATUSES = (FORWARDED, LATE, RECALLED)
#: The statuses in which a city counts as having forwarded its archive.
SENT = (FORWARDED, LATE)


class ArchiveError(AppError):
    """The archive cannot be made or its forwarding changed; nothing was written. Finer codes:
    ``archive_undeclared``, ``archive_city_unknown``, ``archive_already_forwarded``,
    ``archive_not_forwarded``, ``archive_recall_late``, ``archive_note_too_long`` and a refused note's
    value code (``bidi_text``, ``bad_text`` …)."""

    code = "archive"


def declared(catalog: FormCatalog) -> Archive:
    """The campaign's archive; ArchiveError when it declares none."""
    archive = catalog.campaign.office.archive
    if archive is None:
        raise ArchiveError("本次检查活动没有声明报告汇总（campaign.yaml 的 office.archive）。", code="archive_undeclared")
    return archive


def source(catalog: FormCatalog) -> tuple[Archive, FormBinding, FormSpec]:
    """The archive, the binding of its reports and their form."""
    archive = declared(catalog)
    binding = catalog.bindings.of(archive.source)
    return archive, binding, catalog.form(binding.form)


def deadline(catalog: FormCatalog) -> dt.date:
    """The day the cities forward their archives by (the loader checked the key)."""
    return catalog.campaign.deadlines[declared(catalog).deadline]


def city_of(binding: FormBinding, record: Record) -> str:
    """The city a report belongs to: its bound ``city`` answer, else its filer's city."""
    key = binding.key("city")
    return place(record.values.get(key) if key else None, record.city)


def _known_city(catalog: FormCatalog, city: str) -> str:
    found = next((c for c in catalog.campaign.cities if comparable(c) == comparable(city or "")), None)
    if found is None:
        raise ArchiveError(f"「{city}」不是本次检查活动的地市。", code="archive_city_unknown")
    return found


def safe_name(name: str) -> str:
    """``name`` as a file name on Windows, macOS and Linux: no path or reserved characters, no control,
    direction or invisible characters, no line breaks (each such character becomes ``_``), no leading
    or trailing blanks and dots, not a device name of Windows, at most :data:`MAX_NAME` characters,
    composed (NFC: macOS would store a decomposed name composed anyway); "" when nothing is left."""
    cleaned = _NOT_IN_NAMES.sub("_", INVISIBLE_CHARS.sub("", unicodedata.normalize("NFC", name)))
    cleaned = cleaned.strip(" .\u3000")[:MAX_NAME].rstrip(" .\u3000")
    return f"_{cleaned}" if _RESERVED.fullmatch(cleaned) else cleaned


def _same(name: str) -> str:
    """What ``name`` is compared as: case-folded (Windows) and compatibility-normalised (macOS extracts
    "café" composed and decomposed onto one file; ``Ａ`` and ``A`` look alike to a person)."""
    return unicodedata.normalize("NFKC", name).casefold()


def unique_names(names: Iterable[str]) -> list[str]:
    """``names`` with a repeat (as Windows and macOS compare names: :func:`_same`) numbered （2）, （3）…"""
    taken: set[str] = set()
    out = []
    for name in names:
        candidate, n = name, 1
        while _same(candidate) in taken:
            n += 1
            candidate = f"{name}（{n}）"
        taken.add(_same(candidate))
        out.append(candidate)
    return out


def zip_name(catalog: FormCatalog, city: str) -> str:
    """A city's zip (``archive.file_name(city)``), its name made safe: a city of campaign.yaml may hold
    characters a file name may not (``a/b``), and a folder named so would leave its place in the
    province's zip."""
    return (safe_name(declared(catalog).file_name(city).removesuffix(".zip")) or "_") + ".zip"


def report_name(binding: FormBinding, record: Record) -> str:
    """A report's document name without its extension: its project, else its row id."""
    key = binding.key("project")
    return safe_name(text(record.values.get(key)) if key else "") or record.id


# --- the reports ------------------------------------------------------------------------------


def city_reports(store: Store, catalog: FormCatalog, actor: Actor, city: str) -> list[Record]:
    """The filed reports of ``city``, in filing order; Forbidden (audited) unless ``actor`` may have that
    city's archive, ArchiveError for a city the campaign does not have."""
    _, binding, form = source(catalog)
    city = _known_city(catalog, city)
    authorize(store, actor, ARCHIVE, row={"city": city})
    return [r for r in store.records(form.id) if r.status in FILED and comparable(city_of(binding, r)) == comparable(city)
            and can(actor, READ, form, r)]


def unplaced_reports(store: Store, catalog: FormCatalog, actor: Actor) -> list[Record]:
    """The filed reports whose city is none of the campaign's (a report filed before campaign.yaml's city
    was renamed: the store does not judge stored rows again), in filing order: in the province's zip under
    :data:`~lib.office.official.NO_CITY`, as the official export keeps them. Forbidden (audited) for anyone
    who may not have every city's archive."""
    _, binding, form = source(catalog)
    for city in catalog.campaign.cities:
        authorize(store, actor, ARCHIVE, row={"city": city})
    known = {comparable(c) for c in catalog.campaign.cities}
    return [r for r in store.records(form.id) if r.status in FILED and comparable(city_of(binding, r)) not in known
            and can(actor, READ, form, r)]


def own_reports(store: Store, catalog: FormCatalog, actor: Actor) -> list[Record]:
    """The reports ``actor`` files (its organisation's, in every status), newest change first; Forbidden
    (audited) for a role that does not file them."""
    _, _, form = source(catalog)
    return my_records(store, form, actor)


def report_file(store: Store, catalog: FormCatalog, actor: Actor, row_id: str, *, today: dt.date | None = None) -> tuple[str, bytes]:
    """(file name, ``.docx`` bytes) of one report ``actor`` may read (Forbidden, audited, otherwise)."""
    _, binding, form = source(catalog)
    record = get_record(store, actor, form, row_id)
    return report_name(binding, record) + DOCX, _docx(catalog, form, record, today)


def _docx(catalog: FormCatalog, form: FormSpec, record: Record, today: dt.date | None) -> bytes:
    # The campaign's Cities themselves, as the fill page: a plain tuple would lose outside_scheme and city_code.
    return report_docx(form, record, catalog.campaign.cities, campaign_title=catalog.campaign.title, printed_on=today)


def _summary(form: FormSpec, records: list[Record], names: list[str], binding: FormBinding) -> pd.DataFrame:
    """One row per report: 序号, its document, its summary fields, its city, filer, status and filing time.
    A summary field labelled like one of these columns (a city field labelled 地市), or like another
    summary field, keeps its own column: the later header is numbered （2）, so no answer is hidden."""
    fields = form.summary_fields()
    own = ["地市", "填报单位", "记录编号", "状态", "更新时间"]
    headers = unique_names(["序号", "文件名", *(f.label for f in fields), *own])
    rows = [[n, name, *(value_text(f, record.values.get(f.key)) for f in fields),
             city_of(binding, record), record.org or record.owner, record.id, record.status, wall_time(record.updated_at)]
            for n, (record, name) in enumerate(zip(records, names, strict=True), start=1)]
    return pd.DataFrame(rows, columns=headers)


def _entries(catalog: FormCatalog, records: list[Record], today: dt.date | None) -> list[tuple[str, bytes]]:
    """A city's archive as (name, bytes): the documents, then the summary workbook."""
    _, binding, form = source(catalog)
    names = unique_names(report_name(binding, r) for r in records)
    files = [name + DOCX for name in names]
    out = [(name, _docx(catalog, form, r, today)) for name, r in zip(files, records, strict=True)]
    summary = f"{safe_name(form.short_title) or form.id}汇总表.xlsx"
    out.append((summary, to_xlsx({form.short_title: _summary(form, records, files, binding)})))
    return out


def _zip(entries: list[tuple[str, bytes]], now: dt.datetime) -> bytes:
    stamp = wall_time(now).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)  # a name that is not ASCII is written as UTF-8 with the zip's language flag (0x800) set
    return out.getvalue()


def archive_zip(store: Store, catalog: FormCatalog, actor: Actor, city: str, *, today: dt.date | None = None,
                now: dt.datetime | None = None) -> tuple[str, bytes]:
    """(``archive.file_name(city)``, the zip): every filed report of ``city`` as ``.docx`` and the summary
    workbook. Forbidden (audited) unless ``actor`` may have that city's archive."""
    records = city_reports(store, catalog, actor, city)
    return zip_name(catalog, _known_city(catalog, city)), _zip(_entries(catalog, records, today), now or dt.datetime.now(dt.UTC))


def all_archives_zip(store: Store, catalog: FormCatalog, actor: Actor, *, today: dt.date | None = None,
                     now: dt.datetime | None = None) -> tuple[str, bytes]:
    """The province's one zip of every city's archive: a folder per city (named as its own zip, without
    ``.zip``; unique as the zip's documents are) holding what that city's zip holds, and a folder
    :data:`~lib.office.official.NO_CITY` for the reports of no campaign city when there are any.
    Forbidden (audited) for anyone who may not have every one."""
    groups = [(city, city_reports(store, catalog, actor, city)) for city in catalog.campaign.cities]
    unplaced = unplaced_reports(store, catalog, actor)
    groups += [(NO_CITY, unplaced)] if unplaced else []
    folders = unique_names(zip_name(catalog, city).removesuffix(".zip") for city, _ in groups)
    entries = [(f"{folder}/{name}", data) for folder, (_, records) in zip(folders, groups, strict=True)
               for name, data in _entries(catalog, records, today)]
    return zip_name(catalog, ALL_CITIES), _zip(entries, now or dt.datetime.now(dt.UTC))


# --- forwarding -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Forwarding:
    """One city's forwarding as the overview shows it: ``state`` (FORWARDED, LATE, NOT_FORWARDED,
    OVERDUE); when it was confirmed, by which account and its note (while it stands); the city's row when
    it has one (its ``rev`` is what a 撤回 is checked against); ``changed``: how many of the city's reports
    were filed, changed or withdrawn after the confirmation (None: not counted, see :func:`states`)."""

    city: str
    state: str
    record: Record | None = None
    at: dt.datetime | None = None
    by: str = ""
    note: str = ""
    changed: int | None = None

    @property
    def sent(self) -> bool:
        return self.state in SENT


def ensure_sheet(store: Store) -> None:
    store.ensure_sheet(FORWARDS)


def _rows(store: Store) -> dict[str, Record]:
    """City (as ``comparable``) -> its row. A row in a status this module never writes is none of its
    rows (a form given the sheet's id would write such rows there) and is passed over."""
    ensure_sheet(store)
    return {comparable(text(r.values.get("city"))): r for r in store.records(FORWARDS.form_id) if r.status in _ROW_STATUSES}


def forwardings(store: Store, catalog: FormCatalog, actor: Actor, today: dt.date) -> list[Forwarding]:
    """The forwarding of each city ``actor`` may have the archive of (the province: every city; a city
    bureau: its own; anyone else: none), in the campaign's order of cities, judged on ``today``."""
    return states(store, catalog, [c for c in catalog.campaign.cities if can(actor, ARCHIVE, row={"city": c})], today)


def _standing(record: Record, entries: list, end: dt.datetime) -> tuple[str, dt.datetime, str, str] | None:
    """``record``'s (status, when confirmed, by whom, note) as it stood before ``end``, from its audit
    entries; None when it did not exist yet. Its creation entry carries no status: the one the first
    status change left, else the row's own."""
    entries = sorted((e for e in entries if e.rev > 0), key=lambda e: e.rev)
    if not entries:  # no history read: the row as it stands, if it stood by then
        return (record.status, record.updated_at, record.updated_by, text(record.values.get("note"))) if record.updated_at < end else None
    moves = [e.changes["_status"] for e in entries if "_status" in e.changes]
    status, standing = (moves[0][0] if moves else record.status), None
    at, by, note = entries[0].at, entries[0].account, ""
    for e in entries:
        if wall_time(e.at) >= end:
            break
        if "_status" in e.changes:
            status, at, by = e.changes["_status"][1], e.at, e.account
        note = text(e.changes["note"][1]) if "note" in e.changes else note
        standing = (status, at, by, note)
    return standing


def _changed(store: Store, catalog: FormCatalog) -> dict[str, list[dt.datetime]]:
    """City (as ``comparable``) -> the last change of each of its reports that is or was in its archive
    (filed, or withdrawn since)."""
    _, binding, form = source(catalog)
    out: dict[str, list[dt.datetime]] = {}
    for r in store.records(form.id):
        if r.status in FILED or r.status == WITHDRAWN:
            out.setdefault(comparable(city_of(binding, r)), []).append(r.updated_at)
    return out


def states(store: Store, catalog: FormCatalog, cities: list[str], today: dt.date, *, as_of: bool = False) -> list[Forwarding]:
    """The forwarding of each of ``cities``, overdue judged on ``today``, for a caller that has decided
    which cities its viewer reads (the board, by its scope). As it stands, with how many reports changed
    since each confirmation; ``as_of``: as it stood at the end of ``today`` (the board of a past day: a
    confirmation made later does not count; what changed after it is not counted, ``changed`` None)."""
    due = deadline(catalog)
    rows = _rows(store)
    end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time())
    history: dict[str, list] = {}
    if as_of:
        for entry in store.audit(FORWARDS.form_id):
            history.setdefault(entry.row_id, []).append(entry)
    changes = {} if as_of else _changed(store, catalog)
    out = []
    for city in cities:
        record = rows.get(comparable(city))
        standing = None
        if record is not None:
            standing = (_standing(record, history.get(record.id, []), end) if as_of else
                        (record.status, record.updated_at, record.updated_by, text(record.values.get("note"))))
        if standing is not None and standing[0] in SENT:
            state, at, by, note = standing
            changed = None if as_of else sum(1 for t in changes.get(comparable(city), ()) if t > at)
            out.append(Forwarding(city, state, record, at, by, note, changed))
        else:
            out.append(Forwarding(city, OVERDUE if today > due else NOT_FORWARDED, record))
    return out


def overview(store: Store, catalog: FormCatalog, actor: Actor, today: dt.date) -> pd.DataFrame:
    """The cities ``actor`` may have the archives of: 地市, 报告数 (filed), then :func:`state_table`'s columns."""
    _, binding, form = source(catalog)
    counts: dict[str, int] = {}
    for r in store.records(form.id):
        if r.status in FILED:
            key = comparable(city_of(binding, r))
            counts[key] = counts.get(key, 0) + 1
    table = state_table(forwardings(store, catalog, actor, today))
    table.insert(1, "报告数", [counts.get(comparable(c), 0) for c in table["地市"]])
    return table


#: The column of :func:`state_table` counting the reports changed after a confirmation.
CHANGED = "确认后变更报告数"


def state_table(found: list[Forwarding], *, counted: bool = True) -> pd.DataFrame:
    """地市, 报送状态, 报送时间, 报送账号, 备注, and (``counted``) 确认后变更报告数: one row per forwarding."""
    rows = [{"地市": f.city, "报送状态": f.state, "报送时间": wall_time(f.at) if f.at else None, "报送账号": f.by, "备注": f.note}
            | ({CHANGED: f.changed} if counted else {}) for f in found]
    return pd.DataFrame(rows, columns=["地市", "报送状态", "报送时间", "报送账号", "备注", *([CHANGED] if counted else [])])


def _note(raw: str | None) -> str:
    spec = FieldSpec(key="note", label="备注", type="textarea")
    try:
        note = REGISTRY["textarea"].parse(raw or "", spec, {}) or ""
    except ValueProblem as exc:
        raise ArchiveError(problem(exc.code, field="note", label="备注", **exc.params).message, code=exc.code) from None
    if len(note) > MAX_NOTE:
        raise ArchiveError(f"「备注」最多 {MAX_NOTE} 个字（现有 {len(note)} 个），请精简。", code="archive_note_too_long")
    return note


def forward(store: Store, catalog: FormCatalog, actor: Actor, city: str, *, note: str = "", today: dt.date) -> Record:
    """``city``'s bureau confirms its archive forwarded to the province: :data:`FORWARDED`, or :data:`LATE`
    after the deadline on ``today`` (the campaign clock, which judges :data:`OVERDUE` too). Refused,
    nothing written: another account (Forbidden, audited), a city already confirmed, a note with control
    or direction characters or too long."""
    due = deadline(catalog)
    city = _known_city(catalog, city)
    authorize(store, actor, ARCHIVE_FORWARD, row={"city": city})
    note = _note(note)
    status = LATE if today > due else FORWARDED
    with store.exclusive(FORWARDS.form_id):
        record = _rows(store).get(comparable(city))
        if record is None:
            return store.append(FORWARDS.form_id, {"city": city, "note": note}, actor=actor, status=status)
        if record.status in SENT:
            raise ArchiveError(f"{city}的报告汇总已于 {text(record.updated_at)} 确认报送，无需重复确认。", code="archive_already_forwarded")
        return store.update(FORWARDS.form_id, record.id, base_rev=record.rev, actor=actor, values={"city": city, "note": note},
                            status=status, note="确认报告汇总已报送")


def recall(store: Store, catalog: FormCatalog, actor: Actor, city: str, *, today: dt.date, base_rev: int | None = None) -> Record:
    """``city``'s bureau withdraws its confirmation, up to the deadline (see the module's docstring).
    ``base_rev``: the revision of the city's row the clicker saw; refused (``archive_changed``) when the
    confirmation changed since, so a stale page never withdraws a confirmation its user did not see."""
    due = deadline(catalog)
    city = _known_city(catalog, city)
    authorize(store, actor, ARCHIVE_FORWARD, row={"city": city})
    with store.exclusive(FORWARDS.form_id):
        record = _rows(store).get(comparable(city))
        if record is not None and base_rev is not None and record.rev != base_rev:
            raise ArchiveError(f"{city}的报送确认已于 {text(record.updated_at)} 由账号 {record.updated_by} 更改"
                               f"（现为「{record.status}」），未撤回；请查看最新情况后再操作。", code="archive_changed")
        if record is None or record.status not in SENT:
            raise ArchiveError(f"{city}的报告汇总尚未确认报送，无需撤回。", code="archive_not_forwarded")
        if today > due:
            raise ArchiveError(f"报送截止日期（{text(due)}）已过，已确认的报送不能撤回；如需补充，请与省级主管部门联系。",
                               code="archive_recall_late")
        return store.update(FORWARDS.form_id, record.id, base_rev=record.rev, actor=actor, status=RECALLED, note="撤回报告汇总报送确认")
