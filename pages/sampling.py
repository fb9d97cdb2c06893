"""随机抽查: the province freezes the sampling frame, draws the sample with a published or generated seed,
redraws with a reason, draws the inspector groups and checks a draw (lib.ui.sampling over lib.sampling; the method: docs/sampling.md)."""

import streamlit as st

from lib.auth.policy import SAMPLE, can
from lib.ui import page, sampling

actor, _, _ = page.start()

st.title("随机抽查")
if not can(actor, SAMPLE):  # the policy's word: freezing and drawing are the province's
    st.warning(f"只有{sampling.samplers()}可以冻结抽样框和抽取样本。")
    st.stop()
frozen = sampling.frame_section(actor)
sampling.draw_section(actor, frozen)
sampling.inspectors_section(actor)
sampling.verify_section()
