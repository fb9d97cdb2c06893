"""The web form's rules for cells a person edits in the workbook (``campaign.xlsx``).

The store imports such edits (lib.store.local.external) but knows no form; the app gives it
:class:`FormEditRules`, which judges each edited row as the fill page would:

* a row of a sheet that is no form of the catalog is locked: the app writes those sheets itself and
  they record what was decided (the sampling frames, draws and inspector groups), no person's cell;
* a row in a closed status (``lib.core.statuses.CLOSED``: approved, withdrawn) is locked: nothing in
  it changes, since the web form cannot change it either and no reviewer would see the new values;
* a row of a form the inspectors fill (the inspection and forum records) is locked, whatever its status:
  who may change one is the group that filed it, within the inspector draw in force (``lib.auth.policy``,
  the draw being the sampling's, a layer above this one). A cell edited in the file has no group behind
  it, and the store's writer process that judges it holds no draw; judged without one, every innocent
  correction was refused with a false reason (attack M1). The group corrects it in the app;
* field by field, an edit the form refuses is not imported: its type check, bounds, pattern,
  constraint and required rules (a draft: the type check only, as 保存草稿), whether the field is
  shown at all, and the filer's scope (``lib.auth.policy``: a city bureau's row stays in its city).
  Only problems the edit brings are held against it, not those the stored row already has;
* a field the filer's account answers (``from_account``) keeps the account's value: the file cannot
  move a row to another organisation or city;
* a calculated field is the form's, not the person's; it is recomputed from the imported values.

Rules reading ``today()`` read the campaign clock (setting ``campaign_today``), as the fill page does:
the app gives it to :class:`FormEditRules`, which carries it to the store's writer process.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from lib.auth.policy import EDIT, account_answers, can, comparable, moves_reviewer
from lib.core.records import Actor, Record
from lib.core.roles import INSPECTOR
from lib.core.statuses import CLOSED, DRAFT
from lib.forms import CampaignSpec, FormDefinitionError, FormProblem, FormSpec, check_answers, load_catalog
from lib.store.codec import same_value
from lib.store.local.external import EditRuling


class FormEditRules:
    """The :data:`lib.store.local.external.EditCheck` the app passes to the store: the forms of
    ``forms_dir``, re-read when their files change, judging on the campaign clock ``today`` (None: the
    real date). Pickles as its folder and clock alone (the store's background writer process, which
    reads no settings, loads its own copy of the forms)."""

    def __init__(self, forms_dir: Path | str, today: dt.date | None = None):
        self.forms_dir = Path(forms_dir)
        self.today = today
        self._catalog = None

    def __getstate__(self) -> dict[str, Any]:
        return {"forms_dir": self.forms_dir, "today": self.today}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["forms_dir"], state["today"])

    def __call__(self, current: Record, edited: dict[str, Any]) -> EditRuling:
        if self._catalog is None:
            self._catalog = load_catalog(self.forms_dir)
        else:
            self._catalog.refresh()
        try:
            campaign = self._catalog.campaign
            form = self._catalog.form(current.form_id)
        except FormDefinitionError as err:
            return EditRuling(locked=f"活动配置当前无效，无法按表单规则检查（{err.problems[0].message}）")
        except KeyError:  # a form gone, or a sheet the app writes itself (the sampling records): locked either way
            return EditRuling(locked=f"找不到表单「{current.form_id}」的有效定义，无法按表单规则检查")
        return rule_on_edit(form, campaign, current, edited, today=self.today)


def rule_on_edit(form: FormSpec, campaign: CampaignSpec, current: Record, edited: dict[str, Any], *,
                 today: dt.date | None = None) -> EditRuling:
    """The ruling on ``edited`` (field key -> value read from the cell) for ``current``, a row of ``form``,
    with ``today`` the campaign clock's day (None: the real date)."""
    if current.status in CLOSED:  # approved (reviewed), or withdrawn (back only by resubmitting, through review)
        return EditRuling(locked=f"状态为「{current.status}」，已审核或已撤回的记录只能在系统中处理")
    if form.filled_by == INSPECTOR:
        filer = campaign.roles.get(form.filled_by, form.filled_by)
        return EditRuling(locked=f"「{form.short_title}」由{filer}按检查任务（抽中项目和分组）填写，只能由填报它的那一组在系统中修改，"
                                 f"工作簿中的修改无法核对检查任务和修改人")
    refused: dict[str, str] = {}
    wanted = _in_scope(form, campaign, current, edited, refused)
    draft = current.status == DRAFT
    cities = campaign.cities  # with the division codes and the cities outside the scheme the rules read
    before = check_answers(form, dict(current.values), cities=cities, draft=draft, today=today)
    known = {_identity(p) for p in before.problems}
    after = before
    while wanted:  # each round refuses at least one field, so it ends
        after = check_answers(form, {**current.values, **wanted}, cities=cities, draft=draft, today=today)
        new = [p for p in after.problems if _identity(p) not in known]
        if not new:
            break
        # A problem names its field; one on a field not edited (a contract amount lowered below the
        # paid amount is reported on the paid amount) is held against every edit left in the row.
        blamed = {p.field for p in new if p.field in wanted} or set(wanted)
        for key in blamed:
            refused[key] = "；".join(p.message for p in new if p.field == key) or "；".join(p.message for p in new)
        wanted = {k: v for k, v in wanted.items() if k not in blamed}
    values: dict[str, Any] = {}
    for key in wanted:
        if key in after.hidden:
            refused[key] = "按表单规则，这一项在本条记录中不用填写"
        else:
            values[key] = after.values[key]
    if values:
        for spec in form.all_fields():
            if spec.calculation and not same_value(after.values.get(spec.key), before.values.get(spec.key)):
                values[spec.key] = after.values.get(spec.key)
    return EditRuling(values=values, refused=refused)


def _in_scope(form: FormSpec, campaign: CampaignSpec, current: Record, edited: dict[str, Any],
              refused: dict[str, str]) -> dict[str, Any]:
    """The edited fields a person may change at all, the others put in ``refused`` with the reason.

    The row's filer is judged as the policy judges a correction by the filer itself: the account
    is the one that filed the row (its organisation and city are on the row).
    """
    filer = Actor(current.owner, form.filled_by, org=current.org, city=current.city)
    own = account_answers(form, filer)
    fields = {f.key: f for f in form.all_fields()}
    wanted: dict[str, Any] = {}
    for key, value in edited.items():
        spec = fields.get(key)
        if spec is None:
            refused[key] = "当前表单中已没有这一项，不能修改"
        elif spec.calculation:
            refused[key] = "这一项由表单公式计算得出，不能直接修改"
        elif spec.from_account:
            # The account's own value; where the row does not record it (a credit code), the stored one.
            mine = own.get(key, current.values.get(key))
            if comparable(value) != comparable(mine):
                refused[key] = "这一项由填报单位的账号决定，不能在工作簿中改成其他单位或地市"
            else:
                wanted[key] = mine
        elif not can(filer, EDIT, form, {key: value}):
            refused[key] = "改后的值超出填报单位的范围（如其他地市），不能在工作簿中修改"
        elif current.status != DRAFT and moves_reviewer(form, current, {**current.values, key: value}):
            refused[key] = "这一项决定由哪个地市审核，记录提交后不能修改；如填错，请撤回后重新填报"
        else:
            wanted[key] = value
    return wanted


def _identity(p: FormProblem) -> tuple[str, str, int | None]:
    """A problem as the same problem before and after an edit (its message may quote the values)."""
    return (p.code, p.field, p.row)
