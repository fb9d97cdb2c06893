"""The layers of ``lib/`` as docs/architecture.md draws them, checked on the real imports.

Every module's imports (module level, inside functions, under TYPE_CHECKING: all of them) must point
down ``LAYERS`` or stay on their own line; no module may take part in a cycle; the pairs in
``APART`` never import each other.
A new top-level package fails ``test_every_module_has_a_layer`` until it is given a place here and in
docs/architecture.md.
"""

from __future__ import annotations

import ast
import graphlib
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Bottom first. A module may import from its own line and from any lower line, never from a higher one.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("lib.core",),
    ("lib.settings",),
    ("lib.xlsx",),
    ("lib.store",),
    ("lib.forms",),
    ("lib.auth",),
    ("lib.submissions",),
    ("lib.office", "lib.audit", "lib.external_edits", "lib.designer"),
    ("lib.review", "lib.listing"),
    ("lib.campaign",),
    ("lib.sampling",),
    ("lib.rectification",),
    ("lib.todo",),
    ("lib.ui", "lib.demo"),
    ("pages", "app"),
)

#: Inside a package, the same rule one level down: sub-packages or modules bottom first.
INNER: dict[str, tuple[tuple[str, ...], ...]] = {
    "lib.store": (
        ("lib.store.base", "lib.store.codec", "lib.store.entries", "lib.store.frames", "lib.store.state"),
        ("lib.store.local", "lib.store.sheets"),
        ("lib.store.factory", "lib.store.migrate", "lib.store.__main__"),
    ),
    "lib.campaign": (
        ("lib.campaign.bound", "lib.campaign.schedule"),
        ("lib.campaign.register", "lib.campaign.inspection", "lib.campaign.archive"),
        ("lib.campaign.board",),
        ("lib.campaign.priority",),
    ),
}


#: Neighbours that must not know each other: the two store backends, and the demo data generator
#: (a tool: app.py, the composition root, hands it to the app) with the pages and widgets.
APART: tuple[tuple[str, str], ...] = (
    ("lib.store.local", "lib.store.sheets"),
    ("lib.store.sheets", "lib.store.local"),
    ("lib.ui", "lib.demo"),
    ("lib.demo", "lib.ui"),
    ("pages", "lib.demo"),
)


def _modules() -> dict[str, Path]:
    found = {"app": ROOT / "app.py"}
    for base in ("lib", "pages"):
        for path in (ROOT / base).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            if parts != ["lib"]:  # the namespace itself: empty, imported by nothing but its children
                found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The project modules ``name`` imports, wherever in the file the import statement is."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from pkg import mod`` imports the module pkg.mod; ``from mod import name`` the module
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:  # ``import lib.store.base.X`` -> the module part
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _place(name: str, layers: tuple[tuple[str, ...], ...]) -> tuple[int, str] | None:
    """(rank, group) of ``name`` in ``layers``: the longest listed prefix wins."""
    best = None
    for rank, group in enumerate(layers):
        for prefix in group:
            if (name == prefix or name.startswith(prefix + ".")) and (best is None or len(prefix) > len(best[1])):
                best = (rank, prefix)
    return best


def _violations(layers: tuple[tuple[str, ...], ...], within: str = "") -> list[str]:
    bad = []
    for importer, targets in GRAPH.items():
        if within and not importer.startswith(within + "."):
            continue
        src = _place(importer, layers)
        for target in sorted(targets):
            if within and not target.startswith(within + "."):
                continue
            dst = _place(target, layers)
            if src is None or dst is None or src[1] == dst[1]:
                continue
            if dst[0] > src[0]:
                bad.append(f"{importer} imports {target} ({dst[1]} is above {src[1]})")
    return bad


def test_every_module_has_a_layer():
    assert [name for name in MODULES if _place(name, LAYERS) is None] == []


@pytest.mark.parametrize("package", sorted(INNER))
def test_every_module_of_a_layered_package_has_a_place(package):
    """A module added to a layered package is unchecked until it is given a place in ``INNER``."""
    inside = [name for name in MODULES if name.startswith(package + ".") and name != package + ".__init__"]
    assert [name for name in inside if _place(name, INNER[package]) is None] == []


def test_imports_only_point_down():
    assert _violations(LAYERS) == []


@pytest.mark.parametrize("package", sorted(INNER))
def test_imports_inside_a_package_point_down(package):
    assert _violations(INNER[package], within=package) == []


def _crossings() -> list[str]:
    def under(name: str, prefix: str) -> bool:
        return name == prefix or name.startswith(prefix + ".")

    return [f"{a} imports {b}" for a, targets in GRAPH.items() for b in sorted(targets)
            for left, right in APART if under(a, left) and under(b, right)]


def test_neighbours_kept_apart_do_not_import_each_other():
    assert _crossings() == []


def test_no_module_takes_part_in_an_import_cycle():
    try:
        graphlib.TopologicalSorter(GRAPH).prepare()
    except graphlib.CycleError as err:
        pytest.fail(f"import cycle: {' -> '.join(err.args[1])}")


def test_the_core_imports_only_the_standard_library():
    """The shared nouns carry no dependency: any layer, a subprocess or a tool can import them."""
    outside = []
    for name, path in MODULES.items():
        if not name.startswith("lib.core"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                roots = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                roots = [(node.module or "").split(".")[0]]
            else:
                continue
            outside += [f"{name}: {r}" for r in roots if r not in sys.stdlib_module_names and r not in ("__future__", "lib")]
            outside += [f"{name}: {t}" for t in GRAPH[name] if not t.startswith("lib.core")]
    assert outside == []


def test_the_checker_sees_an_upward_import(monkeypatch):
    """The rules above are only as good as the graph: a planted upward import must be reported."""
    before = set(_violations(LAYERS)), set(_violations(INNER["lib.store"], within="lib.store"))
    monkeypatch.setitem(GRAPH, "lib.core.records", GRAPH["lib.core.records"] | {"lib.ui.context"})
    monkeypatch.setitem(GRAPH, "lib.store.base", GRAPH["lib.store.base"] | {"lib.store.local.store"})
    assert set(_violations(LAYERS)) - before[0] == {"lib.core.records imports lib.ui.context (lib.ui is above lib.core)"}
    assert set(_violations(INNER["lib.store"], within="lib.store")) - before[1] == {
        "lib.store.base imports lib.store.local.store (lib.store.local is above lib.store.base)"
    }


def test_function_level_imports_count(tmp_path):
    """A late import inside a function is an import: the cycle it hides is still a cycle."""
    sample = tmp_path / "sample.py"
    sample.write_text("import json\n\ndef f():\n    from lib.ui import context\n    import lib.store.base.Store\n", encoding="utf-8")
    assert _imports("lib.core.sample", sample) == {"lib.ui.context", "lib.store.base"}


def test_the_checker_sees_a_crossing_between_neighbours(monkeypatch):
    before = set(_crossings())
    monkeypatch.setitem(GRAPH, "lib.store.local.store", GRAPH["lib.store.local.store"] | {"lib.store.sheets.log"})
    assert set(_crossings()) - before == {"lib.store.local.store imports lib.store.sheets.log"}


def test_no_module_imports_another_modules_private_names():
    """A ``_name`` is its module's own business: another module that needs it gets a public name."""
    found = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lib"):
                found += [f"{name} imports {node.module}.{a.name}" for a in node.names
                          if a.name.startswith("_") and not a.name.startswith("__")]
    assert found == []
