"""Roles are declared once (issue 12, outcome 3): their keys in lib/core/roles.py (what each may do:
lib/auth/policy.py), their names in the campaign's ``roles:``, checked at load — a campaign that
leaves a role unnamed or names an unknown one is refused with file, line and key."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from lib.auth import AccountError
from lib.auth.accounts import Account, validate
from lib.core import roles
from lib.forms import FormDefinitionError, load_catalog
from lib.forms.loader import parse_campaign, parse_form

ROOT = Path(__file__).resolve().parents[2]
CAMPAIGNS = [ROOT / "forms", ROOT / "tests" / "campaigns" / "other"]
SHIPPED = (ROOT / "forms" / "campaign.yaml").read_text(encoding="utf-8")
NAMES = load_catalog(ROOT / "forms").campaign.roles


@pytest.mark.parametrize("folder", CAMPAIGNS, ids=lambda p: p.name)
def test_each_campaign_names_every_role_and_no_other(folder):
    named = load_catalog(folder).campaign.roles
    assert set(named) == set(roles.ALL) and all(named.values())


def _refused(text: str) -> list[tuple[str, str]]:
    with pytest.raises(FormDefinitionError) as refused:
        parse_campaign(text)
    return [(p.code, p.where) for p in refused.value.problems]


def _line(text: str, line: str) -> str:
    return f"campaign.yaml 第 {text.splitlines().index(line) + 1} 行"


def test_a_campaign_naming_an_unknown_role_is_refused_at_that_key():
    text = SHIPPED.replace("  admin: 系统管理员\n", "  admin: 系统管理员\n  town: 镇街\n")
    assert _refused(text) == [("invalid_definition", _line(text, "  town: 镇街"))]


def test_a_campaign_leaving_a_role_unnamed_is_refused_at_its_roles():
    text = SHIPPED.replace("  inspector: 检查组\n", "")
    assert _refused(text) == [("invalid_definition", _line(text, "roles:"))]
    text = SHIPPED.replace("  inspector: 检查组\n", "  inspector: ''\n")
    assert _refused(text) == [("invalid_definition", _line(text, "  inspector: ''"))]


def test_a_form_filled_by_an_unknown_role_is_refused():
    text = (ROOT / "forms" / "att3.yaml").read_text(encoding="utf-8")
    assert "\nfilled_by: city\n" in text
    text = text.replace("\nfilled_by: city\n", "\nfilled_by: town\n")
    with pytest.raises(FormDefinitionError) as refused:
        parse_form(text, "att3.yaml")
    assert [(p.code, p.where) for p in refused.value.problems] == [
        ("invalid_definition", f"att3.yaml 第 {text.splitlines().index('filled_by: town') + 1} 行")]


@pytest.mark.parametrize("account, code", [(Account("c1", roles.CITY), "city_required"),
                                           (Account("p1", roles.PROVIDER), "org_required")])
def test_an_account_refusal_names_the_role_as_the_campaign_does(account, code):
    renamed = {**NAMES, account.role: "某某单位"}
    with pytest.raises(AccountError) as refused:
        validate(account, roles=renamed)
    assert refused.value.code == code and "某某单位" in str(refused.value)


def _role_name_texts(paths: list[Path]) -> dict[tuple[str, str], int]:
    """(file, text) -> line of each string constant (f-string parts included) holding a role's name."""
    found = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and any(name in node.value for name in NAMES.values()):
                name = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name
                found[(name, node.value)] = node.lineno
    return found


def test_accounts_access_and_pages_take_role_names_from_the_campaign():
    paths = [*(ROOT / "lib" / "auth").glob("*.py"), *(ROOT / "lib" / "core").glob("*.py"), ROOT / "lib" / "ui" / "auth.py",
             *(ROOT / "pages").glob("*.py"), ROOT / "app.py"]
    assert _role_name_texts(sorted(paths)) == {}


def test_the_scan_finds_a_role_name_inside_a_longer_text(tmp_path):
    page = tmp_path / "page.py"
    page.write_text(f'import streamlit as st\nst.warning(f"只有{NAMES[roles.PROVINCE]}可以{{what}}")\n', encoding="utf-8")
    assert _role_name_texts([page]) == {("page.py", f"只有{NAMES[roles.PROVINCE]}可以"): 2}
