"""Characters nobody sees, and digits of other scripts, in answers: one text parser decides for every
field (lib/forms/types.py clean_text and the number/date parsers), so no field type can differ."""

from __future__ import annotations

import sys
import unicodedata

import pytest

from lib.core.text import comparable
from lib.forms import check_answers
from lib.forms.types import BIDI_CHARS, INVISIBLE_CHARS, ValueProblem, clean_text, parse_number, quotable

#: Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt, Unicode 15.1) outside category Cf:
#: Python's unicodedata does not expose the property, so the test carries the list.
DEFAULT_IGNORABLE_NOT_CF = [0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180C, 0x180D, 0x180F, 0x2065, 0x3164,
                            *range(0xFE00, 0xFE10), 0xFFA0, *range(0xFFF0, 0xFFF9), 0xE0000, *range(0xE0080, 0xE1000)]


def test_every_format_character_is_either_refused_as_a_direction_mark_or_dropped():
    """The table in types.py against this Python's Unicode data, so a new Unicode version cannot add a
    format character the parser lets through."""
    missed = [f"U+{c:04X}" for c in range(sys.maxunicode + 1)
              if unicodedata.category(chr(c)) == "Cf" and not (BIDI_CHARS.match(chr(c)) or INVISIBLE_CHARS.match(chr(c)))]
    assert missed == []
    assert [f"U+{c:04X}" for c in DEFAULT_IGNORABLE_NOT_CF if not INVISIBLE_CHARS.match(chr(c))] == []
    assert not any(BIDI_CHARS.match(chr(c)) and INVISIBLE_CHARS.match(chr(c)) for c in range(0x3000))


@pytest.mark.parametrize("char", ["\u200b", "\u200c", "\u200d", "\u2060", "\u2061", "\u2064", "\ufeff", "\u00ad", "\u180e",
                                  "\U000e0041", "\U000e007f", "\ufe0f", "\u034f", "\u3164",
                                  "\u2800"])
@pytest.mark.parametrize("multiline", [False, True])
def test_an_invisible_character_is_dropped_wherever_it_stands(char, multiline):
    assert clean_text(f"{char}新上{char}云项目{char}", multiline=multiline) == "新上云项目"
    assert clean_text(f" 9144{char}0101 ", normalise=True) == "91440101"


@pytest.mark.parametrize("char", ["\u200e", "\u200f", "\u061c", "\u202a", "\u202e", "\u2066", "\u2069"])
def test_a_direction_mark_is_refused_not_dropped(char):
    """Unlike a zero-width space, a direction mark changes what a reader sees: it is named, not hidden."""
    for multiline in (False, True):
        with pytest.raises(ValueProblem) as refused:
            clean_text(f"新上云项目{char}", multiline=multiline)
        assert refused.value.code == "bidi_text"


def test_check_answers_names_the_field_of_a_direction_mark_and_stores_text_without_invisible_ones(catalog, cities):
    form = catalog.form("att1")
    outcome = check_answers(form, {"project_name": "新上云项目\u200f", "client_name": "\ufeff某\u200b公司"}, cities=cities, draft=True)
    assert [(p.code, p.field) for p in outcome.problems] == [("bidi_text", "project_name")]
    assert "「项目名称」" in outcome.problems[0].message
    assert outcome.values["client_name"] == "某公司"


@pytest.mark.parametrize("raw", ["١٢٣", "१२३", "১২", "12٣", "٢٠٢٠"])
def test_digits_of_another_script_are_refused_not_read(raw):
    with pytest.raises(ValueProblem) as refused:
        parse_number(raw, code="not_number")
    assert refused.value.code == "foreign_digits"


def test_full_width_digits_and_invisible_characters_in_numbers_still_read():
    assert parse_number("１，２３４.５\u200b", code="not_number") == parse_number("1,234.5", code="not_number")


def test_numbers_dates_and_phones_in_other_scripts_are_refused_with_a_message(catalog, cities):
    form = catalog.form("att1")
    date_key = next(f.key for f in form.all_fields() if f.type == "date")
    phone_key = next((f.key for s in catalog.forms() for f in s.all_fields() if f.type == "phone"), None)
    outcome = check_answers(form, {"contract_amount": "١٢٣", date_key: "٢٠٢٠-٠١-٠١"}, cities=cities, draft=True)
    found = {p.field: p for p in outcome.problems}
    assert found["contract_amount"].code == "foreign_digits" and found[date_key].code == "foreign_digits"
    assert "0–9" in found["contract_amount"].message
    assert outcome.values["contract_amount"] is None and outcome.values[date_key] is None
    if phone_key:
        phone_form = next(s for s in catalog.forms() if any(f.key == phone_key for f in s.all_fields()))
        refused = check_answers(phone_form, {phone_key: "١٣٨٠٠١٣٨٠٠٠"}, cities=cities, draft=True)
        assert [p.code for p in refused.problems if p.field == phone_key] == ["bad_phone"]


@pytest.mark.parametrize("value, shown", [
    ("\u202e广州", "[U+202E]广州"), ("a\u200bb\u200ec", "a[U+200B]b[U+200E]c"), ("一\n二\x00", "一[U+000A]二[U+0000]"),
    (10**5000, "（位数过多的数字）"), (["佛山"], "['佛山']"),
], ids=["RLO", "ZWSP-LRM", "newline-NUL", "huge int", "list"])
def test_quotable_shows_what_a_message_must_not_carry_as_code_points(value, shown):
    assert quotable(value) == shown


@pytest.mark.parametrize("variant", ["新上云\u2800项目", "新上云\u0301项目", "新上云项目\u20dd", "新上云 项目", "新上云项目\u200b"],
                         ids=["braille blank", "lone acute", "lone enclosing circle", "inner blank", "ZWSP"])
def test_the_same_answer_rule_ignores_blanks_invisibles_and_lone_combining_marks(variant):
    """F1 residual: what a reader cannot tell apart is the same answer for the duplicate check."""
    assert comparable(variant) == comparable("新上云项目")


def test_an_accent_on_its_letter_and_a_look_alike_letter_still_differ():
    """Composed accents are letters (é is not e); look-alikes of other scripts are not folded (no
    confusables table: it would merge names that differ)."""
    assert comparable("cafe\u0301") == comparable("café") != comparable("cafe")
    assert comparable("\u0415RP项目") != comparable("ERP项目")
