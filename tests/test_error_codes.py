"""Every error a page may show is an AppError with a code of its own (issue 11, outcome 5).

The exceptions left out are carriers that never leave their module: each is caught where it is raised
and turned into a coded problem (a FormProblem, a RegisterProblem, an ExcelReadError).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import lib
from lib.core.errors import AppError

#: Exception classes that are not AppErrors, and why that is right.
CARRIERS = {
    "lib.campaign.register.kinds.BadCell": "a cell parser's refusal, made a RegisterProblem by the register reader",
    "lib.forms.types.ValueProblem": "a type parser's refusal, made a FormProblem by the validator",
    "lib.office.cells.CellRefused": "a cell no answer can be read from, made a RowProblem by the bulk import",
    "lib.forms.yamltext._Refused": "a bound crossed while composing YAML, made a FormProblem by load_yaml",
    "lib.xlsx.bounds._Refused": "carries an ExcelReadError out of expat's callbacks",
    "lib.store.local.checkpoint.Unusable": "a checkpoint not to be read: the store replays the log instead, verify prints why",
    "lib.store.local.log.NoPrefix": "the log lacks the prefix a checkpoint covers, made an Unusable by the checkpoint reader",
    "lib.store.local.verify._DataChange": "stops verify's look at the log's tail at its first data change",
    "lib.store.local.external.NotSettled": "a person's program still saving the workbook: the writer looks again, the commands say so in Chinese",
}


def _exception_classes() -> dict[str, type]:
    found = {}
    for info in pkgutil.walk_packages(lib.__path__, "lib."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == module.__name__:
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return found


CLASSES = _exception_classes()


def test_every_error_of_ours_is_an_app_error_or_a_named_carrier():
    assert sorted(name for name, cls in CLASSES.items() if not issubclass(cls, AppError)) == sorted(CARRIERS)


def test_every_app_error_declares_a_code_of_its_own():
    codes = {name: cls.__dict__.get("code") for name, cls in CLASSES.items() if issubclass(cls, AppError)}
    assert len(codes) > 20  # the walk found the project's errors
    assert [n for n, c in codes.items() if not (isinstance(c, str) and re.fullmatch(r"[a-z][a-z0-9_]*", c))] == []
    taken: dict[str, str] = {}
    for name, code in codes.items():
        assert code not in taken, f"{name} and {taken[code]} share the code {code}"
        taken[code] = name
