"""A table's answer is kept in one cell of its sheet (at most 32,767 characters), so the loader refuses a
table whose rows can outgrow it (attack M13: the forum allowed 100 opinions of 1,000 characters; 40 of 900
passed every check of the form and were refused only on saving). What a loaded form accepts, the store keeps."""

from __future__ import annotations

from pathlib import Path

import pytest

from lib.core.values import MAX_CELL_CHARS
from lib.forms import FormDefinitionError, check_answers
from lib.forms.loader import load_catalog, parse_form
from lib.store.codec import validate_values
from tests.forms.inline import demo_form

FORMS = Path(__file__).resolve().parents[2] / "forms"
FORUM = (FORMS / "forum.yaml").read_text(encoding="utf-8")


def refusal(text: str, filename: str = "forum.yaml"):
    with pytest.raises(FormDefinitionError) as refused:
        parse_form(text, filename)
    return refused.value.problems


def test_the_shipped_forum_accepts_no_more_opinions_than_its_cell_keeps():
    catalog = load_catalog(FORMS)
    form = catalog.form("forum")
    longest = max(form.field("opinions").fields[0].choices, key=len)
    answers = {"city": "广州", "forum_date": "2020-10-09", "place": "市工信局会议室",
               "participants": [{"participant_name": "王五", "participant_unit": "某企业", "participant_kind": "企业"}],
               "opinions": [{"opinion_from": longest, "opinion_content": "意" * 1000, "opinion_category": "政策完善"}] * 30}
    outcome = check_answers(form, answers, cities=tuple(catalog.campaign.cities), draft=False)
    assert outcome.ok, outcome.problems
    validate_values(outcome.values)  # the store takes the longest answer the form accepts
    too_many = check_answers(form, {**answers, "opinions": answers["opinions"] * 2}, cities=tuple(catalog.campaign.cities))
    assert not too_many.ok and {p.field for p in too_many.problems} == {"opinions"}


@pytest.mark.parametrize("rows", [31, 100])
def test_a_table_whose_rows_can_outgrow_a_cell_is_refused_at_load_naming_its_max_rows_line(rows):
    text = FORUM.replace("max_rows: 30", f"max_rows: {rows}")
    [found] = refusal(text)
    line = text[:text.index(f"max_rows: {rows}")].count("\n") + 1
    assert (found.code, found.field) == ("invalid_definition", "opinions")
    assert f"第 {line} 行" in str(found.where) and str(MAX_CELL_CHARS) in found.message and "max_rows" in found.message


def test_a_sub_field_without_max_length_counts_the_engine_s_longest_text():
    """10,000 characters a row: 4 rows outgrow the cell, 3 fit."""
    table = ("      - key: notes\n        label: 记录\n        type: table\n        max_rows: %d\n        fields:\n"
             "          - {key: note, label: 内容, type: text}\n")
    with pytest.raises(FormDefinitionError) as refused:
        demo_form(table % 4)
    assert [(p.code, p.field) for p in refused.value.problems] == [("invalid_definition", "notes")]
    assert demo_form(table % 3).field("notes").max_rows == 3


def test_a_multiselect_whose_choices_together_outgrow_a_cell_is_refused():
    choices = ", ".join(f"{n:03d}" + "项" * 196 for n in range(170))
    with pytest.raises(FormDefinitionError) as refused:
        demo_form(f"      - {{key: picks, label: 选择, type: multiselect, choices: [{choices}]}}\n")
    assert [(p.code, p.field) for p in refused.value.problems] == [("invalid_definition", "picks")]
