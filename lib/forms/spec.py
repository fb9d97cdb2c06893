"""Stage 2: plain data -> validated specs (pydantic) for forms and the campaign.

Structural checks (unknown keys, wrong types) come from pydantic; semantic checks (unknown field
type, select without choices, expressions and the fields they reference) are done here so that
every problem names the field it belongs to.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError, core_schema

from lib.core import roles as role_keys
from lib.core import statuses as row_statuses
from lib.core.records import SYSTEM_SHEET_PREFIXES
from lib.core.values import LIST_SEPARATOR, MAX_CELL_CHARS

from .bindings import NEEDS, Bindings, Registers
from .expressions import FUNCTIONS, KIND_WORDS, READ_CONTEXT, Expression, ExpressionError
from .office import Office
from .patterns import PatternError, compile_pattern
from .rectification import Rectification
from .types import (
    BIDI_CHARS,
    CONTROL_CHARS,
    FILE_KINDS,
    FILE_MAX_MB,
    INVISIBLE_CHARS,
    LINE_BREAKS,
    MAX_NUMBER_CHARS,
    MAX_TEXT_CHARS,
    REGISTRY,
)

KEY_PATTERN = r"^[a-z][a-z0-9_]*$"
#: Longest one-line text of a form (title, label, choice, placeholder, message) and longest help or
#: description, in characters: pages show them whole (the shipped forms' longest are 31 and 128).
MAX_LABEL_CHARS = 200
MAX_HELP_CHARS = 2_000
#: The form's own texts a page shows, by whether they may span lines.
#: id(form) -> (form, its city field's key): FormSpec.city_field's memory (a frozen model holds no cache of its own).
_CITY_FIELDS: dict[int, tuple[Any, str | None]] = {}
_CITY_FIELDS_KEPT = 512
_FORM_TEXTS = {"title": True, "short_title": True, "description": False}
_SECTION_TEXTS = {"title": True, "help": False}
_FIELD_TEXTS = {"label": True, "placeholder": True, "pattern_message": True, "constraint_message": True, "help": False}
EXPRESSION_ATTRS = ("relevant", "constraint", "calculation")
#: A role key (``lib.core.roles``), as form files name who fills and reviews them.
Role = Literal[role_keys.ALL]
#: What an account already answers: a field declaring ``from_account: org`` is set from the signed-in
#: account's organisation (``org_code``: its 统一社会信用代码; ``city``: its city) and locked.
AccountAttr = Literal["org", "org_code", "city"]


class _Strict(BaseModel):
    # No inf or nan in a bound, weight or ratio: a comparison with nan is always false.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Rule(_Strict):
    """One more rule on a field (``constraints:``): ``rule`` must hold for the answer. An ``error``
    stops the submit; a ``warning`` is shown and the filler may submit after confirming it, and the
    reviewer sees it on the row."""

    rule: str
    message: str = Field(min_length=1)
    severity: Literal["error", "warning"] = "error"


class FieldSpec(_Strict):
    key: str = Field(pattern=KEY_PATTERN)
    label: str = Field(min_length=1)
    type: str
    required: bool = False
    help: str = ""
    placeholder: str = ""
    choices: tuple[str, ...] | None = None
    min: float | dt.date | None = None
    max: float | dt.date | None = None
    min_length: int | None = None
    max_length: int | None = None
    decimals: int | None = None
    pattern: str | None = None
    pattern_message: str | None = None
    relevant: str | None = None
    constraint: str | None = None
    constraint_message: str | None = None
    constraints: tuple[Rule, ...] = ()
    calculation: str | None = None
    default: Any = None
    fields: tuple[FieldSpec, ...] | None = None  # sub-fields of a table
    min_rows: int | None = None
    max_rows: int | None = None
    from_account: AccountAttr | None = None  # answered by the signed-in account, locked for it
    #: A ``file`` field's limits: the largest file in MB (at most types.FILE_MAX_MB) and the kinds it
    #: takes (keys of types.FILE_KINDS); unset: the cap and every kind.
    max_mb: float | None = None
    accept: tuple[str, ...] | None = None
    #: The key this field had before it was renamed: publishing the form moves every stored answer under it
    #: to this field (``lib.store.base.Store.rename_field``). Checked by ``replaces_problems``.
    replaces: str | None = Field(default=None, pattern=KEY_PATTERN)

    @property
    def kind(self) -> str:
        return REGISTRY[self.type].kind


def replaces_problems(form: FormSpec) -> list[tuple[tuple, str, dict]]:
    """A ``replaces`` the store could not carry out as one clear rename: its own key, a key that is a field
    of the form now (both would hold answers), a key another field replaces too (whose would its answers
    be?), or one inside a table (a sub-field's answers live in the table's cell, not a column of their own)."""
    found: list[tuple[tuple, str, dict]] = []
    top = {f.key for f in form.all_fields()}
    first: dict[str, str] = {}
    for si, section in enumerate(form.sections):
        for fi, spec in enumerate(section.fields):
            path = ("sections", si, "fields", fi)
            found += [(path + ("fields", i, "replaces"), "replaces_in_table", {"field": sub.key})
                      for i, sub in enumerate(spec.fields or ()) if sub.replaces]
            old = spec.replaces
            if old is None:
                continue
            if old == spec.key:
                found.append((path + ("replaces",), "replaces_self", {"field": spec.key}))
            elif old in top:
                found.append((path + ("replaces",), "replaces_current", {"field": spec.key, "old": old}))
            elif old in first:
                found.append((path + ("replaces",), "replaces_twice", {"field": spec.key, "old": old, "first": first[old]}))
            first.setdefault(old, spec.key)
    return found


class SectionSpec(_Strict):
    key: str = Field(pattern=KEY_PATTERN)
    title: str
    help: str = ""
    relevant: str | None = None
    fields: tuple[FieldSpec, ...]


class FormSpec(_Strict):
    id: str = Field(pattern=KEY_PATTERN)
    title: str
    short_title: str
    version: int = Field(ge=1, le=1_000_000)  # a number a person counts up, not 400 digits
    description: str = ""
    filled_by: Role
    reviewed_by: Role | None = None
    #: A form whose filling role also reviews (a row's filer is otherwise never its reviewer) must say
    #: so here; without it the loader refuses ``filled_by`` equal to ``reviewed_by``.
    self_review: bool = False
    #: Who reads the rows besides their filler, their reviewer and the roles that read every row (the
    #: province; the admin, for audit): absent, the policy's own rule (a city bureau reads the rows placed
    #: in its city); a list, only the roles named. The forum's candid opinions about the city bureau name
    #: the bureau: ``read_by: [province]`` keeps them from the bureau under inspection (``lib.auth.policy``).
    read_by: tuple[Role, ...] | None = None
    deadline: str | None = None
    #: Fields that tell one row from another (firm, project, voucher number): the columns every list
    #: of rows shows first (我的填报, 审核, exports), in this order.
    summary: tuple[str, ...] = ()
    #: Groups of fields that identify a project: a row whose answers equal, in every field of one
    #: group, a live row (not withdrawn) of the same filer is a duplicate report, refused at submit.
    unique: tuple[tuple[str, ...], ...] = ()
    sections: tuple[SectionSpec, ...] = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _not_a_system_sheet(cls, form_id: str) -> str:
        """A form's rows go to the sheet named by its id: never one the application keeps for itself."""
        prefix = next((p for p in SYSTEM_SHEET_PREFIXES if form_id.startswith(p)), None)
        if prefix is not None:
            raise PydanticCustomError("system_sheet_id", "表单 id「{id}」以「{prefix}」开头，这类名称留给系统自己的记录表（台账、抽样、整改、报送、表单版本）：请换一个 id",
                                      {"id": form_id, "prefix": prefix})
        return form_id

    def all_fields(self) -> list[FieldSpec]:
        """Top-level fields in form order (table sub-fields stay inside their table)."""
        return [f for s in self.sections for f in s.fields]

    def field(self, key: str) -> FieldSpec:
        for f in self.all_fields():
            if f.key == key:
                return f
        raise KeyError(key)

    def city_field(self) -> str | None:
        """Key of the field that places a row in a city (the first field of type city), if any.
        Remembered per form object: the access rule asks it for every row a page lists (40,000 times
        for a province's 审核 at 20,000 rows)."""
        hit = _CITY_FIELDS.get(id(self))
        if hit is not None and hit[0] is self:
            return hit[1]
        key = next((f.key for f in self.all_fields() if f.type == "city"), None)
        if len(_CITY_FIELDS) >= _CITY_FIELDS_KEPT:
            _CITY_FIELDS.clear()  # catalogs reloaded many times over: start again rather than grow
        _CITY_FIELDS[id(self)] = (self, key)  # the form is kept with its id, so the id is never another form's
        return key

    def summary_fields(self) -> list[FieldSpec]:
        """The fields that identify a row (``summary``); without a declaration, the first three
        short text or choice fields, so every list shows something a person recognises."""
        if self.summary:
            return [self.field(k) for k in self.summary]
        return [f for f in self.all_fields() if f.type in ("text", "select", "city") and not f.calculation][:3]


class Phase(_Strict):
    key: str = Field(pattern=KEY_PATTERN)
    name: str
    start: dt.date
    end: dt.date
    description: str = ""


#: The project's columns of a sampling frame (``lib.sampling.frame``), in canonical order; the rules' columns follow.
FRAME_COLUMNS = ("voucher", "city", "provider", "firm", "subsidy")

#: What a priority rule's ``when`` may read of a frame row (``lib.campaign.priority`` works them out once
#: per frame): name -> (kind of value, what it is, in Chinese). The project's own columns, then the facts
#: derived from the campaign's other forms. A blank (an amount not known) makes a comparison blank, and a
#: rule whose ``when`` is blank is not met.
RULE_VARIABLES: dict[str, tuple[str, str]] = {
    "subsidy": ("number", "奖补金额（万元，两位小数；未知为空）"),
    "city": ("text", "企业所在地市"),
    "provider": ("text", "服务商名称"),
    "firm": ("text", "企业名称"),
    "checked_on_site": ("bool", "检查记录中有检查方式属于 sampling.facts.on_site 的已提交记录"),
    "provider_failed": ("bool", "服务商在本项目以外的项目上有不合格结论（检查记录或本次现场检查记录，结论属于 sampling.facts.fail）"),
    "complaints": ("number", "针对本项目登记的投诉举报件数（投诉举报登记表的已提交记录，加检查记录中标记投诉举报的已提交记录）"),
    "subsidy_top_share": ("number", "奖补金额排位占比：抽样框中奖补金额不低于本项目的项目数 ÷ 抽样框项目总数（前 10% 即 ≤ 0.1；未知金额为空）"),
}


def _known_among(what: str, known: tuple[str, ...]):
    def check(value: str) -> str:
        if value not in known:
            raise PydanticCustomError("unknown_meaning", "「{value}」不是{what}，可用：{known}",
                                      {"value": value, "what": what, "known": "、".join(known)})
        return value
    return AfterValidator(check)


def rule_expression(text: str) -> Expression:
    """``text`` (a rule's ``when``) parsed, refusing what a rule may not say: a variable not in
    ``RULE_VARIABLES``, a function that is not one of ``FUNCTIONS`` or reads the campaign clock or the
    cities (a frame's facts follow from its data alone), a kind mistake, a result that is not 是/否."""
    try:
        expr = Expression(text)
    except ExpressionError as exc:
        raise PydanticCustomError("rule_when_syntax", "when 表达式无法解析：{detail}", {"detail": str(exc)}) from None
    unknown = sorted(expr.names - RULE_VARIABLES.keys())
    if unknown:
        raise PydanticCustomError("rule_when_unknown", "when 用到了未知的变量「{names}」，可用：{known}",
                                  {"names": "、".join(unknown), "known": "、".join(RULE_VARIABLES)})
    refused = sorted(expr.functions - (FUNCTIONS.keys() - READ_CONTEXT))
    if refused:
        raise PydanticCustomError("rule_when_function", "when 不能使用函数「{names}」", {"names": "、".join(refused)})
    kinds = {name: kind for name, (kind, _) in RULE_VARIABLES.items()}
    mistakes = expr.type_problems(kinds)
    if mistakes:
        raise PydanticCustomError("rule_when_type", "when 表达式类型不对：{detail}", {"detail": "；".join(mistakes)})
    # Each branch of `a if c else b` is checked: a mix (a number whenever c holds) would load and fail
    # only at the freeze that first meets such a project.
    ends = expr.result_kinds(kinds)
    wrong = [k for k in KIND_WORDS if k in ends and k != "bool"]
    if wrong:
        raise PydanticCustomError("rule_when_not_boolean", "when 的结果应为是/否（比较或条件），这里{some}是{kind}",
                                  {"some": "有的分支" if len(ends - {None}) > 1 else "", "kind": "、".join(KIND_WORDS[k] for k in wrong)})
    return expr


#: The largest weight a priority rule may carry: a weight that large already makes its projects' chance
#: all but certain (``take_all`` says certain). Written as an int so the message shows 1000, not 1000.0.
MAX_RULE_WEIGHT = 1000


class PriorityRule(_Strict):
    """One priority rule of the draw: ``key`` names its column in the frame, ``name`` how pages and
    drawn projects name it, ``when`` the condition a project meets it by — an expression
    (``lib.forms.expressions``) over ``RULE_VARIABLES``, checked when the campaign loads."""

    key: str = Field(pattern=KEY_PATTERN)
    name: str = Field(min_length=1)
    description: str = ""
    when: str
    #: Added to a project's size measure (1 + the weights of the rules it meets) in the draw: a negative
    #: weight could make a size zero or negative, which no probability can be proportional to.
    #: At most MAX_RULE_WEIGHT: the draw sums and multiplies sizes, and a huge finite weight (1e308)
    #: overflows to inf there, leaving a city with nothing drawn.
    weight: float = Field(default=1.0, ge=0, strict=True)  # strict: `true` or '3' is no weight (an int is)
    #: Every project that meets this rule is drawn (its city's sample grows if need be).
    take_all: bool = False

    @field_validator("key")
    @classmethod
    def _not_a_frame_column(cls, key: str) -> str:
        if key in FRAME_COLUMNS:  # the rule's column would overwrite the project's
            raise PydanticCustomError("rule_key_taken", "「{key}」是抽样框的项目列，规则的 key 请另起一个", {"key": key})
        return key

    @field_validator("weight")
    @classmethod
    def _a_bounded_weight(cls, weight: float) -> float:
        if weight > MAX_RULE_WEIGHT:
            raise PydanticCustomError("rule_weight_too_large", "权重 {weight} 太大：不能超过 {most}（要必抽请写 take_all: true）",
                                      {"weight": weight, "most": MAX_RULE_WEIGHT})
        return weight

    @field_validator("when")
    @classmethod
    def _a_condition_over_known_variables(cls, text: str) -> str:
        rule_expression(text)
        return text

    @property
    def expression(self) -> Expression:
        return rule_expression(self.when)


class PriorityFacts(_Strict):
    """What the derived facts read (``sampling.facts``), in the meanings of the bound choices:
    ``on_site`` the check methods (``bindings.checks.choices.method``) that count as checked on site —
    a desk review does not; ``fail`` the conclusions (of the checks and of this campaign's inspections)
    that mark a project failed."""

    on_site: tuple[Annotated[str, _known_among("检查方式的含义", NEEDS["checks"]["method"].choices)], ...] = ()
    fail: tuple[Annotated[str, _known_among("检查结论的含义", NEEDS["checks"]["conclusion"].choices)], ...] = ()


#: The notice's floor for the share of projects a city inspects: a campaign may ask for more, never less.
MIN_SAMPLING_RATIO = 0.2


class Sampling(_Strict):
    """How ``lib.sampling`` draws the projects inspected on site (docs/sampling.md): ``frame`` the list
    drawn from (``register``: the voucher register's in-scope entries in force; ``reported``: the filed
    rows of the projects form, one per voucher), ``ratio`` each city's share, ``facts`` what the derived
    facts read, ``priority_rules`` the conditions that raise a project's chance (or, with ``take_all``,
    draw it), ``proportional_to_subsidy`` whether a project's chance also grows with its subsidy,
    ``inspector_group_size`` how many inspectors each sampled city's group has."""

    ratio: float = Field(le=1, strict=True)  # the floor (and so > 0) is _at_least_the_notice's; strict: `true` is no ratio
    frame: Literal["register", "reported"] = "register"
    proportional_to_subsidy: bool = False
    facts: PriorityFacts = PriorityFacts()
    priority_rules: tuple[PriorityRule, ...] = ()
    inspector_group_size: int = Field(3, strict=True)  # each city's group (lib/sampling/assignments.py); strict: `true` is no size

    @field_validator("inspector_group_size")
    @classmethod
    def _a_group_has_someone(cls, size: int) -> int:
        if size < 1:
            raise PydanticCustomError("group_size_below_one", "每组检查员人数为 {size}：至少 1 人，请填写 1 以上的整数", {"size": size})
        return size

    @field_validator("ratio")
    @classmethod
    def _at_least_the_notice(cls, ratio: float) -> float:
        if ratio < MIN_SAMPLING_RATIO:
            raise PydanticCustomError("ratio_below_minimum", "抽查比例 {ratio} 低于通知规定的最低比例 {floor}：请改为 {floor} 至 1 之间的数",
                                      {"ratio": ratio, "floor": MIN_SAMPLING_RATIO})
        return ratio

    @field_validator("priority_rules")
    @classmethod
    def _each_rule_once(cls, rules: tuple[PriorityRule, ...]) -> tuple[PriorityRule, ...]:
        keys = [r.key for r in rules]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise PydanticCustomError("rule_twice", "优先规则「{keys}」写了两次：每条规则只写一次", {"keys": "、".join(twice)})
        names = [r.name for r in rules]  # a drawn project lists the rules that raised it by name
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise PydanticCustomError("rule_name_twice", "优先规则名称「{names}」用了两次：每条规则的名称须不同", {"names": "、".join(twice)})
        return rules

    def rule(self, key: str) -> PriorityRule | None:
        """The declared rule ``key``; None when this campaign does not use it."""
        return next((r for r in self.priority_rules if r.key == key), None)


class Designer(_Strict):
    """The ``designer:`` section of campaign.yaml: who may propose a change of a form besides the province
    and the admin (who alone publish; ``lib.auth.policy``'s DESIGN_* actions, ``lib.designer``)."""

    #: A city bureau may save drafts of the forms it fills (the province reviews and publishes them).
    city_drafts: bool = Field(False, strict=True)  # strict: "yes" or 1 is no answer to a yes/no setting


class Contact(_Strict):
    """Someone a filler can call: shown on 首页, the sign-in page and the late list."""

    name: str = Field(min_length=1)
    unit: str = ""  # e.g. 省工业和信息化厅工业互联网处
    topic: str = ""  # what to call about, e.g. 附件1填报、账号问题
    phone: str = ""
    email: str = ""


def _known_role(key: str) -> str:
    if key not in role_keys.ALL:
        raise PydanticCustomError("unknown_role", "「{key}」不是系统的角色，可用：{known}",
                                  {"key": key, "known": "、".join(role_keys.ALL)})
    return key


class CitySpec(_Strict):
    """A city, written as its name alone or with the administrative division code its firms'
    registrations start with (``{name: 广州, code: "4401"}``): a rule reads the code through
    ``city_code`` (characters 3–8 of a 统一社会信用代码 are the division where the firm registered)."""

    name: str = Field(min_length=1)
    code: str | None = None

    @field_validator("code", mode="before")
    @classmethod
    def _digits(cls, code: Any) -> Any:
        code = str(code) if isinstance(code, int) and not isinstance(code, bool) else code  # `code: 4401` unquoted
        if isinstance(code, str) and not (2 <= len(code) <= 6 and code.isascii() and code.isdigit()):
            raise PydanticCustomError("city_code", "应为 2–6 位数字的行政区划代码，如 \"4401\"")
        return code


def _city_entry(entry: Any) -> Any:
    return {"name": entry} if isinstance(entry, str) else entry


class Cities(tuple):
    """The campaign's city names in the declared order — a tuple of str, as every reader takes it —
    that also knows the division code declared for each (``codes``: name -> code; read only) and,
    once the campaign is read, the cities outside its scheme (``outside``: ``outside_scheme``).

    >>> cities = Cities.of((CitySpec(name="深圳"), CitySpec(name="广州", code="4401")))
    >>> cities, cities.codes, "广州" in cities
    (('深圳', '广州'), {'广州': '4401'}, True)
    """

    codes: dict[str, str]
    outside: frozenset[str]

    def __new__(cls, names=(), codes: dict[str, str] | None = None, outside: frozenset[str] = frozenset()):
        made = super().__new__(cls, names)
        made.codes = dict(codes or {})
        made.outside = frozenset(outside)
        return made

    @classmethod
    def of(cls, entries: tuple[CitySpec, ...]) -> Cities:
        names = tuple(e.name for e in entries)
        if not names:
            raise PydanticCustomError("too_short", "不能为空")
        if len(set(names)) != len(names):
            raise ValueError("cities 中有重复的地市")
        return cls(names, {e.name: e.code for e in entries if e.code})

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        entries = handler.generate_schema(tuple[Annotated[CitySpec, BeforeValidator(_city_entry)], ...])
        return core_schema.no_info_after_validator_function(cls.of, entries)


def city_codes(cities: tuple[str, ...]) -> dict[str, str]:
    """The division codes ``cities`` declares: none for a plain tuple of names."""
    return cities.codes if isinstance(cities, Cities) else {}


def outside_scheme(cities: tuple[str, ...]) -> frozenset[str]:
    """The cities outside the campaign's scheme that ``cities`` carries: none for a plain tuple."""
    return cities.outside if isinstance(cities, Cities) else frozenset()


class CampaignSpec(_Strict):
    id: str
    title: str
    notice: str = ""
    year: int
    phases: tuple[Phase, ...]
    deadlines: dict[str, dt.date]
    #: Names, or ``{name, code}`` with the division code prefix of the city's registrations.
    cities: Cities
    sampling: Sampling
    #: Role key (``lib.core.roles``: the access model's) -> the Chinese name pages show: every key named.
    roles: dict[Annotated[str, AfterValidator(_known_role)], Annotated[str, Field(min_length=1)]]
    #: Status key -> the word stored in ``_status``: the application's (``lib.core.statuses``), which a
    #: campaign file may restate but not change.
    statuses: dict[str, str] = Field(default_factory=lambda: dict(row_statuses.KEYS))
    contacts: tuple[Contact, ...] = ()
    #: What each form and field means to the campaign (lib.forms.bindings); checked against the forms
    #: when the catalog loads them. None: campaign features that read forms are unavailable.
    bindings: Bindings | None = None
    #: The province's registers: titles, years, scope words and the headers of their columns.
    registers: Registers | None = None
    #: 全面整改: which findings open a rectification item and the steps that close it (lib.forms.rectification).
    rectification: Rectification | None = None
    #: The office round trip: the signature line of official exports, the archive a city forwards (lib.forms.office).
    office: Office = Field(default_factory=Office)
    #: The form designer: whether a city may save drafts of the forms it fills (lib.designer).
    designer: Designer = Field(default_factory=Designer)
    #: Cities whose firms the scheme does not cover: register entries there are excluded at import.
    outside_scheme: tuple[str, ...] = ()
    #: How the boards name a city's bureau (the unit that files the checks), ``{city}`` standing for
    #: the city's name; None: the city's name followed by the city role's name.
    city_unit: str | None = None

    @model_validator(mode="after")
    def _cities_know_the_scheme(self) -> CampaignSpec:
        """The cities every rule reads (``check_answers(cities=campaign.cities)``) carry the cities outside
        the scheme, so a form's ``outside_scheme(city)`` reads the very list the register import excludes."""
        object.__setattr__(self, "cities", Cities(self.cities, self.cities.codes, frozenset(self.outside_scheme)))
        return self

    @field_validator("city_unit")
    @classmethod
    def _city_unit_names_the_city(cls, pattern: str | None) -> str | None:
        """A bureau's name without ``{city}`` would give every city the same unit on the late list."""
        if pattern is not None and (pattern.count("{city}") != 1 or not pattern.replace("{city}", "").strip()):
            raise PydanticCustomError("city_unit_pattern", "city_unit 应恰好含一个 {city}（代表地市名称）并写明单位名称，例如「{city}市某某局」", {})
        return pattern

    @field_validator("roles")
    @classmethod
    def _every_role_named(cls, names: dict[str, str]) -> dict[str, str]:
        """Pages, accounts and messages name every role the access model knows: none may lack a name."""
        missing = [key for key in role_keys.ALL if key not in names]
        if missing:
            raise PydanticCustomError("missing_role", "缺少角色 {missing} 的中文名称：系统的每个角色都要写明名称",
                                      {"missing": "、".join(missing)})
        return names

    @field_validator("statuses")
    @classmethod
    def _statuses_are_the_applications(cls, declared: dict[str, str]) -> dict[str, str]:
        """Statuses are the application's row lifecycle (see ``lib.core.statuses``): a campaign file that
        restates them exactly still loads; one that adds, drops or renames a status is refused, since the
        code and every stored row would go on using the application's words."""
        fixed = row_statuses.KEYS
        if declared != fixed:
            differ = [f"{key}「{word}」应为「{fixed[key]}」" if key in fixed else f"{key}「{word}」不是系统的状态"
                      for key, word in declared.items() if fixed.get(key) != word]
            differ += [f"缺少 {key}「{word}」" for key, word in fixed.items() if key not in declared]
            raise PydanticCustomError("statuses_fixed", "行状态由系统规定，活动配置不能增加、删除或改名（{detail}）：请删除 statuses 部分",
                                      {"detail": "；".join(differ)})
        return declared


def campaign_semantic_problems(campaign: CampaignSpec) -> list[tuple[tuple, str, dict]]:
    """What makes a campaign ambiguous though each entry is valid alone: two roles one name (the
    sign-in and admin pages could not tell them apart), two cities one division code (a firm
    registered in one would pass for the other). (path, error code, params), the second one named."""
    found: list[tuple[tuple, str, dict]] = []
    role_of: dict[str, str] = {}
    for key, name in campaign.roles.items():
        if name.strip() in role_of:
            found.append((("roles", key), "role_name_twice", {"name": name, "first": role_of[name.strip()], "role": key}))
        role_of.setdefault(name.strip(), key)
    city_of: dict[str, str] = {}
    for i, city in enumerate(campaign.cities):
        code = campaign.cities.codes.get(city)
        if code in city_of:
            found.append((("cities", i, "code"), "city_code_twice", {"city": city, "division": code, "first": city_of[code]}))
        elif code is not None:
            city_of[code] = city
    return found


def semantic_problems(form: FormSpec) -> list[tuple[tuple, str, dict]]:
    """Problems pydantic cannot see: (path inside the document, error code, message params).

    Paths use the same keys and indexes as the YAML, so the loader can name the line.
    """
    found: list[tuple[tuple, str, dict]] = []
    top_keys = _kinds(form.all_fields())
    seen: set[str] = set()
    if form.reviewed_by == form.filled_by and not form.self_review:
        found.append((("reviewed_by",), "self_review", {"role": form.filled_by}))
    for i, key in enumerate(form.summary):
        found += _key_problems(key, ("summary", i), "summary", i + 1, top_keys)
    for gi, group in enumerate(form.unique):
        if not group:  # all() of no fields is true: every row would be a duplicate of every other
            found.append((("unique", gi), "empty_group", {"attr": "unique", "index": gi + 1}))
        for i, key in enumerate(group):
            found += _key_problems(key, ("unique", gi, i), "unique", i + 1, top_keys)
    found += _texts_problems(form, (), "", _FORM_TEXTS)
    for si, section in enumerate(form.sections):
        spath = ("sections", si)
        found += _texts_problems(section, spath, section.key, _SECTION_TEXTS)
        if section.relevant:
            found += _expression_problems(section.relevant, spath + ("relevant",), section.key, "relevant", top_keys)
        for fi, spec in enumerate(section.fields):
            found += _field_problems(spec, spath + ("fields", fi), top_keys, seen)
    found += replaces_problems(form)
    found += label_problems(form)
    return found


def folded_label(text: str) -> str:
    """A label (or an upload's header) as a person reads it: full-width folded (NFKC), no blanks, no
    trailing * or ：(the template's required mark). Two labels that fold alike are one column header.

    >>> folded_label(" 合同金额（万元） ＊") == folded_label("合同金额(万元)")
    True
    """
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).rstrip("*：:")


def label_problems(form: FormSpec) -> list[tuple[tuple, str, dict]]:
    """Two fields of the form (or two sub-fields of one table) whose labels read as one (``folded_label``):
    the import template's header names a column by its label, so neither could be imported."""
    found: list[tuple[tuple, str, dict]] = []
    top: dict[str, str] = {}
    for si, section in enumerate(form.sections):
        for fi, spec in enumerate(section.fields):
            path = ("sections", si, "fields", fi)
            first = top.setdefault(folded_label(spec.label), spec.key)
            if first != spec.key:
                found.append((path + ("label",), "duplicate_label", {"field": spec.key, "label": spec.label, "first": first}))
            inner: dict[str, str] = {}
            for i, sub in enumerate(spec.fields or ()):
                first = inner.setdefault(folded_label(sub.label), sub.key)
                if first != sub.key:
                    found.append((path + ("fields", i, "label"), "duplicate_label", {"field": sub.key, "label": sub.label, "first": first}))
    return found


def _texts_problems(spec: Any, path: tuple, key: str, attrs: dict[str, bool]) -> list:
    """Texts of a form, section or field that a page shows: bounded, and free of control, direction
    and invisible characters (a label's U+202E would reverse what every filler reads); a one-line
    text (``attrs[name]`` true) holds no line break either."""
    found = []
    texts = [(name, getattr(spec, name) or "", one_line, path + (name,)) for name, one_line in attrs.items()]
    texts += [("choices", choice, True, path + ("choices", i)) for i, choice in enumerate(getattr(spec, "choices", None) or ())]
    for name, text, one_line, where in texts:
        what = f"字段「{key}」的 {name}" if key else name
        limit = MAX_LABEL_CHARS if one_line else MAX_HELP_CHARS
        if len(text) > limit:
            found.append((where, "spec_text_too_long", {"field": key, "what": what, "limit": limit}))
            continue
        bad = BIDI_CHARS.search(text) or CONTROL_CHARS.search(text) or INVISIBLE_CHARS.search(text) \
            or (LINE_BREAKS.search(text) if one_line else None)
        if bad:
            found.append((where, "spec_text_bad_char", {"field": key, "what": what, "char": f"U+{ord(bad.group()):04X}"}))
    return found


def _key_problems(key: str, path: tuple, attr: str, index: int, keys: dict) -> list:
    """A field key listed under ``attr`` (summary, unique) that is empty or names no field."""
    if not key.strip():
        return [(path, "empty_key", {"attr": attr, "index": index})]
    if key not in keys:
        return [(path, "unknown_reference", {"field": key, "attr": attr, "ref": key})]
    return []


def _field_problems(spec: FieldSpec, path: tuple, scope: dict[str, str | None], seen: set[str], inner=False) -> list:
    found: list[tuple[tuple, str, dict]] = []
    if spec.key in seen:
        found.append((path + ("key",), "duplicate_field", {"field": spec.key}))
    seen.add(spec.key)
    found += _texts_problems(spec, path, spec.key, _FIELD_TEXTS)
    ftype = REGISTRY.get(spec.type)
    if ftype is None:
        found.append((path + ("type",), "unknown_type", {"field": spec.key, "type": spec.type, "known": "、".join(REGISTRY)}))
        return found
    if ftype.has_choices and not spec.choices:
        found.append((path, "missing_choices", {"field": spec.key}))
    if ftype.kind == "list":  # a multiselect's answers are shown joined by the separator: a word holding it reads as two
        for i, choice in enumerate(spec.choices or ()):
            if LIST_SEPARATOR in choice:
                found.append((path + ("choices", i), "choice_has_separator",
                              {"field": spec.key, "choice": choice, "separator": LIST_SEPARATOR}))
    if spec.pattern:
        try:
            compile_pattern(spec.pattern)
        except PatternError as exc:
            found.append((path + ("pattern",), "bad_pattern", {"field": spec.key, "detail": str(exc)}))
    if spec.type == "table":
        if not spec.fields:
            found.append((path, "invalid_definition", {"field": spec.key, "detail": f"表格字段「{spec.key}」必须定义子字段 fields"}))
        elif inner:
            found.append((path, "invalid_definition", {"field": spec.key, "detail": f"表格字段「{spec.key}」不能嵌套在另一个表格中"}))
        else:
            inner_scope = {**scope, **_kinds(spec.fields)}
            inner_seen: set[str] = set()
            for i, sub in enumerate(spec.fields):
                found += _field_problems(sub, path + ("fields", i), inner_scope, inner_seen, inner=True)
    elif spec.fields:
        found.append((path + ("fields",), "invalid_definition", {"field": spec.key, "detail": f"只有 table 类型的字段可以有 fields，「{spec.key}」不是表格"}))
    found += _file_problems(spec, path, inner)
    if not inner:
        found += _cell_problems(spec, path)
    if spec.from_account and (inner or spec.type in ("table", "multiselect", "boolean", "file") or spec.calculation):
        found.append((path + ("from_account",), "invalid_definition",
                      {"field": spec.key, "detail": f"字段「{spec.key}」不能用 from_account：只用于表格之外的文字、代码或地市字段"}))
    for attr in EXPRESSION_ATTRS:
        text = getattr(spec, attr)
        if text:
            found += _expression_problems(text, path + (attr,), spec.key, attr, scope)
    for i, rule in enumerate(spec.constraints):
        at = path + ("constraints", i)
        found += _texts_problems(rule, at, spec.key, {"message": True})
        found += _expression_problems(rule.rule, at + ("rule",), spec.key, "constraints", scope)
    if spec.calculation and not any(p[0] == path + ("calculation",) for p in found):
        given, declared = Expression(spec.calculation).kind(scope), scope.get(spec.key)
        if None not in (given, declared) and given != declared:
            detail = f"算出的是{KIND_WORDS[given]}，字段类型「{spec.type}」要的是{KIND_WORDS[declared]}"
            found.append((path + ("calculation",), "expression_type", {"field": spec.key, "attr": "calculation", "detail": detail}))
    return found


def _file_problems(spec: FieldSpec, path: tuple, inner: bool) -> list:
    """``max_mb`` and ``accept`` belong to a ``file`` field, which takes its files on the fill page: not
    inside a table row, not computed; ``accept`` names kinds the application can recognise."""
    def bad(where: tuple, detail: str) -> tuple:
        return (path + where, "invalid_definition", {"field": spec.key, "detail": detail})

    if spec.type != "file":
        return [bad((attr,), f"只有 file 类型的字段可以写 {attr}，「{spec.key}」不是文件字段")
                for attr in ("max_mb", "accept") if getattr(spec, attr) is not None]
    found = [bad((), f"文件字段「{spec.key}」不能放在表格中，请作为单独的字段")] if inner else []
    found += [bad(("calculation",), f"文件字段「{spec.key}」不能由 calculation 计算")] if spec.calculation else []
    found += [bad(("accept", i), f"文件字段「{spec.key}」的 accept 中「{k}」不是可识别的文件类型，可用：{'、'.join(FILE_KINDS)}")
              for i, k in enumerate(spec.accept or ()) if k not in FILE_KINDS]
    if spec.max_mb is not None and not 0 < spec.max_mb <= FILE_MAX_MB:
        found.append(bad(("max_mb",), f"文件字段「{spec.key}」的 max_mb 应大于 0 且不超过 {FILE_MAX_MB}（服务器接收上传的上限，单位 MB）"))
    if spec.accept is not None and not spec.accept:
        found.append(bad(("accept",), f"文件字段「{spec.key}」的 accept 为空：请列出接受的文件类型，或删除 accept"))
    return found


#: The longest text of an answer of these types as its cell shows it (lib.core.values.text): a number
#: is bounded as typed, a date is YYYY-MM-DD, a yes/no one character, a phone number as PHONE_RE allows.
_ANSWER_WIDTH = {"integer": MAX_NUMBER_CHARS, "decimal": MAX_NUMBER_CHARS, "money": MAX_NUMBER_CHARS,
                 "percent": MAX_NUMBER_CHARS, "date": 10, "boolean": 1, "credit_code": 18, "phone": 20}


def _answer_width(spec: FieldSpec) -> int:
    """The longest text an answer of ``spec`` can have (its choices, its max_length, its type's bound)."""
    if spec.type == "select":
        return max(map(len, spec.choices or ("",)))
    if spec.type == "multiselect":
        return sum(map(len, spec.choices or ())) + len(LIST_SEPARATOR) * max(len(spec.choices or ()) - 1, 0)
    if spec.type in _ANSWER_WIDTH:
        return _ANSWER_WIDTH[spec.type]
    return min(spec.max_length or MAX_TEXT_CHARS, MAX_TEXT_CHARS)


def _cell_problems(spec: FieldSpec, path: tuple) -> list:
    """A table's answer is kept in ONE cell of its sheet (lib.store.codec: a "key：value" line per row), as
    is a multiselect's: a form must not accept more than the cell holds, or a valid answer is refused only
    when it is saved, after the filler typed it all (attack M13: 100 opinions of 1,000 characters). Judged
    for a table that declares ``max_rows`` (a sub-field without max_length counts the engine's longest text);
    one that does not is bounded only by the engine's rows, and the store refuses an answer too long for the
    cell when it is saved (list_too_long)."""
    if spec.type == "multiselect" and _answer_width(spec) > MAX_CELL_CHARS:
        return [(path + ("choices",), "invalid_definition", {"field": spec.key, "detail": (
            f"多选字段「{spec.key}」的选项合计 {_answer_width(spec)} 个字符，超过表格一个单元格能保存的 {MAX_CELL_CHARS} 个：请精简选项")})]
    if spec.type != "table" or not spec.max_rows or not spec.fields or any(sub.type not in REGISTRY for sub in spec.fields):
        return []
    rows = spec.max_rows
    row = sum(len(sub.key) + 1 + _answer_width(sub) for sub in spec.fields) + len(LIST_SEPARATOR) * (len(spec.fields) - 1)
    if rows * (row + 1) - 1 <= MAX_CELL_CHARS:
        return []
    fit = (MAX_CELL_CHARS + 1) // (row + 1)
    return [(path + ("max_rows",), "invalid_definition", {"field": spec.key, "detail": (
        f"表格字段「{spec.key}」最多 {rows} 行、每行最长 {row} 个字符，合计可达 {rows * (row + 1) - 1} 个字符，"
        f"超过表格一个单元格能保存的 {MAX_CELL_CHARS} 个（填好的表格将无法保存）：请把 max_rows 减到不超过 {fit}，或减小子字段的 max_length")})]


def _kinds(fields) -> dict[str, str | None]:
    """Field key -> the kind of value an expression sees for it (None when its type is unknown)."""
    kinds = {f.key: REGISTRY[f.type].kind if f.type in REGISTRY else None for f in fields}
    return {key: "number" if kind == "integer" else kind for key, kind in kinds.items()}


def _expression_problems(text: str, path: tuple, key: str, attr: str, scope: dict[str, str | None]) -> list:
    try:
        expr = Expression(text)
    except ExpressionError as exc:
        return [(path, "bad_expression", {"field": key, "attr": attr, "detail": str(exc)})]
    found = [(path, "unknown_reference", {"field": key, "attr": attr, "ref": n}) for n in sorted(expr.names - scope.keys())]
    found += [(path, "unknown_function", {"field": key, "attr": attr, "ref": n}) for n in sorted(expr.functions - FUNCTIONS.keys())]
    if not found:
        found += [(path, "expression_type", {"field": key, "attr": attr, "detail": d}) for d in expr.type_problems(scope)]
    return found
