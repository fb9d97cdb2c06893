"""Process-wide resources (settings, form catalog, store, accounts), created once and shared by sessions.

The catalog reads the forms the store serves (``lib.forms.store_source.StoreSource``: the published versions;
its first refresh publishes ``forms_dir`` as version 1 when the store has none, whether or not demo data
is on), or with setting ``forms_source = files`` the folder alone.

Configuration is read here, at the edge, and passed down as plain values. What fills an empty store
and an empty accounts file on first start (with setting ``demo_data`` on) is handed in by the
composition root, app.py, on every run (``first_start``), so this layer never imports the demo
generator. It is done from app.py's run rather than when the store is opened because the first run of
a server process may be a page's alone (Streamlit's legacy pages/ wrapper, before ``ensure_router``
sends it through app.py): nobody can sign in, and so see any row, before app.py has run.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st
from streamlit.logger import get_logger

from lib.auth.accounts import AccountsFile
from lib.auth.policy import Assignments
from lib.auth.sessions import SessionTokens
from lib.core.errors import AppError
from lib.core.records import Actor
from lib.core.roles import INSPECTOR
from lib.forms import FormCatalog, load_catalog
from lib.forms.columns import sheet_spec
from lib.forms.store_source import StoreSource
from lib.sampling.assignments import assignments_in_force
from lib.settings import Settings, load_settings
from lib.store.base import Store, StoreError

log = get_logger(__name__)


@dataclass(frozen=True)
class FirstStart:
    """How the first start fills an empty store and an empty accounts file.

    ``rows(open_with_clock, catalog, rows)`` writes ``rows`` rows through stores it opens with
    ``open_with_clock(clock)`` (a clock saying when each row was filed) and raises an AppError when it
    can write none; ``accounts(file, store, catalog)`` adds the accounts the stored rows need (and
    those every campaign needs) and returns how many it added.
    """

    rows: Callable[[Callable[[Any], Store], FormCatalog, int], object]
    accounts: Callable[[AccountsFile, Store, FormCatalog], int]


def _plain(value):
    """Secrets as plain dicts all the way down (the Sheets backend takes nested tables)."""
    return {k: _plain(v) for k, v in value.items()} if hasattr(value, "items") else value


@st.cache_resource(show_spinner=False)
def _secrets() -> dict:
    try:
        return _plain(st.secrets)
    except FileNotFoundError:  # no secrets.toml: the embedded defaults apply
        return {}


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    return load_settings(os.environ, _secrets())


@st.cache_resource(show_spinner=False)
def _catalog() -> FormCatalog:
    cfg = settings()
    if cfg.forms_source == "files":
        return load_catalog(cfg.forms_dir)
    # The store, not store(): that one brings every form's sheet up to date, which needs this catalog.
    return load_catalog(StoreSource(_opened, cfg.forms_dir, cfg.data_dir))


def catalog() -> FormCatalog:
    """The form catalog, re-read where a file or a published version changed since the last page run
    (one stamp per file; a developer's changed file in forms_dir is published first).

    A form with a new valid version gets its sheet brought up to date at once (a new field is a
    new column), so rows filled with it keep every answer in the workbook.
    """
    cat = _catalog()
    changed = cat.refresh()
    if changed:
        try:
            opened = store()
        except StoreError:  # not open now: opening it later ensures every form's sheet
            return cat
        for form in changed:
            opened.ensure_sheet(sheet_spec(form))
    return cat


def _open_store(**overrides: Any) -> Store:
    """A new store as the settings say (the Sheets backend takes the ``[gsheets]`` secrets). Cells a
    person edits in the workbook are imported only as the web form would take them (lib.external_edits)."""
    from lib.external_edits import FormEditRules
    from lib.store.factory import open_store

    cfg = settings()
    return open_store(cfg.store_backend, data_dir=cfg.data_dir, workbook_name=cfg.workbook_name,
                      gsheets=_secrets().get("gsheets"), edit_check=FormEditRules(cfg.forms_dir, today=cfg.campaign_today),
                      **overrides)


@st.cache_resource(show_spinner="正在打开数据存储……", on_release=lambda opened: opened.close())
def _opened() -> Store:
    """The process's store as opened (the catalog's source reads the form versions from it)."""
    use_system_allocator()
    return _open_store()


def use_system_allocator() -> None:
    """Let Arrow memory (the snapshots' text columns, the boards' frames) come from the C library's
    allocator instead of pyarrow's default pool (mimalloc), which keeps the pages a freed frame leaves
    at their peak: in bench/sessions_bench.py's server the memory of old boards never came back, and
    with this it returns to where it was once they are dropped (issue 17)."""
    import pyarrow as pa  # here, not at import: a session check imports this module without pandas

    if pa.default_memory_pool().backend_name != "system":
        pa.set_memory_pool(pa.system_memory_pool())


@st.cache_resource(show_spinner=False)
def store() -> Store:
    """The process's store, with a sheet for every form (a sheet that cannot be brought up to date now
    leaves this uncached: the next run tries again, on the store already open)."""
    opened = _opened()
    for form in _catalog().forms():
        opened.ensure_sheet(sheet_spec(form))
    _warming()
    return opened


#: Environment variable: "false" keeps a server from building the pages' shared tables when its store
#: opens, "true" makes any process do it; unset ("auto"), a ``streamlit run`` server does and a test
#: (AppTest) does not.
WARM_UP_ENV = "APP_WARM_UP"


def warm_up_wanted() -> bool:
    """Whether this process builds the shared tables in the background once its store is open."""
    value = os.environ.get(WARM_UP_ENV, "auto").strip().lower()
    if value in {"0", "false", "no", "off"}:
        return False
    if value in {"1", "true", "yes", "on"}:
        return True
    from streamlit.runtime import Runtime

    return Runtime.exists() and type(Runtime.instance()) is Runtime  # AppTest stands a mock in for it


#: What the warm-up runs (``lib.ui.warm_up.warm_up``, given by the composition root: it builds pages'
#: caches, and those pages import this module); nothing until given.
_WARM_UP: dict[str, Callable[[], None]] = {}


def warm_up_with(build: Callable[[], None]) -> None:
    """Have ``build`` run in the background once this process's store opens (app.py gives the pages' warm-up)."""
    _WARM_UP["build"] = build


@st.cache_resource(show_spinner=False)
def _warming() -> threading.Thread | None:
    """Once per process, when its store has opened: the warm-up given in a daemon thread (a server that stops
    does not wait for it), or nothing when ``warm_up_wanted`` says no."""
    if "build" not in _WARM_UP or not warm_up_wanted():
        return None
    thread = threading.Thread(target=_WARM_UP["build"], name="warm-up", daemon=True)
    thread.start()
    return thread


def assignments(actor: Actor) -> Assignments | None:
    """The inspector draw in force, for an inspector (``lib.sampling.assignments.assignments_in_force``,
    read from the store's snapshots on each run: a new draw reaches the next page run); None for the
    other roles, whose reach the policy decides without it. Raises AssignmentChanged (an AppError the
    page shows) when the draw was changed after it was written."""
    if actor.role != INSPECTOR:
        return None
    return assignments_in_force(store(), catalog())


@st.cache_resource(show_spinner=False)
def accounts() -> AccountsFile:
    return AccountsFile(settings().accounts_path)


def first_start(seed: FirstStart) -> None:
    """With ``demo_data`` on: fill an empty store, then an empty accounts file, as ``seed`` says; once
    per process. A store that cannot be opened now is left for the page to report (lib.ui.health) and
    tried again on the next run. Demo rows that cannot be written (another campaign than the demo's,
    say) do not stop the accounts: the reason is logged, and shown on every page until the process
    restarts (a setting to correct, as the note says)."""
    if not settings().demo_data:
        return
    try:
        note = _filled(seed)
    except StoreError as exc:
        log.warning("首次启动未能写入演示数据（代码 %s）：%s", exc.code, exc)
        return
    if note:
        st.warning(note)


@st.cache_resource(show_spinner=False)
def _filled(_seed: FirstStart) -> str | None:  # the leading underscore: Streamlit does not hash the argument
    """Fill the store and the accounts; returns why no demo rows were written (None when they were)."""
    opened, cat = store(), _catalog()
    note = None
    if not any(opened.records(form.id) for form in cat.forms()):
        with st.spinner("首次启动，正在写入演示数据……"):
            try:
                _seed.rows(lambda clock: _open_store(clock=clock), cat, settings().demo_rows)
            except StoreError:  # the store itself: the page reports it, the next run tries again
                raise
            except AppError as exc:
                note = f"首次启动未写入演示数据：{exc}"
                log.warning("%s（代码 %s）", note, exc.code)
        opened.refresh()
    file = accounts()
    if len(file) == 0:
        with st.spinner("首次启动，正在创建演示账号……"):
            created = _seed.accounts(file, opened, cat)
        if note:
            note += f"已创建 {created} 个演示账号，可以登录。"
            log.warning("首次启动创建了 %s 个演示账号（无演示数据）", created)
    return note and note + "不需要演示数据时，请将设置 demo_data 设为 false。"


@st.cache_resource(show_spinner=False)
def sessions() -> SessionTokens:
    """Session tokens signed with the secret in data_dir (created there on first use)."""
    return SessionTokens(settings().data_dir, accounts())
