"""Checkpoints of the local store's state, so a store opens without replaying the whole log (issue 17).

Placeholder: the background writer calls :func:`save_if_due` after each workbook write; it writes nothing yet.
"""

from __future__ import annotations

from typing import Any


def save_if_due(store: Any) -> None:
    """Write a checkpoint of ``store``'s state when enough of the log is not covered by the last one.
    Called by the workbook writer (``materialiser.materialise``) while it holds the workbook lock."""
