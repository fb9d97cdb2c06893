"""Driving Streamlit widgets in Chromium, and filling a valid 附件1 row, for the browser journeys."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from lib.forms.types import credit_code_check_char


def widget(page, testid: str, label: str):
    """The Streamlit widget of kind ``testid`` whose label starts with ``label``."""
    return page.locator(", ".join(f"[data-testid='{t}']" for t in testid.split())).filter(
        has=page.locator("[data-testid='stWidgetLabel']", has_text=re.compile("^" + re.escape(label)))
    ).first


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the Streamlit selectbox labelled ``label`` (a row picker: the row id)."""
    box = widget(page, "stSelectbox", label)
    box.scroll_into_view_if_needed()
    box.click()
    page.keyboard.type(option)
    # an option is named by its text; a row picker's option starts with the row id, then "｜"
    page.get_by_role("option", name=re.compile("^" + re.escape(option) + "(｜|$)")).first.click()


def field_input(page, label: str):
    """The <input> or <textarea> of the text, number or date widget labelled ``label``."""
    return widget(page, "stTextInput stTextArea stNumberInput stDateInput", label).locator("input, textarea").first


def has_value(page, label: str, value: str, *, timeout: float = 30_000) -> None:
    """Wait until the field labelled ``label`` holds exactly ``value`` (fails after ``timeout`` ms): a
    rerun draws a page's inputs a moment after its headings, longer on a busy machine."""
    expect(field_input(page, label)).to_have_value(value, timeout=timeout)


def type_into(page, label: str, text: str) -> None:
    box = field_input(page, label)
    box.fill(text)
    box.press("Enter" if box.get_attribute("aria-label") is None else "Tab")


def type_unless_locked(page, label: str, text: str) -> None:
    """Type into a field the signed-in account does not answer itself (those are drawn locked)."""
    box = field_input(page, label)
    box.wait_for()
    if box.is_enabled():
        type_into(page, label, text)


def valid_att1(voucher: str, project: str = "精工机械设备上云项目") -> list[tuple[str, str, str]]:
    """A valid 附件1 row as a person enters it, in the page's order: (how, field label, text), how being
    ``own`` (the provider's own fields: drawn locked when the account answers them), ``choose`` or ``type``.
    The reason field appears once the status is not 正常使用; the contact is the table's first row."""
    client_code = "91440604MA4" + "UXY7Q2"
    client_code += credit_code_check_char(client_code)
    return [
        ("own", "服务商名称", "广州云智信息科技有限公司"), ("own", "服务商统一社会信用代码", "91440101MA59ABCDEM"),
        ("choose", "奖补年度", "2019"), ("choose", "企业所在地市", "佛山"), ("type", "企业所在区县", "南海区"),
        ("type", "企业名称", "佛山市南海精工机械有限公司"), ("type", "企业统一社会信用代码", client_code),
        ("type", "服务券编号", voucher), ("type", "项目名称", project), ("choose", "项目类型", "工业设备上云"),
        ("choose", "业务领域", "生产管控"), ("type", "实施内容", "数控机床联网采集，部署设备管理云平台。"),
        ("type", "合同签订日期", "2019-05-10"), ("type", "合同金额", "20.00"), ("type", "实际支付金额", "19.00"),
        ("type", "奖补金额", "4.00"), ("type", "项目验收日期", "2019-08-30"), ("choose", "目前使用状态", "使用率较低"),
        ("type", "原因说明", "生产线调整，部分设备停机。"), ("type", "月活跃用户数", "12"), ("type", "回访日期", "2020-09-10"),
        ("type", "姓名", "张三"), ("type", "职务", "信息部经理"), ("type", "联系电话", "13800138000"),
    ]


CONTACT = ("姓名", "职务", "联系电话")


def fill_valid_att1(page, *, voucher: str | None = None, project: str = "精工机械设备上云项目") -> str:
    """Fill every required field of 附件1 on the open fill page; return the voucher number (unique
    unless given). Another row of the same provider needs another voucher and project name."""
    voucher = voucher or f"SYQ-2019-4406-{int(time.time()) % 100000:05d}"
    answers = valid_att1(voucher, project)
    for how, label, text in answers:
        if how == "own":
            type_unless_locked(page, label, text)
        elif how == "choose":
            choose(page, label, text)
        else:
            if label == "原因说明":  # appears because the status is not 正常使用
                page.locator("textarea[aria-label^='原因说明']").wait_for()
            type_into(page, label, text)

    # one contact row in the table (the first row is there already), typed above
    contact = {label: text for _, label, text in answers if label in CONTACT}
    # On a busy machine a rerun still drawing the page can redraw the table's row under a value just typed:
    # look again once the page has settled, and type what is missing.
    expect(page.locator("[data-testid='stStatusWidget']")).to_have_count(0, timeout=30_000)
    for label, text in contact.items():
        if field_input(page, label).input_value() != text:
            type_into(page, label, text)
        has_value(page, label, text)
    return voucher
