"""Every session_state key the app uses, in one place. Store ids and plain values, never objects."""

from __future__ import annotations

SESSION = "auth:session"  # the signed-in session's token (lib.auth.sessions); the account is read from it each run
SIGN_IN_NOTICE = "auth:notice"  # a message for the sign-in page (session expired, signed out, SSO refused)
CLEAR_COOKIE = "auth:clear_cookie"  # after sign-out: tell the browser to drop the session cookie
SSO_LOGGED = "auth:sso_logged"  # the single sign-on of this session is in the audit trail already
SIGN_IN_ACCOUNT = "signin:account"  # widget keys of the sign-in form
SIGN_IN_PASSWORD = "signin:password"
FLASH = "flash"  # a message to show once on the next run: (kind, text)


FILL_PREFIX = "fill:"  # every key of the fill page starts with it
FILL_ACCOUNT = "fill:account"  # the account the fill page's keys belong to


def field_key(form_id: str, key: str) -> str:
    """The widget key of a top-level field of a form on the fill page."""
    return f"fill:{form_id}:{key}"


def table_data_key(form_id: str, key: str) -> str:
    """Prefix of the widget keys of a table's rows: ``<prefix>:<row>:<sub-field key>``."""
    return f"fill:{form_id}:{key}:rows"


def table_count_key(form_id: str, key: str) -> str:
    """How many rows a table shows on the fill page."""
    return f"fill:{form_id}:{key}:count"


def editing_key(form_id: str) -> str:
    """{"id", "rev", "status"} of the row being edited on the fill page, or absent for a new row."""
    return f"fill:{form_id}:editing"


def outcome_key(form_id: str) -> str:
    """The outcome of the last action on the fill page (lib.ui.fill_outcome.Outcome as a dict),
    shown at the buttons until the next action."""
    return f"fill:{form_id}:outcome"


def receipt_key(form_id: str) -> str:
    """The receipt of the last successful submission ({'id', 'rev', 'status', 'time', 'pending'}),
    shown instead of the form until the filler chooses what comes next."""
    return f"fill:{form_id}:receipt"


def submitted_key(form_id: str) -> str:
    """Ids of the rows this session submitted: the address alone (the browser's back button) does not
    open them again (lib.ui.fill); one opened deliberately is shown with a note saying so."""
    return f"fill:{form_id}:submitted"


def token_key(form_id: str) -> str:
    """A counter that changes when the form on screen stops being the one a button was drawn for
    (after a submission): a second click of 提交 carries the old value and is ignored."""
    return f"fill:{form_id}:token"


def baseline_key(form_id: str) -> str:
    """A fingerprint of the answers as last loaded or saved: different answers are unsaved input."""
    return f"fill:{form_id}:baseline"


def load_warnings_key(form_id: str) -> str:
    """{field key: message} for stored values the widgets cannot show (shown blank, with the message)."""
    return f"fill:{form_id}:load_warnings"


def open_key(form_id: str) -> str:
    """The row id a deliberate act asked the fill page to open (我的填报's 打开修改): the address
    alone does not open a submitted row (lib.ui.fill)."""
    return f"fill:{form_id}:open"


def offer_key(form_id: str) -> str:
    """{'id', 'status', 'nonce'} of a row the address named and the fill page did not open: shown as
    a note with 打开修改 and 新建下一条 until the filler acts."""
    return f"fill:{form_id}:offer"
