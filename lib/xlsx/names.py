"""The one rule for naming a sheet we write (the store's workbook and every export): what Excel
accepts, unique as Excel compares names (case-insensitively).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: Longest sheet name Excel accepts.
MAX_SHEET_CHARS = 31
# Characters Excel forbids in a sheet name.
_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def sheet_name(title: str, taken: Iterable[str] = (), *, fallback: str = "表单") -> str:
    """An Excel-legal sheet name for ``title``, unique (case-insensitively) among ``taken``: the
    forbidden characters dropped, quotes stripped from the ends, cut to 31 characters, then "~2",
    "~3"... when the name is taken.

    >>> sheet_name("现场检查记录[2020]/广州")
    '现场检查记录2020广州'
    >>> sheet_name("a" * 40, {"A" * 31}), sheet_name("//", ())
    ('aaaaaaaaaaaaaaaaaaaaaaaaaaaaa~2', '表单')
    """
    base = _FORBIDDEN.sub("", title).strip().strip("'")[:MAX_SHEET_CHARS] or fallback
    lowered = {t.lower() for t in taken}
    name, n = base, 1
    while name.lower() in lowered:
        n += 1
        name = f"{base[:MAX_SHEET_CHARS - len(str(n)) - 1]}~{n}"
    return name
