"""Running a page so that a person never sees a traceback.

A typed error of ours (``lib.core.errors.AppError``: the store unavailable, a refused access, ...) that
a page did not handle itself is shown as its Chinese message and logged with its code. Any other
exception in a page becomes one Chinese message with an error id; the traceback goes to the server
log under that id, so whoever the person calls can find it. Streamlit's own
control flow (``st.stop``, ``st.rerun``, ``st.switch_page``) travels as exceptions too and is let
through untouched. ``.streamlit/config.toml`` sets ``client.showErrorDetails = "none"`` for
whatever escapes this (an error in ``app.py`` itself); development turns details back on with
``STREAMLIT_CLIENT_SHOW_ERROR_DETAILS=full``.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from typing import Any

import streamlit as st
from streamlit.logger import get_logger
from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException

from lib.core.errors import AppError
from lib.forms import FormDefinitionError

log = get_logger(__name__)

MESSAGE = "系统出现意外错误，请稍后重试。如需协助请提供错误编号 {error_id}。"


def new_error_id() -> str:
    """A short id a person can read out on the phone: 8 hexadecimal capitals."""
    return secrets.token_hex(4).upper()


def run_page(navigation) -> None:
    """``navigation.run()`` (the page ``st.navigation`` chose); an unexpected exception is shown as
    MESSAGE and logged with its traceback and id."""
    guarded(navigation.run, getattr(navigation, "title", ""))()


def guarded(func: Callable[..., Any], where: str = "") -> Callable[..., Any]:
    """``func`` with the same handling as a page, for code that runs outside ``run_page``:

    - every widget callback: Streamlit runs ``on_click`` / ``on_change`` before the page script, so
      outside ``run_page``; each one in the app is registered as ``on_click=errors.guarded(func)``
      (tests/ui/test_errors.py checks that none is left bare). The message drawn in a callback
      appears at the top of the page;
    - a fragment's own reruns (the board's watcher, asked for by its clock) call the fragment alone:
      apply it under ``st.fragment``."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ScriptControlException:  # st.stop / st.rerun / st.switch_page: Streamlit's, not an error
            raise
        except FormDefinitionError as exc:  # a broken form or campaign file: say what is broken, in Chinese
            log.warning("表单定义不可用（%s）：%s", where or getattr(func, "__qualname__", ""), exc)
            st.error("\n\n".join(f"- {p}" for p in exc.problems))
            return None
        except AppError as exc:  # its message is written for the person; the code is for whoever reads the log
            log.warning("操作未完成（%s，代码 %s）：%s", where or getattr(func, "__qualname__", ""), exc.code, exc)
            st.error(str(exc))
            return None
        except Exception as exc:
            error_id = new_error_id()
            log.error("未预期的错误，错误编号 %s（%s）", error_id, where or getattr(func, "__qualname__", ""), exc_info=exc)
            st.error(MESSAGE.format(error_id=error_id))
            return None

    return run
