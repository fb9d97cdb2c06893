"""The parts ``lib.office.xlsx_package`` writes: the shared strings escaped as XlsxWriter escapes a text,
whatever batch a text falls in."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as hs

from lib.office.xlsx_package import SharedStrings, xml_text

# The characters escaping treats apart, and a few it does not.
_PIECES = ["a", "&", "<", ">", "_x0041_", "_X00a1_", "_x", "\x00", "\x01", "\x1f", "\t", "\n", "\r", "\ufffe", "\uffff",
           "\ud800", "长", " ", "𝄞"]
_texts = hs.lists(hs.lists(hs.sampled_from(_PIECES), max_size=5).map("".join), max_size=30)


def _items(xml: bytes) -> list[bytes]:
    return re.findall(rb'<si><t xml:space="preserve">(.*?)</t></si>', xml, re.S)


@settings(max_examples=200, deadline=None)
@given(texts=_texts, batch=hs.integers(1, 8))
def test_each_shared_text_is_escaped_as_xml_text_escapes_it_whatever_its_batch(texts, batch):
    strings = SharedStrings()
    entries = strings.add(texts).tolist()
    xml = b"".join(strings.parts(batch=batch))
    assert xml == strings.xml()
    items = _items(xml)
    assert [items[e] for e in entries] == [xml_text(t).encode("utf-8", "surrogatepass") for t in texts]
    assert xml.endswith(b"</sst>") and f'count="{len(texts)}" uniqueCount="{len(items)}"'.encode() in xml
