"""A read-only view of one whole row, and its print view, for 审核, 我的填报 and the fill page's receipt.

What is shown is ``lib.forms.display.answered_sections``: the sections and fields the form shows for
these answers, calculated values computed, tables as small tables, blanks blank; a ``file`` field's
photos as thumbnails and its PDFs as downloads, served only through ``readable_file`` (which asks
``lib.auth.policy.can`` whether the viewer may read the row). The print view is a standalone HTML file
(``lib.office.print_view``) offered as a download; it carries its own 打印 button.
"""

from __future__ import annotations

import functools
import io
import re
from typing import Any

import pandas as pd
import streamlit as st

from lib.auth.policy import READ, Assignments, can
from lib.core.blobs import BlobMissing, Blobs
from lib.core.records import Actor, Record
from lib.forms import FieldSpec, FormSpec, check_answers
from lib.forms.display import Answer, answered_sections, file_text
from lib.forms.types import MAX_IMAGE_PIXELS, file_kind
from lib.office.print_view import file_name, print_html
from lib.ui import state
from lib.ui.widgets import stored_files

# Every ASCII punctuation character: CommonMark lets each be escaped, and escaped they start no
# emphasis, link, image, list, formula, Streamlit colour directive, nor an autolink ("http://", "www.").
_MARKDOWN = re.compile(r"([!-/:-@\[-`{-~])")


def plain_text(text: str) -> str:
    """``text`` shown as typed in Streamlit markdown: for whatever a person typed (a reviewer's
    return reason, a refusal quoting an answer), so it cannot bring a link or an image to the page."""
    return _MARKDOWN.sub(r"\\\1", text)


def _label(answer: Answer) -> str:
    return answer.label + ("（自动计算）" if answer.calculated else "")


def serves_file(viewer: Actor | None, form: FormSpec, record: Record | None, digest: str,
                assignments: Assignments | None = None) -> bool:
    """Whether ``viewer`` may have the stored file ``digest`` through ``record``: the viewer may read the
    row (``can(viewer, READ, form, record, assignments)``, asked first: an inspector within the draw in
    force) and the row names that file in one of its ``file`` fields (knowing another file's hash gets
    nothing through one's own row)."""
    if viewer is None or record is None or record.form_id != form.id or not can(viewer, READ, form, record, assignments):
        return False
    return any(isinstance(item, dict) and item.get("sha256") == digest for spec in form.all_fields() if spec.type == "file"
               for item in (record.values.get(spec.key) or ()))


def readable_file(viewer: Actor | None, form: FormSpec, record: Record | None, digest: str, files: Blobs,
                  assignments: Assignments | None = None) -> bytes | None:
    """The bytes of the stored file ``digest`` for ``viewer`` when ``serves_file`` says so; None
    otherwise, without touching the disk. BlobMissing when the row names a file the folder lacks."""
    return files.read(digest) if serves_file(viewer, form, record, digest, assignments) else None


@st.cache_data(max_entries=256, show_spinner=False)
def _thumbnail_of(digest: str, folder: str) -> bytes | None:
    # Keyed by the hash alone: a file's bytes never change. Reached only after serves_file said yes.
    return thumbnail(Blobs(folder).read(digest))


def thumbnail(data: bytes) -> bytes | None:
    """A small PNG of an image's bytes (at most 320 pixels a side), or None when it cannot be read:
    the image was checked when it arrived, yet a thumbnail never trusts that."""
    from PIL import Image  # Streamlit's own image library; only a view with photos needs it

    try:
        with Image.open(io.BytesIO(data), formats=["PNG", "JPEG"]) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                return None
            image.draft("RGB", (640, 640))
            image.thumbnail((320, 320))
            out = io.BytesIO()
            image.convert("RGB").save(out, format="PNG")
    except Exception:  # noqa: BLE001 - hostile bytes make PIL raise many types; the view then shows the name
        return None
    return out.getvalue()


def _files(spec: FieldSpec, items: list[dict[str, Any]], viewer: Actor | None, form: FormSpec, record: Record | None,
           assignments: Assignments | None) -> None:
    """A file field's files: thumbnails of its photos, a download of each file, for a viewer who may read the row."""
    st.caption(f"{spec.label}（{len(items)} 个文件）")
    if viewer is None or record is None:
        return  # the names are in the table above; content needs a viewer whose rights can be asked
    files = stored_files()
    for item in items:
        digest, name = item["sha256"], plain_text(item["name"])
        if not serves_file(viewer, form, record, digest, assignments):
            st.caption(f"「{name}」：无权查看文件内容")
            continue
        kind = file_kind(item)
        try:
            files.require(digest)
            picture = _thumbnail_of(digest, str(files.folder)) if kind is not None and kind.image else None
        except BlobMissing as missing:
            st.warning(f"「{name}」：{missing}")
            continue
        if picture is not None:
            st.image(picture, caption=name)
        # Read when clicked (not on every run), through the same door; a download, never shown inline:
        # a PDF's scripts run in no page of ours.
        st.download_button(f"下载 {plain_text(file_text(item))}", functools.partial(readable_file, viewer, form, record, digest, files, assignments),
                           file_name=item["name"], mime=item["type"], on_click="ignore",
                           key=state.file_download_key(record.id, spec.key, digest))


def show(form: FormSpec, values: dict, cities: tuple[str, ...], *, warnings: list[str] | None = None,
         reminders: list[str] | None = None, viewer: Actor | None = None, record: Record | None = None,
         assignments: Assignments | None = None) -> None:
    """Draw every section of the row ``values`` read-only; above them ``warnings`` (rules the row no
    longer meets) and ``reminders`` (the form's warnings its answers raise, which the filler
    confirmed), as texts. st.table renders Markdown in its cells: what the filler typed is escaped,
    so a reviewer never gets a link or an image from an answer. A ``file`` field lists its files by
    name; given the ``viewer`` and the stored ``record``, the files the viewer may read are shown too
    (an inspector's within ``assignments``, the draw in force)."""
    if warnings:
        st.warning("请留意：\n\n" + "\n".join(f"- {plain_text(w)}" for w in warnings))
    if reminders:
        st.warning("填报提醒（提交时由填报单位确认），请核实：\n\n" + "\n".join(f"- {plain_text(w)}" for w in reminders))
    outcome = check_answers(form, values, cities=cities, draft=True)
    # answered_sections lists exactly the fields check_answers leaves visible, in form order.
    shown_specs = iter([f for s in form.sections for f in s.fields if f.key not in outcome.hidden])
    for section in answered_sections(form, values, cities):
        st.markdown(f"**{section.title}**")
        plain: list[Answer] = []
        answers: list[Answer] = []
        files: list[tuple[FieldSpec, list]] = []
        for answer in section.answers:
            spec = next(shown_specs)
            if spec.type == "file":  # by name, kind and size (not the stored hashes)
                items = outcome.values.get(spec.key) or []
                answer = Answer(answer.label, "；".join(file_text(i) for i in items))
                files += [(spec, items)] if items else []
            answers.append(answer)
        for answer in answers + [None]:
            if answer is not None and answer.rows is None:
                plain.append(answer)
                continue
            if plain:  # consecutive plain fields as one two-column table, in form order
                st.table(pd.DataFrame({"字段": [_label(a) for a in plain], "内容": [plain_text(a.text) for a in plain]}),
                         hide_index=True, hide_header=True)
                plain = []
            if answer is not None:
                st.caption(f"{answer.label}（{len(answer.rows)} 行）")
                if answer.rows:
                    st.table(pd.DataFrame([{k: plain_text(v) for k, v in row.items()} for row in answer.rows]), hide_index=True)
        for spec, items in files:
            _files(spec, items, viewer, form, record, assignments)


def print_button(form: FormSpec, record: Record, cities: tuple[str, ...], *, key: str, receipt: bool = False) -> None:
    """A button that downloads the row's print view (an .html page with its own 打印 button); as the
    ``receipt`` of a submission, labelled and named so (``receipt_name``)."""
    st.download_button(  # the page is built only when clicked: most runs never print
        "下载回执（可打印）" if receipt else "打印视图", lambda: print_html(form, record, cities),
        file_name=receipt_name(form, record) if receipt else file_name(form, record),
        mime="text/html", key=key, icon="🖨️", on_click="ignore",
        help="下载本条记录的完整内容（网页文件），用浏览器打开后点“打印”或按 Ctrl+P。",
    )


def receipt_name(form: FormSpec, record: Record) -> str:
    """The receipt's file name: ``回执-<short title>-<row id>-第<revision>版.html``."""
    return f"回执-{form.short_title}-{record.id}-第{record.rev}版.html"
