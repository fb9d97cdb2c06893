"""campaign.yaml's bindings: what each form and field means to the campaign, checked against the
forms at load; a broken binding is a coded problem naming file, line and key, and an edit that breaks
one is refused like an invalid edit (the last valid version keeps serving)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from lib.forms import FormDefinitionError, load_catalog
from lib.forms.bindings import FORM_ROLES, NEEDS

SHIPPED = Path(__file__).resolve().parents[2] / "forms"

#: The shipped inspection phase's forms (bound too, and untouched by these tests).
PHASE_TWO = ["complaint", "forum", "inspection"]


@pytest.fixture
def folder(tmp_path) -> Path:
    for path in SHIPPED.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def write(path: Path, text: str) -> None:
    """Write and move the mtime forward, so a same-second edit is still seen as a change."""
    before = path.stat().st_mtime_ns
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))


def line_of(path: Path, text: str, after: str = "") -> int:
    """1-based line of the first line equal to ``text`` (after the first line equal to ``after``)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = lines.index(after) if after else 0
    return lines.index(text, start) + 1


def test_the_shipped_campaign_binds_every_meaning_its_code_needs(catalog):
    bindings = catalog.bindings
    for role in FORM_ROLES:
        binding = bindings.of(role)
        form = catalog.form(binding.form)
        assert form.filled_by == binding.filed_by
        for meaning, need in NEEDS[role].items():
            key = binding.key(meaning)
            if need.required:
                assert key is not None, (role, meaning)
            if key is not None:
                assert form.field(key).type in need.types, (role, meaning, key)
            for choice in need.choices if key is not None else ():
                assert binding.word(meaning, choice) in form.field(key).choices


# (case, text in campaign.yaml, its replacement, code, the line the problem names, after which line)
BROKEN = [
    ("missing field", "      voucher: voucher_no", "      voucher: voucher_number", "binding_unknown_field",
     "      voucher: voucher_number", "  projects:            # 附件1：“上云上平台”服务商项目回访情况，一行一个项目"),
    ("field in a table", "      reason: reason", "      reason: contact_name", "binding_unknown_field", "      reason: contact_name", ""),
    ("wrong type", "      subsidy: subsidy_amount", "      subsidy: client_name", "binding_type", "      subsidy: client_name", ""),
    ("choice word not offered", "      conclusion: {pass: 合格, basic: 基本合格, fail: 不合格}",
     "      conclusion: {pass: 合格, basic: 大致合格, fail: 不合格}", "binding_choice_word",
     "      conclusion: {pass: 合格, basic: 大致合格, fail: 不合格}", ""),
    ("choice meaning left out", "      programme: {provincial: 省级标杆示范, ministry: 工信部创新发展工程}",
     "      programme: {provincial: 省级标杆示范}", "binding_choices_missing", "    choices:",
     "  benchmarks:          # 附件2：工业互联网标杆示范项目自查报告"),
    ("unknown choice meaning", "      method: {on_site: 实地检查, spot_check: 抽查, desk: 书面核查, none: 未检查}",
     "      method: {on_site: 实地检查, spot_check: 抽查, desk: 书面核查, none: 未检查, phone: 抽查}", "binding_unknown_choice",
     "      method: {on_site: 实地检查, spot_check: 抽查, desk: 书面核查, none: 未检查, phone: 抽查}", ""),
    ("unknown form", "    form: att3", "    form: att9", "binding_unknown_form", "    form: att9", ""),
    ("unknown role", "    filed_by: city", "    filed_by: town", "binding_unknown_role", "    filed_by: town", ""),
    ("filer not the form's", "    filed_by: lead_unit", "    filed_by: provider", "binding_filer", "    filed_by: provider",
     "  benchmarks:          # 附件2：工业互联网标杆示范项目自查报告"),
    ("unknown meaning", "      active_users: monthly_active_users", "      activ_users: monthly_active_users",
     "binding_unknown_meaning", "      activ_users: monthly_active_users", ""),
    ("register column unknown", "      subsidy: [奖补金额（万元）, 奖补金额]", "      subsidy: [奖补金额（万元）, 奖补金额]\n      remark: [备注]",
     "register_unknown_meaning", "      remark: [备注]", ""),
    ("register column missing", "      programme: [项目类别, 支持渠道]\n", "", "register_missing", "    columns:", "  projects:"),
    ("register header twice", "      firm: [企业名称]", "      firm: [企业名称, 服务商]", "register_header_twice",
     "      provider: [服务商, 服务商名称]", "  vouchers:"),  # named where it is met the second time
    ("register scope word both kept and excluded", "      in_scope: [已兑现]", "      in_scope: [已兑现, 取消申报]",
     "register_scope_both", "    state:", "  vouchers:"),
    ("register year the form cannot hold", '    years: ["2018", "2019"]\n    state:\n      headers: [兑现状态]',
     '    years: ["2018", "2020"]\n    state:\n      headers: [兑现状态]', "register_year", '    years: ["2018", "2020"]', ""),
    ("city outside the scheme not a city", "outside_scheme: [深圳]", "outside_scheme: [香港]", "outside_scheme_city",
     "outside_scheme: [香港]", ""),
    ("required meaning unbound", "      firm_code: client_credit_code\n      city: client_city", "      city: client_city",
     "binding_missing", "    fields:", "  projects:            # 附件1：“上云上平台”服务商项目回访情况，一行一个项目"),
    # one word for two choice meanings: every project with that word would count as either (here: all exempt)
    ("one word for two choice meanings", "      programme: {provincial: 省级标杆示范, ministry: 工信部创新发展工程}",
     "      programme: {provincial: 工信部创新发展工程, ministry: 工信部创新发展工程}", "binding_word_twice",
     "      programme: {provincial: 工信部创新发展工程, ministry: 工信部创新发展工程}", ""),
    ("one field for two meanings", "      provider_code: provider_credit_code", "      provider_code: client_credit_code",
     "binding_field_twice", "      provider_code: client_credit_code", ""),
]


@pytest.mark.parametrize("case, old, new, code, at, after", BROKEN, ids=[c[0] for c in BROKEN])
def test_a_broken_binding_at_start_names_file_line_and_key_and_the_features_refuse(folder, case, old, new, code, at, after):
    path = folder / "campaign.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= 1
    write(path, text.replace(old, new, 1))
    catalog = load_catalog(folder)
    problems = catalog.problems()["campaign.yaml"]
    line = line_of(path, at, after)
    assert (code, f"campaign.yaml 第 {line} 行") in [(p.code, p.where) for p in problems]
    with pytest.raises(FormDefinitionError) as info:
        catalog.bindings  # noqa: B018 - the property refuses
    assert code in [p.code for p in info.value.problems]
    assert catalog.campaign.cities and len(catalog.forms()) == 3 + len(PHASE_TWO)  # every other page keeps serving


def test_a_campaign_without_bindings_is_served_but_its_bindings_are_refused_with_a_code(folder):
    path = folder / "campaign.yaml"
    text = path.read_text(encoding="utf-8")
    start, end = text.index("bindings:\n"), text.index("# The 21 prefecture-level cities")
    write(path, text[:start] + text[end:])
    catalog = load_catalog(folder)
    assert catalog.problems() == {}
    with pytest.raises(FormDefinitionError) as info:
        catalog.bindings  # noqa: B018
    assert [p.code for p in info.value.problems] == ["campaign_no_bindings"]


def test_a_campaign_edit_that_breaks_a_binding_is_refused_and_the_last_valid_campaign_keeps_serving(folder):
    catalog = load_catalog(folder)
    path = folder / "campaign.yaml"
    good = path.read_text(encoding="utf-8")
    write(path, good.replace("title: 2020年", "title: 2021年", 1).replace("      voucher: voucher_no", "      voucher: voucher", 1))
    catalog.refresh()
    assert catalog.campaign.title.startswith("2020年")  # the whole edit is refused, not half of it
    assert catalog.bindings.projects.key("voucher") == "voucher_no"
    [found] = catalog.problems()["campaign.yaml"]
    assert (found.code, found.where) == ("binding_unknown_field", f"campaign.yaml 第 {line_of(path, '      voucher: voucher')} 行")
    assert catalog.refresh() == []  # nothing changed since: the refusal is not re-read on every page run
    assert catalog.problems()["campaign.yaml"] == [found]
    write(path, good.replace("title: 2020年", "title: 2021年", 1))  # fixed: served, problems gone
    catalog.refresh()
    assert catalog.campaign.title.startswith("2021年") and catalog.problems() == {}


def test_a_form_edit_that_breaks_a_binding_keeps_the_forms_last_valid_version(folder):
    catalog = load_catalog(folder)
    path = folder / "att3.yaml"
    good = path.read_text(encoding="utf-8")
    renamed = good.replace("key: satisfaction", "key: satisfied", 1).replace("version: 1", "version: 2", 1)
    write(path, renamed)
    assert catalog.refresh() == []  # no new version served: its sheet is not touched
    assert catalog.form("att3").field("satisfaction").type == "select"
    [found] = catalog.problems()["att3.yaml"]
    assert found.code == "binding_breaks_form" and "satisfaction" in found.message
    assert catalog.bindings.checks.key("satisfaction") == "satisfaction"  # the features keep working
    # the campaign follows the rename in the same change: both are served
    campaign = folder / "campaign.yaml"
    write(campaign, campaign.read_text(encoding="utf-8").replace("      satisfaction: satisfaction", "      satisfaction: satisfied", 1))
    catalog.refresh()
    assert catalog.problems() == {}
    assert catalog.form("att3").version == 2 and catalog.bindings.checks.key("satisfaction") == "satisfied"


def test_renaming_a_bound_forms_id_in_its_file_keeps_the_last_valid_version(folder):
    """The id is bound like a field key: renamed in the form's file alone, the last valid version keeps
    serving (its rows' sheet is named by the id) and the file lists why; the campaign following the
    rename serves the new id."""
    catalog = load_catalog(folder)
    path = folder / "att3.yaml"
    write(path, path.read_text(encoding="utf-8").replace("id: att3", "id: att3x", 1))
    assert catalog.refresh() == []
    assert [f.id for f in catalog.forms()] == sorted(["att1", "att2", "att3", *PHASE_TWO])
    [found] = catalog.problems()["att3.yaml"]
    assert found.code == "binding_breaks_form" and "att3" in found.message
    assert set(catalog.problems()) == {"att3.yaml"} and catalog.bindings.checks.form == "att3"
    campaign = folder / "campaign.yaml"
    write(campaign, campaign.read_text(encoding="utf-8").replace("    form: att3\n", "    form: att3x\n", 1))
    assert [f.id for f in catalog.refresh()] == ["att3x"]
    assert catalog.problems() == {} and catalog.bindings.checks.form == "att3x"
    assert [f.id for f in catalog.forms()] == sorted(["att1", "att2", "att3x", *PHASE_TWO])


def test_an_unrelated_form_edit_is_not_blamed_for_a_broken_binding(folder):
    """Only the edit whose revert fixes a binding is refused; other forms' edits are served."""
    catalog = load_catalog(folder)
    att1, att2 = folder / "att1.yaml", folder / "att2.yaml"
    write(att1, att1.read_text(encoding="utf-8").replace("key: reason", "key: reasons", 1))
    write(att2, att2.read_text(encoding="utf-8").replace("version: 1", "version: 3", 1))
    changed = catalog.refresh()
    assert [f.id for f in changed] == ["att2"]
    assert catalog.form("att2").version == 3
    assert [p.code for p in catalog.problems()["att1.yaml"]] == ["binding_breaks_form"]
    assert set(catalog.problems()) == {"att1.yaml"}


def test_a_bound_form_without_a_deadline_is_a_broken_binding_never_a_form_that_cannot_be_late(folder):
    att3 = folder / "att3.yaml"
    good = att3.read_text(encoding="utf-8")
    write(att3, good.replace("deadline: att3\n", "", 1))
    catalog = load_catalog(folder)  # a first start: nothing valid to keep, the bindings refuse
    where = f"campaign.yaml 第 {line_of(folder / 'campaign.yaml', '    form: att3')} 行"
    assert [(p.code, p.where) for p in catalog.problems()["campaign.yaml"]] == [("binding_no_deadline", where)]
    with pytest.raises(FormDefinitionError):
        catalog.bindings  # noqa: B018
    write(att3, good)
    catalog.refresh()
    assert catalog.problems() == {} and catalog.bindings.checks.form == "att3"
    write(att3, good.replace("deadline: att3\n", "", 1))  # while serving: the edit is refused
    catalog.refresh()
    assert catalog.form("att3").deadline == "att3"
    assert [p.code for p in catalog.problems()["att3.yaml"]] == ["binding_breaks_form"]


def test_a_campaign_edit_dropping_a_bound_forms_deadline_is_refused_and_the_last_campaign_keeps_it(folder):
    catalog = load_catalog(folder)
    path = folder / "campaign.yaml"
    good = path.read_text(encoding="utf-8")
    dropped = good.replace("  att3: 2020-09-21", "  att3x: 2020-09-21", 1)
    write(path, dropped)
    catalog.refresh()
    assert catalog.campaign.deadlines["att3"] and "att3x" not in catalog.campaign.deadlines
    assert catalog.form("att3").deadline == "att3" and catalog.bindings.checks.form == "att3"
    assert [(p.code, p.where) for p in catalog.problems()["campaign.yaml"]] == [
        ("binding_no_deadline", f"campaign.yaml 第 {line_of(path, '    form: att3')} 行")]


# A consistent rename of a bound field saved in two steps, in either order: (file saved first, its edit),
# then the other. Each step alone breaks the bindings; together they fit.
RENAME = {"campaign.yaml": ("      voucher: voucher_no\n      year", "      voucher: voucher_number\n      year"),
          "att1.yaml": ("voucher_no", "voucher_number")}


@pytest.mark.parametrize("first, then", [("att1.yaml", "campaign.yaml"), ("campaign.yaml", "att1.yaml")])
def test_a_rename_saved_in_two_steps_is_served_once_both_files_fit(folder, first, then):
    catalog = load_catalog(folder)
    for name in (first, then):
        path = folder / name
        old, new = RENAME[name]
        text = path.read_text(encoding="utf-8")
        assert old in text
        write(path, text.replace(old, new) if name == "att1.yaml" else text.replace(old, new, 1))
        catalog.refresh()
        if name == first:  # half a rename: refused, the last valid versions keep serving
            assert catalog.bindings.projects.key("voucher") == "voucher_no"
            assert "voucher_no" in {f.key for f in catalog.form("att1").all_fields()}
            assert set(catalog.problems()) == {first}
    assert catalog.problems() == {}
    assert catalog.bindings.projects.key("voucher") == "voucher_number"
    assert "voucher_number" in {f.key for f in catalog.form("att1").all_fields()}
    assert catalog.refresh() == []  # served: nothing is held back to be tried again


def test_a_held_campaign_is_tried_again_but_still_refused_when_an_unrelated_form_changes(folder):
    catalog = load_catalog(folder)
    path = folder / "campaign.yaml"
    write(path, path.read_text(encoding="utf-8").replace("      voucher: voucher_no", "      voucher: voucher", 1))
    catalog.refresh()
    [refused] = catalog.problems()["campaign.yaml"]
    att2 = folder / "att2.yaml"
    write(att2, att2.read_text(encoding="utf-8").replace("version: 1", "version: 3", 1))
    assert [f.id for f in catalog.refresh()] == ["att2"]  # the unrelated edit is served ...
    assert catalog.problems() == {"campaign.yaml": [refused]}  # ... the campaign still refused, as it was
    assert catalog.bindings.projects.key("voucher") == "voucher_no"


def test_a_bound_form_missing_for_a_moment_keeps_its_last_version_and_the_boards_serving(folder):
    """An editor that saves by deleting and renaming leaves a moment with no file: the campaign still
    binds the form, so its last valid version serves (listed as missing) until the file is back."""
    catalog = load_catalog(folder)
    att2 = folder / "att2.yaml"
    text = att2.read_text(encoding="utf-8")
    att2.unlink()
    assert catalog.refresh() == []
    assert catalog.bindings.benchmarks.form == "att2" and catalog.form("att2").version == 1
    assert [(p.code, p.where) for p in catalog.problems()["att2.yaml"]] == [("bound_form_missing", "att2.yaml")]
    assert set(catalog.problems()) == {"att2.yaml"}
    att2.write_text(text.replace("version: 1", "version: 2", 1), encoding="utf-8")  # back, whatever its time stamp
    assert [f.id for f in catalog.refresh()] == ["att2"]
    assert catalog.problems() == {} and catalog.form("att2").version == 2


def test_a_bound_forms_file_renamed_or_unbound_and_deleted_is_let_go(folder):
    catalog = load_catalog(folder)
    (folder / "att2.yaml").rename(folder / "att2_renamed.yaml")  # the same form under another file name
    catalog.refresh()
    assert catalog.problems() == {} and catalog.form("att2").version == 1
    # the campaign binds another form: the old one's file may go
    att4 = (folder / "att2_renamed.yaml").read_text(encoding="utf-8").replace("id: att2", "id: att4", 1)
    assert "id: att4" in att4
    (folder / "att4.yaml").write_text(att4, encoding="utf-8")
    campaign = folder / "campaign.yaml"
    write(campaign, campaign.read_text(encoding="utf-8").replace("    form: att2", "    form: att4", 1))
    catalog.refresh()
    (folder / "att2_renamed.yaml").unlink()
    catalog.refresh()
    assert catalog.problems() == {} and catalog.bindings.benchmarks.form == "att4"
    assert sorted(f.id for f in catalog.forms()) == sorted(["att1", "att3", "att4", *PHASE_TWO])


OTHER = Path(__file__).resolve().parents[1] / "campaigns" / "other"


def test_a_second_campaign_is_yaml_only_and_binds_its_own_names():
    """Different form ids, field keys, choice words, years, excluded city, ratio and calendar: it loads
    cleanly and its bindings resolve to its own names, not 2020's."""
    other, shipped = load_catalog(OTHER), load_catalog(SHIPPED)
    assert other.problems() == {}
    a, b = other.bindings, shipped.bindings
    assert set(a.form_ids().values()).isdisjoint(b.form_ids().values())
    for role in FORM_ROLES:
        mine, theirs = a.of(role), b.of(role)
        assert set(mine.fields) == set(theirs.fields)  # the same meanings ...
        assert all(mine.key(m) != theirs.key(m) for m in mine.fields)  # ... every one bound to another key
        for meaning, words in mine.choices.items():
            assert set(words.values()).isdisjoint(theirs.words(meaning).values())
    assert other.campaign.registers.vouchers.years == ("2020",) != shipped.campaign.registers.vouchers.years
    assert other.campaign.outside_scheme != shipped.campaign.outside_scheme
    assert other.campaign.sampling.ratio != shipped.campaign.sampling.ratio
    assert other.campaign.deadlines.keys().isdisjoint(shipped.campaign.deadlines.keys())


def test_a_refresh_with_no_file_read_anew_does_not_check_the_bindings_again(folder, monkeypatch):
    """Every page run refreshes the catalog; checking the bindings of unchanged files again cost 13 % of a busy
    server's CPU (issue 17). A refusal found once stays found, and an edit is checked."""
    from lib.forms import loader

    catalog = load_catalog(folder)
    path = folder / "campaign.yaml"
    good = path.read_text(encoding="utf-8")
    write(path, good.replace("      voucher: voucher_no", "      voucher: voucher", 1))
    catalog.refresh()
    [found] = catalog.problems()["campaign.yaml"]
    checks: list[int] = []
    original = loader.check_bindings
    monkeypatch.setattr(loader, "check_bindings", lambda *a, **k: checks.append(1) or original(*a, **k))
    for _ in range(3):
        assert catalog.refresh() == []
    assert checks == [] and catalog.problems()["campaign.yaml"] == [found]
    write(path, good)
    catalog.refresh()
    assert checks and catalog.problems() == {}
