"""The characters of text a person typed: which ones no stored value may hold, which ones change how
text reads, which ones are invisible, and how to quote such text safely in a message.

The one rule for answers (lib/forms/types.py), upload names (lib/xlsx/bounds.py) and every
message or audit note that quotes what someone typed. It imports nothing of the project, so any layer
may use it.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

# Characters no .xlsx cell (XML 1.0) can hold: C0 controls but tab, newline and carriage return, lone
# surrogates and the two non-characters.
_CELL_ILLEGAL = "\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff"
#: A stored value holding one of these is refused before anything is written (lib/store/codec.py).
CELL_ILLEGAL = re.compile(f"[{_CELL_ILLEGAL}]")
#: Characters no answer may hold: those no cell can hold, and DEL and the C1 controls besides.
CONTROL_CHARS = re.compile(f"[{_CELL_ILLEGAL}\x7f-\x9f]")
# Bidirectional controls: embeddings, overrides, isolates and the implicit marks (LRM, RLM, ALM). They
# make text display in another order than it is stored ("Trojan Source"), so a reviewer could read
# something else than what was filed: an answer holding one is refused.
BIDI_CHARS = re.compile(r"[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Every other invisible character: the format characters (Unicode category Cf: zero-width space and
# joiners, word joiner, BOM, soft hyphen, tags...) and the rest of Unicode's Default_Ignorable_Code_Point
# (variation selectors, Hangul fillers), which a renderer shows as nothing. They are dropped, not refused:
# WPS, Word and web pages paste them into text where the filler cannot see them, so a refusal would
# name a mistake nobody can find; kept, they make two equal answers differ (a duplicate report passes).
# tests/forms/test_invisible_text.py checks this table against the running Python's Unicode data.
INVISIBLE_CHARS = re.compile(
    "[\u00ad\u034f\u0600-\u0605\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    "\u200b-\u200d\u2060-\u2065\u206a-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff"
    # U+2800 BRAILLE PATTERN BLANK is a symbol, not a format character, but every font draws it as
    # nothing: nobody fills a Chinese form in braille, so it is one more blank that makes two names differ.
    "\u2800]"
)
LINE_BREAKS = re.compile(r"[\t\n\r\x85\u2028\u2029]")


def as_text(value: Any) -> str:
    """``str(value)`` that never raises: Python refuses to print an int of more than 4,300 digits."""
    try:
        return str(value)
    except ValueError:
        return "（位数过多的数字）"


#: Characters a quoted value must not carry into a message, a page or the audit trail.
_UNQUOTABLE = re.compile(f"{CONTROL_CHARS.pattern}|{BIDI_CHARS.pattern}|{INVISIBLE_CHARS.pattern}|{LINE_BREAKS.pattern}")


def quotable(value: Any, limit: int = 40) -> str:
    """Any value a person typed, made safe to quote in a message: at most ``limit`` characters, and
    every control, line break, direction or invisible character shown as its code point, so a
    refusal or an audit note cannot be made to display reversed text or hide what was typed.

    >>> quotable("\\u202e广州\\u200b\\n")
    '[U+202E]广州[U+200B][U+000A]'
    >>> quotable("名" * 50)[-3:], quotable(10**5000)
    ('名名…', '（位数过多的数字）')
    """
    text = as_text(value)
    cut = text[:limit]
    shown = _UNQUOTABLE.sub(lambda m: f"[U+{ord(m.group()):04X}]", cut)
    return shown + "…" if len(text) > limit else shown


def hidden_character(text: str) -> str | None:
    """The first character a one-line name (an account's organisation, name, city) may not hold — a
    control character, a line break, a direction mark or an invisible character — as ``U+XXXX``; None
    when it has none. Such a name is copied into answers (``from_account`` fields), where the answer
    rules would refuse it, and quoted in messages and the audit trail.

    >>> hidden_character("广州某某科技有限公司"), hidden_character("\u202e广州"), hidden_character("广州\x07")
    (None, 'U+202E', 'U+0007')
    """
    found = _UNQUOTABLE.search(text)
    return None if found is None else f"U+{ord(found.group()):04X}"


@functools.cache
def _lone_marks() -> re.Pattern[str]:
    """Combining marks (categories Mn, Me) — built once from this Python's Unicode data (~15 ms); the
    ones above U+1FFFF are variation selectors, dropped as INVISIBLE_CHARS already."""
    marks = [chr(c) for c in range(0x300, 0x20000) if unicodedata.category(chr(c)) in ("Mn", "Me")]
    return re.compile("[" + "".join(re.escape(m) for m in marks) + "]")


def comparable(text: str) -> str:
    """Text as two people would call it the same, the one rule for "same answer" (duplicate reports,
    an account's own name in a form) and "same organisation" (the register's provider names):
    width-folded (NFKC), case-folded, and without blanks, direction marks, invisible characters and
    combining marks left alone after NFKC (an accent that composes with its letter stays: é is not e).

    Blanks are dropped, not only squeezed: a space inside a Chinese name ("新上云 项目") is not seen
    as another name by a reader, so it must not make a second report of one project look new.
    Look-alike letters of other scripts (Cyrillic Е for Latin E) are not folded: that takes Unicode's
    confusables table and would merge names that differ; such a row is a visible second row.

    >>> comparable("  ９１４４０１０１ma59abcdem ") == comparable("91440101MA59ABCDEM")
    True
    >>> comparable("广州 云智（科技）") == comparable("广州云智(科技)\u200b\u200e\u2800") == comparable("广州云智\u0301(科技)")
    True
    """
    text = INVISIBLE_CHARS.sub("", BIDI_CHARS.sub("", text))
    text = unicodedata.normalize("NFKC", text).casefold()
    if not text.isascii():
        text = _lone_marks().sub("", text)
    return "".join(text.split())


def clipped(text: str, limit: int, mark: str) -> str:
    """``text`` when it fits a cell of ``limit`` characters, else its start followed by ``mark``
    (formatted with ``shown`` and ``total``, the characters kept and had), the whole within
    ``limit``: a reader sees the text was cut, never a silently shorter one. Characters are counted
    as UTF-16 units, as spreadsheets count them (an emoji is two), and none is split.

    >>> clipped("短", 10, "…{shown}/{total}"), clipped("一二三四五六七八九十", 6, "…{shown}/{total}")
    ('短', '一…1/10')
    """
    units = len(text.encode("utf-16-le", "surrogatepass")) // 2
    if units <= limit:
        return text
    room = max(0, limit - len(mark.format(shown=limit, total=units)))
    shown = text.encode("utf-16-le", "surrogatepass")[: room * 2].decode("utf-16-le", "ignore")
    return shown + mark.format(shown=len(shown), total=units)
