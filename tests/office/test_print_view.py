"""The read-only rendering of a row (lib.forms.display) and its printable page (lib.office.print_view)."""

from __future__ import annotations

import datetime as dt

from lib.core.records import Record
from lib.forms import parse_form
from lib.forms.display import answered_sections, value_text
from lib.office.print_view import print_html

FORM = """
id: demo
title: 演示表
short_title: 演示
version: 1
filled_by: provider
sections:
  - key: main
    title: 基本信息
    fields:
      - {key: firm, label: 企业名称, type: text}
      - {key: state, label: 使用状态, type: select, choices: [正常, 停用]}
      - {key: why, label: 停用原因, type: text, relevant: "state == '停用'"}
      - {key: paid, label: 支付金额, type: money}
      - {key: half, label: 一半, type: money, calculation: "paid / 2"}
      - {key: tags, label: 服务, type: multiselect, choices: [培训, 维保]}
      - {key: ok, label: 是否验收, type: boolean}
      - {key: day, label: 验收日期, type: date}
      - key: people
        label: 联系人
        type: table
        fields:
          - {key: name, label: 姓名, type: text}
          - {key: phone, label: 电话, type: text}
  - key: stop
    title: 停用说明
    relevant: "state == '停用'"
    fields:
      - {key: plan, label: 恢复计划, type: text}
"""
CITIES = ("广州", "深圳")


def _record(values: dict) -> Record:
    at = dt.datetime(2020, 9, 18, 10, 30)
    return Record("demo", "r00042", 3, "已通过", 1, "alice", "云智科技", "广州", at, at, "alice", values)


def test_sections_apply_relevance_compute_and_render_every_type():
    form = parse_form(FORM, "demo.yaml")
    values = {"firm": "甲厂", "state": "正常", "why": "旧原因", "plan": "旧计划", "paid": 7, "tags": ["培训", "维保"],
              "ok": True, "day": dt.date(2020, 9, 1), "people": [{"name": "陈伟", "phone": None}]}
    sections = answered_sections(form, values, CITIES)
    assert [s.title for s in sections] == ["基本信息"]  # the 停用 section is not relevant
    shown = {a.label: a for a in sections[0].answers}
    assert "停用原因" not in shown
    assert [(k, shown[k].text) for k in ("企业名称", "支付金额", "一半", "服务", "是否验收", "验收日期")] == [
        ("企业名称", "甲厂"), ("支付金额", "7.00"), ("一半", "3.50"), ("服务", "培训；维保"), ("是否验收", "是"), ("验收日期", "2020-09-01")]
    assert shown["一半"].calculated
    assert shown["联系人"].rows == [{"姓名": "陈伟", "电话": ""}]


def test_blanks_are_blank_never_none_or_nan():
    form = parse_form(FORM, "demo.yaml")
    sections = answered_sections(form, {"paid": float("nan"), "firm": None}, CITIES)
    texts = [a.text for s in sections for a in s.answers]
    assert set(texts) == {""}
    assert value_text(None, float("nan")) == "" and value_text(None, None) == ""


def test_print_page_has_the_row_facts_and_escapes_answers():
    form = parse_form(FORM, "demo.yaml")
    page = print_html(form, _record({"firm": "<script>alert(1)</script>", "state": "停用", "why": "设备故障", "plan": "十月恢复"}),
                      CITIES, printed_at=dt.datetime(2020, 9, 20, 8, 0))
    assert page.startswith("<!DOCTYPE html>") and 'lang="zh-CN"' in page
    for text in ("演示表", "r00042", "<th>版本</th><td>3</td>", "已通过", "云智科技", "2020-09-18 10:30", "停用原因", "设备故障", "恢复计划"):
        assert text in page
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "None" not in page and "nan" not in page
