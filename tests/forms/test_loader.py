"""Broken form definitions are refused with a coded problem naming file, line and field;
the catalogue hot-reloads edits and keeps serving the last valid version of a broken file."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from lib.forms import FormDefinitionError, load_catalog, parse_campaign, parse_form

FORM = """\
id: demo
title: 演示表单
short_title: 演示
version: 1
filled_by: provider
deadline: att1
sections:
  - key: main
    title: 基本信息
    fields:
      - key: name
        label: 名称
        type: text
{extra}"""
BASE_LINES = FORM.count("\n")  # the first line of `extra` is line BASE_LINES + 1


def broken(extra: str, filename: str = "demo.yaml") -> FormDefinitionError:
    with pytest.raises(FormDefinitionError) as info:
        parse_form(FORM.format(extra=extra), filename)
    return info.value


# (case, extra YAML, expected code, field, line of the problem relative to the extra block (1-based))
CASES = [
    ("unknown type", "      - key: amount\n        label: 金额\n        type: monee\n", "unknown_type", "amount", 3),
    ("duplicate field key", "      - key: name\n        label: 名称二\n        type: text\n", "duplicate_field", "name", 1),
    ("select without choices", "      - key: kind\n        label: 类型\n        type: select\n", "missing_choices", "kind", 1),
    ("multiselect with empty choices", "      - key: kinds\n        label: 类型\n        type: multiselect\n        choices: []\n", "missing_choices", "kinds", 1),
    ("bad expression", "      - key: amount\n        label: 金额\n        type: money\n        constraint: \"amount >\"\n", "bad_expression", "amount", 4),
    ("unsafe expression", "      - key: amount\n        label: 金额\n        type: money\n        relevant: \"name.upper() == 'X'\"\n", "bad_expression", "amount", 4),
    ("unknown field referenced", "      - key: amount\n        label: 金额\n        type: money\n        constraint: \"amount <= contract\"\n", "unknown_reference", "amount", 4),
    ("unknown function", "      - key: amount\n        label: 金额\n        type: money\n        calculation: \"sqrt(name)\"\n", "unknown_function", "amount", 4),
    ("bad pattern", "      - key: code\n        label: 编号\n        type: text\n        pattern: \"[A-Z\"\n", "bad_pattern", "code", 4),
    ("extra key", "      - key: amount\n        label: 金额\n        type: money\n        mandatory: true\n", "invalid_definition", "amount", 4),
    ("kind mistake in a rule", "      - key: amount\n        label: 金额\n        type: money\n        constraint: \"len(amount) > 1\"\n", "expression_type", "amount", 4),
    ("abs of text", "      - key: amount\n        label: 金额\n        type: money\n        relevant: \"abs(name) > 1\"\n", "expression_type", "amount", 4),
    ("backreference pattern", "      - key: code\n        label: 编号\n        type: text\n        pattern: \"(a)\\\\1\"\n", "bad_pattern", "code", 4),
    ("calculation of the wrong kind", "      - key: amount\n        label: 金额\n        type: money\n        calculation: \"name + '万元'\"\n", "expression_type", "amount", 4),
    ("multiselect choice holding the list separator", "      - key: kinds\n        label: 类型\n        type: multiselect\n        choices: [甲, 乙；丙]\n",
     "choice_has_separator", "kinds", 4),
    ("key not snake_case", "      - key: Amount\n        label: 金额\n        type: money\n", "invalid_definition", "Amount", 1),
]


@pytest.mark.parametrize("case, extra, code, field, line", CASES, ids=[c[0] for c in CASES])
def test_broken_definition_names_file_line_and_field(case, extra, code, field, line):
    err = broken(extra, filename="att9.yaml")
    first = err.problems[0]
    assert first.code == code
    assert first.field == field
    assert first.where == f"att9.yaml 第 {BASE_LINES + line} 行"
    text = str(first)
    assert "att9.yaml" in text and f"第 {BASE_LINES + line} 行" in text and f"「{field}」" in text
    assert err.path == "att9.yaml"


def test_bad_yaml_syntax_names_file_and_line():
    err = broken("      - key: amount\n        label: [金额\n        type: money\n")
    assert [p.code for p in err.problems] == ["yaml_syntax"]
    # PyYAML notices the unclosed bracket on the next line.
    assert err.problems[0].where == f"demo.yaml 第 {BASE_LINES + 3} 行"
    assert "YAML 语法错误" in str(err)


def test_duplicate_yaml_key_names_both_lines():
    err = broken("      - key: amount\n        label: 金额\n        label: 金额二\n        type: money\n")
    first = err.problems[0]
    assert first.code == "duplicate_key"
    assert first.where == f"demo.yaml 第 {BASE_LINES + 3} 行"
    assert "「label」" in first.message and f"第 {BASE_LINES + 2} 行" in first.message


@pytest.mark.parametrize(
    "extra, line",
    [
        ("      - key: people\n        label: 人员\n        type: table\n", 1),
        ("      - key: people\n        label: 人员\n        type: money\n        fields:\n          - key: x\n            label: x\n            type: text\n", 4),
    ],
    ids=["table without fields", "fields on a non-table"],
)
def test_table_structure_is_checked(extra, line):
    first = broken(extra).problems[0]
    assert first.code == "invalid_definition"
    assert first.where == f"demo.yaml 第 {BASE_LINES + line} 行"
    # The engine names the field in the message only (FormProblem.field stays empty; reported).
    assert "「people」" in first.message


def test_problems_inside_a_table_name_the_sub_field():
    extra = (
        "      - key: people\n        label: 人员\n        type: table\n        fields:\n"
        "          - key: phone\n            label: 电话\n            type: telephone\n"
    )
    first = broken(extra).problems[0]
    assert (first.code, first.field, first.where) == ("unknown_type", "phone", f"demo.yaml 第 {BASE_LINES + 7} 行")


def test_every_problem_is_reported_at_once():
    extra = (
        "      - key: a\n        label: A\n        type: monee\n"
        "      - key: b\n        label: B\n        type: select\n"
        "      - key: c\n        label: C\n        type: text\n        relevant: \"ghost == 1\"\n"
    )
    assert [p.code for p in broken(extra).problems] == ["unknown_type", "missing_choices", "unknown_reference"]


def test_section_relevance_is_checked_too():
    text = FORM.format(extra="") + "  - key: more\n    title: 更多\n    relevant: \"ghost\"\n    fields:\n      - key: x\n        label: X\n        type: text\n"
    with pytest.raises(FormDefinitionError) as info:
        parse_form(text, "demo.yaml")
    first = info.value.problems[0]
    assert (first.code, first.field) == ("unknown_reference", "more")


def test_unknown_deadline_is_refused_against_the_campaign(catalog):
    with pytest.raises(FormDefinitionError) as info:
        parse_form(FORM.format(extra="").replace("deadline: att1", "deadline: att9"), "demo.yaml", catalog.campaign)
    assert [p.code for p in info.value.problems] == ["unknown_deadline"]
    assert info.value.problems[0].where == "demo.yaml 第 6 行"


def test_a_valid_definition_parses():
    form = parse_form(FORM.format(extra="      - key: amount\n        label: 金额\n        type: money\n        min: 0\n"), "demo.yaml")
    assert [f.key for f in form.all_fields()] == ["name", "amount"]
    assert form.field("amount").kind == "number"


def test_campaign_with_duplicate_city_is_refused():
    text = (Path(__file__).resolve().parents[2] / "forms" / "campaign.yaml").read_text(encoding="utf-8")
    assert text.count('  - {name: 云浮, code: "4453"}\n') == 1
    text = text.replace('  - {name: 云浮, code: "4453"}\n', '  - {name: 云浮, code: "4453"}\n  - 广州\n')
    with pytest.raises(FormDefinitionError) as info:
        parse_campaign(text)
    assert info.value.problems[0].code == "invalid_definition"
    assert "重复" in str(info.value)


SHIPPED_CAMPAIGN = Path(__file__).resolve().parents[2] / "forms" / "campaign.yaml"
# (case, line of the shipped campaign, its replacement, code): each entry is valid alone, the two together ambiguous
AMBIGUOUS = [
    ("two roles one name", "  lead_unit: 牵头单位", "  lead_unit: 服务商", "role_name_twice"),
    ("two cities one division code", '  - {name: 珠海, code: "4404"}', '  - {name: 珠海, code: "4401"}', "city_code_twice"),
]


@pytest.mark.parametrize("case, old, new, code", AMBIGUOUS, ids=[c[0] for c in AMBIGUOUS])
def test_a_campaign_naming_two_roles_or_two_cities_alike_is_refused_at_the_second(case, old, new, code):
    text = SHIPPED_CAMPAIGN.read_text(encoding="utf-8")
    assert text.count(old + "\n") == 1
    text = text.replace(old + "\n", new + "\n", 1)
    with pytest.raises(FormDefinitionError) as info:
        parse_campaign(text)
    assert [(p.code, p.where) for p in info.value.problems] == [(code, f"campaign.yaml 第 {text.splitlines().index(new) + 1} 行")]


def test_a_sampling_rules_problem_names_the_rule_and_its_condition_not_a_field():
    old = '      when: "not checked_on_site"'
    text = SHIPPED_CAMPAIGN.read_text(encoding="utf-8")
    assert text.count(old) == 1
    with pytest.raises(FormDefinitionError) as info:
        parse_campaign(text.replace(old, '      when: "not telepathy"', 1))
    [found] = info.value.problems
    assert (found.code, found.field) == ("invalid_definition", "never_checked")
    # the rule by its key and the attribute at fault; a rule is no 字段
    assert "优先规则「never_checked」的 when" in found.message and "telepathy" in found.message and "字段" not in found.message


def test_a_sampling_facts_problem_names_the_list_and_the_word():
    old = "    on_site: [on_site, spot_check]"
    text = SHIPPED_CAMPAIGN.read_text(encoding="utf-8")
    assert text.count(old) == 1
    with pytest.raises(FormDefinitionError) as info:
        parse_campaign(text.replace(old, "    on_site: [on_site, telepathy]", 1))
    [found] = info.value.problems
    assert found.code == "invalid_definition" and "sampling.facts.on_site" in found.message and "telepathy" in found.message


# --- hot reload -------------------------------------------------------------------------------


@pytest.fixture
def forms_dir(tmp_path) -> Path:
    shipped = Path(__file__).resolve().parents[2] / "forms"
    for path in shipped.glob("*.yaml"):  # the campaign binds every shipped form
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


#: The shipped forms' ids, as the catalog lists them (sorted).
SHIPPED_IDS = ["att1", "att2", "att3", "complaint", "forum", "inspection"]


def write(path: Path, text: str) -> None:
    """Write and move the mtime forward, so a same-second edit is still seen as a change."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))


def test_an_edit_is_served_on_the_next_refresh(forms_dir):
    catalog = load_catalog(forms_dir)
    assert catalog.form("att1").field("reason").label == "原因说明"
    path = forms_dir / "att1.yaml"
    write(path, path.read_text(encoding="utf-8").replace("label: 原因说明", "label: 原因及说明").replace("version: 1", "version: 2"))
    catalog.refresh()
    assert catalog.form("att1").field("reason").label == "原因及说明"
    assert catalog.form("att1").version == 2
    assert catalog.problems() == {}


def test_an_invalid_edit_keeps_the_last_valid_version_and_lists_problems(forms_dir):
    catalog = load_catalog(forms_dir)
    path = forms_dir / "att1.yaml"
    good = path.read_text(encoding="utf-8")
    write(path, good.replace("type: credit_code", "type: creditcode", 1))
    catalog.refresh()
    assert catalog.form("att1").field("provider_credit_code").type == "credit_code"  # still serving
    problems = catalog.problems()["att1.yaml"]
    assert problems[0].code == "unknown_type" and problems[0].field == "provider_credit_code"
    write(path, good)  # fixing the file clears the problems
    catalog.refresh()
    assert catalog.problems() == {}


def test_a_new_file_appears_and_a_deleted_one_goes(forms_dir):
    catalog = load_catalog(forms_dir)
    assert [f.id for f in catalog.forms()] == SHIPPED_IDS
    write(forms_dir / "demo.yaml", FORM.format(extra=""))
    catalog.refresh()
    assert [f.id for f in catalog.forms()] == sorted([*SHIPPED_IDS, "demo"])
    (forms_dir / "demo.yaml").unlink()
    catalog.refresh()
    assert [f.id for f in catalog.forms()] == SHIPPED_IDS


def test_a_broken_new_file_is_listed_but_not_served(forms_dir):
    catalog = load_catalog(forms_dir)
    write(forms_dir / "demo.yaml", "id: [oops\n")
    catalog.refresh()
    assert [f.id for f in catalog.forms()] == SHIPPED_IDS
    assert catalog.problems()["demo.yaml"][0].code == "yaml_syntax"


def test_a_campaign_edit_rechecks_the_forms_deadlines(forms_dir):
    """A form the campaign does not bind; a bound one's deadline is a binding (test_bindings.py)."""
    campaign = forms_dir / "campaign.yaml"
    write(campaign, campaign.read_text(encoding="utf-8").replace("  att1: 2020-09-18", "  att1: 2020-09-18\n  extra: 2020-09-30"))
    write(forms_dir / "demo.yaml", FORM.format(extra="").replace("deadline: att1", "deadline: extra"))
    catalog = load_catalog(forms_dir)
    assert catalog.problems() == {}
    write(campaign, campaign.read_text(encoding="utf-8").replace("  extra: 2020-09-30", "  extrax: 2020-09-30"))
    catalog.refresh()
    assert "extrax" in catalog.campaign.deadlines
    assert catalog.problems()["demo.yaml"][0].code == "unknown_deadline"
    assert catalog.form("demo").deadline == "extra"  # the last valid version keeps serving


def test_summary_and_unique_must_name_fields_of_the_form():
    text = FORM.format(extra="").replace("deadline: att1\n", "deadline: att1\nsummary: [name, firm]\nunique:\n  - [name, code]\n")
    with pytest.raises(FormDefinitionError) as info:
        parse_form(text, "demo.yaml")
    refs = sorted((p.code, p.field) for p in info.value.problems)
    assert refs == [("unknown_reference", "code"), ("unknown_reference", "firm")]
    assert info.value.problems[0].where == "demo.yaml 第 7 行"


def test_from_account_only_on_a_plain_field_outside_tables():
    extra = ("      - key: contacts\n        label: 联系人\n        type: table\n        fields:\n"
             "          - key: org\n            label: 单位\n            type: text\n            from_account: org\n")
    err = broken(extra)
    assert [(p.code, p.field) for p in err.problems] == [("invalid_definition", "org")]


def test_summary_defaults_to_the_first_short_fields():
    form = parse_form(FORM.format(extra="      - key: kind\n        label: 类型\n        type: select\n        choices: [甲, 乙]\n"), "demo.yaml")
    assert [f.key for f in form.summary_fields()] == ["name", "kind"]
    declared = parse_form(FORM.format(extra="      - key: kind\n        label: 类型\n        type: select\n        choices: [甲, 乙]\n")
                          .replace("deadline: att1\n", "deadline: att1\nsummary: [kind]\n"), "demo.yaml")
    assert [f.key for f in declared.summary_fields()] == ["kind"]


@pytest.mark.parametrize("block, code, line", [
    ("unique:\n  - [name]\n  - []\n", "empty_group", 9),
    ("unique:\n  - [name, '']\n", "empty_key", 8),
    ("summary: [name, '  ']\n", "empty_key", 7),
], ids=["empty unique group", "empty key in a group", "blank summary entry"])
def test_an_empty_unique_group_or_summary_entry_is_refused_naming_the_line(block, code, line):
    """An empty group made every other row "the same project": every submit of the form raised."""
    with pytest.raises(FormDefinitionError) as info:
        parse_form(FORM.format(extra="").replace("deadline: att1\n", f"deadline: att1\n{block}"), "demo.yaml")
    assert [(p.code, p.where) for p in info.value.problems] == [(code, f"demo.yaml 第 {line} 行")]
    assert "unique" in info.value.problems[0].message or "summary" in info.value.problems[0].message


def test_two_files_with_one_form_id_serve_the_first_and_name_the_later(forms_dir):
    """Rows are stored in a sheet named by the form id: a second file with that id must not be served."""
    catalog = load_catalog(forms_dir)
    att1 = catalog.form("att1")
    shipped = Path(__file__).resolve().parents[2] / "forms"
    clash = (shipped / "att3.yaml").read_text(encoding="utf-8").replace("id: att3", "id: att1", 1)
    write(forms_dir / "zz_copy.yaml", clash)
    assert catalog.refresh() == []  # nothing new is served: no sheet is touched for the copy
    assert [(f.id, f.filled_by) for f in catalog.forms()][:3] == [("att1", att1.filled_by), ("att2", "lead_unit"), ("att3", "city")]
    assert [f.id for f in catalog.forms()] == SHIPPED_IDS
    assert catalog.form("att1") == att1
    [found] = catalog.problems()["zz_copy.yaml"]
    assert found.code == "duplicate_form_id" and "att1.yaml" in found.message and "「att1」" in found.message

    (forms_dir / "att1.yaml").unlink()  # the first file goes: the later one is served, and said to be new
    changed = catalog.refresh()
    assert [(f.id, f.filled_by) for f in changed] == [("att1", "city")]
    assert catalog.form("att1").filled_by == "city"
    # ... and the campaign, which binds att1 as the providers' list, says it no longer fits
    assert "binding_filer" in [p.code for p in catalog.problems()["campaign.yaml"]]
    assert set(catalog.problems()) == {"campaign.yaml"}


@pytest.mark.parametrize("copy", ["att1 - 副本.yaml", "att1.bak.yaml", "att1 (2).yaml"])
def test_a_copy_of_a_form_file_that_sorts_first_does_not_take_the_form_over(forms_dir, copy):
    """What Windows or an editor names a copy sorts before the original: the file named by the id
    serves it, while the copy is edited and after a restart, even when the copy breaks the bindings."""
    catalog = load_catalog(forms_dir)
    original = (forms_dir / "att1.yaml").read_text(encoding="utf-8")
    assert sorted([copy, "att1.yaml"])[0] == copy
    write(forms_dir / copy, original.replace("voucher_no", "voucher_number").replace("title: ", "title: 副本", 1))
    assert catalog.refresh() == []
    for opened in (catalog, load_catalog(forms_dir)):  # hot reload, and a restart
        assert "voucher_no" in {f.key for f in opened.form("att1").all_fields()}
        assert not opened.form("att1").title.startswith("副本")
        assert opened.bindings.projects.key("voucher") == "voucher_no"
        [found] = opened.problems()[copy]
        assert found.code == "duplicate_form_id" and "att1.yaml" in found.message
        assert set(opened.problems()) == {copy}
    write(forms_dir / "att1.yaml", original.replace("version: 1", "version: 2", 1))  # the original's edits are served
    assert [(f.id, f.version) for f in catalog.refresh()] == [("att1", 2)]


@pytest.mark.parametrize("old, new, code, line", [
    ("label: 名称", "label: " + "名" * 201, "spec_text_too_long", 12),
    ("label: 名称", "label: \"名\\n称\"", "spec_text_bad_char", 12),
    ("label: 名称", "label: \"\\u202e名称\"", "spec_text_bad_char", 12),
    ("label: 名称", "label: \"名称\\u200f\"", "spec_text_bad_char", 12),
    ("label: 名称", "label: 名称\n        help: " + "帮" * 2001, "spec_text_too_long", 13),
    ("title: 基本信息", "title: \"基本\\u2066信息\"", "spec_text_bad_char", 9),
    ("title: 演示表单", "title: " + "演" * 201, "spec_text_too_long", 2),
    ("type: text", "type: select\n        choices: [甲, \"乙\\u202e\"]", "spec_text_bad_char", 14),
], ids=["long label", "label newline", "label RLO", "label RLM", "long help", "section title isolate", "long form title", "choice RLO"])
def test_texts_a_page_shows_are_bounded_and_one_line_without_direction_characters(old, new, code, line):
    with pytest.raises(FormDefinitionError) as info:
        parse_form(FORM.format(extra="").replace(old, new, 1), "demo.yaml")
    [found] = info.value.problems
    assert (found.code, found.where) == (code, f"demo.yaml 第 {line} 行")


def test_a_help_text_may_span_lines_and_a_version_is_a_small_number():
    form = parse_form(FORM.format(extra="").replace("label: 名称", "label: 名称\n        help: |\n          第一行\n          第二行"), "demo.yaml")
    assert form.field("name").help == "第一行\n第二行\n"
    with pytest.raises(FormDefinitionError, match="version"):
        parse_form(FORM.format(extra="").replace("version: 1", "version: " + "9" * 400), "demo.yaml")
    with pytest.raises(FormDefinitionError, match="整个文件"):
        parse_form("", "demo.yaml")
