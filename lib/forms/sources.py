"""Where the form catalog reads its files' texts: a folder (``FolderSource``) or the store's published
versions (``lib.forms.store_source.StoreSource``).

A source answers three questions about a file name: which names there are (``names``), a stamp that
changes whenever the text does (``stamp``; OSError when the name is gone), and the text (``text``;
FormDefinitionError when it cannot be read). ``sync(check)`` is called by ``FormCatalog.refresh`` before
it reads, so a source can bring itself up to date once per refresh; ``check(name, text, campaign_text)``
is the catalog's judgement of a text (:data:`Check`), since parsing is the catalog's and not the source's.

``StoreSource`` (the published versions, and which wins) is in ``lib.forms.store_source``, apart: it
needs the store, and the catalog (imported by every page's session check) must not.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from pathlib import Path

from .yamltext import read_text

CAMPAIGN_FILE = "campaign.yaml"
#: ``check(name, text, campaign_text)``: the form id ``text`` defines as file ``name`` ("" for the
#: campaign), checked against the campaign of ``campaign_text`` (None: none); FormDefinitionError if invalid.
Check = Callable[[str, str, "str | None"], str]


class FolderSource:
    """The ``*.yaml`` files of one folder: stamp = (mtime_ns, size), text = the file's (size-capped)."""

    def __init__(self, folder: Path | str):
        self.folder = Path(folder)

    def sync(self, check: Check) -> None:
        """Nothing to bring up to date: every question is asked of the folder itself."""

    def names(self) -> list[str]:
        return sorted(p.name for p in self.folder.glob("*.yaml"))

    def stamp(self, name: str) -> Hashable:
        stat = (self.folder / name).stat()
        return stat.st_mtime_ns, stat.st_size

    def text(self, name: str) -> str:
        return read_text(self.folder / name)

    def __str__(self) -> str:
        return str(self.folder)
