"""Storage: the Store interface (``base``), the local workbook backend and the factory.

Pages and campaign code import from here::

    from lib.store import open_store, Actor, SheetSpec, Column, ConflictError
"""

from lib.store.base import (
    COLUMN_KINDS,
    MAX_CELL_CHARS,
    SYSTEM_COLUMNS,
    SYSTEM_KEYS,
    Actor,
    AuditEntry,
    Column,
    ConflictError,
    InvalidValue,
    NotFound,
    Record,
    SheetSpec,
    Store,
    StoreError,
    Unavailable,
)
from lib.store.factory import close_all_stores, open_store
from lib.store.local import EXTERNAL_ACTOR, LocalStore

__all__ = [
    "COLUMN_KINDS", "EXTERNAL_ACTOR", "MAX_CELL_CHARS", "SYSTEM_COLUMNS", "SYSTEM_KEYS", "Actor", "AuditEntry",
    "Column", "ConflictError", "InvalidValue", "LocalStore", "NotFound", "Record", "SheetSpec", "Store",
    "StoreError", "Unavailable", "close_all_stores", "open_store",
]
