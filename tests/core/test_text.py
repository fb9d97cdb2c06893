"""The character rules of lib/core/text.py: what no cell holds, what no answer holds."""

from __future__ import annotations

from lib.core.text import CELL_ILLEGAL, CONTROL_CHARS


def test_an_answer_refuses_every_character_a_cell_refuses_and_besides_only_del_and_the_c1_controls():
    """One rule in two strengths: the store refuses what an .xlsx cell cannot hold (CELL_ILLEGAL); a
    form's answer refuses that and DEL and C1 too (CONTROL_CHARS)."""
    cell, answer = set(), set()
    for cp in range(0x110000):
        ch = chr(cp)
        if CELL_ILLEGAL.match(ch):
            cell.add(cp)
        if CONTROL_CHARS.match(ch):
            answer.add(cp)
    assert answer - cell == set(range(0x7F, 0xA0))
    assert cell <= answer
    assert cell == {*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0xD800, 0xE000), 0xFFFE, 0xFFFF}
