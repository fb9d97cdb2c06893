"""The sheets the application keeps for itself are named with ``SYSTEM_SHEET_PREFIXES``, and no form may take
such an id: a form published as ``form_versions`` or ``rectification_items`` would share their sheet."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import lib
from lib.forms import FormDefinitionError, parse_form
from lib.store.base import SYSTEM_SHEET_PREFIXES, SheetSpec
from tests.forms.conftest import ROOT


def system_sheets() -> dict[str, str]:
    """Every SheetSpec a module of lib/ declares at module level: id -> module."""
    found = {}
    for info in pkgutil.walk_packages(lib.__path__, "lib."):
        if info.name.startswith(("lib.demo", "lib.ui")):
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, SheetSpec):
                found[value.form_id] = info.name
    return found


def test_every_sheet_the_application_keeps_bears_a_system_prefix():
    sheets = system_sheets()
    assert {"rectification_items", "form_versions", "archive_forwards", "sampling_frames", "register_imports"} <= set(sheets)
    assert [s for s in sheets if not s.startswith(SYSTEM_SHEET_PREFIXES)] == []


@pytest.mark.parametrize("form_id", ["form_versions", "rectification_items", "sampling_x", "register_vouchers", "archive_forwards"])
def test_a_form_may_not_take_a_system_sheet_id(form_id):
    text = (ROOT / "forms" / "forum.yaml").read_text(encoding="utf-8").replace("id: forum", f"id: {form_id}", 1)
    with pytest.raises(FormDefinitionError) as err:
        parse_form(text, "forum.yaml")
    [problem] = err.value.problems
    assert problem.code == "invalid_definition" and problem.where == "forum.yaml 第 6 行" and form_id in problem.message
