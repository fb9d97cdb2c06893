"""The sampling phase in a real browser (issue 13): the province opens 随机抽查 on the demo data, freezes
the frame, draws with an announced seed and verifies the draw (一致); and the whole journey on a small
campaign of its own (``sampling_setup``): the province freezes, draws and draws the inspectors, an
assigned inspector sees only its assignment and files an inspection record with a photo, and the
province's board counts it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from lib.auth.accounts import AccountsFile
from lib.sampling import assignments as asg
from lib.sampling import record as rec
from lib.store.factory import open_store

from .conftest import APP_ROOT, DEMO_PASSWORD, AppServer, closed_within, free_port, sign_in
from .sampling_setup import PROJECTS, forms_with_group_size, stock
from .widgets import choose, has_value, type_into, widget

#: How long a table or message may take to appear after a click, on a busy 2-core machine (ms).
WAIT = 30_000


def test_the_province_freezes_draws_and_verifies(app_server, page):
    sign_in(page, app_server.url, "province")
    page.get_by_role("link", name="随机抽查").click()
    page.get_by_role("heading", name="随机抽查").wait_for()
    page.get_by_role("button", name="冻结抽样框").click()
    page.get_by_role("button", name="确认冻结").click()
    expect(page.get_by_text("已冻结抽样框 F-")).to_be_visible()
    page.get_by_label("随机数种子").fill("20200922")
    page.get_by_label("随机数种子").press("Enter")  # applied before the click, as a person's Tab or click away does
    page.get_by_role("button", name="抽取", exact=True).click()
    expect(page.get_by_text("已抽取样本 D-")).to_be_visible()
    page.get_by_role("button", name="核验", exact=True).click()
    expect(page.get_by_text("：一致")).to_be_visible()

    store = open_store("local", data_dir=app_server.data_dir, background=False)
    try:
        [draw] = store.records(rec.DRAWS.form_id)
        assert (draw.status, draw.owner, draw.values["seed"]) == (rec.DRAW_ACTIVE, "province", "20200922")
        assert int(draw.values["drawn"]) == len([r for r in store.records(rec.DRAW_ROWS.form_id)]) > 0
    finally:
        store.close()


def grid(page, header: str):
    """The table (st.dataframe) with a column ``header``. The grid is drawn on a canvas; its cells are read
    from the accessible table Streamlit's grid keeps beside it (the rows on screen: these tables are short)."""
    return page.locator("[data-testid='stDataFrame'] table").filter(
        has=page.locator("th", has_text=re.compile(f"^{re.escape(header)}$")))


def cell(table, text: str):
    return table.locator("td", has_text=re.compile(f"^{re.escape(text)}$"))


#: A wide table's accessible twin holds only the columns in view: scroll right until ``header`` shows,
#: then pair each row's cell in that column with its cell under ``key`` (rows are told by aria-rowindex).
_COLUMN = """async (t, [key, header]) => {
    const column = (h) => {
        const th = [...t.tHead.rows[0].cells].find(c => c.textContent === h);
        if (!th) return null;
        const at = th.getAttribute("aria-colindex");
        return Object.fromEntries([...t.tBodies[0].rows].map(r => [r.getAttribute("aria-rowindex"),
                                                                   r.querySelector(`td[aria-colindex="${at}"]`).textContent]));
    };
    const keys = column(key);
    const scroller = t.closest("[data-testid='stDataFrame']").querySelector(".dvn-scroller");
    for (let x = 0; keys && x <= scroller.scrollWidth; x += 100) {
        scroller.scrollLeft = x;
        await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
        const values = column(header);
        if (values) return Object.fromEntries(Object.entries(keys).map(([row, k]) => [k, values[row]]));
    }
    return null;
}"""


def column(table, key: str, header: str) -> dict[str, str] | None:
    """{cell under ``key``: cell under ``header``} for the rows on screen of ``table`` (from ``grid``);
    None when either column is missing."""
    return table.evaluate(_COLUMN, [key, header])


@pytest.fixture
def small_campaign(tmp_path):
    """A server on ``sampling_setup``'s campaign (groups of one, seven projects in two cities, three
    inspectors), without demo data; yields the server and its catalog."""
    catalog = forms_with_group_size(APP_ROOT / "forms", tmp_path / "forms", 1)
    stock(tmp_path / "data", catalog, DEMO_PASSWORD)
    server = AppServer(tmp_path / "data", free_port(), {"APP_DEMO_DATA": "false", "APP_FORMS_DIR": str(tmp_path / "forms")})
    yield server, catalog
    server.stop()


def province_draws(page, url: str) -> None:
    """The province freezes the frame, draws the projects and then the inspectors, each with an announced seed."""
    sign_in(page, url, "province")
    page.get_by_role("link", name="随机抽查").click()
    page.get_by_role("heading", name="随机抽查").wait_for()
    page.get_by_role("button", name="冻结抽样框").click()
    page.get_by_role("button", name="确认冻结").click()
    expect(page.get_by_text("已冻结抽样框 F-")).to_be_visible(timeout=WAIT)
    for label, seed, button, said in (("随机数种子", "83721954", "抽取", "已抽取样本 D-"),
                                      ("检查员抽取随机数种子", "51937406", "抽取检查员", "已抽取检查员 I-")):
        box = page.get_by_label(label, exact=True)
        box.fill(seed)
        box.press("Enter")  # applied before the click, as a person's Tab or click away does
        page.get_by_role("button", name=button, exact=True).click()
        expect(page.get_by_text(said)).to_be_visible(timeout=WAIT)


def photo(path: Path) -> Path:
    """A small real PNG: a photo the evidence field must take (its content is checked, not its name)."""
    Image.new("RGB", (64, 48), (180, 120, 60)).save(path, format="PNG")
    return path


def idle(page) -> None:
    """Wait until the app runs no script for this page (Streamlit's own mark on its root element) for ten
    frames in a row: a click's rerun request may reach that mark a frame or two after the click."""
    page.evaluate("window.idleFrames = 0")
    page.wait_for_function("""() => {
        const state = document.querySelector("[data-testid='stApp']")?.getAttribute("data-test-script-state");
        window.idleFrames = state === "notRunning" ? window.idleFrames + 1 : 0;
        return window.idleFrames >= 10;
    }""", polling="raf", timeout=WAIT)


def yes(page, label: str) -> None:
    widget(page, "stRadio", label).get_by_text("是", exact=True).click()


def file_inspection(page, title: str, sampled: dict, passed_over: str, members: str, evidence: Path) -> str:
    """On the fill page: the inspection form, the project picked from the group's list (which holds the
    drawn row ``sampled``, never ``passed_over``), every required answer and the photo; submitted.
    Returns the receipt's text."""
    voucher = sampled["voucher"]
    page.get_by_role("link", name="在线填报").click()
    choose(page, "选择表单", title)
    picker = widget(page, "stSelectbox", "本组待检查的抽中项目")
    picker.click()
    listed = page.get_by_role("option")
    expect(listed.filter(has_text=voucher)).to_have_count(1, timeout=WAIT)
    offered = listed.all_inner_texts()
    assert not any(passed_over in o for o in offered), offered
    listed.filter(has_text=voucher).click()
    for label, value in (("服务券编号", voucher), ("企业名称", sampled["firm"]), ("服务商名称", sampled["provider"])):
        has_value(page, label, value)  # the pick fills the project's fields, as the draw recorded them
    has_value(page, "检查组成员", members)  # prefilled with the group's names (a group of one here)
    type_into(page, "检查日期", "2020-10-09")
    yes(page, "项目负责人到场并现场展示项目")
    yes(page, "已深入车间或现场查看使用情况")
    choose(page, "实际使用状态", "正常使用")
    choose(page, "企业满意度", "满意")
    choose(page, "检查结论", "合格")
    yes(page, "检查组严格遵守中央八项规定精神")
    yes(page, "服务商未陪同检查")
    idle(page)  # a file chosen while the last click's rerun is under way is dropped
    uploader = widget(page, "stFileUploader", "现场照片或书面材料")
    uploader.locator("input[type='file']").set_input_files(evidence)
    expect(page.get_by_text(re.compile(f"^{re.escape(evidence.name)}（PNG"))).to_be_visible(timeout=WAIT)
    page.get_by_role("button", name="提交", exact=True).click()
    receipt = page.get_by_text(re.compile("提交成功！记录编号"))
    problems = page.get_by_text("提交未成功")
    receipt.or_(problems).first.wait_for(timeout=WAIT)
    assert not problems.count(), page.locator("[data-testid='stAlert']").all_inner_texts()
    return receipt.inner_text()


def test_province_draws_an_assigned_inspector_files_a_record_with_a_photo_and_the_board_counts_it(small_campaign, page, browser, tmp_path):
    server, catalog = small_campaign
    province_draws(page, server.url)

    # what was recorded decides who inspects what (the draw is random); the page shows exactly that
    store = open_store("local", data_dir=server.data_dir, background=False)
    try:
        [draw] = rec.active_draws(store)
        drawn = rec.draw_rows(store, str(draw.values["draw_id"]))
        groups = asg.current_assignment(store).assignment.groups
    finally:
        store.close()
    cities = {city for _, city, _, _ in PROJECTS}
    assert {r["city"] for r in drawn} == {g.city for g in groups} == cities
    per_city = grid(page, "项目数 N")
    for city in cities:
        expect(cell(per_city, city)).to_have_count(1, timeout=WAIT)
    sample = grid(page, "入样概率")
    for row in drawn:
        expect(cell(sample, row["voucher"])).to_have_count(1, timeout=WAIT)
    expect(sample.locator("tbody tr")).to_have_count(len(drawn))
    teams = grid(page, "检查员账号")
    for group in groups:
        expect(cell(teams, "、".join(group.members))).to_have_count(1, timeout=WAIT)
    expect(teams.locator("tbody tr")).to_have_count(len(groups))

    # an inspector of the city with the most projects: one sampled there, one not
    city = max(cities, key=lambda c: sum(p[1] == c for p in PROJECTS))
    [member] = next(g.members for g in groups if g.city == city)
    sampled = next(r for r in drawn if r["city"] == city)
    passed_over = next(v for v, c, _, _ in PROJECTS if c == city and v not in {r["voucher"] for r in drawn})
    name = AccountsFile(server.data_dir / "accounts.json").get(member).name

    inspector = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN").new_page()
    inspector.set_default_timeout(WAIT)
    try:
        sign_in(inspector, server.url, member)
        # its board is its assignment: of the register, only the sampled project of its city (no row
        # was reported for any project, so the province's 台账核对 lists all seven)
        inspector.get_by_role("link", name="进度看板").click()
        inspector.get_by_text(f"检查任务：{city}市").wait_for()
        inspector.get_by_role("tab", name="台账核对").click()
        problems = grid(inspector, "问题类型")
        expect(cell(problems, sampled["voucher"])).to_have_count(1, timeout=WAIT)
        expect(cell(problems, passed_over)).to_have_count(0)

        form = catalog.form(catalog.bindings.of("inspections").form)
        said = file_inspection(inspector, form.title, sampled, passed_over, name, photo(tmp_path / "现场.png"))
        row_id = re.search(r"记录编号 (\S+)（", said).group(1)
        inspector.get_by_text(f"回执　记录编号：{row_id}").wait_for()
        inspector.get_by_text("查看提交的内容").click()  # the photo is shown back as a thumbnail
        expect(inspector.locator("[data-testid='stImage'] img")).to_have_count(1, timeout=WAIT)
    finally:
        with closed_within("the inspector's browser context"):
            inspector.context.close()

    # the province's board: 抽查进度 counts the record in its city (the board refreshes itself every few seconds)
    page.get_by_role("link", name="进度看板").click()
    page.get_by_role("tab", name="抽查进度").click()
    inspected = page.locator("[data-testid='stMetric']").filter(has=page.locator("[data-testid='stMetricLabel']", has_text=re.compile("^已检查$")))
    expect(inspected.locator("[data-testid='stMetricValue']")).to_have_text("1", timeout=WAIT)
    progress = grid(page, "抽样框项目数")
    expect(cell(progress, city)).to_have_count(1, timeout=WAIT)
    assert column(progress, "地市", "已检查") == {c: "1" if c == city else "0" for c in cities}
