"""The campaign is data (issue 12, outcome 2): no word of the shipped campaign is written in the code.

The vocabulary is read from the shipped YAML (``forms/``), not listed here: every form id, every field
key (table columns too), every choice word, every city, the campaign's year and the registers' years
and scope words. ``lib/`` outside ``lib/demo/`` (the demo generator makes 2020 rows on purpose),
``pages/`` and ``app.py`` may hold none of them as a string constant — an f-string's literal parts
count, a docstring does not (it may explain with an example; comments are not in the syntax tree).
A key, word or year is matched whole; a city or a register's scope word is also found inside a
longer text (``"深圳市"``, ``f"{n}条取消申报"``), where it would be the campaign speaking (a year inside
a text is left alone: a message may show a date as an example).

A few words are the application's own and only happen to be 2020's too: :data:`ALLOWLIST` names
each with its reason, and a test keeps it from going stale.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from lib.core import roles
from lib.forms import load_catalog
from lib.forms.bindings import NEEDS, REGISTER_NEEDS
from lib.forms.loader import FormCatalog
from lib.forms.spec import FieldSpec

ROOT = Path(__file__).resolve().parents[1]

#: Words of the application that coincide with the shipped campaign's, each with why it may stay.
ALLOWLIST: dict[str, str] = {
    "city": "a role key (lib/core/roles.py), a field type (lib/forms/types.py), a meaning every binding "
            "reads (lib/forms/bindings.NEEDS) and an account's attribute; 2020's forms use it as a field key too",
    "是": "how every form reads a boolean answer (lib/core/values.py, lib/forms/types.py)",
    "否": "how every form reads a boolean answer (lib/core/values.py, lib/forms/types.py)",
    "停用": "an account's state (lib/auth: a disabled account), not 附件1's usage choice",
    "其他": "the expression checker's word for a value of another kind (lib/forms/expressions.py)",
    "已撤销": "a rectification item's status when the province cancels it (lib/rectification/records.py "
              "CANCELLED), not the benchmark register's excluded word",
}
#: The meanings the application reads from any campaign's forms (lib/forms/bindings.py): 2020's
#: field keys often carry the same name, but in code the word is the meaning, not the key.
MEANINGS = {meaning for needs in NEEDS.values() for meaning in needs} | {m for cols in REGISTER_NEEDS.values() for m in cols}
MEANING_REASON = "a meaning the application reads through the bindings (lib/forms/bindings.NEEDS)"

#: Kinds of word found inside a longer text too, not only whole.
INSIDE = ("city", "register scope word")


def vocabulary(catalog: FormCatalog) -> dict[str, str]:
    """Word -> what it is in the campaign of ``catalog`` (form id, field key, choice, city, …)."""
    words: dict[str, str] = {}

    def fields(specs: tuple[FieldSpec, ...] | list[FieldSpec], form_id: str) -> None:
        for spec in specs:
            words.setdefault(spec.key, f"field key of {form_id}")
            for choice in spec.choices or ():
                words.setdefault(choice, f"choice of {form_id}.{spec.key}")
            fields(spec.fields or (), form_id)

    for form in catalog.forms():
        words.setdefault(form.id, "form id")
        fields(form.all_fields(), form.id)
    campaign = catalog.campaign
    for city in (*campaign.cities, *campaign.outside_scheme):
        words[city] = "city"
    words[str(campaign.year)] = "year"
    for kind in REGISTER_NEEDS:
        register = campaign.registers.of(kind)
        for year in register.years:
            words[year] = "year"
        for word in (*register.state.in_scope, *register.state.excluded):
            words[word] = "register scope word"
    return words


def allowed(words: dict[str, str]) -> dict[str, str]:
    """The words of ``words`` the code may hold, with the reason."""
    return {**{w: MEANING_REASON for w in MEANINGS if w in words}, **ALLOWLIST}


def _docstrings(tree: ast.AST) -> set[int]:
    return {id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}


def string_constants(path: Path) -> Iterator[tuple[int, str]]:
    """(line, text) of every string constant of the module at ``path``, f-string parts included,
    docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    docs = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            yield node.lineno, node.value


def offenders(paths: list[Path], words: dict[str, str]) -> list[tuple[str, int, str, str]]:
    """(file, line, text, what) for each constant that is, or holds, a word of ``words`` not allowed."""
    free = allowed(words)
    inside = [(w, what) for w, what in words.items() if what in INSIDE and w not in free]
    found = []
    for path in paths:
        for line, text in sorted(string_constants(path)):
            what = words.get(text) if text not in free else None
            what = what or next((f"{kind} 「{w}」 inside" for w, kind in inside if w in text), None)
            if what:
                found.append((str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path), line, text, what))
    return found


def code_files() -> list[Path]:
    """lib/ outside lib/demo/, pages/ and app.py."""
    lib = [p for p in (ROOT / "lib").rglob("*.py") if "demo" not in p.relative_to(ROOT / "lib").parts]
    return sorted([*lib, *(ROOT / "pages").rglob("*.py"), ROOT / "app.py"])


SHIPPED = vocabulary(load_catalog(ROOT / "forms"))


def test_the_code_names_no_form_field_choice_city_or_year_of_the_shipped_campaign():
    found = offenders(code_files(), SHIPPED)
    assert not found, "\n".join(f"{path}:{line}: {text!r} ({what})" for path, line, text, what in found)


def test_the_vocabulary_is_read_from_the_shipped_yaml():
    # One of each kind, table columns and the city outside the scheme included: an empty or partial
    # vocabulary would pass the scan above without proving anything.
    assert {SHIPPED[w] for w in ("att1", "voucher_no", "contact_name", "未检查", "深圳", "2020", "2018", "取消申报")} == {
        "form id", "field key of att1", "choice of att3.check_method", "city", "year", "register scope word"}
    assert SHIPPED["contact_name"] == "field key of att1"  # a table's column


def test_every_allowed_word_is_a_word_of_the_campaign_and_the_application():
    # A stale entry (the campaign no longer uses the word) would silently allow it next year.
    assert set(ALLOWLIST) <= set(SHIPPED)
    assert "city" in roles.ALL and all(reason.strip() for reason in allowed(SHIPPED).values())


def test_a_planted_literal_is_found_and_a_docstring_is_not(tmp_path):
    module = tmp_path / "planted.py"
    module.write_text('''"""Reads att1's voucher_no, e.g. for 深圳 (a docstring may explain)."""


def kind(row, n):
    """A function's docstring: att3."""
    if row["client_city"] == "深圳":
        return f"{n} 条深圳市的记录", "att1"
    return f"{n} 条取消申报", "city", "2019", "例如 2019-4-12"
''', encoding="utf-8")
    found = sorted((line, text) for _path, line, text, _what in offenders([module], SHIPPED))
    assert found == [(6, "client_city"), (6, "深圳"), (7, " 条深圳市的记录"), (7, "att1"), (8, " 条取消申报"), (8, "2019")]
