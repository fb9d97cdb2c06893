"""The one place a storage backend is chosen and opened.

``open_store`` returns a new store and remembers it; ``close_all_stores`` closes every store this
process opened (it also runs at interpreter exit), so no background writer outlives the app.
"""

from __future__ import annotations

import atexit
import threading
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lib.store.base import Store, StoreError

if TYPE_CHECKING:
    from lib.store.local.external import EditCheck

BACKENDS = ("local", "gsheets")


class UnknownBackend(StoreError):
    """The ``store_backend`` setting names no backend we have."""

    code = "unknown_backend"

_open: weakref.WeakSet[Store] = weakref.WeakSet()  # a store nobody holds needs no closing
_lock = threading.Lock()


def open_store(
    backend: str = "local",
    *,
    data_dir: Path,
    workbook_name: str = "campaign.xlsx",
    gsheets: dict[str, Any] | None = None,
    edit_check: EditCheck | None = None,
    **kw: Any,
) -> Store:
    """Open the store ``backend`` names; extra keywords go to the backend (e.g. ``background``).

    ``gsheets`` is the ``[gsheets]`` table of the secrets (spreadsheet key, service account, ...);
    the Sheets backend keeps its durable outbox in ``data_dir``. ``edit_check``: the app's rules
    for cells a person edits in the local workbook (see lib.store.local.external); the Sheets backend
    imports no such edits, so it takes none.
    """
    if backend == "local":
        from lib.store.local.store import LocalStore

        store: Store = LocalStore(data_dir, workbook_name, edit_check=edit_check, **kw)
    elif backend == "gsheets":
        from lib.store.sheets.store import open_sheets_store

        store = open_sheets_store(gsheets or {}, Path(data_dir), **kw)
    else:
        raise UnknownBackend(f"设置 store_backend 的值「{backend}」不是可用的存储后端，可选：{'、'.join(BACKENDS)}。")
    with _lock:
        _open.add(store)
    return store


@atexit.register
def close_all_stores() -> None:
    """Close every store opened through :func:`open_store` in this process."""
    with _lock:
        stores = list(_open)
        _open.clear()
    for store in stores:
        store.close()
