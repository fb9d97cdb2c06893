"""The downloads of a form's rows in its attachment's layout (``lib.office.official``): a filer's own
(我的填报's 导出（附件格式）) and a reviewer's, a sheet per city (审核's 按地市导出（附件格式）)."""

from __future__ import annotations

import streamlit as st

from lib.auth.scope import visible_records
from lib.core.records import Actor, Record
from lib.core.statuses import FILED
from lib.forms import CampaignSpec, FormSpec
from lib.office import official
from lib.store.base import Store
from lib.ui import context, state
from lib.ui.rows import xlsx_download
from lib.ui.todo import campaign_today

#: What an official export leaves out, said beside its button.
_FILED_ONLY = f"只含已报送的记录（{'、'.join(FILED)}），其余状态的记录不导出"


def own_button(form: FormSpec, campaign: CampaignSpec, actor: Actor, records: list[Record]) -> None:
    """导出（附件格式）: the filer's filed rows of ``records`` (its own, as 我的填报 lists them) on one sheet."""
    who, today = official.reporter(actor, campaign), campaign_today()
    count = len(official.filed(records))
    xlsx_download("导出（附件格式）", lambda: official.own_xlsx(form, campaign, records, filer=who, made_on=today),
                  file_name=official.file_name(form, who, today), key=state.MINE_OFFICIAL_EXPORT, disabled=not count)
    st.caption(f"按附件表样导出 {count} 条，可打印、盖章后报送；{_FILED_ONLY}。")


def by_city_button(store: Store, form: FormSpec, campaign: CampaignSpec, actor: Actor) -> None:
    """按地市导出（附件格式）: every filed row of ``form`` the reviewer may read, a sheet per city. The
    rows are read when the button is clicked, not on every run of the page."""
    who, today = official.reporter(actor, campaign), campaign_today()
    assignments = context.assignments(actor)

    def workbook() -> bytes:
        return official.by_city_xlsx(form, campaign, visible_records(store, actor, form, assignments=assignments),
                                     filer=who, made_on=today)

    xlsx_download("按地市导出（附件格式）", workbook, file_name=official.file_name(form, who, today), key=state.REVIEW_OFFICIAL_EXPORT)
    st.caption(f"每个有记录的地市一个工作表，按表样排版，可打印、盖章后报送；{_FILED_ONLY}。")
