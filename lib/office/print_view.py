"""A row's answers as one standalone, printable HTML page (the 打印 view of 我的填报, 审核 and the receipt).

The page needs nothing but a browser: inline style, no script but the 打印 button's ``window.print()``,
every text escaped (an answer such as ``<script>`` is shown, never run). It opens from a download, so
a person keeps the file, prints it or attaches it to a mail.
"""

from __future__ import annotations

import datetime as dt
from html import escape

from lib.core.records import Record
from lib.forms import FormSpec
from lib.forms.display import Answer, answered_sections, value_text

_STYLE = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:24px;color:#111;font-size:14px}
h1{font-size:20px;margin:0 0 12px}h2{font-size:16px;margin:20px 0 6px;border-bottom:1px solid #999}
table{border-collapse:collapse;width:100%;margin:4px 0}th,td{border:1px solid #bbb;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f1f3f6;font-weight:normal;width:28%}td{white-space:pre-wrap;word-break:break-all}
table.rows th{width:auto}.meta th{width:14%}
.noprint{margin:0 0 12px;padding:6px 16px;font-size:14px}
@media print{.noprint{display:none}body{margin:0}}
"""


def file_name(form: FormSpec, record: Record) -> str:
    """The download's name: the form, the row and its revision, e.g. ``附件1 上云上平台项目_a1b2_第3版.html``."""
    return f"{form.short_title}_{record.id}_第{record.rev}版.html"


def _answer(answer: Answer) -> str:
    label = escape(answer.label + ("（自动计算）" if answer.calculated else ""))
    if answer.rows is None:
        return f"<tr><th>{label}</th><td>{escape(answer.text)}</td></tr>"
    if not answer.rows:
        return f"<tr><th>{label}</th><td></td></tr>"
    head = "".join(f"<th>{escape(h)}</th>" for h in answer.rows[0])
    body = "".join("<tr>" + "".join(f"<td>{escape(v)}</td>" for v in row.values()) + "</tr>" for row in answer.rows)
    return f'<tr><th>{label}</th><td><table class="rows"><tr>{head}</tr>{body}</table></td></tr>'


def print_html(form: FormSpec, record: Record, cities: tuple[str, ...], *, printed_at: dt.datetime | None = None) -> str:
    """The whole row as an HTML page: form title, row id, revision, status, filer, times, then every
    section the form shows for these answers."""
    printed_at = printed_at or dt.datetime.now()
    meta = [("记录编号", record.id), ("版本", str(record.rev)), ("状态", record.status),
            ("填报单位", record.org or record.owner), ("更新时间", value_text(None, record.updated_at)),
            ("打印时间", value_text(None, printed_at))]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{escape(form.title)} {escape(record.id)}</title><style>{_STYLE}</style></head><body>",
        '<button class="noprint" onclick="window.print()">打印</button>',
        f"<h1>{escape(form.title)}</h1>",
        '<table class="meta"><tr>' + "".join(f"<th>{k}</th><td>{escape(v)}</td>" for k, v in meta[:3]) + "</tr>",
        "<tr>" + "".join(f"<th>{k}</th><td>{escape(v)}</td>" for k, v in meta[3:]) + "</tr></table>",
    ]
    for section in answered_sections(form, record.values, cities):
        parts.append(f"<h2>{escape(section.title)}</h2><table>")
        parts += [_answer(a) for a in section.answers]
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)
