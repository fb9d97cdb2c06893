"""campaign.yaml's ``rectification:`` section checked against the bindings and the calendar at load: a
rule reads only a bound kind of form and the meanings it binds, compares a choice only with a word it
can hold, names a bound responsible party; a due date before the items could be created is refused.
Each problem is coded and names file, line and key; the last valid campaign keeps serving."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lib.forms import FormDefinitionError, load_catalog

from .test_bindings import SHIPPED, line_of, write

OTHER = Path(__file__).resolve().parents[1] / "campaigns" / "other"


def _copy(source: Path, to: Path) -> Path:
    for path in source.glob("*.yaml"):
        shutil.copy(path, to / path.name)
    return to


def test_both_campaigns_declare_a_section_that_loads_cleanly():
    for folder in (SHIPPED, OTHER):
        catalog = load_catalog(folder)
        assert catalog.problems() == {}
        section = catalog.campaign.rectification
        assert section is not None and section.rules
        assert all(catalog.bindings.has(rule.source) for rule in section.rules)


FIRM_WHEN = next(line for line in (SHIPPED / "campaign.yaml").read_text(encoding="utf-8").splitlines()
                 if line.startswith('      when: "inspected >= 1 and conclusion'))
BENCHMARK_WHEN = next(line for line in (SHIPPED / "campaign.yaml").read_text(encoding="utf-8").splitlines()
                      if line.startswith("      when: \"status == '到期未验收'"))

# (case, [(text in campaign.yaml, its replacement)], code, the line the problem names, after which line)
BROKEN = [
    ("a meaning the kind has not", [('      when: "conclusion == \'fail\'"', '      when: "verdict == \'fail\'"')],
     "rectification_unknown_meaning", '      when: "verdict == \'fail\'"', ""),
    ("an optional meaning left unbound", [("      problems: problems_found\n", "")],
     "rectification_meaning_unbound", BENCHMARK_WHEN, ""),
    ("a choice meaning compared with its word", [('      when: "conclusion == \'fail\'"', '      when: "conclusion == \'不合格\'"')],
     "rectification_choice", '      when: "conclusion == \'不合格\'"', ""),
    ("a word the choice field does not offer", [("      when: \"status == '到期未验收'", "      when: \"status == '逾期'")],
     "rectification_choice", BENCHMARK_WHEN.replace("到期未验收", "逾期"), ""),
    ("a party the kind has not", [("      category: check_failed\n", "      category: check_failed\n      due_days: 10\n"),
                                  ("      responsible: provider\n      category: check_failed", "      responsible: lead_unit\n      category: check_failed")],
     "rectification_party_unknown", "      responsible: lead_unit", ""),
    ("a party left unbound", [("      firm: client_name\n      provider: provider_name\n      date:", "      provider: provider_name\n      date:"),
                              ("      responsible: provider\n      category: inspection", "      responsible: firm\n      category: inspection")],
     "rectification_party_unbound", "      responsible: firm", ""),
    ("a firm's rule on a source without its provider",
     [("      firm: client_name\n      provider: provider_name\n      date:", "      firm: client_name\n      date:"),
      ("      responsible: provider\n      category: inspection", "      responsible: firm\n      category: inspection")],
     "rectification_firm_no_provider", "      responsible: firm", ""),
    ("a source without its city", [("      city: city\n      voucher: voucher_no\n      firm: client_name\n      firm_code",
                                    "      voucher: voucher_no\n      firm: client_name\n      firm_code")],
     "rectification_no_city", "      source: checks", ""),
    ("a function the language has not", [('      when: "conclusion == \'fail\'"', '      when: "failed(conclusion)"')],
     "unknown_function", '      when: "failed(conclusion)"', ""),
    ("a due date before the last phase starts", [("  due: 2020-10-31  #", "  due: 2020-10-01  #")],
     "rectification_due_early", "  due: 2020-10-01  # a generated item is due at the end of the rectification phase", ""),
    # what a rule computes, checked against the kinds of its fields: a yes/no on one branch only, a number
    # compared with a word
    ("a rule giving a number on one branch", [('      when: "conclusion == \'fail\'"', '      when: "1 if conclusion == \'fail\' else False"')],
     "rectification_when_type", '      when: "1 if conclusion == \'fail\' else False"', ""),
    ("a number compared with a word", [("      when: \"status == '到期未验收'", "      when: \"status == '到期未验收' and percent_complete > '高'")],
     "rectification_when_type", BENCHMARK_WHEN.replace("status == '到期未验收'", "status == '到期未验收' and percent_complete > '高'"), ""),
    # the outcome lists' conditions, checked against the bindings too: a word no entry can have lists nobody
    ("an outcome's word the field does not offer", [("satisfaction == '满意' and open_items", "satisfaction == '很满意' and open_items")],
     "rectification_choice", FIRM_WHEN.replace("'满意'", "'很满意'"), "  outcomes:"),
    ("an outcome's choice meaning written as its word", [("conclusion == 'pass' and usage", "conclusion == '合格' and usage")],
     "rectification_choice", FIRM_WHEN.replace("'pass'", "'合格'"), "  outcomes:"),
    ("an outcome reading a meaning left unbound", [("      satisfaction: satisfaction\n      problems: problems\n", "      problems: problems\n")],
     "outcome_variable_unbound", FIRM_WHEN, "  outcomes:"),
]


@pytest.mark.parametrize("case, edits, code, at, after", BROKEN, ids=[c[0] for c in BROKEN])
def test_a_broken_rule_names_file_line_and_key_and_the_bindings_refuse(tmp_path, case, edits, code, at, after):
    folder = _copy(SHIPPED, tmp_path)
    path = folder / "campaign.yaml"
    text = path.read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    write(path, text)
    catalog = load_catalog(folder)
    problems = catalog.problems()["campaign.yaml"]
    assert (code, f"campaign.yaml 第 {line_of(path, at, after)} 行") in [(p.code, p.where) for p in problems]
    with pytest.raises(FormDefinitionError) as info:
        catalog.bindings  # noqa: B018 - the property refuses
    assert code in [p.code for p in info.value.problems]


def test_a_rule_on_a_kind_the_campaign_does_not_bind_is_refused(tmp_path):
    """The other campaign binds no inspection form: a rule reading inspections could never fire."""
    folder = _copy(OTHER, tmp_path)
    path = folder / "campaign.yaml"
    text = path.read_text(encoding="utf-8")
    old = "      source: checks\n      when: \"conclusion in ['fail', 'basic']\""
    assert text.count(old) == 1
    write(path, text.replace(old, "      source: inspections\n      when: \"conclusion in ['fail', 'basic']\""))
    problems = load_catalog(folder).problems()["campaign.yaml"]
    line = line_of(path, "      source: inspections")
    assert [(p.code, p.where) for p in problems] == [("rectification_source_unbound", f"campaign.yaml 第 {line} 行")]


def test_an_edit_breaking_a_rule_keeps_the_last_valid_section_serving(tmp_path):
    folder = _copy(SHIPPED, tmp_path)
    catalog = load_catalog(folder)
    path = folder / "campaign.yaml"
    good = path.read_text(encoding="utf-8")
    write(path, good.replace("  due: 2020-10-31", "  due: 2020-09-01", 1))
    catalog.refresh()
    assert [p.code for p in catalog.problems()["campaign.yaml"]] == ["rectification_due_early"]
    assert str(catalog.campaign.rectification.due) == "2020-10-31"
