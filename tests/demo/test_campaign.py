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
    shipped = [f.id for f in load_catalog(ROOT / "forms").forms()]
    assert "att3.yaml" in catalog.problems() and [f.id for f in catalog.forms()] == [f for f in shipped if f != "att3"]
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


def _other_forms(tmp_path):
    """A copy of the second campaign (tests/campaigns/other) served as the app's forms."""
    import shutil

    forms = tmp_path / "other"
    shutil.copytree(ROOT / "tests" / "campaigns" / "other", forms)
    return forms


def test_another_campaign_is_refused_with_one_message_and_no_store_is_opened(tmp_path):
    """G1: the demo used to seed the second campaign with the 2020 form ids (KeyError per form), then
    stop on an empty register import, the first start with it."""
    import pytest

    from lib.demo.campaign import DemoNotApplicable

    catalog = load_catalog(_other_forms(tmp_path))
    opened = []
    with pytest.raises(DemoNotApplicable) as refused:
        seed_demo(lambda clock: opened.append(clock), catalog, rows=30)
    assert refused.value.code == "demo_not_applicable" and not opened
    assert catalog.campaign.id in str(refused.value)


def test_a_first_start_whose_projects_form_is_broken_seeds_no_register_and_goes_on(tmp_path, caplog):
    """With 附件1 not served no voucher can be made up: the empty register is not imported (the import
    refuses an empty one, which stopped the whole first start), the other forms are seeded."""
    import shutil

    forms = tmp_path / "forms"
    shutil.copytree(ROOT / "forms", forms)
    (forms / "att1.yaml").write_text("id: att1\nfields: [\n", encoding="utf-8")
    catalog = load_catalog(forms)
    assert "att1" not in [f.id for f in catalog.forms()]
    counts = seed_demo(lambda clock: open_store("local", data_dir=tmp_path / "data", background=False, clock=clock), catalog, rows=60)
    assert "att1" not in counts and counts["att2"] > 0
    store = open_store("local", data_dir=tmp_path / "data", background=False)
    try:
        assert not store.records("register_vouchers") and store.records("register_projects")
    finally:
        store.close()


def test_the_command_seeds_the_forms_the_app_serves_and_refuses_another_campaign_without_a_traceback(tmp_path):
    """``python -m lib.demo`` reads the app's forms_dir (APP_FORMS_DIR), as the app does: it used to seed
    forms/ whatever the app served. On the second campaign: exit code 2, one Chinese line."""
    import os
    import subprocess
    import sys

    forms = _other_forms(tmp_path)
    env = os.environ | {"APP_FORMS_DIR": str(forms), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "lib.demo", "--rows", "30", "--data-dir", str(tmp_path / "data")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "KeyError" not in done.stderr
    assert str(forms) in done.stderr  # the folder it read is said
    [refusal] = [line for line in done.stderr.splitlines() if "演示数据只适用于" in line]
    assert "gd_cloud_2021" in refusal
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").iterdir())


def test_the_demo_inspector_pool_lets_the_inspector_draw_succeed_and_every_role_signs_in(tmp_path):
    """The demo had one inspector, so the inspector draw refused there: its pool now serves every sampled
    city with the campaign's group size, each inspector with home city, organisation and a current health
    declaration, a few with a declared conflict that the draw keeps."""
    from lib.auth.accounts import AccountsFile
    from lib.auth.signin import authenticate
    from lib.core.records import Actor
    from lib.demo.accounts import DEMO_PASSWORD, seed_demo_accounts
    from lib.sampling.assignments import draw_inspectors
    from lib.sampling.inspectors import pool
    from lib.sampling.record import freeze, record_draw

    catalog = load_catalog(ROOT / "forms")
    seed_demo(lambda clock: open_store("local", data_dir=tmp_path / "data", background=False, clock=clock), catalog, rows=300)
    today = dt.date(2020, 9, 23)
    store = open_store("local", data_dir=tmp_path / "data", background=False)
    try:
        accounts = AccountsFile(tmp_path / "data" / "accounts.json")
        assert seed_demo_accounts(accounts, store, catalog, rounds=4, today=today) > 0
        inspectors = [a for a in accounts.all() if a.role == "inspector" and a.account != "inspector"]
        assert all(a.city and a.org and a.health_declared_on for a in inspectors)
        assert 0 < sum(bool(a.conflict_providers) for a in inspectors) < len(inspectors) / 4
        assert all(i.health(today) is None for i in pool(inspectors))
        province = Actor("province", "province", "广东省工业和信息化厅工业互联网处")
        frame, _ = freeze(store, catalog, province)
        record_draw(store, catalog, frame.frame_id, "20200922", province)
        done = draw_inspectors(store, catalog, accounts.all(), "20200923", province, day=today)
        size = catalog.campaign.sampling.inspector_group_size
        assert len(done.assignment.groups) > 10 and all(len(g.members) == size for g in done.assignment.groups)
        for role_account in ("province", "inspector", "admin", "city_gz", inspectors[0].account, store.records("att1")[0].owner):
            signed = authenticate(accounts, role_account, DEMO_PASSWORD, now=dt.datetime(2020, 9, 23), rounds=4)
            assert signed.account == role_account
    finally:
        store.close()
