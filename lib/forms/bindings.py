"""What the campaign's forms mean to the campaign: declared in ``campaign.yaml`` (``bindings:``),
checked against the forms, and the only way campaign code reads a form.

A campaign has three kinds of form (``FORM_ROLES``): the list of subsidised projects a provider
files (one row per project), the benchmark projects' reports a lead unit files, and the checks a
city files. Its inspection phase adds three more a campaign may bind (``OPTIONAL_ROLES``): the
on-site inspection record a sampled project's inspector group files, the forum (座谈会) record per
city, and the complaints the province records against projects. For each, ``campaign.yaml`` says which form it is, who files it, which of its fields
carries each *meaning* the campaign logic reads (the voucher number, the firm, the amounts ...) and,
for a choice field, which of its words means what (``usage: {stopped: 停用}``). The meanings are the
application's vocabulary (``NEEDS``); the words and keys are the campaign's, so next year's campaign
renames a field or a choice in YAML and no code changes.

``lib.forms.crosscheck`` checks them against the forms they bind when the catalog loads.

>>> need = NEEDS["projects"]["usage"]
>>> need.types, need.choices
(('select',), ('in_use', 'low_use', 'idle', 'stopped'))
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

KEY_PATTERN = r"^[a-z][a-z0-9_]*$"

#: The kinds of form a campaign binds, in the order pages list them.
FORM_ROLES = ("projects", "benchmarks", "checks")
#: The kinds a campaign may leave unbound (one without an inspection phase has none of them); code that
#: reads one asks ``Bindings.has`` first.
OPTIONAL_ROLES = ("inspections", "forums", "complaints")
#: The kinds whose form must have a declared deadline (a complaint is recorded when it comes).
DEADLINED = ("projects", "benchmarks", "checks", "inspections", "forums")


@dataclass(frozen=True)
class Need:
    """What campaign code needs of one meaning: field types that fit, choice meanings it reads."""

    types: tuple[str, ...]
    choices: tuple[str, ...] = ()
    required: bool = True
    what: str = ""  # Chinese, for messages: 服务券编号


_TEXT = ("text",)
_NOTE = ("text", "textarea")
_AMOUNT = ("money", "decimal", "integer")
_PERCENT = ("percent", "decimal")
_YEAR = ("select", "integer", "text")
_USAGE = ("in_use", "low_use", "idle", "stopped")
_CONCLUSION = ("pass", "basic", "fail")

#: Meaning -> need, per kind of form. A meaning not required may be left unbound; code that reads it
#: then shows the column as not collected, never a zero.
NEEDS: dict[str, dict[str, Need]] = {
    "projects": {
        "voucher": Need(_TEXT, what="服务券编号"),
        "year": Need(_YEAR, what="奖补年度"),
        "firm": Need(_TEXT, what="企业名称"),
        "firm_code": Need(("credit_code",), what="企业统一社会信用代码"),
        "city": Need(("city",), what="企业所在地市"),
        "provider": Need(_TEXT, what="服务商名称"),
        "provider_code": Need(("credit_code",), required=False, what="服务商统一社会信用代码"),
        "project": Need(_TEXT, what="项目名称"),
        "subsidy": Need(_AMOUNT, what="奖补金额"),
        "contract_amount": Need(_AMOUNT, required=False, what="合同金额"),
        "paid_amount": Need(_AMOUNT, required=False, what="实际支付金额"),
        "usage": Need(("select",), _USAGE, what="使用状态"),
        "active_users": Need(("integer",), required=False, what="月活跃用户数"),
        "reason": Need(_NOTE, required=False, what="原因说明"),
    },
    "benchmarks": {
        "project": Need(_TEXT, what="项目名称"),
        "lead_unit": Need(_TEXT, what="牵头单位名称"),
        "lead_unit_code": Need(("credit_code",), what="牵头单位统一社会信用代码"),
        "city": Need(("city",), what="所在地市"),
        "programme": Need(("select",), ("provincial", "ministry"), what="支持渠道"),
        "exempt": Need(("boolean",), what="免于填报标记"),
        "status": Need(("select",), what="项目建设状态"),
        "percent_complete": Need(_PERCENT, required=False, what="总体完成进度"),
        "spending_ratio": Need(_PERCENT, what="资金支出比例"),
        "problems": Need(_NOTE, required=False, what="自查发现的问题"),
    },
    "checks": {
        "city": Need(("city",), what="地市"),
        "voucher": Need(_TEXT, what="服务券编号"),
        "firm": Need(_TEXT, what="企业名称"),
        "firm_code": Need(("credit_code",), what="企业统一社会信用代码"),
        "provider": Need(_TEXT, what="服务商名称"),
        "method": Need(("select",), ("on_site", "spot_check", "desk", "none"), what="检查方式"),
        "conclusion": Need(("select",), _CONCLUSION, what="检查结论"),
        "usage": Need(("select",), _USAGE, required=False, what="使用状态"),
        "satisfaction": Need(("select",), required=False, what="企业满意度"),
        "complaint": Need(("boolean",), required=False, what="投诉举报"),
        "problems": Need(_NOTE, required=False, what="存在问题"),
    },
    # 现场检查记录: one row per sampled project, filed by the inspector group the draw sent to its city.
    "inspections": {
        "voucher": Need(_TEXT, what="服务券编号"),
        "city": Need(("city",), what="项目所在地市"),
        "firm": Need(_TEXT, required=False, what="企业名称"),
        "provider": Need(_TEXT, required=False, what="服务商名称"),
        "date": Need(("date",), what="检查日期"),
        "members": Need(_NOTE, what="检查组成员"),
        "usage": Need(("select",), _USAGE, what="实际使用状态"),
        "conclusion": Need(("select",), _CONCLUSION, what="检查结论"),
        "satisfaction": Need(("select",), required=False, what="企业满意度"),
        "problems": Need(("table",), required=False, what="发现的问题"),
        "rectification": Need(_NOTE, required=False, what="整改要求"),
        "evidence": Need(("file",), required=False, what="证据材料"),
    },
    # 座谈会记录: one row per forum a group holds in a city.
    "forums": {
        "city": Need(("city",), what="地市"),
        "date": Need(("date",), what="座谈日期"),
        "opinions": Need(("table",), required=False, what="意见建议"),
    },
    # 投诉举报: one row per complaint the province records against a project (entered or imported).
    "complaints": {
        "voucher": Need(_TEXT, what="服务券编号"),
        "date": Need(("date",), required=False, what="收到日期"),
        "source": Need(("select", "text"), required=False, what="来源"),
        "content": Need(_NOTE, required=False, what="投诉举报内容"),
    },
}


#: The province's registers a campaign imports, and the meanings of their columns the code reads
#: (each meaning names the form field it is matched with, through the bindings of the same name).
REGISTER_KINDS = ("vouchers", "projects")
REGISTER_NEEDS: dict[str, tuple[str, ...]] = {
    "vouchers": ("voucher", "firm", "firm_code", "provider", "city", "year", "subsidy"),
    "projects": ("project", "lead_unit", "lead_unit_code", "city", "programme", "year"),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FormBinding(_Strict):
    """One kind of form in this campaign: which form, who files it, which field means what."""

    form: str = Field(pattern=KEY_PATTERN)
    filed_by: str = Field(pattern=KEY_PATTERN)
    fields: dict[str, str] = Field(default_factory=dict)
    choices: dict[str, dict[str, str]] = Field(default_factory=dict)

    def key(self, meaning: str) -> str | None:
        """The field key bound to ``meaning``; None when an optional meaning is left unbound."""
        return self.fields.get(meaning)

    def word(self, meaning: str, choice: str) -> str:
        """The choice word the field bound to ``meaning`` uses for ``choice`` (checked at load)."""
        return self.choices[meaning][choice]

    def words(self, meaning: str) -> dict[str, str]:
        """Choice meaning -> word, for the field bound to ``meaning`` (empty when not declared)."""
        return dict(self.choices.get(meaning, {}))


class Bindings(_Strict):
    """The ``bindings:`` section: kind of form -> its binding (all of ``FORM_ROLES``, any of
    ``OPTIONAL_ROLES``)."""

    projects: FormBinding
    benchmarks: FormBinding
    checks: FormBinding
    inspections: FormBinding | None = None
    forums: FormBinding | None = None
    complaints: FormBinding | None = None

    def of(self, role: str) -> FormBinding:
        """The binding of ``role``; an optional kind the campaign leaves unbound raises KeyError (ask ``has``)."""
        binding = getattr(self, role)
        if binding is None:
            raise KeyError(role)
        return binding

    def has(self, role: str) -> bool:
        """Whether the campaign binds ``role`` (always, for ``FORM_ROLES``)."""
        return getattr(self, role, None) is not None

    def kinds(self) -> tuple[str, ...]:
        """The kinds this campaign binds: ``FORM_ROLES``, then the optional ones it declares."""
        return FORM_ROLES + tuple(k for k in OPTIONAL_ROLES if self.has(k))

    def form_ids(self) -> dict[str, str]:
        """Kind of form -> form id, for every kind bound."""
        return {role: self.of(role).form for role in self.kinds()}

    def kind_of(self, form_id: str) -> str | None:
        """The kind of form ``form_id`` is bound as, or None."""
        return next((kind for kind, fid in self.form_ids().items() if fid == form_id), None)


class RegisterState(_Strict):
    """The column that says whether an entry is inspected: the words that keep it, those that exclude it
    (counted and listed at import), by the notice's rules."""

    headers: tuple[str, ...] = Field(min_length=1)
    in_scope: tuple[str, ...] = Field(min_length=1)
    excluded: tuple[str, ...] = ()


class RegisterBinding(_Strict):
    """One register: its title, the years it covers, its scope column and, per meaning, the headers its
    column may carry (the first is the template's)."""

    title: str = Field(min_length=1)
    years: tuple[str, ...] = Field(min_length=1)
    state: RegisterState
    columns: dict[str, tuple[str, ...]]


class Registers(_Strict):
    """The ``registers:`` section: the 服务券兑现清单 (``vouchers``) and the benchmark projects (``projects``)."""

    vouchers: RegisterBinding
    projects: RegisterBinding

    def of(self, kind: str) -> RegisterBinding:
        return getattr(self, kind)

