"""随机抽查: the province freezes the sampling frame, draws the sample with a published or generated seed,
redraws with a reason and checks a draw (lib.ui.sampling over lib.sampling; the method: docs/sampling.md)."""

import streamlit as st

from lib.auth.policy import IMPORT, can
from lib.ui import page, sampling
from lib.ui.register import importers

actor, _, _ = page.start()

st.title("随机抽查")
if not can(actor, IMPORT):  # the policy's word: freezing and drawing are the province's, like the registers
    st.warning(f"只有{importers()}可以冻结抽样框和抽取样本。")
    st.stop()
frozen = sampling.frame_section(actor)
sampling.draw_section(actor, frozen)
sampling.verify_section()
