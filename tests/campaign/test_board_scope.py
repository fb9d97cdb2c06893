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

from lib.auth.policy import READ, can, reach
from lib.campaign.board.figures import compute_board
from lib.campaign.board.scope import scope_for
from lib.campaign.board.units import LATE_FILED
from lib.campaign.register.reconcile import normalize_name_text
from lib.core import statuses
from lib.core.records import Actor, Record
from lib.core.statuses import FILED
from lib.forms import load_catalog

from .conftest import calendar_of

CATALOG = load_catalog(Path(__file__).resolve().parents[2] / "forms")
FORMS = {f.id: f for f in CATALOG.forms()}
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


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actor=actors, data=st.data(), vouchers=voucher_register, projects=project_register)
def test_the_board_shows_exactly_the_rows_the_policy_lets_a_viewer_read(actor, data, vouchers, projects):
    mark = Markers()
    records = {fid: [stored(fid, f, a, mark) for f, a in data.draw(st.lists(st.tuples(filings, ANSWERS[fid]), max_size=6), label=fid)]
               for fid in FORMS}
    by_id = {r.id: r for rows in records.values() for r in rows}
    board = compute_board({fid: snapshot(rows) for fid, rows in records.items()}, pd.DataFrame(vouchers) if vouchers else None,
                          pd.DataFrame(projects) if projects else None, CAL, AS_OF, scope_for(actor, FORMS.values()))

    def readable(form_id: str, row_id: str) -> bool:
        return by_id[row_id].form_id == form_id and can(actor, READ, FORMS[form_id], by_id[row_id])

    def counted(form_id: str) -> set[str]:
        """The reported rows existing on the clock's day that the policy lets the actor read."""
        return {r.id for r in records[form_id] if r.status in FILED and r.created_at.date() <= AS_OF
                and can(actor, READ, FORMS[form_id], r)}

    # the detail tables: exactly the readable reported rows
    for form_id, table in (("att1", board.project_rows), ("att2", board.spending), ("att3", board.check_rows)):
        assert set(table["记录编号"]) == counted(form_id), form_id
    # every row a unit or an issue names is readable
    for title, row_id in zip(board.units["表单"], board.units["记录编号"], strict=True):
        assert row_id == "" or readable(FORM_OF_TITLE[title], row_id), (title, row_id)
    for row_id in board.issues["记录编号"]:
        assert row_id == "" or readable("att1", row_id), row_id
    # a unit naming no row is a register entry (or a row's place) inside the same rule's city / organisation
    entries = reach(actor)
    if entries.how == "own":
        entries = type(entries)("own", account=entries.account, org=normalize_name_text(entries.org))
    for unit in board.units[board.units["记录编号"] == ""].to_dict("records"):
        assert can(actor, READ, FORMS[FORM_OF_TITLE[unit["表单"]]])
        assert entries.admits(unit["地市"], unit["填报账号"], unit["单位"]), unit
    for issue in board.issues[board.issues["记录编号"] == ""].to_dict("records"):
        assert entries.admits(issue["地市"], issue["填报账号"], issue["服务商"]), issue
    # the late list and the provider table sum up shown units only
    shown = set(zip(board.units["表单"], board.units["单位"], strict=True))
    assert set(zip(board.late["表单"], board.late["单位"], strict=True)) <= shown
    assert set(board.providers["服务商"]) <= {unit for title, unit in shown if title == CAL.titles["att1"]}
    # rows created after the clock: the viewer is told about those it may read
    later = sum(1 for r in by_id.values() if r.created_at.date() > AS_OF and can(actor, READ, FORMS[r.form_id], r))
    assert board.totals["截至日期后创建"] == later
    # nothing of a row the viewer may not read: none of its own values is anywhere on the board
    unreadable = [m for r in by_id.values() if not can(actor, READ, FORMS[r.form_id], r) for m in [r.id, *mark.of[r.id]]]
    assert not leaked(unreadable, shown_values(board))



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
