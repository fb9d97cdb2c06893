import datetime as dt
from pathlib import Path

from lib.demo.campaign import seed_demo
from lib.forms import load_catalog
from lib.store.factory import open_store

ROOT = Path(__file__).resolve().parents[2]


def test_demo_campaign_is_filed_inside_2020_with_some_late_filers(tmp_path):
    catalog = load_catalog(ROOT / "forms")
    counts = seed_demo(lambda clock: open_store("local", data_dir=tmp_path, background=False, clock=clock), catalog, rows=300)
    store = open_store("local", data_dir=tmp_path, background=False)
    try:
        att1 = store.records("att1")
        assert len(att1) == counts["att1"] == 300
        filed = [r.created_at.date() for r in att1]
        assert min(filed) >= dt.date(2020, 9, 7)
        deadline = catalog.campaign.deadlines["att1"]
        late = sum(day > deadline for day in filed)
        assert 0 < late < len(filed) / 2  # most on time, a few late
        assert max(filed) <= deadline + dt.timedelta(days=6)
        assert store.records("register_vouchers"), "the register is seeded with the rows"
    finally:
        store.close()


def test_demo_campaign_has_every_review_state_with_reasons(tmp_path):
    from lib import review

    catalog = load_catalog(ROOT / "forms")
    seed_demo(lambda clock: open_store("local", data_dir=tmp_path, background=False, clock=clock), catalog, rows=300)
    store = open_store("local", data_dir=tmp_path, background=False)
    try:
        for form_id in ("att1", "att2", "att3"):
            form = catalog.form(form_id)
            records = store.records(form_id)
            statuses = {r.status for r in records}
            assert {"已提交", "已通过", "退回修改"} <= statuses, (form_id, statuses)
            returned = [r for r in records if r.status in ("退回修改", "已重新提交")]
            reasons = review.return_reasons(store, form, returned)
            assert set(reasons) == {r.id for r in returned} and all(reasons.values())
            deadline = catalog.campaign.deadlines[form.deadline]
            assert all(r.updated_at.date() > deadline for r in records if r.status == "已通过")
        assert "已重新提交" in {r.status for r in store.records("att1")}
    finally:
        store.close()


def test_a_first_start_with_a_broken_form_seeds_the_others_and_people_can_sign_in(tmp_path, caplog):
    """F11: att3.yaml refused by the loader (a duplicate key) used to make seeding raise KeyError inside
    the first sign-in, so nobody could sign in."""
    import shutil

    from lib.auth.accounts import AccountsFile
    from lib.auth.signin import authenticate
    from lib.demo.accounts import DEMO_PASSWORD, seed_demo_accounts
    from lib.demo.seed import skipped_forms

    forms = tmp_path / "forms"
    shutil.copytree(ROOT / "forms", forms)
    text = (forms / "att3.yaml").read_text(encoding="utf-8")
    (forms / "att3.yaml").write_text(text.replace("        label: 检查人员\n", "        label: 检查人员\n        relevant: \"True\"\n", 1),
                                     encoding="utf-8")
    catalog = load_catalog(forms)
    assert "att3.yaml" in catalog.problems() and [f.id for f in catalog.forms()] == ["att1", "att2"]
    counts = seed_demo(lambda clock: open_store("local", data_dir=tmp_path / "data", background=False, clock=clock), catalog, rows=120)
    assert set(counts) == {"att1", "att2"} and counts["att1"] == 120
    assert skipped_forms(counts) == ["att3"] and "演示数据跳过表单 att3" in caplog.text
    store = open_store("local", data_dir=tmp_path / "data", background=False)
    try:
        accounts = AccountsFile(tmp_path / "data" / "accounts.json")
        assert seed_demo_accounts(accounts, store, catalog, rounds=4) > 0
        provider = store.records("att1")[0].owner
        signed = authenticate(accounts, provider, DEMO_PASSWORD, now=dt.datetime(2020, 9, 10), rounds=4)
        assert signed.account == provider and accounts.get("city_gz") is not None
    finally:
        store.close()


def test_a_demo_account_the_account_rules_refuse_is_skipped_and_said(tmp_path, caplog):
    """An organisation taken from the store (an edited workbook, say) with a direction override would
    make an account whose every filing fails its own locked field: it is left out, the others written."""
    from lib.auth.accounts import AccountsFile
    from lib.core.records import Record
    from lib.demo.accounts import seed_demo_accounts

    catalog = load_catalog(ROOT / "forms")
    stamp = dt.datetime(2020, 9, 10, 9)

    class OneRowStore:
        def records(self, form_id):
            if form_id != "att1":
                return []
            return [Record("att1", "r1", 1, "已提交", 1, "bad_provider", "\u202e广州某某科技有限公司", "广州", stamp, stamp, "bad_provider")]

    accounts = AccountsFile(tmp_path / "accounts.json")
    written = seed_demo_accounts(accounts, OneRowStore(), catalog, rounds=4)
    assert accounts.get("bad_provider") is None and "演示账号 bad_provider 未创建" in caplog.text
    assert written == len(accounts) and accounts.get("province") is not None and accounts.get("city_gz") is not None
