"""The sampling frame: its canonical form and fingerprint, its two sources, its publication (issue 13, outcome 1)."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib.core.statuses import DRAFT, SUBMITTED
from lib.core.values import wall_time
from lib.forms.columns import sheet_spec
from lib.forms.spec import PriorityRule, Sampling
from lib.office.excel import read_workbook
from lib.sampling.frame import (
    MAX_SUBSIDY,
    Frame,
    FrameError,
    build_frame,
    campaign_version,
    canonical_text,
    frame_xlsx,
    sampling_json,
)
from lib.sampling.record import current_frame, frame_workbook, freeze, load_frame, store_frame

from .conftest import ENTRIES, OTHER, PROVINCE, SHIPPED, file_check
from .conftest import frame_of as _frame_of


def sampling(ratio=0.2, *, weights=(1.0, 1.0), take_all=False, proportional=False,
             high="subsidy >= 30", complaint="complaints > 0") -> Sampling:
    """Two rules: ``high_subsidy`` and ``complaint`` (``take_all`` as given)."""
    return Sampling(ratio=ratio, proportional_to_subsidy=proportional, priority_rules=[
        PriorityRule(key="high_subsidy", name="高额", weight=weights[0], when=high),
        PriorityRule(key="complaint", name="投诉", weight=weights[1], when=complaint, take_all=take_all)])


def frame_of(cities: list[str], **kwargs) -> Frame:
    return _frame_of(cities, **{"rules": sampling(), **kwargs})


def test_the_canonical_text_and_its_fingerprint_by_hand():
    rows = pd.DataFrame({"voucher": ["B-2", "A-1"], "city": ["乙", "甲"], "provider": ["服务商\\1", "P"],
                         "firm": ["企业\t二", "企业一"], "subsidy": [30, 12.5], "high_subsidy": [True, False],
                         "complaint": [False, None]})
    frame = Frame.of(rows, sampling())
    text = ("voucher\tcity\tprovider\tfirm\tsubsidy\thigh_subsidy\tcomplaint\n"
            "A-1\t甲\tP\t企业一\t12.50\t0\t0\n"
            "B-2\t乙\t服务商\\\\1\t企业\\t二\t30.00\t1\t0\n")
    assert canonical_text(frame) == text
    assert frame.fingerprint == hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_the_fingerprint_ignores_row_order_and_changes_with_any_value():
    frame = frame_of(["甲", "乙", "甲"], high=(1,), complaint=(2,))
    reordered = Frame.of(frame.rows.iloc[[2, 0, 1]], frame.sampling)
    assert reordered.fingerprint == frame.fingerprint
    seen = {frame.fingerprint}
    for column, value in [("city", "丙"), ("provider", "别家"), ("firm", "别的企业"), ("subsidy", 10.01), ("high_subsidy", True),
                          ("complaint", True), ("voucher", "V-999")]:
        changed = frame.rows.copy()
        changed.loc[0, column] = value
        seen.add(Frame.of(changed, frame.sampling).fingerprint)
    assert len(seen) == 8


def test_a_blank_or_repeated_voucher_is_refused():
    frame = frame_of(["甲", "甲"])
    for vouchers in (["V-1", ""], ["V-1", "V-1"]):
        with pytest.raises(FrameError) as info:
            Frame.of(frame.rows.assign(voucher=vouchers), frame.sampling)
        assert info.value.code == "frame_invalid"


def test_the_campaign_version_follows_the_sampling_section():
    assert campaign_version(sampling()) == campaign_version(sampling())
    versions = {campaign_version(s) for s in (sampling(), sampling(0.25), sampling(weights=(2.0, 1.0)),
                                              sampling(take_all=True), sampling(proportional=True),
                                              sampling(high="subsidy >= 31"), sampling(complaint="complaints>0"),
                                              sampling().model_copy(update={"facts": OTHER.campaign.sampling.facts}))}
    assert len(versions) == 8  # the rules' text too, a space included
    assert campaign_version(SHIPPED.campaign.sampling) != campaign_version(OTHER.campaign.sampling)


def test_the_inspectors_group_size_is_not_part_of_the_project_draw():
    """The group size is the inspector draw's (it records its own): changing it must not force a re-freeze."""
    shipped = SHIPPED.campaign.sampling
    bigger = shipped.model_copy(update={"inspector_group_size": shipped.inspector_group_size + 2})
    assert campaign_version(bigger) == campaign_version(shipped)
    assert "inspector_group_size" not in sampling_json(bigger)
    assert campaign_version(shipped.model_copy(update={"ratio": shipped.ratio + 0.05})) != campaign_version(shipped)


def test_a_reported_frame_takes_the_filed_rows_once_per_voucher_and_leaves_out_cities_outside_the_scheme(store):
    binding = OTHER.bindings.of("projects")
    store.ensure_sheet(sheet_spec(OTHER.form(binding.form)))
    outside = OTHER.campaign.outside_scheme[0]
    inside = next(c for c in OTHER.campaign.cities if c not in OTHER.campaign.outside_scheme)

    def report(voucher, city, status=SUBMITTED, subsidy=20.0, provider="服务商甲"):
        values = {binding.key("voucher"): voucher, binding.key("city"): city, binding.key("provider"): provider,
                  binding.key("firm"): f"企业{voucher}", binding.key("subsidy"): subsidy}
        store.append(binding.form, values, actor=PROVINCE, status=status)

    report("v-0001 ", inside, provider="第一次")
    report("V-0001", inside, provider="第二次")  # the same voucher again: the first filed counts
    report("V-0002", inside, status=DRAFT)  # not filed
    report("V-0003", outside)
    report("V-0004", inside, subsidy=60.0)
    file_check(store, "V-0004", complaint=True, catalog=OTHER)
    file_check(store, "V-0004", complaint=True, catalog=OTHER)  # the other campaign takes a project at two complaints
    file_check(store, "V-0001", complaint=True, catalog=OTHER)
    frame = current_frame(store, OTHER)
    assert frame.rows["voucher"].tolist() == ["V-0001", "V-0004"]
    assert frame.rows["provider"].tolist() == ["第一次", "服务商甲"]
    assert frame.rows["complaint"].tolist() == [False, True] and frame.rows["high_subsidy"].tolist() == [False, True]


def test_the_published_workbook_lists_the_frame_in_chinese_with_its_fingerprint(stocked):
    info, frame = freeze(stocked, SHIPPED, PROVINCE)
    data = frame_workbook(stocked, info.frame_id)
    sheets = {s.name: s.rows for s in read_workbook(data)}
    header, *rows = sheets["抽样框"]
    names = [r.name for r in SHIPPED.campaign.sampling.priority_rules]
    assert header == ["服务券编号", "企业所在地市", "服务商名称", "企业名称", "奖补金额（万元）", *names]
    assert [r[0] for r in rows] == frame.rows["voucher"].tolist()
    assert {r[5 + names.index("存在投诉或举报的项目")] for r in rows if r[0] == "V-000002"} == {"是"}
    about = dict(sheets["说明"][1:])
    assert about["抽样框指纹（SHA-256）"] == info.fingerprint and about["抽样框编号"] == info.frame_id
    assert about["冻结账号"] == PROVINCE.account and about["冻结时间"] == f"{wall_time(info.frozen_at):%Y-%m-%d %H:%M:%S}"
    assert frame_xlsx(frame, {"抽样框编号": info.frame_id})  # the same sheets before anything is stored


TEXT = st.text(st.characters(whitelist_categories=("Lu", "Ll", "Lo", "Nd", "Pd", "Ps", "Pe", "Zs"), whitelist_characters="\\、（）"),
               max_size=12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(TEXT, TEXT, st.one_of(st.none(), st.decimals(0, 10**6, places=2).map(float)), st.booleans()),
                     min_size=1, max_size=8))
def test_a_frame_stored_and_read_back_has_its_fingerprint(store, rows):
    """Whatever the names hold (backslashes, brackets, spaces, any script), the stored frame reads back
    to the same canonical text: verify's fingerprint check has no false alarm."""
    frame = frame_of(["甲"] * len(rows), complaint=[i for i, r in enumerate(rows) if r[3]])
    frame = Frame.of(frame.rows.assign(provider=[r[0] for r in rows], firm=[r[1] for r in rows],
                                       subsidy=[r[2] for r in rows]), frame.sampling)
    info = store_frame(store, frame, PROVINCE, campaign_id="t")
    again = load_frame(store, info.frame_id)
    assert canonical_text(again) == canonical_text(frame) and again.fingerprint == info.fingerprint


def test_two_frames_frozen_in_one_second_with_the_same_dice_keep_their_own_rows(store, monkeypatch):
    """CI failure: the hypothesis test above froze two frames in one second whose 4 random hex digits
    matched, and the second read back the first one's rows as well (a repeated voucher)."""
    import datetime as dt

    import lib.sampling.record as record
    dice = iter(["0000aaaa", "0000aaaa", "0000bbbb"])
    monkeypatch.setattr(record.secrets, "token_hex", lambda n: next(dice))
    now = dt.datetime(2031, 5, 6, 9, 30)
    first, second = frame_of(["甲"]), frame_of(["甲", "乙"])
    one = store_frame(store, first, PROVINCE, campaign_id="t", now=now)
    two = store_frame(store, second, PROVINCE, campaign_id="t", now=now)
    assert one.frame_id != two.frame_id and two.frame_id.endswith("bbbb")
    assert canonical_text(load_frame(store, one.frame_id)) == canonical_text(first)
    assert canonical_text(load_frame(store, two.frame_id)) == canonical_text(second)


@pytest.mark.parametrize("amount", [float("inf"), float("-inf"), 1e308, MAX_SUBSIDY + 1, -0.01])
def test_a_subsidy_no_project_can_have_is_refused_naming_the_voucher(amount):
    """Attack K6: an infinite or absurd amount gave π = NaN and drew nobody in its city."""
    frame = frame_of(["甲", "甲"])
    with pytest.raises(FrameError) as info:
        Frame.of(frame.rows.assign(subsidy=[10.0, amount]), frame.sampling)
    assert info.value.code == "frame_invalid" and "V-001" in str(info.value)
    assert Frame.of(frame.rows.assign(subsidy=[0.0, float(MAX_SUBSIDY)]), frame.sampling).rows["subsidy"].tolist() == [0.0, MAX_SUBSIDY]


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def test_an_auditor_recomputes_the_fingerprint_from_the_published_workbook_alone(stocked):
    """Attack K11: the 说明 sheet gives the header line verbatim and how 是/否 and amounts are written,
    so the canonical text (docs/sampling.md §2) is written from the 抽样框 sheet by hand."""
    info, frame = freeze(stocked, SHIPPED, PROVINCE)
    sheets = {s.name: s.rows for s in read_workbook(frame_workbook(stocked, info.frame_id))}
    about = dict(sheets["说明"][1:])
    header = about["规范文本第一行（列名，制表符分隔）"]
    assert header.split("\t") == ["voucher", "city", "provider", "firm", "subsidy", *[r.key for r in SHIPPED.campaign.sampling.priority_rules]]
    assert about["规范文本中的规则列"] == "是 写作 1，否 写作 0" and "10.00" in about["规范文本中的奖补金额"]
    assert about["优先规则 complaint"].endswith("complaints > 0")
    lines = [header]
    for row in sheets["抽样框"][1:]:
        texts = [_escaped(str(v or "")) for v in row[:4]]
        amount = "" if row[4] is None else f"{row[4]:.2f}"
        lines.append("\t".join([*texts, amount, *[{"是": "1", "否": "0"}[v] for v in row[5:]]]))
    text = "".join(line + "\n" for line in lines)
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == info.fingerprint == about["抽样框指纹（SHA-256）"]


def test_the_frame_counts_the_complaint_register_and_this_campaigns_failed_inspections(stocked):
    """build_frame reads every bound form a fact needs through the store's snapshots."""
    bindings = SHIPPED.bindings
    complaints, inspections = bindings.of("complaints"), bindings.of("inspections")
    for binding in (complaints, inspections):
        stocked.ensure_sheet(sheet_spec(SHIPPED.form(binding.form)))
    stocked.append(complaints.form, {complaints.key("voucher"): "v-000004"}, actor=PROVINCE, status=SUBMITTED)
    stocked.append(complaints.form, {complaints.key("voucher"): "V-000005"}, actor=PROVINCE, status=DRAFT)
    stocked.append(inspections.form, {inspections.key("voucher"): "V-000001",
                                      inspections.key("conclusion"): inspections.word("conclusion", "fail")},
                   actor=PROVINCE, status=SUBMITTED)
    projects = pd.DataFrame([{"voucher": v, "city": c, "provider": p, "firm": f"企业{v}", "subsidy": s}
                             for v, c, p, s in ENTRIES])
    frame = build_frame(projects, stocked.snapshot, bindings, SHIPPED.campaign.sampling)
    rows = frame.rows.set_index("voucher")
    # V-000002: the checks' complaint flag (the fixture); V-000004: the complaint register; a draft is none
    assert rows.index[rows["complaint"]].tolist() == ["V-000002", "V-000004"]
    # 服务商1 failed its V-000001 inspection: its other projects (odd numbers) meet the rule, V-000001 itself not
    assert rows.index[rows["provider_failed"]].tolist() == ["V-000003", "V-000005", "V-000007"]


def test_the_other_campaign_draws_on_its_own_conditions(store):
    """The campaign is data: tests/campaigns/other declares its own facts lists, thresholds, weights and
    conditions (never checked: 现场核查 only, weight 2; two complaints to take a project), and the draw
    follows them."""
    from lib.sampling.draw import draw, sizes

    binding = OTHER.bindings.of("projects")
    store.ensure_sheet(sheet_spec(OTHER.form(binding.form)))
    city = next(c for c in OTHER.campaign.cities if c not in OTHER.campaign.outside_scheme)
    for i, amount in enumerate([10.0, 20.0, 30.0, 60.0, 5.0, 6.0]):
        store.append(binding.form, {binding.key("voucher"): f"Q-{i:04d}", binding.key("city"): city, binding.key("provider"): "服务商甲",
                                    binding.key("firm"): f"企业{i}", binding.key("subsidy"): amount}, actor=PROVINCE, status=SUBMITTED)
    file_check(store, "Q-0000", complaint=True, catalog=OTHER)  # 现场核查: checked on site, one complaint
    file_check(store, "Q-0001", complaint=True, catalog=OTHER, method="spot_check")  # 随机抽查 is not on site here
    file_check(store, "Q-0001", complaint=True, catalog=OTHER, method="spot_check")  # a second complaint: taken
    frame = current_frame(store, OTHER)
    rows = frame.rows.set_index("voucher")
    assert rows["never_checked"].tolist() == [False, True, True, True, True, True]
    assert rows["complaint"].tolist() == [False, True, False, False, False, False]
    # 60 reaches 50; 30 is in the top share of 0.2? 2/6 > 0.2, no; 20: 3/6, no
    assert rows["high_subsidy"].tolist() == [False, False, False, True, False, False]
    # size: 1 + 2.0 (never checked) + 1.5 (high subsidy) + 1.0 (complaint), times the subsidy (proportional_to_subsidy)
    assert sizes(frame).tolist() == [10.0, 20.0 * 4, 30.0 * 3, 60.0 * 4.5, 5.0 * 3, 6.0 * 3]
    sample = draw(frame, 7).drawn.set_index("voucher")
    assert len(sample) == 2  # ⌈0.3 × 6⌉
    assert sample.loc["Q-0001", "selection"] == "take_all" and sample.loc["Q-0001", "probability"] == 1.0
    assert "complaint" in sample.loc["Q-0001", "rules"] and "never_checked" in sample.loc["Q-0001", "rules"]
