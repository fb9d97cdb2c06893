"""Who may do what to which row: ``can`` decides, ``authorize`` enforces (and audits a refusal).

Every read and write of form rows goes through these two (``lib.submissions``, ``lib.review``,
``lib.audit``, ``lib.auth.scope``); the progress board, which reads whole snapshots at once, applies
the same rule through ``reach`` (``Reach.admits`` judges one row or a whole column alike). Per form, the YAML says who fills it (``filled_by``) and who
reviews it (``reviewed_by``); a row's city is the value of the form's first field of type ``city``
(附件1: the client firm's city, not the provider's), else the city of the account that filed it.

Roles (their keys: ``lib.core.roles``; their names: the campaign's ``roles:``): province (all rows of every form; reviews what its forms name it for; alone imports the
registers and alone draws the sample and the inspectors), admin (reads all for audit; manages accounts; fills, reviews and imports nothing), inspector (only what the inspector
draw in force assigns it: the rows placed in its group's city, and of every form the campaign binds with a
``voucher`` meaning — the projects, the checks, the inspections, the complaints — only the rows of the
projects sampled there; nothing without an assignment), city (rows of its own city; fills and reviews as its forms say),
provider / lead_unit (rows of its own organisation, of the forms it fills).

A role that neither fills nor reviews a form (nor reads every row) reads only its filed rows
(``statuses.FILED``), never a draft or a withdrawn row (``reads_unfiled``): the city bureau reads the
inspection group's conclusion once the group files it, not as it is typed. A form may name its other
readers (``read_by`` in its YAML): the forum record, whose opinions name and judge the city bureau, is
read by the group that files it and the province only. An inspector changes a stored row only as one
of the group that filed it (the row is its own, or its filer is in a group with it now): after an
inspector redraw the next group does not rewrite the visit of the last (code ``other_group``).

Rectification items (``lib.rectification``, the RECTIFY_* actions) are no form's rows: an item is read
by the province and the admin, by the city it names (``city``) and by the organisation that acts on it
(``actor_org``) or answers for it (``party``, or its credit code); that organisation alone works on it,
that city alone verifies it, the province alone closes it and opens items and records violations.

The assignment is the sampling's (``lib.sampling.assignments``, a layer above this one): its caller
passes it as an ``Assignments`` to ``can``, ``authorize`` and ``reach`` (``lib.auth.scope`` takes it
too). Where none is passed an inspector is given nothing, so a reader that does not know the
sampling never shows an inspector more than its assignment.

What a filler writes is authorised on the NEW values too (``CREATE`` and ``EDIT`` given a mapping of
answers): a city's row must stay in its city; an inspector's must be placed in one of its group's cities
and, on a form with a voucher, name a project sampled in that very city (codes ``outside_assignment``,
``not_sampled``; ``not_chosen`` while the voucher is blank, a draft too); a field the form declares ``from_account`` (the filer's own name, credit code or city)
must hold the account's value. A row's filer never reviews it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from lib.core.records import Actor, Record
from lib.core.roles import ADMIN as ADMIN_ROLE
from lib.core.roles import CITY, INSPECTOR, ORG_ROLES, PROVINCE
from lib.core.statuses import FILED
from lib.core.text import comparable as comparable_text
from lib.forms import FieldSpec, FormSpec
from lib.forms.types import as_text, quotable
from lib.store.base import Store

from .errors import Forbidden

READ = "read"  # see a row (row None: see any row of the form)
CREATE = "create"  # file a new row (row: its values, when known)
EDIT = "edit"  # a filler's change: draft, correct, resubmit, withdraw
REVIEW = "review"  # approve or return a row
AUDIT = "audit"  # read the audit trail
ADMIN = "admin"  # manage accounts
IMPORT = "import"  # import the subsidy registers
SAMPLE = "sample"  # freeze the sampling frame, draw the projects and the inspectors (抽样)
INSPECTORS = "inspectors"  # keep the inspector pool: home city, organisation, conflicts, health declarations
# Rectification items (``lib.rectification``; ``row``: the item's Record, None: any item). Not form rows:
# an item's city is its ``city`` value, its organisation the one that acts on it (``actor_org``) or answers
# for it (``party``, ``party_code``).
RECTIFY_READ = "rectify_read"  # see an item: province and admin all, a city its city's, an organisation its own
RECTIFY_ACT = "rectify_act"  # the acting organisation's account: tick steps, attach evidence, submit
RECTIFY_VERIFY = "rectify_verify"  # the item's city bureau: accept (通过) or return (退回) what was submitted
RECTIFY_CLOSE = "rectify_close"  # the province: close (销号) a verified item
RECTIFY_GENERATE = "rectify_generate"  # the province: open items from the findings or by hand, record violations
RECTIFY_ACTIONS = (RECTIFY_READ, RECTIFY_ACT, RECTIFY_VERIFY, RECTIFY_CLOSE, RECTIFY_GENERATE)
OUTCOMES = "outcomes"  # the province: read and confirm the outcome lists (标杆培育企业, 优秀服务商 …; remove or add with a reason)
# A city's archive of reports (campaign.yaml office.archive; ``lib.campaign.archive``). ``row``: {"city": the city}, None: any.
ARCHIVE = "archive"  # download a city's archive and read whether it was forwarded: the province every city's, a city bureau its own
ARCHIVE_FORWARD = "archive_forward"  # confirm (or withdraw) one's city's archive as forwarded to the province: its city bureau
# The form designer (lib.designer, issue 16). ``form``: the form served from the file edited (None: campaign.yaml or a
# new file); ``row``: {"city_drafts": the campaign's designer.city_drafts}. Only the province and the admin publish.
DESIGN_READ = "design_read"  # open 表单设计 (definitions, versions, drafts): province, admin; a city where it may draft
DESIGN_DRAFT = "design_draft"  # save or discard a draft: province, admin; a city for a form it fills when city_drafts
DESIGN_PUBLISH = "design_publish"  # publish a version, or republish an earlier one: province, admin
DESIGN_ACTIONS = (DESIGN_READ, DESIGN_DRAFT, DESIGN_PUBLISH)

ACTION_NAMES = {READ: "查看", CREATE: "填报", EDIT: "修改", REVIEW: "审核", AUDIT: "查看审计日志", ADMIN: "管理账号", IMPORT: "导入台账",
                SAMPLE: "抽样", INSPECTORS: "维护检查人员信息", RECTIFY_READ: "查看整改事项", RECTIFY_ACT: "办理整改事项",
                RECTIFY_VERIFY: "核实整改事项", RECTIFY_CLOSE: "销号整改事项", RECTIFY_GENERATE: "生成、新增、改派或撤销整改事项，记录违规处理",
                OUTCOMES: "查看和确认成果清单", ARCHIVE: "下载报告汇总", ARCHIVE_FORWARD: "确认报告汇总已报送",
                DESIGN_READ: "查看表单设计", DESIGN_DRAFT: "保存表单草稿", DESIGN_PUBLISH: "发布表单"}
DENIED = "拒绝访问"

#: Roles that reach every row (a city reaches its city's; ORG_ROLES, their organisation's; an
#: inspector, its assignment's).
SEE_ALL = (PROVINCE, ADMIN_ROLE)


def city_field(form: FormSpec) -> str | None:
    """Key of the field that places a row in a city (the first field of type city), if any."""
    return form.city_field()


def row_city(form: FormSpec, row: Record | Mapping[str, Any]) -> str:
    """The city a row belongs to (see the module docstring)."""
    values = row.values if isinstance(row, Record) else row
    key = city_field(form)
    return place(values.get(key) if key else None, row.city if isinstance(row, Record) else "")


def place(answer: Any, filer_city: str) -> str:
    """The city of a row whose city field holds ``answer`` (None: the form has none, or it is blank)
    and whose filer's account is in ``filer_city``: the answer when there is one, else the filer's city.

    >>> place("佛山", "广州"), place(None, "广州"), place("", "广州")
    ('佛山', '广州', '广州')
    """
    return as_text(answer) if answer else filer_city


def comparable(value: Any) -> str:
    """An answer as text two people would call the same (``lib.core.text.comparable``: width- and
    case-folded, without blanks and the characters nobody sees); "" for no answer.

    >>> comparable("  ９１４４０１０１ma59abcdem ") == comparable("91440101MA59ABCDEM")
    True
    >>> comparable(None), comparable("广州 云智（科技）") == comparable("广州云智(科技)\\u200b\\u200e")
    ('', True)
    """
    if value is None or (isinstance(value, (list, tuple, dict)) and not value):  # by type: numpy scalars refuse ``== []``
        return ""
    return comparable_text(as_text(value))


#: What an account attribute is called when a refusal says what is allowed.
_ATTR_NAMES = {"org": "本单位名称", "org_code": "本单位的统一社会信用代码", "city": "本账号所属地市"}


def account_answers(form: FormSpec, user: Actor) -> dict[str, str]:
    """The answers the account gives itself: ``{field key: value}`` for each field declaring
    ``from_account`` whose attribute the account has (a field the account cannot answer stays free).

    >>> from lib.forms import load_catalog
    >>> shipped = load_catalog("forms")
    >>> checks = shipped.form(shipped.bindings.checks.form)  # the form a city bureau files
    >>> account_answers(checks, Actor("city_gz", "city", "广州市工业和信息化局", "广州"))
    {'city': '广州'}
    """
    return {f.key: str(getattr(user, f.from_account)) for f in form.all_fields()
            if f.from_account and str(getattr(user, f.from_account, "") or "").strip()}


def foreign_answer(form: FormSpec, user: Actor, values: Mapping[str, Any]) -> FieldSpec | None:
    """The first field the account answers whose value in ``values`` is another (not blank, not the
    account's own up to ``comparable``), or None."""
    own = account_answers(form, user)
    for f in form.all_fields():
        if f.key in own and comparable(values.get(f.key)) not in ("", comparable(own[f.key])):
            return f
    return None


def _other_city(user: Actor, form: FormSpec, values: Mapping[str, Any]) -> bool:
    """Whether a city bureau's answers place the row in another city."""
    return user.role == CITY and bool(city_field(form)) and comparable(row_city(form, values)) not in ("", comparable(user.city))


def _values_in_scope(user: Actor, form: FormSpec, values: Mapping[str, Any], assignments: Assignments | None = None) -> bool:
    """Whether answers a filler is writing keep the row inside the filler's scope (an inspector's: its
    assignment, see ``_outside_values`` — its own home city is never one)."""
    if user.role == INSPECTOR and _outside_values(reach(user, assignments), form, values) is not None:
        return False
    return not _other_city(user, form, values) and foreign_answer(form, user, values) is None


def _outside_values(r: Reach, form: FormSpec, values: Mapping[str, Any]) -> str | None:
    """Why an inspector within ``r`` may not write ``values`` into ``form``: ``outside_assignment``
    (the row is placed in a city its group does not inspect), ``not_sampled`` (a form with a voucher:
    the voucher is not one drawn in that very city), ``not_chosen`` (its voucher is blank: a row of no
    project would be outside the group's reach, which reads such a form by voucher, even as a draft —
    the group could not open it again); None when it may. Stricter than reading, which
    follows a sampled voucher wherever its row places itself: an inspection is written where it was
    drawn, so a voucher sampled in another city is not made this group's by typing this city."""
    city = row_city(form, values)
    if not r.admits(city, "", ""):
        return "outside_assignment"
    if r.narrows(form.id):
        voucher = comparable(values.get(r.voucher_key(form.id)))
        if voucher == "":  # a draft saved before the project is picked names none: told so, not "None"
            return "not_chosen"
        if voucher not in r.sampled_in(city):
            return "not_sampled"
    return None


@dataclass(frozen=True)
class Assignments:
    """Where the inspector draw in force sends each inspector, as the policy reads it (made by
    ``lib.sampling.assignments.assignments_in_force``): ``cities`` account -> the cities its groups go
    to; ``sampled`` city -> the vouchers drawn there (as ``comparable`` writes them); ``voucher_keys``
    form id -> the key of its voucher field, for every form the campaign binds with a ``voucher``
    meaning (an inspector reads only the sampled projects' rows of these); ``members`` city -> the
    names of the group sent there (what an inspection record's members start from).
    ``Assignments()``: none in force.

    >>> a = Assignments({"i1": ("甲",)}, {"甲": frozenset({"V1"})}, {"p": "no"})
    >>> a.cities_of("i1"), a.cities_of("i2"), sorted(a.vouchers(("甲", "乙")))
    (('甲',), (), ['V1'])
    """

    cities: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    sampled: Mapping[str, frozenset[str]] = field(default_factory=dict)
    voucher_keys: Mapping[str, str] = field(default_factory=dict)
    members: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def cities_of(self, account: str) -> tuple[str, ...]:
        return tuple(self.cities.get(account, ()))

    def vouchers(self, cities: tuple[str, ...]) -> frozenset[str]:
        """The vouchers sampled in any of ``cities`` (one city, the usual case: its set, not a copy, as
        ``can`` asks this once per row)."""
        if len(cities) == 1:
            return frozenset(self.sampled.get(cities[0], frozenset()))
        return frozenset().union(*(self.sampled.get(c, frozenset()) for c in cities))

    def members_of(self, account: str) -> tuple[str, ...]:
        """The names of the groups ``account`` belongs to, each once, in the group's order."""
        return tuple(dict.fromkeys(name for city in self.cities_of(account) for name in self.members.get(city, ())))


@dataclass(frozen=True)
class Reach:
    """The part of the rows a role reaches, whatever the form: ``how`` is ``all``, ``city`` (rows placed
    in ``city``), ``cities`` (an inspector's: rows placed in one of ``cities``), ``own`` (rows ``account``
    filed, or filed for ``org``) or ``none``.

    An inspector's reach is narrower on the forms with a voucher (``voucher_keys``: pairs of form id and
    the key of its voucher field, in the order of the campaign's kinds: the projects form first): there it is the rows whose voucher is one of ``vouchers``, the
    projects sampled in its cities (``sampled``: pairs of city and the vouchers drawn there), wherever
    the row places itself; ``admits_project`` judges that, ``admits`` the other forms. Tuples, not
    dicts: a reach is part of the board's cache key."""

    how: str = "none"
    city: str = ""
    account: str = ""
    org: str = ""
    cities: tuple[str, ...] = ()
    voucher_keys: tuple[tuple[str, str], ...] = ()
    sampled: tuple[tuple[str, frozenset[str]], ...] = ()
    vouchers: frozenset[str] = frozenset()

    def admits(self, city, owner, org):
        """Whether a row placed in ``city`` (``row_city``), filed by account ``owner`` for organisation
        ``org`` lies in this reach. Written with ``==``, ``&`` and ``|`` only, so the one rule judges one
        row (str values: a bool) or whole columns at once (pandas Series or numpy arrays: an array of
        bool; ``all`` and ``none`` give a plain True / False for the caller to broadcast).

        >>> Reach("own", account="p1", org="甲").admits("广州", "p2", "甲"), Reach("city", city="").admits("", "p1", "")
        (True, False)
        """
        if self.how == "all":
            return True
        if self.how == "city":
            return (city == self.city) & (self.city != "")
        if self.how == "cities":
            found = False
            for one in self.cities:
                found = found | ((city == one) & (one != ""))
            return found
        if self.how == "own":
            return (owner == self.account) | ((org == self.org) & (self.org != ""))
        return False

    def narrows(self, form_id: str) -> bool:
        """Whether rows of ``form_id`` are judged by ``admits_project`` instead of ``admits``."""
        return self.how == "cities" and any(form_id == one for one, _ in self.voucher_keys)

    def voucher_key(self, form_id: str) -> str:
        """The key of ``form_id``'s voucher field ("" for a form this reach does not narrow)."""
        return next((key for one, key in self.voucher_keys if one == form_id), "")

    def sampled_in(self, city: str) -> frozenset[str]:
        """The vouchers drawn in ``city`` (none for a city this reach does not go to)."""
        return next((vouchers for one, vouchers in self.sampled if one == city), frozenset())

    def admits_voucher(self, voucher: Any) -> bool:
        """Whether ``voucher`` (as written anywhere: compared as ``comparable``) is one of the sampled projects.

        >>> r = Reach("cities", cities=("甲",), voucher_keys=(("p", "no"),), vouchers=frozenset({comparable("V-1")}))
        >>> r.admits_voucher(" v－1 "), r.admits_voucher("V-2"), r.narrows("p"), r.narrows("q")
        (True, False, True, False)
        """
        return comparable(voucher) in self.vouchers

    def admits_project(self, values: Mapping[str, Any], form_id: str) -> bool:
        """Whether a row of ``form_id`` (a form this reach narrows) holding ``values`` is about one of
        the sampled projects."""
        return self.admits_voucher(values.get(self.voucher_key(form_id)))


def reach(user: Actor, assignments: Assignments | None = None) -> Reach:
    """The rows ``user``'s role reaches (see the module docstring); what it may do to them is ``can``'s.
    An inspector reaches nothing unless ``assignments`` sends it somewhere.

    >>> reach(Actor("city_gz", "city", "广州市工业和信息化局", "广州")).city
    '广州'
    >>> inspector = Actor("i1", "inspector", "检查单位", "乙")
    >>> reach(inspector).how, reach(inspector, Assignments({"i1": ("甲",)}, {"甲": frozenset({"V1"})}, {"p": "no"})).cities
    ('none', ('甲',))
    """
    if user.role in SEE_ALL:
        return Reach("all")
    if user.role == CITY:
        return Reach("city", city=user.city)
    if user.role in ORG_ROLES:
        return Reach("own", account=user.account, org=user.org)
    if user.role == INSPECTOR and assignments is not None and assignments.cities_of(user.account):
        cities = assignments.cities_of(user.account)
        return Reach("cities", cities=cities, voucher_keys=tuple(assignments.voucher_keys.items()),
                     sampled=tuple((c, frozenset(assignments.sampled.get(c, frozenset()))) for c in cities),
                     vouchers=assignments.vouchers(cities))
    return Reach()


def narrowing(user: Actor, form: FormSpec | None, assignments: Assignments | None = None) -> dict[str, tuple[str, ...]] | None:
    """Where the rows of ``form`` that ``user`` reaches lie, as ``Store.records_where`` asks it (a key, the
    values): None when the reach is every row. Wider, never narrower, than ``_in_scope``, which still
    judges each row found: the store compares values folded as ``comparable`` (the policy compares the
    filer's account, organisation and city exactly), and a city bureau's rows are those its city field
    names or, the answer blank, those its accounts filed (``row_city``) — so the rows found are the
    rows filed by accounts of the city and the rows whose city answer is the city, whoever filed them.

    >>> narrowing(Actor("p1", "provider", "甲"), None), narrowing(Actor("c", "city", "", "广州"), None)
    ({'_owner': ('p1',), '_org': ('甲',)}, {'_city': ('广州',)})
    """
    r = reach(user, assignments)
    if r.how == "all":
        return None
    if r.how == "own":
        return {"_owner": (r.account,), **({"_org": (r.org,)} if r.org else {})}
    if r.how in ("city", "cities"):
        if r.how == "cities" and form is not None and r.narrows(form.id):
            return {r.voucher_key(form.id): tuple(r.vouchers)}
        cities = tuple(c for c in ((r.city,) if r.how == "city" else r.cities) if c)
        key = city_field(form) if form is not None else None
        return {"_city": cities, **({key: cities} if key else {})}
    return {}


def _own(user: Actor, row: Record) -> bool:
    return bool(Reach("own", account=user.account, org=user.org).admits("", row.owner, row.org))


def _in_scope(user: Actor, form: FormSpec, row: Record, assignments: Assignments | None = None) -> bool:
    """Whether the row lies inside the user's part of the data (ignoring what the user may do)."""
    r = reach(user, assignments)
    if r.narrows(form.id):
        return r.admits_project(row.values, form.id)
    return bool(r.admits(row_city(form, row), row.owner, row.org))


def _group_of_filer(user: Actor, row: Record, assignments: Assignments | None) -> bool:
    """Whether an inspector may change ``row`` as one of the group that filed it: the row is its own, or
    its filer is in a group with it now (both sent to one city). A record is the visit of the group that
    made it: after an inspector redraw the group sent to that city next did not see the site and may not
    rewrite what the last one found (attack M10). Other roles: always (their scope is ``_in_scope``'s)."""
    if user.role != INSPECTOR or row.owner == user.account:
        return True
    if assignments is None:
        return False
    return bool(set(assignments.cities_of(user.account)) & set(assignments.cities_of(row.owner)))


def _reads_form(user: Actor, form: FormSpec, assignments: Assignments | None) -> bool:
    if user.role in SEE_ALL:
        return True
    if user.role == INSPECTOR and reach(user, assignments).how == "none":  # without an assignment: no form
        return False
    if user.role in (form.filled_by, form.reviewed_by):
        return True
    if form.read_by is not None:  # the form names its other readers (the forum: the province only)
        return user.role in form.read_by
    if user.role == INSPECTOR:  # every form, within its assignment
        return True
    # a city bureau sees its city's rows of every form that places rows in cities (附件1 included)
    return user.role == CITY and city_field(form) is not None


def reads_unfiled(user: Actor, form: FormSpec) -> bool:
    """Whether ``user`` reads the rows of ``form`` not filed (a 草稿, an 已撤回 row), as well as the
    filed ones: the roles that read every row, the form's filling role and its reviewing role. Any other
    reader (a city bureau of 附件1 or of the inspection record, an inspector of the projects) reads the
    filed rows only (``statuses.FILED``): a draft is its filer's scratch, not yet a finding or a report —
    the city bureau under inspection does not read the group's tentative conclusion as it is typed.

    >>> from lib.forms import load_catalog
    >>> shipped = load_catalog("forms")
    >>> projects = shipped.form(shipped.bindings.projects.form)  # the form the providers file
    >>> [reads_unfiled(Actor("a", role), projects) for role in ("province", "provider", "city")]
    [True, True, False]
    """
    return user.role in SEE_ALL or user.role in (form.filled_by, form.reviewed_by)


def can(user: Actor, action: str, form: FormSpec | None = None, row: Record | Mapping[str, Any] | None = None,
        assignments: Assignments | None = None) -> bool:
    """Whether ``user`` may do ``action`` (to ``row`` of ``form``), an inspector within ``assignments``
    (None: it has none). Pure; see the module docstring.

    >>> from lib.forms import load_catalog
    >>> shipped = load_catalog("forms")
    >>> projects = shipped.form(shipped.bindings.projects.form)
    >>> gz = Actor("city_gz", "city", "广州市工业和信息化局", "广州")
    >>> can(gz, READ, projects), can(gz, CREATE, projects), can(gz, AUDIT)
    (True, False, False)
    >>> checks = shipped.form(shipped.bindings.checks.form)  # new values are judged too: a city files its own city
    >>> can(gz, CREATE, checks, {"city": "广州"}), can(gz, EDIT, checks, {"city": "佛山"})
    (True, False)
    """
    if action == AUDIT:
        return user.role in (PROVINCE, ADMIN_ROLE)
    if action == ADMIN:
        return user.role == ADMIN_ROLE
    if action == IMPORT:  # the registers are the province's: whoever imports them decides what must be filed
        return user.role == PROVINCE
    if action == OUTCOMES:  # the lists the province publishes: it alone decides who is on them
        return user.role == PROVINCE
    if action == SAMPLE:  # the notice gives the province the draw (双随机一公开), like the registers it draws from
        return user.role == PROVINCE
    if action == INSPECTORS:  # the province keeps the pool it draws from; the admin keeps every account
        return user.role in (PROVINCE, ADMIN_ROLE)
    if action in RECTIFY_ACTIONS:
        return _rectify(user, action, row)
    if action in DESIGN_ACTIONS:
        return _design(user, action, form, row)
    if action in (ARCHIVE, ARCHIVE_FORWARD):  # the province reads every city's; a city bureau reads and forwards its own
        if user.role == PROVINCE and action == ARCHIVE:
            return True
        city = row.get("city") if isinstance(row, Mapping) else None
        return user.role == CITY and (row is None or comparable(city) == comparable(user.city) != "")
    if form is None:
        return False
    if action == READ:
        if not _reads_form(user, form, assignments):
            return False
        if row is None:
            return True
        return (isinstance(row, Record) and _in_scope(user, form, row, assignments)
                and (row.status in FILED or reads_unfiled(user, form)))
    if action in (CREATE, EDIT):
        if user.role != form.filled_by:
            return False
        if row is None:
            return user.role != INSPECTOR or reach(user, assignments).how != "none"
        if isinstance(row, Record):  # the stored row a filler corrects (its new values: a mapping)
            return action == EDIT and _in_scope(user, form, row, assignments) and _group_of_filer(user, row, assignments)
        return _values_in_scope(user, form, row, assignments)
    if action == REVIEW:
        if not form.reviewed_by or user.role != form.reviewed_by:
            return False
        if row is None:
            return True
        # a filer never reviews its own row, even where a form's reviewer role also files it
        return isinstance(row, Record) and _in_scope(user, form, row) and not _own(user, row)
    return False


@functools.lru_cache(maxsize=65_536)
def _folded(text: str) -> str:
    return comparable(text)


def _key(value: Any) -> str:
    """``comparable(value)``, remembered for a text: the items repeat a few hundred names and cities, and
    a list asks the policy about every item (tens of thousands) on every run of its page."""
    return _folded(value) if isinstance(value, str) else comparable(value)


def _same_org(user: Actor, name: Any, code: Any = None) -> bool:
    """Whether the organisation named ``name`` (credit code ``code``, if known) is ``user``'s: the same
    name as ``comparable`` reads it, or the same credit code where both have one."""
    if _key(user.org) and _key(name) == _key(user.org):
        return True
    return bool(_key(user.org_code)) and _key(code) == _key(user.org_code)


def _acts_on(user: Actor, item: Record) -> bool:
    """Whether ``user``'s organisation is the one that acts on ``item`` (its ``actor_org``; the party's
    credit code counts where the party acts itself)."""
    values = item.values
    code = values.get("party_code") if _key(values.get("actor_org")) == _key(values.get("party")) else None
    return _same_org(user, values.get("actor_org"), code)


def _rectify(user: Actor, action: str, item: Record | Mapping[str, Any] | None) -> bool:
    """``can`` for the rectification actions (see their constants). ``item`` None asks whether the role
    may do ``action`` to any item at all (e.g. show the page, list what it may see)."""
    if action in (RECTIFY_CLOSE, RECTIFY_GENERATE):
        return user.role == PROVINCE
    if action == RECTIFY_READ and user.role in SEE_ALL:
        return True
    if action == RECTIFY_VERIFY or (action == RECTIFY_READ and user.role == CITY):
        if user.role != CITY:
            return False
        return item is None or (isinstance(item, Record) and _key(item.values.get("city")) == _key(user.city) != "")
    if user.role not in ORG_ROLES:
        return False
    if item is None:
        return True
    if not isinstance(item, Record):
        return False
    if action == RECTIFY_ACT:
        return _acts_on(user, item)
    return _acts_on(user, item) or _same_org(user, item.values.get("party"), item.values.get("party_code"))


def _design(user: Actor, action: str, form: FormSpec | None, row: Mapping[str, Any] | None) -> bool:
    """``can`` for the designer's actions (see their constants): a city drafts (and reads) only a served
    form that it fills, and only when the campaign lets cities draft; it never publishes."""
    if user.role in SEE_ALL:
        return True
    return (action != DESIGN_PUBLISH and user.role == CITY and form is not None and form.filled_by == CITY
            and isinstance(row, Mapping) and row.get("city_drafts") is True)


def review_scope(form: FormSpec, row: Record, values: Mapping[str, Any] | None = None) -> str:
    """What decides which reviewer gets ``row`` (with ``values`` instead of its own, when given): its
    city, compared as ``comparable``, when the form's reviewer works by city; "" when one reviewer
    sees every row (the province)."""
    if form.reviewed_by != CITY:
        return ""
    return comparable(row_city(form, row if values is None else replace(row, values=dict(values))))


def moves_reviewer(form: FormSpec, row: Record, values: Mapping[str, Any]) -> bool:
    """Whether ``values`` would hand ``row`` to another reviewer than its own."""
    return review_scope(form, row, values) != review_scope(form, row)


def authorize_correction(store: Store, user: Actor, form: FormSpec, row: Record, values: Mapping[str, Any]) -> None:
    """For a row already submitted (the caller knows the statuses): return if correcting it with
    ``values`` keeps it with its reviewer, else audit the refusal (拒绝访问) and raise Forbidden naming
    the field. Otherwise the filer would choose who reviews its row, and the reviewer who returned it
    would lose sight of it and of its return history."""
    if not moves_reviewer(form, row, values):
        return
    label = form.field(city_field(form)).label
    message = (f"记录 {row.id} 已提交过，「{label}」不能再从「{quotable(row_city(form, row))}」改为"
               f"「{quotable(row_city(form, replace(row, values=dict(values))))}」：它决定由哪个地市审核。"
               f"如{label}填错，请撤回后重新填报（新填一条记录）。")
    store.log_event(user, DENIED, form_id=form.id, row_id=row.id, note=f"{ACTION_NAMES[EDIT]}：{message}")
    raise Forbidden(message, action=EDIT, form_id=form.id, row_id=row.id)


def _refusal(user: Actor, action: str, form: FormSpec | None, row, row_id: str,
             assignments: Assignments | None = None) -> tuple[str, str | None]:
    """Why ``can`` refused, in Chinese, and the refusal's code when it is more than ``forbidden``."""
    what = ACTION_NAMES.get(action, action)
    if action == READ and isinstance(row, Record) and form is not None and _unfiled_for(user, form, row, assignments):
        return (f"「{form.short_title}」的记录 {row.id} 尚未提交（{row.status}）：只有填报和审核它的单位可以{what}。"), None
    if (user.role == INSPECTOR and action == EDIT and isinstance(row, Record) and form is not None
            and user.role == form.filled_by and _in_scope(user, form, row, assignments)
            and not _group_of_filer(user, row, assignments)):
        return (f"「{form.short_title}」的记录 {row.id} 由账号 {row.owner} 填报，该账号现在与您不在同一组："
                f"只有填报它的那一组可以{what}（重新抽取检查人员后，原来那一组的记录不由后来的组改写）。"), "other_group"
    if user.role == INSPECTOR and action in (READ, CREATE, EDIT):
        r = reach(user, assignments)
        if form is None and action == READ and r.how == "none":  # the board asks for any row
            return _outside_assignment(user, form, row, row_id, r, what), None
        if form is not None and isinstance(row, Mapping) and r.how != "none" and user.role == form.filled_by:
            why = _outside_values(r, form, row)
            if why is not None:
                return _values_outside(form, row, row_id, r, what, why), why
        if form is not None and (action == READ or user.role == form.filled_by):
            return _outside_assignment(user, form, row, row_id, r, what), None
    return _refusal_of_others(user, action, form, row, row_id, what), None


def _unfiled_for(user: Actor, form: FormSpec, row: Record, assignments: Assignments | None) -> bool:
    """Whether ``row`` is refused to ``user`` only because it is not filed (see ``reads_unfiled``)."""
    return (row.status not in FILED and not reads_unfiled(user, form) and _reads_form(user, form, assignments)
            and _in_scope(user, form, row, assignments))


def _refusal_of_others(user: Actor, action: str, form: FormSpec | None, row, row_id: str, what: str) -> str:
    if action in (ARCHIVE, ARCHIVE_FORWARD) and isinstance(row, Mapping):
        return f"您的账号（{user.account}）无权{what}：「{quotable(row.get('city') or '')}」的报告汇总只由该市的账号{'下载' if action == ARCHIVE else '确认'}。"
    if action in RECTIFY_ACTIONS and isinstance(row, Record):
        return _item_refusal(user, action, row, what)
    if isinstance(row, Mapping) and form is not None and user.role == form.filled_by:
        return _values_refusal(user, form, row, row_id)
    if action == REVIEW and isinstance(row, Record) and _own(user, row):
        return f"记录 {row.id} 由您的单位（{user.org or user.account}）填报，不能由本单位审核。"
    if isinstance(row, Record) and form is not None:
        return f"您的账号（{user.account}）无权{what}「{form.short_title}」的记录 {row.id}。"
    if form is not None:
        return f"您的账号（{user.account}）无权{what}「{form.short_title}」。"
    return f"您的账号（{user.account}）无权{what}。"


def _item_refusal(user: Actor, action: str, item: Record, what: str) -> str:
    """Why ``user`` may not do ``action`` to a rectification item, naming the item and, where the item
    decides it, who may (a role's name is the campaign's, which the policy does not read)."""
    values = item.values
    who = {RECTIFY_ACT: f"：只有整改办理单位（{quotable(values.get('actor_org')) or '未指定'}）的账号可以",
           RECTIFY_VERIFY: f"：只有督办地市（{quotable(values.get('city')) or '未指定'}）的账号可以"}.get(action, "")
    return f"您的账号（{user.account}）无权{what}「{quotable(values.get('item_id')) or item.id}」{who}。"


def unassigned(user: Actor, what: str = "查看任何记录") -> str:
    """What an inspector without an assignment is told when it asks to do ``what``.

    >>> unassigned(Actor("i1", "inspector"), "查看看板").endswith("目前没有检查任务（尚未抽取检查人员，或项目抽样已重新进行）：不能查看看板。")
    True
    """
    return f"您的账号（{user.account}）目前没有检查任务（尚未抽取检查人员，或项目抽样已重新进行）：不能{what}。"


def _outside_assignment(user: Actor, form: FormSpec | None, row, row_id: str, r: Reach, what: str) -> str:
    """Why an inspector may not read or write this: it has no assignment (``form`` None: then it may
    read no row at all, as the board asks), or the row lies outside it."""
    if r.how == "none":
        return unassigned(user, f"{what}「{form.short_title}」" if form is not None else f"{what}任何记录")
    where = "、".join(r.cities)
    ident = row.id if isinstance(row, Record) else row_id
    which = f"「{form.short_title}」的记录 {ident}" if ident else f"这条「{form.short_title}」记录"
    if r.narrows(form.id):
        return f"{which}不是分派给您检查的地市（{where}）的抽中项目：不能{what}。"
    return f"{which}不在分派给您检查的地市（{where}）：不能{what}。"


def _values_outside(form: FormSpec, values: Mapping[str, Any], row_id: str, r: Reach, what: str, why: str) -> str:
    """Why an inspector may not write ``values`` (``why``: a code of ``_outside_values``), naming the
    city or the voucher typed (through ``quotable``, as ``_values_refusal`` does)."""
    which = f"记录 {row_id} 的" if row_id else ""
    where = "、".join(r.cities)
    city = row_city(form, values)
    if why == "outside_assignment":
        label = form.field(city_field(form)).label if city_field(form) else "地市"
        return f"{which}「{label}」「{quotable(city) or '（未填）'}」不在本组检查的地市（{where}）：不能{what}。"
    key = r.voucher_key(form.id)
    label = form.field(key).label
    if why == "not_chosen":  # not an attempt outside the sample: the project is not chosen yet
        return (f"{which}「{label}」尚未填写：请先选择本组在{city}抽中的项目（或填写其{label}），"
                f"再保存草稿或提交。")
    return f"{which}{label} {quotable(values.get(key))} 不在本组抽中的项目中（{city}的抽中名单）：不能{what}。"


def _values_refusal(user: Actor, form: FormSpec, values: Mapping[str, Any], row_id: str) -> str:
    """Why answers a filler writes are out of its scope, naming the field and what it may hold. The
    typed value is quoted through ``quotable``: the page shows this message and the audit note keeps
    it, so a direction override in the value must not reverse what a reviewer reads."""
    which = f"记录 {row_id} " if row_id else ""
    foreign = foreign_answer(form, user, values)
    if _other_city(user, form, values):
        label = form.field(city_field(form)).label
        return f"只能填报本市项目：{which}「{label}」只能是「{user.city}」，不能是「{quotable(row_city(form, values))}」。"
    if foreign is not None:
        own = account_answers(form, user)[foreign.key]
        return f"{which}「{foreign.label}」须为{_ATTR_NAMES[foreign.from_account]}：{own}（不能填写「{quotable(values.get(foreign.key))}」）。"
    return f"您的账号（{user.account}）无权{ACTION_NAMES[CREATE]}「{form.short_title}」的这条记录。"


def authorize(store: Store, user: Actor, action: str, form: FormSpec | None = None, row=None, *, row_id: str = "",
              assignments: Assignments | None = None) -> None:
    """Return if ``can(...)``; else audit the refusal (``store.log_event``, action 拒绝访问) and raise
    Forbidden with a Chinese message. ``row_id`` names the row whose new values ``row`` (a mapping)
    holds, for the message and the audit. An inspector's answers outside its assignment are refused
    with code ``outside_assignment`` or ``not_sampled`` (see the module docstring)."""
    if can(user, action, form, row, assignments):
        return
    form_id = form.id if form is not None else ""
    row_id = row.id if isinstance(row, Record) else row_id
    message, code = _refusal(user, action, form, row, row_id, assignments)
    store.log_event(user, DENIED, form_id=form_id, row_id=row_id, note=f"{ACTION_NAMES.get(action, action)}：{message}")
    raise Forbidden(message, action=action, form_id=form_id, row_id=row_id, code=code)


#: Pages (keys used by app.py) and who sees them in the navigation.
def page_keys(user: Actor, forms: list[FormSpec], reports: FormSpec | None = None, *, city_drafts: bool = False) -> list[str]:
    """The pages ``user``'s navigation shows, in order: 填报 and 我的填报 for a role that fills one of
    ``forms`` (``can(CREATE)`` then decides, an inspector's within its assignment); 报告汇总 where the
    campaign has an archive (``reports``: the form of its reports, None: none) for those who archive it
    (``ARCHIVE``) and the role that files the reports (its own, as Word); 表单设计 for those who may read
    a definition (``DESIGN_READ``; a city only where ``city_drafts``, the campaign's designer.city_drafts).

    >>> page_keys(Actor("province", "province"), [])
    ['home', 'board', 'register', 'sampling', 'rectification', 'designer', 'audit']
    """
    keys = ["home"]
    # an inspector fills before it has an assignment too: the fill page tells it it has no task yet
    if any(user.role == f.filled_by for f in forms):
        keys += ["fill", "my_submissions"]
    if any(can(user, REVIEW, f) for f in forms):
        keys.append("review")
    keys.append("board")
    if reports is not None and (can(user, ARCHIVE) or user.role == reports.filled_by):
        keys.append("archive")
    if can(user, IMPORT):
        keys.append("register")
    if can(user, SAMPLE):
        keys.append("sampling")
    if can(user, RECTIFY_READ):  # the campaign's last phase: every role with items to see, an inspector none
        keys.append("rectification")
    if can(user, DESIGN_READ) or any(can(user, DESIGN_READ, f, {"city_drafts": city_drafts}) for f in forms):
        keys.append("designer")
    if can(user, AUDIT):
        keys.append("audit")
    if can(user, ADMIN):
        keys.append("admin")
    return keys
