"""AppTest of pages/archive.py (报告汇总) per role: the lead unit's own reports as Word, a city bureau's city
with its zip and 确认已报送, the province's table of every city with each city's zip."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from streamlit.testing.v1 import AppTest

from lib.campaign import archive
from lib.core.records import Actor
from lib.demo.seed import generate
from lib.forms.columns import sheet_spec
from lib.ui import state

from .conftest import sign_in

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "archive.py")


def _reports(catalog, reopen):
    """The demo's reports, filed; the lead unit of the first and the city it is in."""
    form = catalog.form(catalog.bindings.of("benchmarks").form)
    rows = generate(catalog, rows=200, seed=4)[form.id]
    store = reopen()
    store.ensure_sheet(sheet_spec(form))
    filed = [store.append(form.id, r.values, actor=r.actor, status="已提交") for r in rows]
    lead = rows[0].actor
    city = filed[0].values["city"]
    return store, form, filed, lead, city


def _page(actor, page=PAGE):
    at = AppTest.from_file(page, default_timeout=60)
    sign_in(at, actor)
    at.run()
    assert not at.exception
    return at


def test_a_lead_unit_sees_its_own_reports_with_a_word_download_each(app_env, catalog, reopen):
    store, form, filed, lead, _ = _reports(catalog, reopen)
    own = [r for r in filed if r.owner == lead.account]
    at = _page(lead)
    words = [b for b in at.get("download_button") if b.label == "下载 Word"]
    assert len(words) == len(own) >= 1
    assert not [b for b in at.get("download_button") if "压缩包" in b.label]
    assert not [b for b in at.button if b.label.startswith("确认已报送")]
    shown = " ".join(m.value for m in at.markdown).replace("\\", "")  # captions are escaped Markdown (plain_text)
    assert all(r.id in shown for r in own) and not any(r.id in shown for r in filed if r.owner != lead.account)


def test_a_city_downloads_its_zip_and_confirms_it_forwarded(app_env, catalog, reopen, monkeypatch):
    store, form, filed, _, city = _reports(catalog, reopen)
    due = archive.deadline(catalog)
    monkeypatch.setenv("APP_CAMPAIGN_TODAY", str(due))
    bureau = Actor("city_x", "city", f"{city}市工业和信息化局", city)
    at = _page(bureau)
    mine = [r for r in filed if r.values["city"] == city]
    assert len([b for b in at.get("download_button") if b.label == "下载 Word"]) == len(mine)
    assert [b.label for b in at.get("download_button") if "压缩包" in b.label] == ["下载本市汇总压缩包"]
    at.text_input[0].set_value("已通过政务邮箱报送").run()
    confirm = next(b for b in at.button if b.label.startswith("确认已报送"))
    assert confirm.label == f"确认已报送{catalog.campaign.roles['province']}"
    confirm.click().run()
    assert not at.exception
    (row,) = reopen().records(archive.FORWARDS.form_id)
    assert row.status == archive.FORWARDED and row.values == {"city": city, "note": "已通过政务邮箱报送"} and row.updated_by == bureau.account
    assert any("已确认报送" in s.value for s in at.success)
    next(b for b in at.button if b.label == "撤回报送确认").click().run()  # on the deadline day: still allowed
    assert reopen().records(archive.FORWARDS.form_id)[0].status == archive.RECALLED


def test_an_overdue_city_is_told_so(app_env, catalog, reopen, monkeypatch):
    _, _, _, _, city = _reports(catalog, reopen)
    monkeypatch.setenv("APP_CAMPAIGN_TODAY", str(archive.deadline(catalog) + dt.timedelta(days=1)))
    at = _page(Actor("city_x", "city", f"{city}市工业和信息化局", city))
    assert any(archive.OVERDUE in e.value for e in at.error)


def test_the_province_sees_every_citys_forwarding_and_each_citys_zip(app_env, catalog, reopen, monkeypatch):
    store, form, filed, _, city = _reports(catalog, reopen)
    due = archive.deadline(catalog)
    archive.forward(store, catalog, Actor("city_x", "city", "某局", city), city, today=due)
    monkeypatch.setenv("APP_CAMPAIGN_TODAY", str(due + dt.timedelta(days=1)))
    at = _page(Actor("province", "province", "省工业和信息化厅"))
    table = at.dataframe[0].value.set_index("地市")
    assert list(table.index) == list(catalog.campaign.cities)
    assert table.loc[city, "报送状态"] == archive.FORWARDED and table.loc[city, "报送账号"] == "city_x"
    assert set(table["报送状态"]) == {archive.FORWARDED, archive.OVERDUE}
    assert int(table["报告数"].sum()) == len(filed)
    labels = [b.label for b in at.get("download_button")]
    assert "下载全部地市汇总压缩包" in labels
    assert sum(1 for label in labels if label.endswith(" 份）")) == len(catalog.campaign.cities)
    assert not [b for b in at.button if b.label.startswith("确认已报送")]


def _forwarding_table(at):
    return next(d.value for d in at.dataframe if "报送状态" in d.value.columns)


def test_the_board_shows_per_city_whether_its_archive_was_forwarded(app_env, catalog, reopen, monkeypatch):
    store, _, _, _, city = _reports(catalog, reopen)
    due = archive.deadline(catalog)
    archive.forward(store, catalog, Actor("city_x", "city", "某局", city), city, today=due)
    board = str(ROOT / "pages" / "board.py")
    province = Actor("province", "province", "省工业和信息化厅")
    monkeypatch.setenv("APP_CAMPAIGN_TODAY", str(due + dt.timedelta(days=1)))  # a day before the confirmation's stamp (now)
    at = _page(province, board)
    states = _forwarding_table(at).set_index("地市")["报送状态"]
    assert set(states) == {archive.OVERDUE}  # the board as of that day: the confirmation came later
    at.date_input(key=state.BOARD_AS_OF).set_value(dt.date.today()).run()  # the board of the confirmation's day
    states = _forwarding_table(at).set_index("地市")["报送状态"]
    assert list(states.index) == list(catalog.campaign.cities) and states[city] == archive.FORWARDED
    assert set(states.drop(city)) == {archive.OVERDUE}  # on the board's day, past the deadline
    other = next(c for c in catalog.campaign.cities if c != city)
    mine = _forwarding_table(_page(Actor("city_y", "city", "某局", other), board))
    assert mine.to_dict("records")[0]["地市"] == other and len(mine) == 1
    lead = _page(Actor("lead_z", "lead_unit", "某单位", city), board)
    assert not [d for d in lead.dataframe if "报送状态" in d.value.columns]


EVIL = "![](https://evil.example/p.png)[请点此补充材料](https://evil.example/x) **加粗**"


def test_a_project_name_is_shown_as_typed_never_as_a_link_or_an_image(app_env, catalog, reopen):
    """Attack 15 B13: what a lead unit typed as its project's name is plain text on the city's list."""
    form = catalog.form(catalog.bindings.of("benchmarks").form)
    row = generate(catalog, rows=3, seed=4)[form.id][0]
    store = reopen()
    store.ensure_sheet(sheet_spec(form))
    store.append(form.id, dict(row.values, project_name=EVIL), actor=row.actor, status="已提交")
    city = row.values["city"]
    for who in (Actor("city_a", "city", "某局", city), row.actor):
        at = _page(who)
        (line,) = [m.value for m in at.markdown if "evil" in m.value]
        assert "![](" not in line and "](" not in line and "**" not in line
        assert EVIL in line.replace("\\", "")  # every character still there, escaped


def test_a_stale_recall_is_refused_and_the_confirmation_stays(app_env, catalog, reopen, monkeypatch):
    """Attack 15 B6: 撤回 on a page that showed an earlier confirmation withdraws nothing."""
    store, _, _, _, city = _reports(catalog, reopen)
    due = archive.deadline(catalog)
    monkeypatch.setenv("APP_CAMPAIGN_TODAY", str(due))
    b = Actor("city_b", "city", f"{city}市工业和信息化局", city)
    archive.forward(store, catalog, b, city, note="B 第一次", today=due)
    at = _page(Actor("city_a", "city", f"{city}市工业和信息化局", city))
    archive.recall(store, catalog, b, city, today=due)
    archive.forward(store, catalog, b, city, note="B 第二次", today=due)
    next(x for x in at.button if x.label == "撤回报送确认").click().run()
    assert not at.exception and any(b.account in e.value for e in at.error)
    (row,) = reopen().records(archive.FORWARDS.form_id)
    assert row.status == archive.FORWARDED and row.values["note"] == "B 第二次"
    next(x for x in at.button if x.label == "撤回报送确认").click().run()  # the page now shows B's second: withdrawn
    assert reopen().records(archive.FORWARDS.form_id)[0].status == archive.RECALLED


def test_changes_after_the_confirmation_and_reports_of_no_city_are_told(app_env, catalog, reopen, monkeypatch):
    """Attack 15 B10 and B5: the city is told its confirmed archive changed; the province of reports in no city."""
    store, form, filed, lead, city = _reports(catalog, reopen)
    due = archive.deadline(catalog)
    monkeypatch.setenv("APP_CAMPAIGN_TODAY", str(due))
    archive.forward(store, catalog, Actor("city_x", "city", "某局", city), city, today=due)
    mine = next(r for r in filed if r.values["city"] == city)
    store.update(form.id, mine.id, base_rev=mine.rev, actor=Actor(mine.owner, "lead_unit", mine.org, city), values={"project_name": "改名"})
    other = next(r for r in filed if r.values["city"] != city)
    store.update(form.id, other.id, base_rev=other.rev, actor=Actor(other.owner, "lead_unit", other.org, other.city),
                 values={"city": f"{other.values['city']}市"})
    at = _page(Actor("city_x", "city", "某局", city))
    assert any("确认后有 1 份报告变更" in w.value for w in at.warning)
    province = _page(Actor("province", "province", "省工业和信息化厅"))
    assert any("另有 1 份已填报的报告" in w.value for w in province.warning)
    table = province.dataframe[0].value.set_index("地市")
    assert table.loc[city, archive.CHANGED] == "1" and set(table.drop(city)[archive.CHANGED]) == {""}  # shown as text; none where not confirmed
