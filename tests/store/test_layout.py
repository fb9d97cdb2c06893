"""The store's modules keep to their own state: no reading another object's private attributes, no
class using private attributes it does not define (the mixin shape), and no import cycle.

A private name (``_x``) is an object's own business: when one module reads it on another's object
(``store._mutex``), or a class reads ``self._jobs`` that another class sets up, the two can no
longer change apart. The checks read the source (``ast``), so they cover code no test happens to run.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STORE = ROOT / "lib" / "store"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_path(name: str) -> Path | None:
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


@dataclass
class Module:
    name: str
    tree: ast.Module
    classes: dict[str, ast.ClassDef] = field(default_factory=dict)
    imported: dict[str, tuple[str, str]] = field(default_factory=dict)  # local name -> (module, name)

    @classmethod
    def parse(cls, path: Path) -> Module:
        mod = cls(module_name(path), ast.parse(path.read_text(encoding="utf-8"), str(path)))
        for node in mod.tree.body:
            if isinstance(node, ast.ClassDef):
                mod.classes[node.name] = node
        for node in ast.walk(mod.tree):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    mod.imported[alias.asname or alias.name] = (node.module, alias.name)
        return mod


_MODULES: dict[str, Module | None] = {}


def load(name: str) -> Module | None:
    if name not in _MODULES:
        path = module_path(name) if name.startswith("lib.") else None
        _MODULES[name] = Module.parse(path) if path else None
    return _MODULES[name]


def own_privates(cls: ast.ClassDef) -> set[str]:
    """Private names a class defines: methods, class attributes given a value (or dataclass fields),
    and ``self._x = ...`` in its methods. A bare annotation (``_jobs: list[Job]``) defines nothing:
    it is how a mixin declares state another class sets up."""
    dataclass_like = any("dataclass" in ast.unparse(d) for d in cls.decorator_list)
    names: set[str] = set()
    for node in cls.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            if node.value is not None or dataclass_like:
                names.add(node.target.id)
    for node in ast.walk(cls):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = [t for target in node.targets for t in (target.elts if isinstance(target, ast.Tuple) else [target])]
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        names.update(t.attr for t in targets
                     if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self")
    return {n for n in names if private(n)}


def inherited_privates(mod: Module, cls: ast.ClassDef, seen: frozenset[str] = frozenset()) -> set[str]:
    """Private names ``cls`` and its bases in ``lib`` define (bases outside ``lib`` contribute none:
    leaning on a library class's private attributes is reaching into another module too)."""
    key = f"{mod.name}.{cls.name}"
    if key in seen:
        return set()
    names = own_privates(cls)
    for base in cls.bases:
        if not isinstance(base, ast.Name):
            continue
        if base.id in mod.classes:
            names |= inherited_privates(mod, mod.classes[base.id], seen | {key})
        elif base.id in mod.imported:
            where, name = mod.imported[base.id]
            other = load(where)
            if other is not None and name in other.classes:
                names |= inherited_privates(other, other.classes[name], seen | {key})
    return names


def store_modules() -> list[Module]:
    return [mod for path in sorted(STORE.rglob("*.py")) if (mod := load(module_name(path))) is not None]


def privates_defined_in(mod: Module) -> set[str]:
    names = {n.name for n in mod.tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef) and private(n.name)}
    for cls in mod.classes.values():
        names |= inherited_privates(mod, cls)
    return names


def foreign_private_reads(mod: Module) -> list[str]:
    """``<expr>._x`` where ``<expr>`` is not ``self``/``cls`` and no class of this module defines ``_x``
    (a module may use its own classes' private parts, e.g. a builder function filling a plan)."""
    mine = privates_defined_in(mod)
    found = []
    for node in ast.walk(mod.tree):
        if not (isinstance(node, ast.Attribute) and private(node.attr)):
            continue
        if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
            continue
        if node.attr not in mine:
            found.append(f"{mod.name}:{node.lineno}: {ast.unparse(node)}")
    return found


def undefined_self_reads(mod: Module) -> list[str]:
    """``self._x`` in a class that neither it nor its bases in ``lib`` define (state owned elsewhere)."""
    found = []
    for cls in mod.classes.values():
        defined = inherited_privates(mod, cls)
        for node in ast.walk(cls):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self"
                    and private(node.attr) and node.attr not in defined):
                found.append(f"{mod.name}:{node.lineno}: {cls.name} uses self.{node.attr}")
    return found


def import_cycles(modules: list[Module]) -> list[list[str]]:
    """Cycles among the store's modules, counting every import (late ones and TYPE_CHECKING ones too)."""
    names = {m.name for m in modules}
    edges: dict[str, set[str]] = {m.name: set() for m in modules}
    for mod in modules:
        for node in ast.walk(mod.tree):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            edges[mod.name] |= {t for t in targets if t in names and t != mod.name}
    cycles, done = [], set()

    def walk(node: str, path: list[str]) -> None:
        if node in path:
            cycles.append(path[path.index(node):] + [node])
            return
        if node in done:
            return
        for nxt in sorted(edges[node]):
            walk(nxt, path + [node])
        done.add(node)

    for name in sorted(names):
        walk(name, [])
    return cycles


def test_no_module_reads_another_objects_private_attributes():
    assert [hit for mod in store_modules() for hit in foreign_private_reads(mod)] == []


def test_no_class_uses_private_state_it_does_not_define():
    assert [hit for mod in store_modules() for hit in undefined_self_reads(mod)] == []


def test_the_store_modules_import_without_cycles():
    assert import_cycles(store_modules()) == []


SHARED = ("lib.store.base", "lib.store.codec", "lib.store.entries", "lib.store.frames", "lib.store.state")


def test_backends_import_only_shared_store_modules():
    """``local/`` and ``sheets/`` never import each other, and the shared modules import neither
    (only ``factory``, ``migrate`` and ``__main__`` sit above the backends)."""
    assert all(module_path(name) for name in SHARED)
    for mod in store_modules():
        imported = {n.module for n in ast.walk(mod.tree) if isinstance(n, ast.ImportFrom) and n.module}
        imported |= {a.name for n in ast.walk(mod.tree) if isinstance(n, ast.Import) for a in n.names}
        backends = {b for b in ("lib.store.local", "lib.store.sheets") if any(i.startswith(b) for i in imported)}
        if mod.name.startswith("lib.store.local"):
            assert backends <= {"lib.store.local"}, mod.name
        elif mod.name.startswith("lib.store.sheets"):
            assert backends <= {"lib.store.sheets"}, mod.name
        elif mod.name in SHARED:
            assert not backends, mod.name


# --- the checks themselves catch the shapes they are for -----------------------------------------

MIXIN = '''
class Engine:
    def __init__(self):
        self._jobs = []
        self.part = Part()

    def peek(self, other):
        return other._jobs, self.part._queue

class Delivery:
    _jobs: list

    def send(self):
        return self._jobs
'''


@pytest.mark.parametrize(("check", "expected"), [
    (foreign_private_reads, ["lib.store.example:8: self.part._queue"]),
    (undefined_self_reads, ["lib.store.example:14: Delivery uses self._jobs"]),
])
def test_the_checks_catch_a_mixin_and_a_reach_into_another_object(check, expected):
    mod = Module("lib.store.example", ast.parse(MIXIN))
    mod.classes = {n.name: n for n in mod.tree.body if isinstance(n, ast.ClassDef)}
    assert check(mod) == expected


def test_the_cycle_check_sees_a_late_import():
    a = Module("lib.store.a", ast.parse("from lib.store.b import x\n"))
    b = Module("lib.store.b", ast.parse("def f():\n    from lib.store.a import y\n"))
    assert import_cycles([a, b]) == [["lib.store.a", "lib.store.b", "lib.store.a"]]
