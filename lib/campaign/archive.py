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
province has counted on it, so a confirmation stands. On the campaign clock a city is :data:`FORWARDED`,
:data:`NOT_FORWARDED`, or :data:`OVERDUE` once the deadline has passed without a confirmation.

>>> safe_name(' 智能/工厂:改造 "一期" ') , safe_name("CON"), safe_name("..."), safe_name("a\\u202eb\\n")
('智能_工厂_改造 _一期_', '_CON', '', 'a_b_')
>>> unique_names(["甲", "乙", "甲", "甲"])
['甲', '乙', '甲（2）', '甲（3）']
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from lib.auth.policy import ARCHIVE, ARCHIVE_FORWARD, READ, authorize, can, place
from lib.auth.scope import get_record
from lib.core.errors import AppError
from lib.core.records import Actor, Record
from lib.core.statuses import FILED
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
from lib.store.base import Column, SheetSpec, Store
from lib.submissions import my_records

FORWARDS = SheetSpec("archive_forwards", "报告汇总报送", (Column("city", "地市"), Column("note", "备注")))
FORWARDED = "已报送"  # a city's row: the city confirmed its archive forwarded (also what the overview says)
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
_RESERVED = re.compile(r"(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?", re.IGNORECASE)


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
    or trailing blanks and dots, not a device name of Windows, at most :data:`MAX_NAME` characters;
    "" when nothing is left."""
    cleaned = _NOT_IN_NAMES.sub("_", INVISIBLE_CHARS.sub("", name))
    cleaned = cleaned.strip(" .\u3000")[:MAX_NAME].rstrip(" .\u3000")
    return f"_{cleaned}" if _RESERVED.fullmatch(cleaned) else cleaned


def unique_names(names: Iterable[str]) -> list[str]:
    """``names`` with a repeat (as Windows compares names: case-folded) numbered （2）, （3）…"""
    taken: set[str] = set()
    out = []
    for name in names:
        candidate, n = name, 1
        while candidate.casefold() in taken:
            n += 1
            candidate = f"{name}（{n}）"
        taken.add(candidate.casefold())
        out.append(candidate)
    return out


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
    return report_docx(form, record, tuple(catalog.campaign.cities), campaign_title=catalog.campaign.title, printed_on=today)


def _summary(form: FormSpec, records: list[Record], names: list[str], binding: FormBinding) -> pd.DataFrame:
    """One row per report: 序号, its document, its summary fields, its city, filer, status and filing time."""
    fields = form.summary_fields()
    rows = []
    for n, (record, name) in enumerate(zip(records, names, strict=True), start=1):
        row = {"序号": n, "文件名": name}
        row |= {f.label: value_text(f, record.values.get(f.key)) for f in fields}
        row |= {"地市": city_of(binding, record), "填报单位": record.org or record.owner, "记录编号": record.id,
                "状态": record.status, "更新时间": wall_time(record.updated_at)}
        rows.append(row)
    return pd.DataFrame(rows, columns=["序号", "文件名", *(f.label for f in fields), "地市", "填报单位", "记录编号", "状态", "更新时间"])


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
    archive = declared(catalog)
    records = city_reports(store, catalog, actor, city)
    return archive.file_name(_known_city(catalog, city)), _zip(_entries(catalog, records, today), now or dt.datetime.now(dt.UTC))


def all_archives_zip(store: Store, catalog: FormCatalog, actor: Actor, *, today: dt.date | None = None,
                     now: dt.datetime | None = None) -> tuple[str, bytes]:
    """The province's one zip of every city's archive: a folder per city (named as its own zip, without
    ``.zip``) holding what that city's zip holds. Forbidden (audited) for anyone who may not have every one."""
    archive = declared(catalog)
    entries = []
    for city in catalog.campaign.cities:
        folder = archive.file_name(city).removesuffix(".zip")
        entries += [(f"{folder}/{name}", data) for name, data in _entries(catalog, city_reports(store, catalog, actor, city), today)]
    return archive.file_name(ALL_CITIES), _zip(entries, now or dt.datetime.now(dt.UTC))


# --- forwarding -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Forwarding:
    """One city's forwarding as the overview shows it: ``state`` (FORWARDED, NOT_FORWARDED, OVERDUE), the
    city's row when it has one (its time and account: when and by whom; its note)."""

    city: str
    state: str
    record: Record | None = None

    @property
    def at(self) -> dt.datetime | None:
        return self.record.updated_at if self.record is not None and self.state == FORWARDED else None

    @property
    def by(self) -> str:
        return self.record.updated_by if self.record is not None and self.state == FORWARDED else ""

    @property
    def note(self) -> str:
        return text(self.record.values.get("note")) if self.record is not None and self.state == FORWARDED else ""


def ensure_sheet(store: Store) -> None:
    store.ensure_sheet(FORWARDS)


def _rows(store: Store) -> dict[str, Record]:
    """City (as ``comparable``) -> its row."""
    ensure_sheet(store)
    return {comparable(text(r.values.get("city"))): r for r in store.records(FORWARDS.form_id)}


def forwardings(store: Store, catalog: FormCatalog, actor: Actor, today: dt.date) -> list[Forwarding]:
    """The forwarding of each city ``actor`` may have the archive of (the province: every city; a city
    bureau: its own; anyone else: none), in the campaign's order of cities, judged on ``today``."""
    return states(store, catalog, [c for c in catalog.campaign.cities if can(actor, ARCHIVE, row={"city": c})], today)


def states(store: Store, catalog: FormCatalog, cities: list[str], today: dt.date) -> list[Forwarding]:
    """The forwarding of each of ``cities`` as it stands, overdue judged on ``today``, for a caller that
    has decided which cities its viewer reads (the board, by its scope)."""
    due = deadline(catalog)
    rows = _rows(store)
    out = []
    for city in cities:
        record = rows.get(comparable(city))
        if record is not None and record.status == FORWARDED:
            out.append(Forwarding(city, FORWARDED, record))
        else:
            out.append(Forwarding(city, OVERDUE if today > due else NOT_FORWARDED, record))
    return out


def overview(store: Store, catalog: FormCatalog, actor: Actor, today: dt.date) -> pd.DataFrame:
    """The cities ``actor`` may have the archives of: 地市, 报告数 (filed), 报送状态, 报送时间, 报送账号, 备注."""
    _, binding, form = source(catalog)
    counts: dict[str, int] = {}
    for r in store.records(form.id):
        if r.status in FILED:
            key = comparable(city_of(binding, r))
            counts[key] = counts.get(key, 0) + 1
    table = state_table(forwardings(store, catalog, actor, today))
    table.insert(1, "报告数", [counts.get(comparable(c), 0) for c in table["地市"]])
    return table


def state_table(found: list[Forwarding]) -> pd.DataFrame:
    """地市, 报送状态, 报送时间, 报送账号, 备注: one row per forwarding."""
    rows = [{"地市": f.city, "报送状态": f.state, "报送时间": wall_time(f.at) if f.at else None, "报送账号": f.by, "备注": f.note}
            for f in found]
    return pd.DataFrame(rows, columns=["地市", "报送状态", "报送时间", "报送账号", "备注"])


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
    """``city``'s bureau confirms its archive forwarded to the province (late too: the overview then shows
    when). Refused, nothing written: another account (Forbidden, audited), a city already confirmed, a
    note with control or direction characters or too long."""
    declared(catalog)
    city = _known_city(catalog, city)
    authorize(store, actor, ARCHIVE_FORWARD, row={"city": city})
    note = _note(note)
    with store.exclusive(FORWARDS.form_id):
        record = _rows(store).get(comparable(city))
        if record is None:
            return store.append(FORWARDS.form_id, {"city": city, "note": note}, actor=actor, status=FORWARDED)
        if record.status == FORWARDED:
            raise ArchiveError(f"{city}的报告汇总已于 {text(record.updated_at)} 确认报送，无需重复确认。", code="archive_already_forwarded")
        return store.update(FORWARDS.form_id, record.id, base_rev=record.rev, actor=actor, values={"city": city, "note": note},
                            status=FORWARDED, note="确认报告汇总已报送")


def recall(store: Store, catalog: FormCatalog, actor: Actor, city: str, *, today: dt.date) -> Record:
    """``city``'s bureau withdraws its confirmation, up to the deadline (see the module's docstring)."""
    due = deadline(catalog)
    city = _known_city(catalog, city)
    authorize(store, actor, ARCHIVE_FORWARD, row={"city": city})
    with store.exclusive(FORWARDS.form_id):
        record = _rows(store).get(comparable(city))
        if record is None or record.status != FORWARDED:
            raise ArchiveError(f"{city}的报告汇总尚未确认报送，无需撤回。", code="archive_not_forwarded")
        if today > due:
            raise ArchiveError(f"报送截止日期（{text(due)}）已过，已确认的报送不能撤回；如需补充，请与省级主管部门联系。",
                               code="archive_recall_late")
        return store.update(FORWARDS.form_id, record.id, base_rev=record.rev, actor=actor, status=RECALLED, note="撤回报告汇总报送确认")
