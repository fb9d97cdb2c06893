"""Freezing, recording and verifying draws on a real local store (issue 13, outcomes 1 and 3)."""

from __future__ import annotations

import pytest

from lib.auth.errors import Forbidden
from lib.sampling import record
from lib.sampling.__main__ import main
from lib.sampling.draw import SeedInvalid
from lib.sampling.frame import FrameEmpty, canonical_text
from lib.sampling.record import (
    DRAW_ROWS,
    DRAWS,
    FRAME_ROWS,
    FRAMES,
    FrameOutdated,
    RedrawReasonMissing,
    current_frame,
    freeze,
    load_frame,
    record_draw,
)
from lib.sampling.verify import verify
from lib.store.factory import open_store

from .conftest import CITY, ENTRIES, PROVINCE, ROOT, SHIPPED, file_check, import_vouchers

SHIPPED_FORMS = ROOT / "forms"


def _counts(store) -> dict[str, int]:
    return {sheet.form_id: len(store.records(sheet.form_id)) for sheet in record.SHEETS}


def test_a_frozen_frame_keeps_its_rows_facts_fingerprint_and_who_froze_it(stocked):
    info, frame = freeze(stocked, SHIPPED, PROVINCE)
    assert (info.rows, info.frozen_by) == (len(ENTRIES), "province")
    assert frame.rows["voucher"].tolist() == sorted(v for v, *_ in ENTRIES)
    facts = frame.rows.set_index("voucher")
    assert facts.at["V-000002", "complaint"] and not facts["complaint"].drop("V-000002").any()
    assert facts["high_subsidy"].sum() == 3  # 40, 31 and 50 万元 reach the threshold of 30
    assert not facts.at["V-000002", "never_checked"] and facts["never_checked"].sum() == len(ENTRIES) - 1
    stored = load_frame(stocked, info.frame_id)
    assert stored.fingerprint == info.fingerprint == frame.fingerprint
    assert canonical_text(stored) == canonical_text(frame)
    [rec] = stocked.records(FRAMES.form_id)
    assert rec.values["campaign_id"] == SHIPPED.campaign.id and rec.values["campaign_version"] == frame.campaign_version
    assert _counts(stocked)[FRAME_ROWS.form_id] == len(ENTRIES)


def test_freezing_nothing_is_refused_and_writes_nothing(store):
    with pytest.raises(FrameEmpty) as info:
        freeze(store, SHIPPED, PROVINCE)
    assert info.value.code == "frame_empty"
    assert _counts(store) == dict.fromkeys(_counts(store), 0)


def test_only_the_province_freezes_and_draws(stocked):
    with pytest.raises(Forbidden):
        freeze(stocked, SHIPPED, CITY)
    info, _ = freeze(stocked, SHIPPED, PROVINCE)
    with pytest.raises(Forbidden):
        record_draw(stocked, SHIPPED, info.frame_id, "1", CITY)
    assert _counts(stocked)[DRAWS.form_id] == 0
    assert [e.account for e in stocked.audit() if e.action == "拒绝访问"] == [CITY.account, CITY.account]


def test_a_draw_is_recorded_and_verify_says_consistent(stocked):
    info, frame = freeze(stocked, SHIPPED, PROVINCE)
    done = record_draw(stocked, SHIPPED, info.frame_id, "20200922", PROVINCE)
    # 广州 6 projects: n = 2, V-000002 (complaint, take_all) + 1 by chance; 佛山 2: 1; 汕头 1: 1
    assert len(done.sample.drawn) == 4 and "V-000002" in set(done.sample.drawn["voucher"])
    [rec] = stocked.records(DRAWS.form_id)
    assert (rec.status, rec.values["seed"], rec.values["seed_source"], rec.values["drawn"]) == ("有效", "20200922", "公布的随机数", 4)
    rows = [r.values for r in stocked.records(DRAW_ROWS.form_id)]
    assert {r["voucher"] for r in rows} == set(done.sample.drawn["voucher"])
    assert {r["rules"] and "存在投诉或举报的项目" in r["rules"] for r in rows if r["voucher"] == "V-000002"} == {True}
    report = verify(stocked, done.draw_id)
    assert report.ok and report.differences == [] and "：一致" in report.lines()[0]


def test_a_typed_seed_equal_to_any_generated_one_is_recorded_as_generated_and_verify_counts_them(stocked):
    """Attack M13 (K14's count): the count of seeds generated was on the page only, and a typed seed equal
    to an earlier (not the latest) generated one was recorded as 公布的随机数."""
    info, _ = freeze(stocked, SHIPPED, PROVINCE)
    [frozen] = stocked.records(record.FRAMES.form_id)
    seeds = [record.generate_seed(stocked, PROVINCE, frozen, "试") for _ in range(3)]
    assert record.generated_seeds(stocked, frozen) == seeds
    done = record_draw(stocked, SHIPPED, info.frame_id, str(seeds[0]), PROVINCE)  # typed, generated=False
    [rec] = stocked.records(DRAWS.form_id)
    assert done.generated_seed and (rec.values["seed_source"], rec.values["seeds_generated"]) == ("系统生成", 3)
    record.generate_seed(stocked, PROVINCE, frozen, "又一次")
    report = verify(stocked, done.draw_id)
    assert report.ok and "共生成过 4 次随机数，抽样时记录为 3 次" in report.lines()[0]
    other = record_draw(stocked, SHIPPED, info.frame_id, "20200922", PROVINCE, reason="复核")
    assert not other.generated_seed  # a number nobody generated stays 公布的随机数


def test_verify_names_a_frame_row_changed_after_the_freeze(stocked):
    info, _ = freeze(stocked, SHIPPED, PROVINCE)
    done = record_draw(stocked, SHIPPED, info.frame_id, "7", PROVINCE)
    row = next(r for r in stocked.records(FRAME_ROWS.form_id) if r.values["voucher"] == "V-000004")
    stocked.update(FRAME_ROWS.form_id, row.id, base_rev=row.rev, actor=PROVINCE, values={"subsidy": 99.0})
    report = verify(stocked, done.draw_id)
    found = {(d.code, d.voucher) for d in report.differences}
    assert not report.ok and {("frame_row_changed", "V-000004"), ("fingerprint", "")} <= found
    assert any("V-000004" in line for line in report.lines())


def test_verify_names_a_drawn_project_taken_off_the_recorded_list(stocked):
    info, _ = freeze(stocked, SHIPPED, PROVINCE)
    done = record_draw(stocked, SHIPPED, info.frame_id, "7", PROVINCE)
    row = next(r for r in stocked.records(DRAW_ROWS.form_id) if r.values["voucher"] != "V-000002")
    stocked.update(DRAW_ROWS.form_id, row.id, base_rev=row.rev, actor=PROVINCE, values={"voucher": "V-999999"})
    report = verify(stocked, done.draw_id)
    found = {(d.code, d.voucher) for d in report.differences}
    assert found == {("not_recorded", row.values["voucher"]), ("not_redrawn", "V-999999"), ("draw_row_changed", "V-999999")}


@pytest.mark.parametrize("seed, code", [("", "seed_empty"), ("abc", "seed_not_number"), ("-1", "seed_negative")])
def test_a_bad_seed_writes_nothing(stocked, seed, code):
    info, _ = freeze(stocked, SHIPPED, PROVINCE)
    before = _counts(stocked)
    with pytest.raises(SeedInvalid) as err:
        record_draw(stocked, SHIPPED, info.frame_id, seed, PROVINCE)
    assert err.value.code == code and _counts(stocked) == before


def test_a_redraw_needs_a_reason_and_supersedes_the_draw_in_force(stocked):
    info, _ = freeze(stocked, SHIPPED, PROVINCE)
    first = record_draw(stocked, SHIPPED, info.frame_id, "1", PROVINCE)
    before = _counts(stocked)
    with pytest.raises(RedrawReasonMissing) as err:
        record_draw(stocked, SHIPPED, info.frame_id, "2", PROVINCE, reason="  ")
    assert err.value.code == "redraw_reason_missing" and _counts(stocked) == before
    second = record_draw(stocked, SHIPPED, info.frame_id, "2", PROVINCE, reason="公证员未到场", generated=True)
    assert second.superseded == (first.draw_id,)
    draws = {r.values["draw_id"]: r for r in stocked.records(DRAWS.form_id)}
    assert (draws[first.draw_id].status, draws[first.draw_id].values["superseded_by"]) == ("已被替换", second.draw_id)
    assert (draws[second.draw_id].status, draws[second.draw_id].values["reason"]) == ("有效", "公证员未到场")
    assert draws[second.draw_id].values["seed_source"] == "系统生成"
    changes = [e for e in stocked.audit(DRAWS.form_id, draws[first.draw_id].id) if e.action != "新增"]
    assert len(changes) == 1 and "公证员未到场" in changes[0].note
    assert verify(stocked, first.draw_id).ok and verify(stocked, second.draw_id).ok  # the old list stays verifiable


def test_a_draw_on_a_stale_frame_is_refused(stocked):
    old, _ = freeze(stocked, SHIPPED, PROVINCE)
    freeze(stocked, SHIPPED, PROVINCE)
    with pytest.raises(FrameOutdated) as err:
        record_draw(stocked, SHIPPED, old.frame_id, "1", PROVINCE)
    assert err.value.code == "frame_outdated"


def test_the_command_line_verifies_and_says_what_differs(stocked, tmp_path, capsys):
    info, _ = freeze(stocked, SHIPPED, PROVINCE)
    done = record_draw(stocked, SHIPPED, info.frame_id, "42", PROVINCE)
    data = str(tmp_path / "data")
    assert main(["verify", done.draw_id, "--data-dir", data]) == 0
    assert "一致" in capsys.readouterr().out
    row = next(r for r in stocked.records(FRAME_ROWS.form_id) if r.values["voucher"] == "V-000000")
    stocked.update(FRAME_ROWS.form_id, row.id, base_rev=row.rev, actor=PROVINCE, values={"firm": "另一家企业"})
    assert main(["verify", done.draw_id, "--data-dir", data]) == 1
    out = capsys.readouterr().out
    assert "V-000000" in out  # the exit code above says 不一致; the lines name the row
    assert main(["verify", "D-none", "--data-dir", data]) == 2
    assert "D-none" in capsys.readouterr().err


def test_a_draw_after_the_campaigns_sampling_rules_changed_is_refused(stocked):
    from types import SimpleNamespace

    from .conftest import sampling

    info, _ = freeze(stocked, SHIPPED, PROVINCE)
    changed = SimpleNamespace(campaign=SimpleNamespace(sampling=sampling(0.5)))
    with pytest.raises(FrameOutdated) as err:
        record_draw(stocked, changed, info.frame_id, "1", PROVINCE)
    assert err.value.code == "frame_outdated" and _counts(stocked)[DRAWS.form_id] == 0


def test_a_register_frame_without_a_declared_register_is_refused(store):
    from types import SimpleNamespace

    from lib.sampling.frame import FrameError

    campaign = SHIPPED.campaign.model_copy(update={"registers": None})
    with pytest.raises(FrameError) as err:
        freeze(store, SimpleNamespace(campaign=campaign, bindings=SHIPPED.bindings), PROVINCE)
    assert err.value.code == "frame_invalid" and _counts(store) == dict.fromkeys(_counts(store), 0)


def test_the_command_line_freezes_and_draws_and_refuses_a_bad_seed(stocked, tmp_path, capsys):
    data, forms = str(tmp_path / "data"), str(SHIPPED_FORMS)
    assert main(["freeze", "--data-dir", data, "--forms-dir", forms]) == 0
    [frame] = stocked.records(FRAMES.form_id)
    assert frame.values["frame_id"] in capsys.readouterr().out and frame.owner.startswith("命令行:")
    assert main(["draw", frame.values["frame_id"], "--seed", "-4", "--data-dir", data, "--forms-dir", forms]) == 2
    assert capsys.readouterr().err and _counts(stocked)[DRAWS.form_id] == 0
    assert main(["draw", frame.values["frame_id"], "--seed", "20200922", "--data-dir", data, "--forms-dir", forms]) == 0
    [drawn] = stocked.records(DRAWS.form_id)
    assert drawn.values["draw_id"] in capsys.readouterr().out
    assert main(["draw", frame.values["frame_id"], "--generate-seed", "--data-dir", data, "--forms-dir", forms]) == 2
    assert capsys.readouterr().err and _counts(stocked)[DRAWS.form_id] == 1  # a redraw without a reason
    assert main(["draw", frame.values["frame_id"], "--generate-seed", "--reason", "复核", "--data-dir", data, "--forms-dir", forms]) == 0
    shown = capsys.readouterr().out
    newest = max(stocked.records(DRAWS.form_id), key=lambda r: r.created_at)
    assert f"系统生成的随机数种子：{newest.values['seed']}" in shown and newest.values["seed_source"] == "系统生成"
    assert main(["verify", newest.values["draw_id"], "--data-dir", data]) == 0


def test_a_draw_on_a_frame_changed_after_the_freeze_is_refused(stocked):
    info, _ = freeze(stocked, SHIPPED, PROVINCE)
    row = next(r for r in stocked.records(FRAME_ROWS.form_id) if r.values["voucher"] == "V-000003")
    stocked.update(FRAME_ROWS.form_id, row.id, base_rev=row.rev, actor=PROVINCE, values={"rules": ["存在投诉或举报的项目"]})
    with pytest.raises(record.FrameChanged) as err:
        record_draw(stocked, SHIPPED, info.frame_id, "1", PROVINCE)
    assert err.value.code == "frame_changed" and _counts(stocked)[DRAWS.form_id] == 0


@pytest.mark.parametrize("typed", ["ｖ－０００００２", "Ｖ-000002", " V-000002 ", "V-000002\u200b", "V\u2013000002"])
def test_a_check_written_with_a_width_or_dash_variant_of_a_voucher_counts_for_that_voucher(tmp_path, typed):
    """Attack K17: the checks' link to the frame folds width, blanks, invisible characters and dashes
    as the policy does: the frame is the one a check typed plainly gives, not the one without it."""
    frames = []
    for name, voucher in (("none", "V-999999"), ("plain", "V-000002"), ("variant", typed)):
        store = open_store("local", data_dir=tmp_path / name, background=False)
        try:
            import_vouchers(store, ENTRIES)
            file_check(store, voucher, complaint=True)
            frames.append(current_frame(store, SHIPPED))
        finally:
            store.close()
    none, plain, variant = frames
    assert variant.fingerprint == plain.fingerprint != none.fingerprint
