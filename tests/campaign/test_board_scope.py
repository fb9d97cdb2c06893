"""One rule decides who reads a row: the board shows exactly the rows ``can(actor, READ, form, row)``
allows, and the register entries it shows without a row follow the same rule's city and organisation
parts (issue 11, outcome 3). Random actors of every role against random rows and registers."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib.auth.policy import READ, can, reach
from lib.campaign.board.figures import compute_board
from lib.campaign.board.scope import scope_for
from lib.campaign.board.units import REPORTED_STATUSES
from lib.campaign.register.reconcile import normalize_name_text
from lib.campaign.schedule import Calendar
from lib.core import statuses
from lib.core.records import Actor, Record
from lib.forms import load_catalog

CATALOG = load_catalog(Path(__file__).resolve().parents[2] / "forms")
FORMS = {f.id: f for f in CATALOG.forms()}
CITIES = ("广州", "佛山", "深圳")
CAL = Calendar(
    cities=CITIES,
    titles={"att1": "附件1", "att2": "附件2", "att3": "附件3"},
    deadlines={"att1": dt.date(2020, 9, 18), "att2": dt.date(2020, 9, 18), "att3": dt.date(2020, 9, 21)},
    city_fields={fid: f.city_field() for fid, f in FORMS.items() if f.city_field()},
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

ANSWERS = {
    "att1": st.fixed_dictionaries({
        "voucher_no": st.sampled_from(VOUCHERS), "provider_name": blank_or(ORGS), "client_city": blank_or(CITIES),
        "client_name": st.sampled_from(("甲企业", "乙企业")), "client_credit_code": st.sampled_from(CODES),
        "subsidy_amount": st.sampled_from((10.0, 20.0)), "usage_status": st.sampled_from(("正常使用", "闲置"))}),
    "att2": st.fixed_dictionaries({
        "project_name": st.sampled_from(("平台项目", "工厂项目")), "lead_unit_name": blank_or(ORGS),
        "lead_unit_credit_code": st.sampled_from(CODES), "city": blank_or(CITIES), "spending_ratio": st.sampled_from((10.0, 55.0))}),
    "att3": st.fixed_dictionaries({
        "city": blank_or(CITIES), "voucher_no": blank_or(VOUCHERS), "client_credit_code": st.sampled_from(CODES),
        "check_method": st.sampled_from(("实地检查", "未检查")), "conclusion": st.sampled_from(("合格", "不合格"))}),
}

filings = st.fixed_dictionaries({
    "owner": st.sampled_from(ACCOUNTS), "org": st.sampled_from(ORGS), "city": st.sampled_from((*CITIES, "")),
    "status": st.sampled_from(statuses.ALL), "day": st.sampled_from(DAYS)})

voucher_register = st.lists(st.fixed_dictionaries({
    "voucher_no": st.sampled_from(VOUCHERS), "client_name": st.just("台账企业"), "client_credit_code": st.sampled_from(CODES),
    "provider_name": st.sampled_from(ORGS[:-1]), "city": st.sampled_from(CITIES), "subsidy_amount": st.sampled_from((10.0, 30.0))}),
    max_size=3, unique_by=lambda e: e["voucher_no"])
project_register = st.lists(st.fixed_dictionaries({
    "project_name": st.sampled_from(("平台项目", "工厂项目")), "lead_unit_name": st.sampled_from(ORGS[:-1]),
    "lead_unit_credit_code": st.sampled_from(CODES), "city": st.sampled_from(CITIES)}),
    max_size=3, unique_by=lambda e: (e["lead_unit_credit_code"], e["project_name"]))

_ids = itertools.count(1)


def stored(form_id: str, filing: dict, answers: dict) -> Record:
    at = dt.datetime.fromisoformat(filing["day"] + "T10:00")
    return Record(form_id, f"{form_id}-{next(_ids)}", 1, filing["status"], 1, filing["owner"], filing["org"], filing["city"],
                  at, at, filing["owner"], dict(answers))


def snapshot(records: list[Record]) -> pd.DataFrame:
    return pd.DataFrame([r.as_row() for r in records]) if records else pd.DataFrame()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actor=actors, data=st.data(), vouchers=voucher_register, projects=project_register)
def test_the_board_shows_exactly_the_rows_the_policy_lets_a_viewer_read(actor, data, vouchers, projects):
    records = {fid: [stored(fid, f, a) for f, a in data.draw(st.lists(st.tuples(filings, ANSWERS[fid]), max_size=6), label=fid)]
               for fid in FORMS}
    by_id = {r.id: r for rows in records.values() for r in rows}
    board = compute_board({fid: snapshot(rows) for fid, rows in records.items()}, pd.DataFrame(vouchers) if vouchers else None,
                          pd.DataFrame(projects) if projects else None, CAL, AS_OF, scope_for(actor, FORMS.values()))

    def readable(form_id: str, row_id: str) -> bool:
        return by_id[row_id].form_id == form_id and can(actor, READ, FORMS[form_id], by_id[row_id])

    def counted(form_id: str) -> set[str]:
        """The reported rows existing on the clock's day that the policy lets the actor read."""
        return {r.id for r in records[form_id] if r.status in REPORTED_STATUSES and r.created_at.date() <= AS_OF
                and can(actor, READ, FORMS[form_id], r)}

    # the detail tables: exactly the readable reported rows
    for form_id, table in (("att1", board.att1), ("att2", board.spending), ("att3", board.att3)):
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

