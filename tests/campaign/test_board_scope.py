"""One rule decides who reads a row: the board shows exactly the rows ``can(actor, READ, form, row)``
allows, and the register entries it shows without a row follow the same rule's city and organisation
parts (issue 11, outcome 3). Random actors of every role against random rows and registers; every row
carries values of its own (markers), and no marker of a row the actor may not read is anywhere on
its board."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib.auth import Forbidden
from lib.auth.policy import READ, Assignments, can, comparable, reach
from lib.campaign.board import figures
from lib.campaign.board.figures import compute_board
from lib.campaign.board.preparation import prepare_as_of
from lib.campaign.board.scope import board_scope, scope_for, with_vouchers
from lib.campaign.board.units import LATE_FILED
from lib.campaign.register.reconcile import normalize_name_text
from lib.core import statuses
from lib.core.records import Actor, Record
from lib.core.statuses import FILED
from lib.forms import load_catalog
from lib.store.factory import open_store

from .conftest import calendar_of

CATALOG = load_catalog(Path(__file__).resolve().parents[2] / "forms")
FORMS = {f.id: f for f in CATALOG.forms()}
#: Every form the campaign binds with a voucher (an inspector reads only the sampled projects' rows of these).
VOUCHER_KEYS = {CATALOG.bindings.of(k).form: CATALOG.bindings.of(k).key("voucher") for k in CATALOG.bindings.kinds()
                if CATALOG.bindings.of(k).key("voucher")}
CITIES = ("广州", "佛山", "深圳")
CAL = calendar_of(
    CATALOG,
    cities=CITIES,
    titles={"att1": "附件1", "att2": "附件2", "att3": "附件3"},
    deadlines={"att1": dt.date(2020, 9, 18), "att2": dt.date(2020, 9, 18), "att3": dt.date(2020, 9, 21)},
)
FORM_OF_TITLE = {title: fid for fid, title in CAL.titles.items()}
AS_OF = dt.date(2020, 9, 25)
DAYS = ("2020-09-10", "2020-09-20", "2020-09-28")  # on time, late, after the clock
#: Names that are the same organisation written differently, another one, a city bureau, none.
ORGS = ("服务商甲", "服务商 甲", "服务商(甲)", "服务商乙", "牵头甲", "广州市工业和信息化局", "")
ACCOUNTS = ("p1", "p2", "l1", "c1", "x")
ROLES = ("province", "admin", "inspector", "city", "provider", "lead_unit", "guest")
VOUCHERS = ("V-000001", "V-000002", "V-000003")
CODES = ("C1", "C2", "")


def blank_or(values):
    return st.one_of(st.none(), st.just(""), st.sampled_from(values))


actors = st.builds(Actor, account=st.sampled_from(ACCOUNTS), role=st.sampled_from(ROLES), org=st.sampled_from(ORGS),
                   city=st.sampled_from((*CITIES, "")), org_code=st.sampled_from(CODES))

class Mark(str):
    """Stands in a drawn answer for a value of the row's own (a marker), planted by ``stored``."""


TEXT, MONEY, PERCENT, COUNT = Mark("text"), Mark("money"), Mark("percent"), Mark("count")


def or_mark(values, mark: Mark = TEXT):
    """One of ``values`` (a value rows share, as the register and the policy match them) or a marker."""
    return st.one_of(st.sampled_from(values), st.just(mark))


ANSWERS = {
    "att1": st.fixed_dictionaries({
        "voucher_no": or_mark(VOUCHERS), "provider_name": st.one_of(blank_or(ORGS), st.just(TEXT)),
        "client_city": st.one_of(blank_or(CITIES), st.just(TEXT)), "client_name": st.just(TEXT),
        "client_credit_code": or_mark(CODES), "subsidy_amount": or_mark((10.0, 20.0), MONEY),
        "usage_status": st.sampled_from(("正常使用", "闲置")), "monthly_active_users": st.just(COUNT),
        "project_name": st.just(TEXT), "reason": st.just(TEXT)}),
    "att2": st.fixed_dictionaries({
        "project_name": or_mark(("平台项目", "工厂项目")), "lead_unit_name": st.one_of(blank_or(ORGS), st.just(TEXT)),
        "lead_unit_credit_code": or_mark(CODES), "city": st.one_of(blank_or(CITIES), st.just(TEXT)),
        "spending_ratio": or_mark((10.0, 55.0), PERCENT), "percent_complete": st.just(PERCENT),
        "programme": st.just(TEXT), "project_status": st.just(TEXT)}),
    "att3": st.fixed_dictionaries({
        "city": st.one_of(blank_or(CITIES), st.just(TEXT)), "voucher_no": st.one_of(blank_or(VOUCHERS), st.just(TEXT)),
        "client_credit_code": or_mark(CODES), "client_name": st.just(TEXT), "provider_name": st.just(TEXT),
        "check_method": st.sampled_from(("实地检查", "未检查")), "conclusion": st.sampled_from(("合格", "不合格")),
        "satisfaction": st.just(TEXT), "complaint": st.just(TEXT), "problems": st.just(TEXT)}),
}

filings = st.fixed_dictionaries({
    "owner": or_mark(ACCOUNTS), "org": or_mark(ORGS), "city": or_mark((*CITIES, "")),
    "status": st.sampled_from(statuses.ALL), "day": st.sampled_from(DAYS)})

voucher_register = st.lists(st.fixed_dictionaries({
    "voucher": st.sampled_from(VOUCHERS), "firm": st.just("台账企业"), "firm_code": st.sampled_from(CODES),
    "provider": st.sampled_from(ORGS[:-1]), "city": st.sampled_from(CITIES), "subsidy": st.sampled_from((10.0, 30.0))}),
    max_size=3, unique_by=lambda e: e["voucher"])
project_register = st.lists(st.fixed_dictionaries({
    "project": st.sampled_from(("平台项目", "工厂项目")), "lead_unit": st.sampled_from(ORGS[:-1]),
    "lead_unit_code": st.sampled_from(CODES), "city": st.sampled_from(CITIES),
    "programme": st.sampled_from(("省级标杆示范", "工信部创新发展工程", None))}),
    max_size=3, unique_by=lambda e: (e["lead_unit_code"], e["project"]))

_ids = itertools.count(1)


class Markers:
    """Values no other row has and nothing on a board is made of: texts 秘<n>号 (unchanged by the board's
    name and code normalising), money, percent (one decimal, as the board rounds it) and counts no
    figure takes, and a filing time of its own; ``of[row id]``: those planted in that row."""

    def __init__(self):
        self.n = 0
        self.of: dict[str, list] = {}
        self.ids = itertools.count(1)  # row ids of one example: the same on every replay

    def __call__(self, mark: Mark):
        self.n += 1
        return {TEXT: f"秘{self.n}号", MONEY: 1000.25 + self.n, PERCENT: self.n + 0.5, COUNT: 900_000 + self.n}[mark]


def stored(form_id: str, filing: dict, answers: dict, mark: Markers | None = None) -> Record:
    """A stored row; with ``mark``, each Mark among ``filing`` and ``answers`` becomes a marker of its own
    and the row is filed at a second no other row is."""
    if mark is None:  # a row on its own: numbered by the module
        mark = Markers()
        mark.ids = _ids
    planted = []

    def plant(value):
        if isinstance(value, Mark):
            value = mark(value)
            planted.append(value)
        return value

    filing = {k: plant(v) for k, v in filing.items()}
    answers = {k: plant(v) for k, v in answers.items()}
    at = dt.datetime.fromisoformat(filing["day"] + "T10:00") + dt.timedelta(seconds=mark.n)
    record = Record(form_id, f"{form_id}-{next(mark.ids)}", 1, filing["status"], 1, filing["owner"], filing["org"], filing["city"],
                    at, at, filing["owner"], dict(answers))
    mark.of[record.id] = [*planted, at] if planted else planted
    return record


def shown_values(board) -> list:
    """Every value of every table, total and text of a board."""
    cells = []
    for value in vars(board).values():
        if isinstance(value, pd.DataFrame):
            cells += [v for col in value.columns for v in value[col].tolist()]
        elif isinstance(value, dict):
            cells += list(value.values())
        else:
            cells.append(value)
    return cells


def leaked(marks: list, cells: list) -> list:
    """The markers among ``marks`` found in ``cells``: a 秘<n>号 text anywhere inside one, a row id as a
    whole cell, a number or a time equal to one."""
    texts = [m for m in marks if isinstance(m, str) and m.startswith("秘")]
    ids = {m for m in marks if isinstance(m, str) and not m.startswith("秘")}
    numbers = {m for m in marks if isinstance(m, (int, float))}
    times = {pd.Timestamp(m) for m in marks if isinstance(m, dt.datetime)}
    found = []
    for cell in cells:
        if isinstance(cell, str):
            found += [m for m in texts if m in cell] + ([cell] if cell in ids else [])
        elif isinstance(cell, dt.datetime):
            found += [cell] if pd.Timestamp(cell) in times else []
        elif isinstance(cell, (int, float)) and not isinstance(cell, bool) and cell in numbers:
            found.append(cell)
    return found


def snapshot(records: list[Record]) -> pd.DataFrame:
    return pd.DataFrame([r.as_row() for r in records]) if records else pd.DataFrame()


def assert_exactly_readable(actor, records, by_id, mark, board, assignments=None):
    """The board of ``actor`` (an inspector within ``assignments``) shows exactly what ``can`` lets it read."""

    def may(r) -> bool:
        return can(actor, READ, FORMS[r.form_id], r, assignments)

    def readable(form_id: str, row_id: str) -> bool:
        return by_id[row_id].form_id == form_id and may(by_id[row_id])

    def counted(form_id: str) -> set[str]:
        """The reported rows existing on the clock's day that the policy lets the actor read."""
        return {r.id for r in records[form_id] if r.status in FILED and r.created_at.date() <= AS_OF and may(r)}

    # the detail tables: exactly the readable reported rows
    for form_id, table in (("att1", board.project_rows), ("att2", board.spending), ("att3", board.check_rows)):
        assert set(table["记录编号"]) == counted(form_id), form_id
    # every row a unit or an issue names is readable
    for title, row_id in zip(board.units["表单"], board.units["记录编号"], strict=True):
        assert row_id == "" or readable(FORM_OF_TITLE[title], row_id), (title, row_id)
    for row_id in board.issues["记录编号"]:
        assert row_id == "" or readable("att1", row_id), row_id
    # a unit naming no row is a register entry (or a row's place) inside the same rule's city / organisation,
    # of the projects form for an inspector: a sampled voucher
    entries = reach(actor, assignments)
    if entries.how == "own":
        entries = type(entries)("own", account=entries.account, org=normalize_name_text(entries.org))
    for unit in board.units[board.units["记录编号"] == ""].to_dict("records"):
        form = FORMS[FORM_OF_TITLE[unit["表单"]]]
        assert can(actor, READ, form, assignments=assignments)
        if entries.narrows(form.id):
            assert entries.admits_voucher(unit["编号"]), unit
        else:
            assert entries.admits(unit["地市"], unit["填报账号"], unit["单位"]), unit
    for issue in board.issues[board.issues["记录编号"] == ""].to_dict("records"):
        if entries.narrows("att1"):
            assert entries.admits_voucher(issue["服务券编号"]), issue
        else:
            assert entries.admits(issue["地市"], issue["填报账号"], issue["服务商"]), issue
    # the late list and the provider table sum up shown units only
    shown = set(zip(board.units["表单"], board.units["单位"], strict=True))
    assert set(zip(board.late["表单"], board.late["单位"], strict=True)) <= shown
    assert set(board.providers["服务商"]) <= {unit for title, unit in shown if title == CAL.titles["att1"]}
    # rows created after the clock: the viewer is told about those it may read
    later = sum(1 for r in by_id.values() if r.created_at.date() > AS_OF and may(r))
    assert board.totals["截至日期后创建"] == later
    # nothing of a row the viewer may not read: none of its own values is anywhere on the board
    unreadable = [m for r in by_id.values() if not may(r) for m in [r.id, *mark.of[r.id]]]
    assert not leaked(unreadable, shown_values(board))


def drawn_rows(data, mark: Markers) -> dict[str, list[Record]]:
    return {fid: [stored(fid, f, a, mark) for f, a in data.draw(st.lists(st.tuples(filings, ANSWERS[fid]), max_size=6), label=fid)]
            for fid in ANSWERS}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actor=actors, data=st.data(), vouchers=voucher_register, projects=project_register)
def test_the_board_shows_exactly_the_rows_the_policy_lets_a_viewer_read(actor, data, vouchers, projects):
    mark = Markers()
    records = drawn_rows(data, mark)
    by_id = {r.id: r for rows in records.values() for r in rows}
    board = compute_board({fid: snapshot(rows) for fid, rows in records.items()}, pd.DataFrame(vouchers) if vouchers else None,
                          pd.DataFrame(projects) if projects else None, CAL, AS_OF, scope_for(actor, FORMS.values()))
    assert_exactly_readable(actor, records, by_id, mark, board)


#: An inspector's assignment: the cities its group goes to, and each city's sampled vouchers (written
#: as the sample may write them: another case, a full-width dash).
assignments = st.builds(
    lambda cities, sampled: Assignments({"x": tuple(cities)}, sampled, VOUCHER_KEYS),
    st.lists(st.sampled_from(CITIES), min_size=1, max_size=2, unique=True),
    st.dictionaries(st.sampled_from(CITIES), st.frozensets(st.sampled_from(VOUCHERS).map(comparable), max_size=2)),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), assigned=assignments, vouchers=voucher_register)
def test_an_inspector_s_board_shows_exactly_its_assignment(data, assigned, vouchers):
    """An inspector (account x) assigned to some cities reads, on the board as through ``can``, the
    sampled projects and the other forms' rows placed in its cities, and nothing of any other row."""
    actor = Actor("x", "inspector", "检查单位", data.draw(st.sampled_from((*CITIES, "")), label="home city"))
    mark = Markers()
    records = drawn_rows(data, mark)
    by_id = {r.id: r for rows in records.values() for r in rows}
    frames = {fid: snapshot(rows) for fid, rows in records.items()}
    prepared = with_vouchers(prepare_as_of(frames, pd.DataFrame(vouchers) if vouchers else None, None, CAL, AS_OF), frames)
    board = figures.board(prepared, scope_for(actor, FORMS.values(), assigned))
    assert_exactly_readable(actor, records, by_id, mark, board, assigned)


@pytest.mark.parametrize("viewer, firm_city", [
    (Actor("p3", "provider", "服务商 甲"), "广州"),  # a colleague of the filer, its organisation spelled with a space
    (Actor("c1", "city", "广州市工业和信息化局", "广州"), "佛山"),  # the register's city; the filing places the firm elsewhere
], ids=["colleague", "register_city"])
def test_an_entry_whose_filing_the_viewer_may_not_read_shows_the_register_and_its_progress_only(viewer, firm_city):
    """The register gives V-000001 to 服务商甲 in 广州; p1 files it late, for a firm placed in ``firm_city``.
    The viewer's reach covers the entry but ``can`` refuses the row: the entry shows as reported late
    with the register's facts, and nothing of the row (its time, amount, credit code, firm, city, id)."""
    mark = Markers()
    filing = {"owner": "p1", "org": "服务商甲", "city": "", "status": statuses.SUBMITTED, "day": "2020-09-20"}
    row = stored("att1", filing, {"voucher_no": "V-000001", "provider_name": "服务商甲", "client_city": firm_city,
                                  "client_name": TEXT, "client_credit_code": TEXT, "subsidy_amount": MONEY}, mark)
    register = pd.DataFrame([{"voucher": "V-000001", "firm": "台账企业", "firm_code": "C1",
                              "provider": "服务商甲", "city": "广州", "subsidy": 10.0}])
    board = compute_board({"att1": snapshot([row])}, register, None, CAL, AS_OF, scope_for(viewer, FORMS.values()))
    assert not can(viewer, READ, FORMS["att1"], row)

    [unit] = board.units[board.units["表单"] == "附件1"].to_dict("records")
    assert [unit[c] for c in ("编号", "地市", "单位", "名称", "状态", "逾期天数")] == ["V-000001", "广州", "服务商甲", "台账企业", LATE_FILED, 2]
    assert unit["记录编号"] == unit["填报账号"] == unit["记录状态"] == "" and pd.isna(unit["填报时间"])
    issues = board.issues.set_index("问题类型")
    assert {"金额不符", "企业信用代码不符"} <= set(issues.index) and ("地市不符" in issues.index) == (firm_city != "广州")
    assert (issues[["台账奖补金额", "台账地市", "台账信用代码", "企业名称"]].drop_duplicates().values.tolist()
            == [[10.0, "广州", "C1", "台账企业"]])
    assert issues["填报奖补金额"].isna().all()
    assert (issues[["填报地市", "填报信用代码", "填报服务商", "记录编号", "填报账号"]] == "").all().all()
    cells = shown_values(board)
    assert not leaked([row.id, *mark.of[row.id]], cells)
    assert firm_city == "广州" or not any(isinstance(c, str) and firm_city in c for c in cells)


def test_an_assigned_inspector_sees_the_sampled_projects_of_its_city_and_their_register_entries(tmp_path):
    """By hand: the register lists V-000001 and V-000002 in 广州 and V-000003 in 佛山; 广州's sample is
    V-000001 (written in lower case, as the sample may), and inspector i1 is assigned to 广州. Of 附件1 it
    sees V-000001's entry with the register's facts and its filing (and the filing made after the clock
    in its count), nothing of V-000002 or V-000003; of 附件3 (a form with a voucher too: attack K10) the
    check of V-000001 only, not the 广州 check of V-000002."""
    mark = Markers()
    filed = {"org": "服务商甲", "city": "", "status": statuses.SUBMITTED, "day": "2020-09-10"}
    sampled = stored("att1", {**filed, "owner": "p1"}, {"voucher_no": "V-000001", "client_city": "广州", "client_name": TEXT,
                                                         "subsidy_amount": MONEY}, mark)
    unsampled = stored("att1", {**filed, "owner": "p2", "org": "服务商乙"}, {"voucher_no": "V-000002", "client_city": "广州",
                                                                            "client_name": TEXT, "subsidy_amount": MONEY}, mark)
    elsewhere = stored("att1", {**filed, "owner": "p1"}, {"voucher_no": "V-000003", "client_city": "佛山", "client_name": TEXT}, mark)
    later = stored("att1", {**filed, "owner": "p1", "day": "2020-09-28"}, {"voucher_no": "V-000001", "client_city": "广州"}, mark)
    later_other = stored("att1", {**filed, "owner": "p2", "day": "2020-09-28"}, {"voucher_no": "V-000002", "client_city": "广州"}, mark)
    check_sampled = stored("att3", {**filed, "owner": "c1", "city": "广州"}, {"city": "广州", "voucher_no": "V-000001", "problems": TEXT}, mark)
    check_gz = stored("att3", {**filed, "owner": "c1", "city": "广州"}, {"city": "广州", "voucher_no": "V-000002", "problems": TEXT}, mark)
    check_fs = stored("att3", {**filed, "owner": "c2", "city": "佛山"}, {"city": "佛山", "voucher_no": "V-000003", "problems": TEXT}, mark)
    register = pd.DataFrame([
        {"voucher": "V-000001", "firm": "台账企业一", "firm_code": "C1", "provider": "服务商甲", "city": "广州", "subsidy": 30.0},
        {"voucher": "V-000002", "firm": "台账企业二", "firm_code": "C2", "provider": "服务商乙", "city": "广州", "subsidy": 40.0},
        {"voucher": "V-000003", "firm": "台账企业三", "firm_code": "C3", "provider": "服务商甲", "city": "佛山", "subsidy": 50.0},
    ])
    frames = {"att1": snapshot([sampled, unsampled, elsewhere, later, later_other]), "att3": snapshot([check_sampled, check_gz, check_fs])}
    prepared = with_vouchers(prepare_as_of(frames, register, None, CAL, AS_OF), frames)
    i1 = Actor("i1", "inspector", "检查单位", "深圳")
    assigned = Assignments({"i1": ("广州",)}, {"广州": frozenset({"v-000001"}), "佛山": frozenset({"v-000003"})}, VOUCHER_KEYS)
    board = figures.board(prepared, scope_for(i1, FORMS.values(), assigned))

    assert board.scope.label == "检查任务：广州市"
    assert set(board.progress["地市"]) == {"广州"}  # its assignment's city, not every city with zeros
    assert board.project_rows["记录编号"].tolist() == [sampled.id]
    projects = board.units[board.units["表单"] == "附件1"]
    assert projects[["编号", "地市", "记录编号"]].values.tolist() == [["V-000001", "广州", sampled.id]]
    checks = board.units[board.units["表单"] == "附件3"]
    assert set(checks["地市"]) == {"广州"} and set(checks["编号"]) == {"V-000001"}  # the sampled project's entry only
    assert board.check_rows["记录编号"].tolist() == [check_sampled.id]
    assert set(board.issues["服务券编号"]) == {"V-000001"} and set(board.issues["台账奖补金额"]) == {30.0}  # facts it checks on site
    assert board.totals["截至日期后创建"] == 1  # the later filing of V-000001, not that of V-000002
    hidden = [m for r in (unsampled, elsewhere, later_other, check_gz, check_fs) for m in [r.id, *mark.of[r.id]]]
    assert not leaked(hidden, shown_values(board))

    # the readers without the vouchers (``with_vouchers`` not applied): no 附件1 or 附件3 row is readable, none leaks
    bare = figures.board(prepare_as_of(frames, register, None, CAL, AS_OF), scope_for(i1, FORMS.values(), assigned))
    assert bare.project_rows.empty and bare.check_rows.empty
    # another inspector, and i1 with no draw in force: no board at all, the refusal audited
    for who, known in ((Actor("i2", "inspector", "检查单位", "广州"), assigned), (i1, Assignments()), (i1, None)):
        assert scope_for(who, FORMS.values(), known).forms == ()
        store = open_store("local", data_dir=tmp_path / who.account / str(known is None), background=False)
        try:
            with pytest.raises(Forbidden) as refused:
                board_scope(store, who, FORMS.values(), known)
            assert refused.value.code == "forbidden"
            assert [e.action for e in store.audit()] == ["拒绝访问"]
        finally:
            store.close()


def test_a_city_s_board_shows_no_draft_of_a_form_it_neither_fills_nor_reviews():
    """Attack M14's rule on the board, as ``can`` has it: p1's draft of V-000001 (广州) and p2's filed
    V-000002 (广州). The 广州 bureau neither fills nor reviews 附件1: its board names the filed row, not the
    draft (V-000001 shows as the register's entry, not reported, nothing of the draft); the province and
    p1 itself see the draft."""
    mark = Markers()
    draft = stored("att1", {"owner": "p1", "org": "服务商甲", "city": "", "status": statuses.DRAFT, "day": "2020-09-10"},
                   {"voucher_no": "V-000001", "client_city": "广州", "client_name": TEXT, "subsidy_amount": MONEY}, mark)
    filed = stored("att1", {"owner": "p2", "org": "服务商乙", "city": "", "status": statuses.SUBMITTED, "day": "2020-09-10"},
                   {"voucher_no": "V-000002", "client_city": "广州", "client_name": TEXT}, mark)
    register = pd.DataFrame([
        {"voucher": "V-000001", "firm": "台账企业一", "firm_code": "C1", "provider": "服务商甲", "city": "广州", "subsidy": 30.0},
        {"voucher": "V-000002", "firm": "台账企业二", "firm_code": "C2", "provider": "服务商乙", "city": "广州", "subsidy": 40.0}])
    frames = {"att1": snapshot([draft, filed])}
    city = Actor("c1", "city", "广州市工业和信息化局", "广州")
    assert not can(city, READ, FORMS["att1"], draft) and can(city, READ, FORMS["att1"], filed)

    def board_of(actor):
        return compute_board(frames, register, None, CAL, AS_OF, scope_for(actor, FORMS.values()))

    board = board_of(city)
    units = board.units[board.units["表单"] == "附件1"]
    assert set(units["记录编号"]) == {filed.id, ""}
    assert units.loc[units["编号"] == "V-000001", "记录状态"].tolist() == [""]
    assert not leaked([draft.id, *mark.of[draft.id]], shown_values(board))
    for reader in (Actor("province", "province"), Actor("p1", "provider", "服务商甲")):
        assert draft.id in set(board_of(reader).units["记录编号"]), reader.role
