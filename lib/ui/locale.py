"""Chinese where Streamlit writes its own words, and tables without "None".

Streamlit (1.67) has no language setting: its widgets carry English text ("Upload", "200MB per
file", "Select all", "Choose options", the table toolbar's "Search" / "Download as CSV"), the page
says ``<html lang="en">`` and the date field names its parts "year, month, day". ``apply()`` puts
one small script on the page (``st.html(..., unsafe_allow_javascript=True)``; it runs in the page
itself, not in an iframe) that sets the page's language to zh-CN for screen readers and replaces
those exact texts, in text and in the attributes screen readers read, whenever Streamlit draws
them. Only whole texts listed here are replaced, never inside markdown other than a button's label
(our own words and the user's), so a value a person typed is never touched.

The same script makes Enter in a date field apply the typed date (Streamlit applies it only when
the field loses focus).

What this cannot change: cells of ``st.dataframe`` are drawn on a canvas, so a blank cell reads
"None" and an empty table "empty" unless the data says otherwise: ``shown()`` blanks the cells and
``table()`` says 没有记录 instead of an empty grid. The hidden ``<noscript>`` page and the date
picker's month names (``09 – September``, "Selected Date: …") stay Streamlit's.
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from lib.core.values import text

LANG = "zh-CN"

#: Whole texts Streamlit 1.67 draws (text or aria-label / title / placeholder), and their Chinese.
TEXTS = {
    "Upload": "上传",
    "Browse files": "选择文件",
    "Drag and drop file here": "将文件拖到此处",
    "Drag and drop files here": "将文件拖到此处",
    "file upload": "上传文件",
    "Remove file": "移除文件",
    "Delete": "删除",
    "Select all": "全选",
    "Clear all": "全部清除",
    "Clear value": "清除",
    "Choose options": "请选择（可多选）",
    "Choose an option": "请选择",
    "No options to select.": "没有可选项",
    "No results": "没有匹配项",
    "Open": "展开",
    "Dismiss": "关闭",
    "Choose date": "选择日期",
    "Search": "搜索",
    "Download as CSV": "下载为 CSV",
    "Fullscreen": "全屏",
    "Close fullscreen": "退出全屏",
    "Exit fullscreen": "退出全屏",
    "Show/hide columns": "显示/隐藏列",
    "Press Enter to apply": "按回车键确认",
    "Press Enter to submit form": "按回车键提交",
    "Skip to main content": "跳到正文",
    "Running...": "正在运行……",
    "Stop": "停止",
    "Rerun": "重新运行",
    "Settings": "设置",
    "Print": "打印",
    "About": "关于",
    "Main menu": "主菜单",
}

#: Texts with a variable part: (JavaScript regular expression, replacement).
PATTERNS = (
    (r"^(?:Limit )?(\d+(?:\.\d+)?)\s*([KMG]B) per file", "每个文件不超过 $1 $2"),
    (r"^(\d+) options? available\.$", "共 $1 个选项"),
    (r"^year, ", "年，"),
    (r"^month, ", "月，"),
    (r"^day, ", "日，"),
)

_SCRIPT = """<script>
(() => {
  document.documentElement.lang = %(lang)s;
  if (window.__gdLocale) return;  // one observer per page, however often the app reruns
  window.__gdLocale = true;
  const TEXTS = %(texts)s;
  const PATTERNS = %(patterns)s.map(([re, to]) => [new RegExp(re), to]);
  const ATTRS = ["aria-label", "title", "placeholder"];
  const SKIP = "script, style, textarea, [contenteditable='true']";
  const MARKDOWN = "[data-testid='stMarkdownContainer']";  // our words and the user's: only a button's label is Streamlit's
  const chinese = (text) => {
    const core = text.trim();
    if (!core) return null;
    if (Object.prototype.hasOwnProperty.call(TEXTS, core)) return text.replace(core, TEXTS[core]);
    for (const [re, to] of PATTERNS) if (re.test(core)) return text.replace(core, core.replace(re, to));
    return null;
  };
  const fixText = (node) => {
    const parent = node.parentElement;
    if (!parent || parent.closest(SKIP)) return;
    const markdown = parent.closest(MARKDOWN);
    if (markdown && !markdown.closest("button")) return;
    const to = chinese(node.nodeValue);
    if (to !== null && to !== node.nodeValue) node.nodeValue = to;
  };
  const fixAttrs = (el) => {
    for (const name of ATTRS) {
      const value = el.getAttribute(name);
      const to = value && chinese(value);
      if (to && to !== value) el.setAttribute(name, to);
    }
  };
  const fix = (root) => {
    if (root.nodeType === Node.TEXT_NODE) return fixText(root);
    if (root.nodeType !== Node.ELEMENT_NODE) return;
    fixAttrs(root);
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode;
      if (node.nodeType === Node.TEXT_NODE) fixText(node); else fixAttrs(node);
    }
  };
  new MutationObserver((changes) => {
    for (const change of changes) {
      if (change.type === "characterData") fixText(change.target);
      else if (change.type === "attributes") fixAttrs(change.target);
      else change.addedNodes.forEach(fix);
    }
  }).observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ATTRS});
  fix(document.body);
  // Enter in a date field applies the typed date. Streamlit applies it when the field loses focus
  // with its calendar closed (clicking the field opens the calendar): close it, then leave the field.
  document.addEventListener("keydown", (event) => {
    const field = event.key === "Enter" && event.target.closest && event.target.closest("[data-testid='stDateInputField']");
    if (!field) return;
    const segment = event.target;
    segment.dispatchEvent(new KeyboardEvent("keydown", {key: "Escape", code: "Escape", bubbles: true}));
    setTimeout(() => segment.blur(), 50);  // after the closed calendar is drawn
  }, true);
})();
</script>"""

# A script's or a style's element is empty; without this it would still take a row's gap on the page
# (a style applies wherever its element is, shown or not).
_STYLE = """<style>
.stElementContainer:has(> .stHtml > script:only-child), .stElementContainer:has(> .stHtml > style:only-child) { display: none; }
</style>"""


def script() -> str:
    """The page script ``apply`` puts on the page (a pure function: tests read it)."""
    return _SCRIPT % {
        "lang": json.dumps(LANG),
        "texts": json.dumps(TEXTS, ensure_ascii=False),
        "patterns": json.dumps([list(p) for p in PATTERNS]),
    }


def apply() -> None:
    """Chinese for Streamlit's own words and the page's language (call once per run, from app.py)."""
    st.html(_STYLE)
    st.html(script(), unsafe_allow_javascript=True)


def shown(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` for display: blanks as empty cells instead of Streamlit's "None" (a column with a
    blank becomes text, Arrow needing one type per column; exports keep the data as it is). Its
    numbers and datetimes read as everywhere else (``lib.core.values.text``: a datetime with its
    seconds, a number without float noise).

    >>> when = pd.to_datetime(["2020-09-10 10:00", None])
    >>> shown(pd.DataFrame({"a": ["x", None], "b": [90.9, float("nan")], "c": [1, 2], "d": when})).values.tolist()
    [['x', '90.9', 1, '2020-09-10 10:00:00'], ['', '', 2, '']]
    >>> shown(pd.DataFrame({"b": [3.0, 0.123456, None]}))["b"].tolist()
    ['3', '0.123456', '']
    """
    blanks = [c for c in frame.columns if frame[c].isna().any()]
    if not blanks:
        return frame
    out = frame.copy()
    for c in blanks:
        values = out[c]
        if pd.api.types.is_datetime64_any_dtype(values) or pd.api.types.is_numeric_dtype(values):
            out[c] = values.astype(object).map(text)
        else:
            out[c] = values.astype(object).where(values.notna(), "")
    return out


#: The most rows a filter-down table sends to the browser (the boards' drill tables); the rest are in its
#: Excel export. Tens of thousands of rows serialised on every run cost the server seconds, and 2,000 rows
#: (560 KB) were most of the time a board took to open at 20,000 rows (issue 17).
SHOWN_ROWS = 500
#: Rows a page of a list holds where a person acts on rows one by one (审核, 我的填报, 审计日志; ``rows.page``):
#: the table, the row picker and the bulk picker get one page, never 2,000 rows' captions twice (1.3 MB).
PAGE_ROWS = 200


def display(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """``shown(frame)`` and the column config keeping numbers made text by a blank right-aligned: what
    ``table`` draws, which a caller drawing the same frame again and again may keep (``table(displayed=…)``)."""
    numbers = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c]) and frame[c].isna().any()]
    return shown(frame), {c: st.column_config.TextColumn(alignment="right") for c in numbers}


def table(frame: pd.DataFrame, empty: str = "没有记录。", displayed: tuple[pd.DataFrame, dict] | None = None, **options) -> None:
    """``st.dataframe`` of ``shown(frame)``; an empty frame is a line of text, not an "empty" grid.
    Numbers made text by a blank stay right-aligned. ``displayed``: ``display(frame)`` kept by the caller."""
    if frame.empty:
        st.caption(empty)
        return
    rows, config = displayed or display(frame)
    config = config | options.pop("column_config", {})
    st.dataframe(rows, column_config=config or None, **options)
