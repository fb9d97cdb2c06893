"""报告汇总's widgets (lib.campaign.archive): the reports as Word, one per row; a city's archive as a zip and
its 确认已报送; the province's table of every city's forwarding with each city's zip.

Every file is built only when its button is clicked (deferred download data). What each account sees is
the policy's (``ARCHIVE``, ``ARCHIVE_FORWARD``, READ): the buttons drawn are those of rows and cities the
account may have, and the library refuses (audited) what it may not.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from lib import listing
from lib.auth.policy import ARCHIVE_FORWARD, can
from lib.campaign import archive
from lib.core.errors import AppError
from lib.core.records import Actor, Record
from lib.core.roles import PROVINCE
from lib.core.values import text
from lib.office.docx_report import DOCX_MIME
from lib.ui import context, errors, locale, state
from lib.ui.record_view import plain_text

ZIP_MIME = "application/zip"
#: Reports listed with a button each (a lead unit or a city has tens; the zip has every one).
SHOWN = 200


def today() -> dt.date:
    """The campaign clock (setting ``campaign_today``, else today): what 逾期 is judged on."""
    return context.settings().campaign_today or dt.date.today()


def _download(label: str, build, *, file_name: str, mime: str, key: str, primary: bool = False) -> None:
    st.download_button(label, data=build, file_name=file_name, mime=mime, key=key, icon="📥", on_click="ignore",
                       type="primary" if primary else "secondary")


def reports_list(actor: Actor, records: list[Record], *, filer: bool) -> None:
    """Each report (its filer too when ``filer``) with its 下载 Word (named by its project)."""
    catalog, store = context.catalog(), context.store()
    _, binding, form = archive.source(catalog)
    names = listing.captions(form, records, filer=filer)
    for record in records[:SHOWN]:
        left, right = st.columns([5, 1], vertical_alignment="center")
        left.markdown(plain_text(names[record.id]))  # a project name is what a filer typed: never a link or an image
        _download("下载 Word", lambda r=record: archive.report_file(store, catalog, actor, r.id, today=today())[1],
                  file_name=archive.report_name(binding, record) + archive.DOCX, mime=DOCX_MIME, key=state.archive_report_key(record.id))
    if len(records) > SHOWN:
        st.caption(f"只列出前 {SHOWN} 份；全部报告见汇总压缩包。")


def _said() -> None:
    said = st.session_state.pop(state.ARCHIVE_OUTCOME, None)
    if said:
        (st.success if said["kind"] == "success" else st.error)(said["text"])


def _seen(rev: int) -> None:
    """撤回's click: the revision of the confirmation the page showed (bound when the button was drawn)."""
    st.session_state[state.ARCHIVE_SEEN] = rev


def _act(actor: Actor, city: str, forwarding: bool) -> None:
    """确认已报送 (``forwarding``) or 撤回 of the confirmation the page showed, then rerun so the state
    shows; a refusal stays on the page."""
    catalog, store = context.catalog(), context.store()
    try:
        if forwarding:
            archive.forward(store, catalog, actor, city, note=st.session_state.get(state.ARCHIVE_NOTE, ""), today=today())
        else:
            archive.recall(store, catalog, actor, city, today=today(), base_rev=st.session_state.pop(state.ARCHIVE_SEEN, None))
    except AppError as exc:
        st.error(str(exc))
        return
    st.session_state[state.ARCHIVE_OUTCOME] = {"kind": "success", "text": "已确认报送。" if forwarding else "撤回成功：本市报告汇总重新计为未报送。"}
    st.rerun()


def forwarding_box(actor: Actor, city: str) -> None:
    """The city's forwarding: its state, and 确认已报送 (with a note) or 撤回报送确认 up to the deadline."""
    catalog = context.catalog()
    province = catalog.campaign.roles.get(PROVINCE, PROVINCE)
    due = archive.deadline(catalog)
    _said()
    (mine,) = [f for f in archive.forwardings(context.store(), catalog, actor, today()) if f.city == city] or [None]
    if mine is None:
        return
    if mine.sent:
        note = f"（备注：{mine.note}）" if mine.note else ""
        late = "（逾期报送）" if mine.state == archive.LATE else ""
        st.success(plain_text(f"已于 {text(mine.at)} 由账号 {mine.by} 确认报送{province}{late}{note}。"))
        if mine.changed:
            st.warning(f"确认后有 {mine.changed} 份报告变更（新增、修改或撤回），{province}已收到的压缩包不含这些变更："
                       "请重新下载并报送" + ("，或撤回确认后重新确认。" if today() <= due else "。"))
        if today() <= due and can(actor, ARCHIVE_FORWARD, row={"city": city}):
            st.caption(f"截止日期 {text(due)} 前可撤回确认（例如还有报告要补充），之后不能撤回。")
            if st.button("撤回报送确认", key=state.ARCHIVE_RECALL, on_click=errors.guarded(_seen), args=(mine.record.rev,)):
                _act(actor, city, False)
        return
    (st.error if mine.state == archive.OVERDUE else st.info)(f"本市报告汇总{mine.state}（截止日期 {text(due)}）。")
    if can(actor, ARCHIVE_FORWARD, row={"city": city}):
        st.text_input("备注（可不填）", max_chars=archive.MAX_NOTE, key=state.ARCHIVE_NOTE,
                      placeholder="如：经政务邮箱报送", help="确认前请先下载本市汇总压缩包并报送；确认记入审计日志。")
        if st.button(f"确认已报送{province}", key=state.ARCHIVE_FORWARD, type="primary"):
            _act(actor, city, True)


def city_section(actor: Actor) -> None:
    """A city bureau's page: its city's filed reports, the zip, the forwarding."""
    catalog, store = context.catalog(), context.store()
    city = actor.city
    records = archive.city_reports(store, catalog, actor, city)
    st.subheader(f"{city}：已填报的报告（{len(records)} 份）")
    _download("下载本市汇总压缩包", lambda: archive.archive_zip(store, catalog, actor, city, today=today())[1],
              file_name=archive.zip_name(catalog, city), mime=ZIP_MIME, key=state.ARCHIVE_ZIP, primary=True)
    st.caption("压缩包内每份报告一个 Word 文档（以项目名称命名），另附一份汇总表（Excel）。")
    forwarding_box(actor, city)
    if records:
        reports_list(actor, records, filer=True)
    else:
        st.info("本市还没有填报的报告。")


def own_section(actor: Actor) -> None:
    """The filer's page: its own reports (every status), each as Word."""
    records = archive.own_reports(context.store(), context.catalog(), actor)
    _, _, form = archive.source(context.catalog())
    st.subheader(f"本单位的{form.short_title}（{len(records)} 份）")
    if records:
        st.caption("每份报告可下载为 Word 文档（按报告提纲的章节排版），用于存档或盖章报送。")
        reports_list(actor, records, filer=False)
    else:
        st.info("本单位还没有填报报告。")


def province_section(actor: Actor) -> None:
    """The province's page: every city's forwarding and report count, each city's zip, all in one."""
    catalog, store = context.catalog(), context.store()
    table = archive.overview(store, catalog, actor, today())
    st.caption(f"截止日期 {text(archive.deadline(catalog))}；按活动时钟 {text(today())} 判断是否逾期。"
               f"「{archive.CHANGED}」是地市确认报送后又新增、修改或撤回的报告数。")
    locale.table(table, hide_index=True, width="stretch")
    unplaced = archive.unplaced_reports(store, catalog, actor)
    if unplaced:
        st.warning(f"另有 {len(unplaced)} 份已填报的报告所填地市不是本次检查活动的地市（例如地市名称已更改），"
                   f"不计入上表；已放入全部地市汇总压缩包的「{archive.NO_CITY}」文件夹，请核对。")
    _download("下载全部地市汇总压缩包", lambda: archive.all_archives_zip(store, catalog, actor, today=today())[1],
              file_name=archive.zip_name(catalog, archive.ALL_CITIES), mime=ZIP_MIME, key=state.ARCHIVE_ALL, primary=True)
    st.caption("全部地市压缩包内每个地市一个文件夹，内容与该市的汇总压缩包相同。")
    st.markdown("**各地市汇总压缩包**")
    columns = st.columns(4)
    for n, row in enumerate(table.itertuples(index=False)):
        city, count = row[0], row[1]
        with columns[n % 4]:
            _download(f"{city}（{count} 份）", lambda c=city: archive.archive_zip(store, catalog, actor, c, today=today())[1],
                      file_name=archive.zip_name(catalog, city), mime=ZIP_MIME, key=state.archive_city_key(city))
