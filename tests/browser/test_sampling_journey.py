"""The province opens 随机抽查 on the demo data, freezes the frame, draws with an announced seed and verifies
the draw: 一致 (issue 13, outcomes 1-3 in a real browser)."""

from __future__ import annotations

from playwright.sync_api import expect

from lib.sampling import record as rec
from lib.store.factory import open_store

from .conftest import sign_in


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
    page.get_by_role("button", name="核验").click()
    expect(page.get_by_text("：一致")).to_be_visible()

    store = open_store("local", data_dir=app_server.data_dir, background=False)
    try:
        [draw] = store.records(rec.DRAWS.form_id)
        assert (draw.status, draw.owner, draw.values["seed"]) == (rec.DRAW_ACTIVE, "province", "20200922")
        assert int(draw.values["drawn"]) == len([r for r in store.records(rec.DRAW_ROWS.form_id)]) > 0
    finally:
        store.close()
