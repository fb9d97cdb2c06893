"""An item's life on a real store (issue 14 outcomes 2, 3, 8): the acting provider ticks its checklist and
attaches evidence, submits, the city returns it once with a reason and then verifies it, the province
closes it and records violations (on a closed item too); every refusal — wrong status, wrong role,
another city's or provider's item, unticked steps, missing evidence, close before verify, return without
a reason, a stale revision, a refused file, a violation without amount or reference — writes nothing;
逾期 on the campaign clock."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from lib.auth.errors import Forbidden
from lib.auth.policy import DENIED
from lib.core.blobs import Blobs
from lib.core.errors import AppError
from lib.core.records import Actor
from lib.forms import load_catalog
from lib.forms.types import FILE_MAX_MB
from lib.rectification import lifecycle as lc
from lib.rectification.records import CLOSED, IN_PROGRESS, ITEMS, PENDING, SUBMITTED, VERIFIED, overdue
from lib.store.base import ConflictError
from lib.store.factory import open_store

ROOT = Path(__file__).resolve().parents[2]
CATALOG = load_catalog(ROOT / "forms")
PROVINCE = Actor("province", "province", "省厅")
ADMIN = Actor("admin", "admin", "系统管理员")
CITY_GZ = Actor("city_gz", "city", "广州市工业和信息化局", "广州")
CITY_FS = Actor("city_fs", "city", "佛山市工业和信息化局", "佛山")
YUNZHI = Actor("p1", "provider", "云智科技有限公司", "广州")
YUNZHI_2 = Actor("p1_other_session", "provider", "云智科技有限公司", "广州")  # a colleague of the same provider
OTHER = Actor("p2", "provider", "另一服务商", "广州")
INSPECTOR = Actor("i1", "inspector", "省检查组", "广州")
DUE = dt.date(2020, 10, 31)
#: A category of the shipped campaign with one step of each evidence kind that needs something, both the party's.
CATEGORY = next(c.key for c in CATALOG.campaign.rectification.categories
                if sorted(s.evidence for s in c.steps) == ["file", "text"] and {s.by for s in c.steps} == {"party"})
STEPS = CATALOG.campaign.rectification.category(CATEGORY).steps
FILE_STEP = next(s.key for s in STEPS if s.evidence == "file")
TEXT_STEP = next(s.key for s in STEPS if s.evidence == "text")
PDF = b"%PDF-1.4 report\n%%EOF\n"
GIF = b"GIF89a" + b"\x00" * 40


def item_values(item_id="ZG-0001", *, city="广州", party_kind="provider", party=YUNZHI.org, actor_org=YUNZHI.org, category=CATEGORY):
    """An item as generation opens it: every step of its category unticked."""
    steps = CATALOG.campaign.rectification.category(category).steps
    return {"item_id": item_id, "rule": "r", "source_kind": "checks", "source_form": "f", "source_row": item_id,
            "category": category, "city": city, "party_kind": party_kind, "party": party, "party_code": "",
            "actor_org": actor_org, "voucher": "V-1", "project": "项目", "finding": "地市检查不合格", "due": DUE,
            "steps": [{"step": s.key, "done": False, "text": ""} for s in steps], "evidence": [], "reason": "", "violations": []}


@pytest.fixture
def store(tmp_path):
    s = open_store("local", data_dir=tmp_path / "data", background=False)
    s.ensure_sheet(ITEMS)
    yield s
    s.close()


@pytest.fixture
def blobs(tmp_path):
    return Blobs(tmp_path / "files")


def opened(store, **kw):
    [record] = store.append_batch([(ITEMS.form_id, item_values(**kw), PENDING)], actor=PROVINCE)
    return record


def ticked(store, blobs, record, actor=YUNZHI):
    """Every step ticked with its evidence (a text, a PDF)."""
    record = lc.tick(store, CATALOG, actor, record.id, record.rev, TEXT_STEP, True, text="已按要求整改。")
    return lc.tick(store, CATALOG, actor, record.id, record.rev, FILE_STEP, True, files=[("报告.pdf", PDF)], blobs=blobs)


def at(store, blobs, status):
    """An item driven to ``status`` by the lifecycle's own functions."""
    record = opened(store)
    if status == PENDING:
        return record
    record = ticked(store, blobs, record)
    if status == IN_PROGRESS:
        return record
    record = lc.submit(store, CATALOG, YUNZHI, record.id, record.rev)
    if status == SUBMITTED:
        return record
    record = lc.verify(store, CATALOG, CITY_GZ, record.id, record.rev, True)
    if status == VERIFIED:
        return record
    return lc.close(store, CATALOG, PROVINCE, record.id, record.rev)


def test_the_journey_from_opened_to_closed_with_one_return(store, blobs):
    record = opened(store)
    assert lc.actions_for(YUNZHI, record, DUE) == (lc.TICK,)
    record = lc.tick(store, CATALOG, YUNZHI, record.id, record.rev, TEXT_STEP, True, text="  已按要求整改。 ")
    assert record.status == IN_PROGRESS  # the first change starts the work
    steps = {s["step"]: s for s in record.values["steps"]}
    assert steps[TEXT_STEP] == {"step": TEXT_STEP, "done": True, "text": "已按要求整改。"}
    assert lc.actions_for(YUNZHI, record, DUE) == (lc.TICK,)  # a step is still unticked
    record = lc.tick(store, CATALOG, YUNZHI, record.id, record.rev, FILE_STEP, True, files=[("报告.pdf", PDF), ("副本.pdf", PDF)], blobs=blobs)
    [evidence] = record.values["evidence"]  # the same file twice is attached once
    assert evidence["step"] == FILE_STEP and evidence["type"] == "application/pdf" and blobs.read(evidence["sha256"]) == PDF
    assert lc.actions_for(YUNZHI, record, DUE) == (lc.TICK, lc.SUBMIT)
    assert lc.actions_for(CITY_GZ, record, DUE) == lc.actions_for(PROVINCE, record, DUE) == ()

    record = lc.submit(store, CATALOG, YUNZHI, record.id, record.rev)
    assert record.status == SUBMITTED
    assert lc.actions_for(YUNZHI, record, DUE) == () and lc.actions_for(CITY_GZ, record, DUE) == (lc.VERIFY,)
    assert lc.actions_for(CITY_FS, record, DUE) == ()

    record = lc.verify(store, CATALOG, CITY_GZ, record.id, record.rev, False, reason="截图不清晰，请重新上传。")
    assert (record.status, record.values["reason"]) == (IN_PROGRESS, "截图不清晰，请重新上传。")
    assert lc.actions_for(YUNZHI, record, DUE) == (lc.TICK, lc.SUBMIT)  # its checklist stays as it was
    record = lc.submit(store, CATALOG, YUNZHI, record.id, record.rev)
    record = lc.verify(store, CATALOG, CITY_GZ, record.id, record.rev, True)
    assert record.status == VERIFIED and lc.actions_for(PROVINCE, record, DUE) == (lc.CLOSE,)
    assert lc.actions_for(CITY_GZ, record, DUE) == ()
    record = lc.close(store, CATALOG, PROVINCE, record.id, record.rev)
    assert record.status == CLOSED and all(lc.actions_for(a, record, DUE) == () for a in (PROVINCE, CITY_GZ, YUNZHI))

    record = lc.record_violation(store, CATALOG, PROVINCE, record.id, record.rev, "追回资金", "粤工信〔2020〕12号", amount="1.50")
    record = lc.record_violation(store, CATALOG, PROVINCE, record.id, record.rev, "约谈", "约谈记录 2020-11-02")
    assert record.status == CLOSED  # a violation changes no status
    assert record.values["violations"] == [{"measure": "追回资金", "amount": 1.5, "reference": "粤工信〔2020〕12号"},
                                           {"measure": "约谈", "amount": None, "reference": "约谈记录 2020-11-02"}]

    # every transition is in the item's audit trail, by whom, with a readable line from → to
    trail = [(e.account, e.note) for e in store.audit(ITEMS.form_id, record.id)][1:]
    assert [a for a, _ in trail] == ["p1", "p1", "p1", "city_gz", "p1", "city_gz", "province", "province", "province"]
    notes = [n for _, n in trail]
    assert notes[0].startswith(f"{PENDING} → {IN_PROGRESS}") and notes[2].startswith(f"{IN_PROGRESS} → {SUBMITTED}")
    assert notes[3].startswith(f"{SUBMITTED} → {IN_PROGRESS}") and "截图不清晰" in notes[3]
    assert notes[6].startswith(f"{VERIFIED} → {CLOSED}") and "1.50 万元" in notes[7]


def test_unticking_and_rewriting_a_step(store, blobs):
    record = at(store, blobs, IN_PROGRESS)
    record = lc.tick(store, CATALOG, YUNZHI, record.id, record.rev, TEXT_STEP, False)
    assert lc.actions_for(YUNZHI, record, DUE) == (lc.TICK,)
    assert {s["step"]: s["done"] for s in record.values["steps"]}[TEXT_STEP] is False
    unchanged = lc.tick(store, CATALOG, YUNZHI, record.id, record.rev, TEXT_STEP, False)
    assert unchanged.rev == record.rev  # nothing changes, nothing is written


def snapshot(store, blobs):
    """What a refusal must leave as it was: the items, every audit entry but the refusals, the files."""
    rows = [(r.id, r.rev, r.status, r.values) for r in store.records(ITEMS.form_id)]
    return rows, [e for e in store.audit() if e.action != DENIED], sorted(name for name, _ in blobs.stored())


def _tick_gif(s, b, r):
    lc.tick(s, CATALOG, YUNZHI, r.id, r.rev, FILE_STEP, True, files=[("报告.pdf", PDF), ("截图.gif", GIF)], blobs=b)


def _tick_big(s, b, r):
    lc.tick(s, CATALOG, YUNZHI, r.id, r.rev, FILE_STEP, True, files=[("大文件.pdf", PDF + b"\0" * (FILE_MAX_MB * 1024 * 1024))], blobs=b)


def _ticked_without_evidence(s, b, r):
    r = lc.tick(s, CATALOG, YUNZHI, r.id, r.rev, TEXT_STEP, True, text="说明")
    r = lc.tick(s, CATALOG, YUNZHI, r.id, r.rev, FILE_STEP, True)  # ticked, no file
    return r


def _partly_ticked(s, b, r):
    return lc.tick(s, CATALOG, YUNZHI, r.id, r.rev, TEXT_STEP, True, text="说明")


def _violation(handling, reference="粤工信〔2020〕1号", amount=None):
    return lambda s, b, r: lc.record_violation(s, CATALOG, PROVINCE, r.id, r.rev, handling, reference, amount=amount)


# (name, the status the item is driven to, an optional further preparation, the refused attempt, the
# error class, its code)
REFUSALS = [
    # wrong status
    ("tick a submitted item", SUBMITTED, None, lambda s, b, r: lc.tick(s, CATALOG, YUNZHI, r.id, r.rev, TEXT_STEP, False), AppError, "wrong_status"),
    ("tick a closed item", CLOSED, None, lambda s, b, r: lc.tick(s, CATALOG, YUNZHI, r.id, r.rev, TEXT_STEP, False), AppError, "wrong_status"),
    ("submit a pending item", PENDING, None, lambda s, b, r: lc.submit(s, CATALOG, YUNZHI, r.id, r.rev), AppError, "wrong_status"),
    ("submit twice", SUBMITTED, None, lambda s, b, r: lc.submit(s, CATALOG, YUNZHI, r.id, r.rev), AppError, "wrong_status"),
    ("verify an item in progress", IN_PROGRESS, None, lambda s, b, r: lc.verify(s, CATALOG, CITY_GZ, r.id, r.rev, True), AppError, "wrong_status"),
    ("close before the city verified", SUBMITTED, None, lambda s, b, r: lc.close(s, CATALOG, PROVINCE, r.id, r.rev), AppError, "not_verified"),
    ("close an item in progress", IN_PROGRESS, None, lambda s, b, r: lc.close(s, CATALOG, PROVINCE, r.id, r.rev), AppError, "not_verified"),
    ("close twice", CLOSED, None, lambda s, b, r: lc.close(s, CATALOG, PROVINCE, r.id, r.rev), AppError, "wrong_status"),
    # wrong role, another city's item, another provider's item
    ("the city ticks", PENDING, None, lambda s, b, r: lc.tick(s, CATALOG, CITY_GZ, r.id, r.rev, TEXT_STEP, True, text="x"), Forbidden, "forbidden"),
    ("the province submits", IN_PROGRESS, None, lambda s, b, r: lc.submit(s, CATALOG, PROVINCE, r.id, r.rev), Forbidden, "forbidden"),
    ("an inspector ticks", PENDING, None, lambda s, b, r: lc.tick(s, CATALOG, INSPECTOR, r.id, r.rev, TEXT_STEP, True, text="x"), Forbidden, "forbidden"),
    ("the admin ticks", PENDING, None, lambda s, b, r: lc.tick(s, CATALOG, ADMIN, r.id, r.rev, TEXT_STEP, True, text="x"), Forbidden, "forbidden"),
    ("another provider ticks", PENDING, None, lambda s, b, r: lc.tick(s, CATALOG, OTHER, r.id, r.rev, TEXT_STEP, True, text="x"), Forbidden, "forbidden"),
    ("another provider submits", IN_PROGRESS, None, lambda s, b, r: lc.submit(s, CATALOG, OTHER, r.id, r.rev), Forbidden, "forbidden"),
    ("the provider verifies its own", SUBMITTED, None, lambda s, b, r: lc.verify(s, CATALOG, YUNZHI, r.id, r.rev, True), Forbidden, "forbidden"),
    ("another city verifies", SUBMITTED, None, lambda s, b, r: lc.verify(s, CATALOG, CITY_FS, r.id, r.rev, True), Forbidden, "forbidden"),
    ("another city returns", SUBMITTED, None, lambda s, b, r: lc.verify(s, CATALOG, CITY_FS, r.id, r.rev, False, "原因"), Forbidden, "forbidden"),
    ("the province verifies", SUBMITTED, None, lambda s, b, r: lc.verify(s, CATALOG, PROVINCE, r.id, r.rev, True), Forbidden, "forbidden"),
    ("the city closes", VERIFIED, None, lambda s, b, r: lc.close(s, CATALOG, CITY_GZ, r.id, r.rev), Forbidden, "forbidden"),
    ("the admin closes", VERIFIED, None, lambda s, b, r: lc.close(s, CATALOG, ADMIN, r.id, r.rev), Forbidden, "forbidden"),
    ("the city records a violation", CLOSED, None,
     lambda s, b, r: lc.record_violation(s, CATALOG, CITY_GZ, r.id, r.rev, "通报", "文号"), Forbidden, "forbidden"),
    ("the provider records a violation", PENDING, None,
     lambda s, b, r: lc.record_violation(s, CATALOG, YUNZHI, r.id, r.rev, "通报", "文号"), Forbidden, "forbidden"),
    # the checklist
    ("submit with a step unticked", PENDING, _partly_ticked, lambda s, b, r: lc.submit(s, CATALOG, YUNZHI, r.id, r.rev), AppError, "steps_unticked"),
    ("submit with a file step without its file", PENDING, _ticked_without_evidence,
     lambda s, b, r: lc.submit(s, CATALOG, YUNZHI, r.id, r.rev), AppError, "evidence_missing"),
    ("a step the category has not", PENDING, None, lambda s, b, r: lc.tick(s, CATALOG, YUNZHI, r.id, r.rev, "no_such_step", True), AppError, "unknown_step"),
    ("files on a text step", PENDING, None,
     lambda s, b, r: lc.tick(s, CATALOG, YUNZHI, r.id, r.rev, TEXT_STEP, True, files=[("a.pdf", PDF)], blobs=b), AppError, "files_not_allowed"),
    ("a refused file type", PENDING, None, _tick_gif, AppError, "file_type"),
    ("a file over the size cap", PENDING, None, _tick_big, AppError, "file_too_big"),
    ("a text with a direction override", PENDING, None,
     lambda s, b, r: lc.tick(s, CATALOG, YUNZHI, r.id, r.rev, TEXT_STEP, True, text="\u202e已整改"), AppError, "bidi_text"),
    # the city's return
    ("return without a reason", SUBMITTED, None, lambda s, b, r: lc.verify(s, CATALOG, CITY_GZ, r.id, r.rev, False), AppError, "reason_missing"),
    ("return with a blank reason", SUBMITTED, None, lambda s, b, r: lc.verify(s, CATALOG, CITY_GZ, r.id, r.rev, False, " \u3000 "), AppError, "reason_missing"),
    # violations
    ("recovery without an amount", CLOSED, None, _violation("追回资金"), AppError, "amount_missing"),
    ("recovery with a blank amount", VERIFIED, None, _violation("追回资金", amount=" "), AppError, "amount_missing"),
    ("recovery of nothing", CLOSED, None, _violation("追回资金", amount="0"), AppError, "amount_invalid"),
    ("recovery of a negative amount", CLOSED, None, _violation("追回资金", amount=-3), AppError, "amount_invalid"),
    ("recovery in 元 not 万元", CLOSED, None, _violation("追回资金", amount="30000"), AppError, "amount_invalid"),
    ("recovery of text", CLOSED, None, _violation("追回资金", amount="三万"), AppError, "not_number"),
    ("recovery of three decimals", CLOSED, None, _violation("追回资金", amount="1.234"), AppError, "too_many_decimals"),
    ("an amount on a talk", CLOSED, None, _violation("约谈", amount="2"), AppError, "amount_not_allowed"),
    ("a violation without a reference", CLOSED, None, _violation("通报", reference="  "), AppError, "reference_missing"),
    ("a recovery without a reference", PENDING, None, _violation("追回资金", reference="", amount="2"), AppError, "reference_missing"),
    ("a handling not declared", CLOSED, None, _violation("罚款"), AppError, "handling_unknown"),
]


@pytest.mark.parametrize("status, prepare, attempt, error, code", [c[1:] for c in REFUSALS], ids=[c[0] for c in REFUSALS])
def test_a_refusal_writes_nothing(store, blobs, status, prepare, attempt, error, code):
    record = at(store, blobs, status)
    if prepare is not None:
        record = prepare(store, blobs, record)
    before = snapshot(store, blobs)
    denials = [e for e in store.audit() if e.action == DENIED]
    with pytest.raises(error) as refused:
        attempt(store, blobs, record)
    assert refused.value.code == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(refused.value))
    assert snapshot(store, blobs) == before
    now_denied = [e for e in store.audit() if e.action == DENIED]
    assert len(now_denied) == len(denials) + (error is Forbidden), "a role's refusal, and only it, is audited 拒绝访问"


def test_the_message_names_the_item_and_the_missing_steps(store, blobs):
    record = _ticked_without_evidence(store, blobs, at(store, blobs, PENDING))
    record = lc.tick(store, CATALOG, YUNZHI, record.id, record.rev, TEXT_STEP, False)
    with pytest.raises(AppError) as refused:
        lc.submit(store, CATALOG, YUNZHI, record.id, record.rev)
    names = {s.key: s.name for s in STEPS}
    assert "ZG-0001" in str(refused.value) and names[TEXT_STEP] in str(refused.value) and names[FILE_STEP] in str(refused.value)


def test_a_stale_revision_is_refused_naming_who_changed_the_item(store, blobs):
    record = at(store, blobs, PENDING)
    lc.tick(store, CATALOG, YUNZHI_2, record.id, record.rev, TEXT_STEP, True, text="同事先改了")
    before = snapshot(store, blobs)
    with pytest.raises(ConflictError) as refused:
        lc.tick(store, CATALOG, YUNZHI, record.id, record.rev, FILE_STEP, True, files=[("报告.pdf", PDF)], blobs=blobs)
    assert refused.value.code == "conflict" and YUNZHI_2.account in str(refused.value) and "ZG-0001" in str(refused.value)
    assert snapshot(store, blobs) == before  # the file was not stored either


def test_an_unknown_item_is_named(store):
    with pytest.raises(AppError) as refused:
        lc.submit(store, CATALOG, YUNZHI, "no-such-row", 1)
    assert refused.value.code == "item_not_found"


def test_the_provider_acts_for_the_firm_it_served(store, blobs):
    record = opened(store, party_kind="firm", party="甲制造有限公司", actor_org=YUNZHI.org)
    record = ticked(store, blobs, record)
    assert lc.submit(store, CATALOG, YUNZHI, record.id, record.rev).status == SUBMITTED


def test_overdue_on_the_campaign_clock_until_closed(store, blobs):
    """逾期 is a fact of the campaign's day, not a status: past the due date an item is overdue in every
    status but 已销号, and it is still worked on, verified and closed."""
    record = at(store, blobs, PENDING)
    due = record.values["due"]
    assert due == DUE and not overdue(record.status, due, DUE) and overdue(record.status, due, DUE + dt.timedelta(days=1))
    late = DUE + dt.timedelta(days=10)
    record = ticked(store, blobs, record)
    assert overdue(record.status, due, late) and lc.actions_for(YUNZHI, record, late) == (lc.TICK, lc.SUBMIT)
    record = lc.submit(store, CATALOG, YUNZHI, record.id, record.rev)
    assert overdue(record.status, due, late) and lc.actions_for(CITY_GZ, record, late) == (lc.VERIFY,)
    record = lc.verify(store, CATALOG, CITY_GZ, record.id, record.rev, True)
    assert overdue(record.status, due, late)
    record = lc.close(store, CATALOG, PROVINCE, record.id, record.rev)
    assert not overdue(record.status, due, late)


def test_another_campaigns_checklist_with_a_tick_only_step(store, blobs):
    """The lifecycle reads the checklist from the campaign (tests/campaigns/other): a step whose evidence
    is ``none`` needs only its tick, a ``file`` step its file."""
    other = load_catalog(ROOT / "tests" / "campaigns" / "other")
    category = next(c for c in other.campaign.rectification.categories if {s.evidence for s in c.steps} == {"file", "none"})
    values = item_values() | {"category": category.key, "steps": [{"step": s.key, "done": False, "text": ""} for s in category.steps]}
    [record] = store.append_batch([(ITEMS.form_id, values, PENDING)], actor=PROVINCE)
    with pytest.raises(AppError) as refused:  # the shipped campaign declares no such category
        lc.tick(store, CATALOG, YUNZHI, record.id, record.rev, category.steps[0].key, True)
    assert refused.value.code == "unknown_category" and category.key in str(refused.value)
    for step in category.steps:
        files = [("报告.pdf", PDF)] if step.evidence == "file" else []
        if step.by == "party":
            record = lc.tick(store, other, YUNZHI, record.id, record.rev, step.key, True, files=files, blobs=blobs)
    record = lc.submit(store, other, YUNZHI, record.id, record.rev)
    assert record.status == SUBMITTED
    # its city's step (by: city, a tick only) is the city's as it verifies
    [city_step] = [s for s in category.steps if s.by == "city"]
    with pytest.raises(AppError) as refused:
        lc.verify(store, other, CITY_GZ, record.id, record.rev, True)
    assert refused.value.code == "city_steps_unticked"
    record = lc.tick(store, other, CITY_GZ, record.id, record.rev, city_step.key, True)
    assert lc.verify(store, other, CITY_GZ, record.id, record.rev, True).status == VERIFIED


# --- the city's steps (by: city): attack N9 -----------------------------------------------------------

CITY_CATEGORY = next(c for c in CATALOG.campaign.rectification.categories if any(s.by == "city" for s in c.steps))
[CITY_STEP] = [s for s in CITY_CATEGORY.steps if s.by == "city"]
PARTY_STEPS = [s for s in CITY_CATEGORY.steps if s.by == "party"]


def submitted_with_a_city_step(store, blobs):
    """An item of the category with a city's step, its party's steps done and submitted."""
    record = opened(store, category=CITY_CATEGORY.key)
    for step in PARTY_STEPS:
        files = [("报告.pdf", PDF)] if step.evidence == "file" else []
        text = "已整改。" if step.evidence == "text" else None
        record = lc.tick(store, CATALOG, YUNZHI, record.id, record.rev, step.key, True, text=text, files=files, blobs=blobs)
    section = CATALOG.campaign.rectification
    assert lc.actions_for(YUNZHI, record, DUE, section) == (lc.TICK, lc.SUBMIT)  # the city's step is not the party's to wait for
    assert lc.actions_for(YUNZHI, record, DUE) == (lc.TICK,)  # without the section every stored step counts: late, never early
    return lc.submit(store, CATALOG, YUNZHI, record.id, record.rev)


def test_the_party_never_writes_the_citys_step_and_the_city_writes_it_as_it_verifies(store, blobs):
    record = opened(store, category=CITY_CATEGORY.key)
    denials = len([e for e in store.audit() if e.action == DENIED])
    with pytest.raises(Forbidden) as refused:  # while the item is the party's
        lc.tick(store, CATALOG, YUNZHI, record.id, record.rev, CITY_STEP.key, True, text="地市复核：同意")
    assert CITY_STEP.name in str(refused.value)
    record = submitted_with_a_city_step(store, blobs)
    assert record.status == SUBMITTED
    with pytest.raises(Forbidden):  # nor once it is submitted
        lc.tick(store, CATALOG, YUNZHI, record.id, record.rev, CITY_STEP.key, True, text="地市复核：同意")
    assert len([e for e in store.audit() if e.action == DENIED]) == denials + 2
    with pytest.raises(Forbidden):  # the city writes none of the party's steps
        lc.tick(store, CATALOG, CITY_GZ, record.id, record.rev, PARTY_STEPS[0].key, False)
    with pytest.raises(Forbidden):  # another city none of this city's
        lc.tick(store, CATALOG, CITY_FS, record.id, record.rev, CITY_STEP.key, True, text="x")

    # 通过 needs the city's step done with its evidence; 退回 does not
    with pytest.raises(AppError) as refused:
        lc.verify(store, CATALOG, CITY_GZ, record.id, record.rev, True)
    assert refused.value.code == "city_steps_unticked" and CITY_STEP.name in str(refused.value)
    assert store.get(ITEMS.form_id, record.id).rev == record.rev
    record = lc.tick(store, CATALOG, CITY_GZ, record.id, record.rev, CITY_STEP.key, True)
    assert record.status == SUBMITTED  # the city's step changes no status
    if CITY_STEP.evidence == "text":
        with pytest.raises(AppError) as refused:
            lc.verify(store, CATALOG, CITY_GZ, record.id, record.rev, True)
        assert refused.value.code == "city_evidence_missing"
        record = lc.tick(store, CATALOG, CITY_GZ, record.id, record.rev, CITY_STEP.key, True, text="经复核，整改到位。")
    steps = {s["step"]: s for s in record.values["steps"]}
    assert steps[CITY_STEP.key]["done"] and store.audit(ITEMS.form_id, record.id)[-1].account == CITY_GZ.account
    record = lc.verify(store, CATALOG, CITY_GZ, record.id, record.rev, True)
    assert record.status == VERIFIED
    with pytest.raises(AppError) as refused:  # verified: the city's step is settled
        lc.tick(store, CATALOG, CITY_GZ, record.id, record.rev, CITY_STEP.key, False)
    assert refused.value.code == "wrong_status"


def test_the_city_returns_without_its_step_and_cannot_write_it_while_the_party_works(store, blobs):
    record = submitted_with_a_city_step(store, blobs)
    record = lc.verify(store, CATALOG, CITY_GZ, record.id, record.rev, False, "报告缺少盖章页")
    assert record.status == IN_PROGRESS
    with pytest.raises(AppError) as refused:
        lc.tick(store, CATALOG, CITY_GZ, record.id, record.rev, CITY_STEP.key, True, text="x")
    assert refused.value.code == "wrong_status"


def test_a_category_of_city_steps_only_is_refused_at_load():
    from pydantic import ValidationError

    from lib.forms.rectification import Category

    with pytest.raises(ValidationError) as refused:
        Category.model_validate({"key": "c", "name": "类别", "steps": [{"key": "s", "name": "地市确认", "by": "city"}]})
    assert refused.value.errors()[0]["type"] == "steps_all_city"
    with pytest.raises(ValidationError):
        Category.model_validate({"key": "c", "name": "类别", "steps": [{"key": "s", "name": "确认", "by": "province"}]})


# --- evidence withdrawn and replaced: attack N4 ---------------------------------------------------------

def pdf(n: int) -> bytes:
    return b"%PDF-1.4 report " + str(n).encode() + b"\n%%EOF\n"


def test_the_party_withdraws_a_wrong_file_audited_and_the_step_asks_for_one_again(store, blobs):
    record = at(store, blobs, PENDING)
    record = lc.tick(store, CATALOG, YUNZHI, record.id, record.rev, FILE_STEP, True, files=[("身份证.pdf", pdf(1))], blobs=blobs)
    [wrong] = record.values["evidence"]
    record = lc.remove_file(store, CATALOG, YUNZHI, record.id, record.rev, FILE_STEP, wrong["sha256"])
    assert record.values["evidence"] == [] and record.status == IN_PROGRESS
    note = store.audit(ITEMS.form_id, record.id)[-1].note
    assert "删除文件" in note and "身份证.pdf" in note
    assert blobs.read(wrong["sha256"]) == pdf(1)  # the bytes stay: the audit names them
    record = lc.tick(store, CATALOG, YUNZHI, record.id, record.rev, TEXT_STEP, True, text="说明")
    with pytest.raises(AppError) as refused:  # still ticked, its file gone: not submitted without one
        lc.submit(store, CATALOG, YUNZHI, record.id, record.rev)
    assert refused.value.code == "evidence_missing"
    with pytest.raises(AppError) as refused:
        lc.remove_file(store, CATALOG, YUNZHI, record.id, record.rev, FILE_STEP, wrong["sha256"])
    assert refused.value.code == "file_unknown"


def test_a_returned_items_full_step_takes_the_corrected_file_in_place_of_a_wrong_one(store, blobs):
    from lib.forms.types import MAX_FILES

    record = at(store, blobs, PENDING)
    record = lc.tick(store, CATALOG, YUNZHI, record.id, record.rev, TEXT_STEP, True, text="说明")
    record = lc.tick(store, CATALOG, YUNZHI, record.id, record.rev, FILE_STEP, True,
                     files=[(f"材料{n}.pdf", pdf(n)) for n in range(MAX_FILES)], blobs=blobs)
    record = lc.submit(store, CATALOG, YUNZHI, record.id, record.rev)
    record = lc.verify(store, CATALOG, CITY_GZ, record.id, record.rev, False, "材料3 请换成盖章版")
    with pytest.raises(AppError) as refused:  # the step is full
        lc.tick(store, CATALOG, YUNZHI, record.id, record.rev, FILE_STEP, True, files=[("盖章版.pdf", pdf(99))], blobs=blobs)
    assert refused.value.code == "too_many_files"
    old = next(e for e in record.values["evidence"] if e["name"] == "材料3.pdf")
    record = lc.remove_file(store, CATALOG, YUNZHI, record.id, record.rev, FILE_STEP, old["sha256"])
    record = lc.tick(store, CATALOG, YUNZHI, record.id, record.rev, FILE_STEP, True, files=[("盖章版.pdf", pdf(99))], blobs=blobs)
    names = [e["name"] for e in record.values["evidence"]]
    assert len(names) == MAX_FILES and "盖章版.pdf" in names and "材料3.pdf" not in names
    assert lc.submit(store, CATALOG, YUNZHI, record.id, record.rev).status == SUBMITTED


def _remove_first_file(actor):
    def attempt(s, b, r):
        lc.remove_file(s, CATALOG, actor, r.id, r.rev, FILE_STEP, r.values["evidence"][0]["sha256"])
    return attempt


REMOVALS = [
    ("another provider", IN_PROGRESS, OTHER, Forbidden, "forbidden"),
    ("the city", IN_PROGRESS, CITY_GZ, Forbidden, "forbidden"),
    ("the province", IN_PROGRESS, PROVINCE, Forbidden, "forbidden"),
    ("the party once submitted", SUBMITTED, YUNZHI, AppError, "wrong_status"),
    ("the party once verified", VERIFIED, YUNZHI, AppError, "wrong_status"),
    ("the party once closed", CLOSED, YUNZHI, AppError, "wrong_status"),
]


@pytest.mark.parametrize("status, actor, error, code", [c[1:] for c in REMOVALS], ids=[c[0] for c in REMOVALS])
def test_a_file_is_withdrawn_only_by_the_party_while_the_item_is_its_own(store, blobs, status, actor, error, code):
    record = at(store, blobs, status)
    before = snapshot(store, blobs)
    with pytest.raises(error) as refused:
        _remove_first_file(actor)(store, blobs, record)
    assert refused.value.code == code and any("\u4e00" <= ch <= "\u9fff" for ch in str(refused.value))
    assert snapshot(store, blobs) == before


# --- a violation recorded once: attack N6 ---------------------------------------------------------------

def test_the_same_violation_is_recorded_once(store, blobs):
    record = at(store, blobs, CLOSED)
    record = lc.record_violation(store, CATALOG, PROVINCE, record.id, record.rev, "追回资金", "粤工信〔2020〕12号", amount="1.5")
    before = snapshot(store, blobs)
    for again in (("追回资金", "粤工信〔2020〕12号", "1.5"), ("追回资金", " 粤工信〔2020〕１２号 ", "3")):
        with pytest.raises(AppError) as refused:
            lc.record_violation(store, CATALOG, PROVINCE, record.id, record.rev, again[0], again[1], amount=again[2])
        assert refused.value.code == "violation_twice"
    assert snapshot(store, blobs) == before
    # another handling under the same decision, or another decision, is another violation
    record = lc.record_violation(store, CATALOG, PROVINCE, record.id, record.rev, "通报", "粤工信〔2020〕12号")
    record = lc.record_violation(store, CATALOG, PROVINCE, record.id, record.rev, "追回资金", "粤工信〔2020〕13号", amount="2")
    assert len(record.values["violations"]) == 3
