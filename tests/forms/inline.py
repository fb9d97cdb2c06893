"""Inline forms for engine tests: one section whose fields are written in the test itself."""

from __future__ import annotations

from lib.forms import parse_form

#: A form's head up to its one section's ``fields:``; a test appends its field lines (list items).
DEMO_HEAD = """id: demo
title: 演示
short_title: 演示
version: 1
filled_by: provider
sections:
  - key: main
    title: 主要
    fields:
"""


def demo_form(fields: str):
    """A one-section form whose fields are the YAML lines ``fields`` (indented as list items)."""
    return parse_form(DEMO_HEAD + fields, "demo.yaml")
