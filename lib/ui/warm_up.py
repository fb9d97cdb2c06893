"""The background warm-up a server does once its store opens (app.py gives it to ``lib.ui.context.warm_up_with``):
the first open of 进度看板 and of 审计日志 after a start would otherwise build their shared tables while a
person waits (issue 17)."""

from __future__ import annotations

import time

from streamlit.logger import get_logger

# board_live: the board page's modules load with this one (app.py imports it: the process's first script run,
# once) and not at the board's first open, which paid for them (altair, 0.2 s) while a person waited once the
# home page no longer imported the panels. Here, not in the warm-up thread: an import racing the script
# thread's may meet a module half initialised.
from lib.ui import audit_log, board_data, board_live, context  # noqa: F401 (board_live: above)

log = get_logger(__name__)


def warm_up() -> None:
    """Build what the first open of 进度看板 and of 审计日志 after a server start would otherwise build
    while a person waits (the board's figures from every row, the trail's table from every entry: seconds
    of CPU at 100,000 rows, issue 17). The pages share these through their caches, so a page opened
    meanwhile waits for the build under way rather than doing it twice. One pass, each part on its own:
    a part that fails is logged and left to the page's own open, never raised."""
    parts = {"进度看板": board_data.warm, "审计日志": lambda: audit_log.warm(context.store(), list(context.catalog().forms()))}
    for name, build in parts.items():
        start = time.thread_time()
        try:
            build()
        except Exception:  # an optimisation only: the page builds it on its first open and shows any error
            log.exception("预热%s失败，将在首次打开该页面时生成", name)
        else:
            log.info("已预热%s（%.1f CPU 秒）", name, time.thread_time() - start)
