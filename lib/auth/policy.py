"""Who may do what to which row: ``can`` decides, ``authorize`` enforces (and audits a refusal).

Every read and write of form rows goes through these two (``lib.submissions``, ``lib.review``,
``lib.audit``, ``lib.auth.scope``). Per form, the YAML says who fills it (``filled_by``) and who
reviews it (``reviewed_by``); a row's city is the value of the form's first field of type ``city``
(附件1: the client firm's city, not the provider's), else the city of the account that filed it.

Roles: province (all rows of every form; reviews what its forms name it for), admin (reads all for
audit; manages accounts; fills and reviews nothing), inspector (reads all, read-only, until the
sampling assigns it items), city (rows of its own city; fills and reviews as its forms say),
provider / lead_unit (rows of its own organisation, of the forms it fills).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lib.forms import FormSpec
from lib.store.base import Actor, Record, Store

from .errors import Forbidden

READ = "read"  # see a row (row None: see any row of the form)
CREATE = "create"  # file a new row (row: its values, when known)
EDIT = "edit"  # a filler's change: draft, correct, resubmit, withdraw
REVIEW = "review"  # approve or return a row
AUDIT = "audit"  # read the audit trail
ADMIN = "admin"  # manage accounts
IMPORT = "import"  # import the subsidy registers

ACTION_NAMES = {READ: "查看", CREATE: "填报", EDIT: "修改", REVIEW: "审核", AUDIT: "查看审计日志", ADMIN: "管理账号", IMPORT: "导入台账"}
DENIED = "拒绝访问"

SEE_ALL = ("province", "admin", "inspector")
ORG_ROLES = ("provider", "lead_unit")


def city_field(form: FormSpec) -> str | None:
    """Key of the field that places a row in a city (the first field of type city), if any."""
    return next((f.key for f in form.all_fields() if f.type == "city"), None)


def row_city(form: FormSpec, row: Record | Mapping[str, Any]) -> str:
    """The city a row belongs to (see the module docstring)."""
    values = row.values if isinstance(row, Record) else row
    key = city_field(form)
    if key and values.get(key):
        return str(values[key])
    return row.city if isinstance(row, Record) else ""


def _own(user: Actor, row: Record) -> bool:
    return row.owner == user.account or (bool(user.org) and row.org == user.org)


def _in_scope(user: Actor, form: FormSpec, row: Record) -> bool:
    """Whether the row lies inside the user's part of the data (ignoring what the user may do)."""
    if user.role in SEE_ALL:
        return True
    if user.role == "city":
        return bool(user.city) and row_city(form, row) == user.city
    if user.role in ORG_ROLES:
        return _own(user, row)
    return False


def _reads_form(user: Actor, form: FormSpec) -> bool:
    if user.role in SEE_ALL:
        return True
    if user.role in (form.filled_by, form.reviewed_by):
        return True
    # a city bureau sees its city's rows of every form that places rows in cities (附件1 included)
    return user.role == "city" and city_field(form) is not None


def can(user: Actor, action: str, form: FormSpec | None = None, row: Record | Mapping[str, Any] | None = None) -> bool:
    """Whether ``user`` may do ``action`` (to ``row`` of ``form``). Pure; see the module docstring.

    >>> from lib.forms import load_catalog
    >>> att1 = load_catalog("forms").form("att1")
    >>> gz = Actor("city_gz", "city", "广州市工业和信息化局", "广州")
    >>> can(gz, READ, att1), can(gz, CREATE, att1), can(gz, AUDIT)
    (True, False, False)
    """
    if action == AUDIT:
        return user.role in ("province", "admin")
    if action == ADMIN:
        return user.role == "admin"
    if action == IMPORT:
        return user.role in ("province", "admin")
    if form is None:
        return False
    if action == READ:
        if not _reads_form(user, form):
            return False
        return row is None or (isinstance(row, Record) and _in_scope(user, form, row))
    if action == CREATE:
        if user.role != form.filled_by:
            return False
        if user.role == "city" and row is not None and city_field(form):
            return row_city(form, row) in ("", user.city)
        return True
    if action == EDIT:
        if user.role != form.filled_by:
            return False
        return row is None or (isinstance(row, Record) and _in_scope(user, form, row))
    if action == REVIEW:
        if not form.reviewed_by or user.role != form.reviewed_by:
            return False
        return row is None or (isinstance(row, Record) and _in_scope(user, form, row))
    return False


def _refusal(user: Actor, action: str, form: FormSpec | None, row) -> str:
    what = ACTION_NAMES.get(action, action)
    if isinstance(row, Record) and form is not None:
        return f"您的账号（{user.account}）无权{what}「{form.short_title}」的记录 {row.id}。"
    if form is not None:
        return f"您的账号（{user.account}）无权{what}「{form.short_title}」。"
    return f"您的账号（{user.account}）无权{what}。"


def authorize(store: Store, user: Actor, action: str, form: FormSpec | None = None, row=None) -> None:
    """Return if ``can(...)``; else audit the refusal (``store.log_event``, action 拒绝访问) and raise
    Forbidden with a Chinese message."""
    if can(user, action, form, row):
        return
    form_id = form.id if form is not None else ""
    row_id = row.id if isinstance(row, Record) else ""
    message = _refusal(user, action, form, row)
    store.log_event(user, DENIED, form_id=form_id, row_id=row_id, note=f"{ACTION_NAMES.get(action, action)}：{message}")
    raise Forbidden(message, action=action, form_id=form_id, row_id=row_id)


#: Pages (keys used by app.py) and who sees them in the navigation.
def page_keys(user: Actor, forms: list[FormSpec]) -> list[str]:
    """The pages ``user``'s navigation shows, in order.

    >>> page_keys(Actor("province", "province"), [])
    ['home', 'board', 'register', 'audit']
    """
    keys = ["home"]
    if any(can(user, CREATE, f) for f in forms):
        keys += ["fill", "my_submissions"]
    if any(can(user, REVIEW, f) for f in forms):
        keys.append("review")
    keys.append("board")
    if can(user, IMPORT):
        keys.append("register")
    if can(user, AUDIT):
        keys.append("audit")
    if can(user, ADMIN):
        keys.append("admin")
    return keys
