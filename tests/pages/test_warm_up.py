"""The background warm-up a server does when its store opens (``lib.ui.warm_up``): the first open of
进度看板 and of 审计日志 after a start found nothing built and paid seconds of CPU at 100,000 rows (issue 17)."""

from __future__ import annotations

import logging

from streamlit.testing.v1 import AppTest

from lib import audit as audit_module
from lib.campaign.board import figures, incremental
from lib.ui import board_data, context, warm_up

from .conftest import ROOT, sign_in
from .test_board_page import PAGE, PROVINCE, seeded  # noqa: F401 (a fixture)

AUDIT_PAGE = str(ROOT / "pages" / "audit.py")


def counted(monkeypatch, module, name: str) -> list:
    """Record each call of ``module.name`` (still made)."""
    calls, real = [], getattr(module, name)
    monkeypatch.setattr(module, name, lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


def test_the_warm_up_builds_the_board_and_the_trail_once_and_the_pages_build_neither_again(seeded, monkeypatch):  # noqa: F811
    prepared = counted(monkeypatch, incremental, "start")  # the figures from every row and the forms' whole audit
    scoped = counted(monkeypatch, figures, "board")  # one scope's figures
    trail = counted(monkeypatch, audit_module, "audit_frame")  # the trail's table
    monkeypatch.setenv(context.WARM_UP_ENV, "true")
    monkeypatch.setitem(context._WARM_UP, "build", warm_up.warm_up)  # as app.py gives it
    context.store()  # the store opens: the warm-up starts in the background
    warming = context._warming()
    assert warming is not None
    warming.join(timeout=120)
    assert not warming.is_alive()
    assert (len(prepared), len(scoped), len(trail)) == (1, 1, 1)

    at = sign_in(AppTest.from_file(PAGE, default_timeout=60), PROVINCE).run()
    assert not at.exception and at.metric  # the province's board, drawn from what the warm-up built
    audited = sign_in(AppTest.from_file(AUDIT_PAGE, default_timeout=60), PROVINCE).run()
    assert not audited.exception and len(audited.dataframe[0].value) > 0
    assert (len(prepared), len(scoped), len(trail)) == (1, 1, 1)


def test_a_test_or_a_server_told_no_warms_nothing(seeded, monkeypatch):  # noqa: F811
    calls = counted(monkeypatch, board_data, "warm")
    assert not context.warm_up_wanted()  # outside a `streamlit run` server (AppTest's runtime is a stand-in)
    monkeypatch.setenv(context.WARM_UP_ENV, "false")
    assert context._warming() is None and not calls


def test_a_part_that_fails_is_logged_and_the_other_still_built(seeded, monkeypatch, caplog):  # noqa: F811
    trail = counted(monkeypatch, audit_module, "audit_frame")

    def broken():
        raise RuntimeError("the board's figures could not be built")

    monkeypatch.setattr(board_data, "warm", broken)
    with caplog.at_level(logging.ERROR):
        warm_up.warm_up()  # never raised: the page builds it on its own open
    assert trail == [1]
    assert any("预热进度看板失败" in r.getMessage() for r in caplog.records)


def test_the_router_loads_the_boards_modules_so_the_boards_first_open_does_not():
    """The board's panels import altair (0.2 s): since the home page stopped importing them, the first open of
    进度看板 in a process paid that while a person waited. app.py imports lib.ui.warm_up on its first run."""
    import subprocess
    import sys

    probe = "import sys, lib.ui.warm_up; print(all(m in sys.modules for m in ('lib.ui.board_live', 'lib.ui.board', 'altair')))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"
    assert "from lib.ui import" in (ROOT / "app.py").read_text() and "warm_up" in (ROOT / "app.py").read_text()
