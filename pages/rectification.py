"""全面整改: the lists the office works from (问题清单, 任务清单, 责任清单, 逾期事项, 待我办理), one item with its
checklist and the actions its viewer may take, and the province's generation and manual items
(lib.ui.rectification and lib.ui.rectification_item over lib.rectification)."""

import streamlit as st

from lib.auth.policy import RECTIFY_READ, can
from lib.core.errors import AppError
from lib.rectification.lists import items_for
from lib.ui import outcomes, page, rectification, rectification_item

actor, catalog, store = page.start()

st.title("全面整改")
if not can(actor, RECTIFY_READ):  # the policy's word: an inspector has no rectification item
    st.warning("您的账号没有可查看的整改事项。")
    st.stop()
declared = rectification.section()
if declared is None:
    st.stop()
rectification.generate_section(actor)
rectification.add_section(actor, declared)
rectification.follow_link()
narrowing = rectification.narrowing(declared, actor)
try:
    items = items_for(store, actor, narrowing)
except AppError as exc:
    st.error(str(exc))
    st.stop()
rectification.lists_section(items, actor)

st.subheader("整改事项")
item = rectification_item.pick(actor, items)
if item is None:
    st.info("没有符合筛选条件的整改事项。")
else:
    rectification_item.show(actor, item, declared)

outcomes.render(actor)  # 成果清单 (issue 14 outcome 5): the province's
