"""报告汇总: the reports as Word and the city's archive (lib.ui.archive over lib.campaign.archive): the filer
its own reports, a city bureau its city's with the zip and 确认已报送, the province every city's."""

import streamlit as st

from lib.auth.policy import ARCHIVE, ARCHIVE_FORWARD, can
from lib.core.errors import AppError
from lib.ui import archive, page

actor, catalog, store = page.start()

st.title("报告汇总")
if catalog.campaign.office.archive is None:
    st.info("本次检查活动没有需要汇总报送的报告。")
    st.stop()
try:
    if can(actor, ARCHIVE_FORWARD):  # a city bureau: its own city's archive
        archive.city_section(actor)
    elif can(actor, ARCHIVE):  # every city's
        archive.province_section(actor)
    else:
        archive.own_section(actor)
except AppError as exc:
    st.error(str(exc))
