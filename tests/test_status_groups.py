"""A group of statuses lib/core/statuses.py names (FILED, NOT_FILED, CLOSED, ALL) is spelled there only
(issue 12, outcome 3): code imports the group, so a status added there reaches every board count and
status rule. Found by reading the code: a tuple, list or set of status words or status names equal to
one of the groups."""

from __future__ import annotations

import ast
from pathlib import Path

from lib.core import statuses

ROOT = Path(__file__).resolve().parents[1]
GROUPS = {"FILED": statuses.FILED, "NOT_FILED": statuses.NOT_FILED, "CLOSED": statuses.CLOSED, "ALL": statuses.ALL}
NAMES = {name: word for name, word in vars(statuses).items() if isinstance(word, str) and word in statuses.ALL}
#: Groups still spelled out, waiting for their file's owner, with what replaces them. Each must still be
#: there (the test fails once it is gone, so the entry is removed with it).
PENDING: dict[tuple[str, str], str] = {}


def _word(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and node.value in statuses.ALL:
        return node.value
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
    return NAMES.get(name)


def spelled_groups(path: Path) -> list[tuple[int, str]]:
    """(line, group name) of every literal group of statuses in ``path`` equal to a named group."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and len(node.elts) > 1:
            words = [_word(e) for e in node.elts]
            if None not in words:
                found += [(node.lineno, group) for group, members in GROUPS.items() if set(words) == set(members)]
    return found


def test_the_scan_finds_a_group_spelled_with_names_or_words(tmp_path):
    code = tmp_path / "spelled.py"
    code.write_text("A = (SUBMITTED, RETURNED, RESUBMITTED, APPROVED)\nB = ['已撤回', statuses.APPROVED]\n"
                    "C = {DRAFT, WITHDRAWN}\nD = (SUBMITTED, RESUBMITTED)\n", encoding="utf-8")
    assert spelled_groups(code) == [(1, "FILED"), (2, "CLOSED"), (3, "NOT_FILED")]


def test_no_code_spells_a_group_of_statuses_the_statuses_module_names():
    files = sorted((ROOT / "lib").rglob("*.py")) + sorted((ROOT / "pages").rglob("*.py")) + [ROOT / "app.py"]
    spelled = {(path.relative_to(ROOT).as_posix(), group): line for path in files if path.name != "statuses.py"
               for line, group in spelled_groups(path)}
    assert {k: v for k, v in spelled.items() if k not in PENDING} == {}
    assert set(PENDING) <= set(spelled), "a pending group was replaced: remove its PENDING entry"
