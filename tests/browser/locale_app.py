"""A page with the widgets whose own words Streamlit writes in English, after ``locale.apply()``
(served by tests/browser/test_locale.py)."""

import datetime as dt

import pandas as pd
import streamlit as st

from lib.ui import locale

locale.apply()
day = st.date_input("截至日期", value=dt.date(2020, 9, 25), format="YYYY-MM-DD")
st.markdown(f"选定日期：{day:%Y-%m-%d}")
st.file_uploader("上传台账（.xlsx）", type=["xlsx"])
st.multiselect("地市", ["广州", "佛山", "东莞"])
st.selectbox("表单", ["附件1", "附件3"], index=None)
locale.table(pd.DataFrame({"地市": ["广州", None], "完成率（%）": [90.9, None]}), hide_index=True)
locale.table(pd.DataFrame({"地市": []}))
st.markdown("页面结束")
