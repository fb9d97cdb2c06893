"""Every session_state key the app uses, in one place. Store ids and plain values, never objects."""

from __future__ import annotations

ACTOR = "actor"  # dict of lib.store.base.Actor fields chosen in the demo identity selector
FLASH = "flash"  # a message to show once on the next run: (kind, text)


def field_key(form_id: str, key: str) -> str:
    """The widget key of a top-level field of a form on the fill page."""
    return f"fill:{form_id}:{key}"


def table_data_key(form_id: str, key: str) -> str:
    """Prefix of the widget keys of a table's rows: ``<prefix>:<row>:<sub-field key>``."""
    return f"fill:{form_id}:{key}:rows"


def table_count_key(form_id: str, key: str) -> str:
    """How many rows a table shows on the fill page."""
    return f"fill:{form_id}:{key}:count"


def editing_key(form_id: str) -> str:
    """(row_id, base_rev, status) of the row being edited on the fill page, or absent for a new row."""
    return f"fill:{form_id}:editing"


