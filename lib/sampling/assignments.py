"""The inspector draw in the store: groups drawn for the project draw in force, recorded, redrawn with a reason, and what they let inspectors read.

``draw_inspectors`` takes the projects of the draw in force (``record.active_draws``), the
organisations and credit codes each city's sample names (``parties.sampled_parties``) and the inspector pool
(``inspectors.pool``), draws the groups (``inspectors.draw_groups``, with the campaign's
``sampling.inspector_group_size``) from a seed typed after the project draw (an announced number, or
one the system generated and showed) and records them. Storage (every write audited by the store):

* ``sampling_inspector_draws`` — one row per inspector draw: the project draw it serves, seed (and
  where it came from), draw day, group size, algorithm version, the SHA-256 of its inputs, how many
  groups, the reason of a redraw; status 有效, or 已被替换 with ``superseded_by``. Who drew it and
  when: the row's ``_owner`` and ``_created_at``.
* ``sampling_inspector_groups`` — one row per member and city (``Assignment.rows``, with the
  inspector's name), the shape to publish.
* ``sampling_inspector_pool``, ``sampling_inspector_conflicts`` and ``sampling_inspector_parties`` — the
  draw's inputs as it read them: each inspector's facts, its declared conflicts one row each, and each
  sampled city's parties (names and codes, ``lib.sampling.parties``), one row per city and party (a city
  naming none: one row with a blank party) — a list per city, or an inspector's conflicts in one cell,
  would outgrow the 32,767 characters of one workbook cell (about a thousand sampled projects; 600
  declared names of 100 characters, which the accounts accept) — so that ``lib.sampling.verify.verify_inspectors`` re-draws from what was recorded, not from the
  accounts and registers as they stand later; the record keeps the place names the 回避 names were
  folded with (``inspectors.party_key``).

A draw and its rows are one ``Store.append_batch``; a refusal (``InspectorDrawError``, a bad seed, a
missing reason) writes nothing. Drawing again while an inspector draw serves the same project draw
is a redraw: it needs a reason, and the old one is marked 已被替换 (an update, so it stays, audited).
An inspector draw serves only the project draw it was made for: after a project redraw there is no
assignment in force (inspectors read nothing) until the inspectors are drawn for the new sample.

``assignments_in_force`` gives ``lib.auth.policy`` what it needs (``Assignments``) to narrow an
inspector's reads to its assignment; the layers above pass it to ``can`` / ``lib.auth.scope``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from lib.auth.accounts import Account
from lib.auth.policy import SAMPLE, Assignments, authorize, comparable
from lib.core.records import Actor, Record
from lib.forms.loader import FormCatalog
from lib.sampling.draw import parse_seed
from lib.sampling.inspectors import Assignment, Group, Inspector, InspectorDrawError, draw_groups, pool
from lib.sampling.parties import Known, places, sampled_parties
from lib.sampling.record import (
    DRAW_ACTIVE,
    DRAW_LOCK,
    DRAW_ROWS,
    DRAW_SUPERSEDED,
    DRAWS,
    SEED_WORDS,
    Difference,
    SamplingError,
    active_draws,
    changed_after_writing,
    new_id,
    seed_source,
)
from lib.store.base import Column, SheetSpec, Store

ASSIGNED = "已分派"

ASSIGNMENTS = SheetSpec("sampling_inspector_draws", "检查员抽取记录", (
    Column("assignment_id", "检查员抽取编号"),
    Column("draw_id", "抽样编号"),
    Column("seed", "随机数种子"),
    Column("seed_source", "种子来源"),
    Column("day", "抽取日期"),
    Column("group_size", "每组人数", "integer"),
    Column("algorithm", "抽取算法版本"),
    Column("inputs_sha256", "检查员与抽中项目信息指纹（SHA-256）"),
    Column("groups", "检查组数", "integer"),
    Column("reason", "重新抽取原因"),
    Column("superseded_by", "被替换为"),
    Column("places", "比较单位名称时略去的地名", "list"),
    Column("seeds_generated", "抽取前为本次项目抽样生成随机数的次数", "integer"),
))
MEMBERS = SheetSpec("sampling_inspector_groups", "检查组", (
    Column("assignment_id", "检查员抽取编号"),
    Column("city", "检查地市"),
    Column("account", "检查员账号"),
    Column("name", "检查员"),
    Column("seed", "随机数种子"),
    Column("day", "抽取日期"),
    Column("group_size", "每组人数", "integer"),
    Column("algorithm", "抽取算法版本"),
    Column("inputs_sha256", "检查员与抽中项目信息指纹（SHA-256）"),
))
POOL = SheetSpec("sampling_inspector_pool", "检查员抽取依据（检查员）", (
    Column("assignment_id", "检查员抽取编号"),
    Column("account", "检查员账号"),
    Column("city", "本人所在地市"),
    Column("org", "所在单位"),
    Column("org_city", "单位所在地市"),
    Column("health_declared_on", "健康申报日期"),
))
CONFLICTS = SheetSpec("sampling_inspector_conflicts", "检查员抽取依据（申报回避）", (
    Column("assignment_id", "检查员抽取编号"),
    Column("account", "检查员账号"),
    Column("conflict", "申报回避的单位"),
))
PARTIES = SheetSpec("sampling_inspector_parties", "检查员抽取依据（抽中地市）", (
    Column("assignment_id", "检查员抽取编号"),
    Column("city", "抽中项目的地市"),
    Column("party", "抽中项目涉及的单位或信用代码"),
))
SHEETS = (ASSIGNMENTS, MEMBERS, POOL, CONFLICTS, PARTIES)


@dataclass(frozen=True)
class AssignmentInfo:
    """A recorded inspector draw: its id, the project draw it serves, the groups, who drew it and when,
    and the inspector draws it replaced."""

    assignment_id: str
    draw_id: str
    assignment: Assignment
    generated_seed: bool
    drawn_by: str
    drawn_at: dt.datetime
    superseded: tuple[str, ...] = ()


def ensure_sheets(store: Store) -> None:
    for sheet in SHEETS:
        store.ensure_sheet(sheet)


def _sampled(store: Store, draw_id: str) -> list[dict]:
    return [r.values for r in store.records(DRAW_ROWS.form_id) if r.values.get("draw_id") == draw_id]


def _in_force(store: Store) -> list[Record]:
    return sorted((r for r in store.records(ASSIGNMENTS.form_id) if r.status == DRAW_ACTIVE), key=lambda r: r.created_at)


def draw_inspectors(store: Store, catalog: FormCatalog, accounts: Iterable[Account], seed_text: str | None, actor: Actor, *,
                    day: dt.date, reason: str = "", generated: bool = False, now: dt.datetime | None = None) -> AssignmentInfo:
    """Draw one group of inspectors (of ``accounts``' inspector pool) for each city of the project draw
    in force, with the seed typed (``seed_text``; ``generated``: one the system made and showed), the
    health declarations judged on ``day``, and record it.

    Nothing is written when it raises: Forbidden (audited) unless the province; SeedInvalid for a seed
    that is empty, not a number or negative; InspectorDrawError with code ``no_active_draw`` before
    any project draw, ``redraw_reason_missing`` when an inspector draw already serves the draw in force
    and ``reason`` is blank, or the draw's own refusal naming the city and why (``inspectors_short``,
    ``inspectors_short_together``)."""
    authorize(store, actor, SAMPLE)
    seed = parse_seed(seed_text)
    accounts = list(accounts)
    people = pool(accounts)
    names = {a.account: a.name for a in accounts}
    now = now or dt.datetime.now()
    with store.exclusive(DRAW_LOCK):
        draws = active_draws(store)
        if not draws:
            raise InspectorDrawError("还没有有效的项目抽样结果：请先抽取项目，再抽取检查员。", code="no_active_draw")
        draw_id = str(draws[-1].values["draw_id"])
        generated, made = seed_source(store, draws[-1], seed, generated)
        replaced = _in_force(store)
        same = [r for r in replaced if r.values.get("draw_id") == draw_id]
        if same and not reason.strip():
            raise InspectorDrawError(f"抽样 {draw_id} 已有有效的检查员抽取结果（{same[-1].values.get('assignment_id')}）："
                                     "重新抽取检查员须填写原因。", code="redraw_reason_missing")
        where = places(catalog)
        parties = sampled_parties(_sampled(store, draw_id), Known.of(store, catalog), where)
        assignment = draw_groups(people, parties, catalog.campaign.sampling.inspector_group_size, seed, day, where)
        assignment_id = new_id("I", now, (str(r.values.get("assignment_id")) for r in store.records(ASSIGNMENTS.form_id)))
        rows = [{"assignment_id": assignment_id, **row, "group_size": assignment.group_size, "name": names.get(row["account"], "")}
                for row in assignment.rows()]  # rows() is text for publishing; the sheet keeps the size a number
        record = {"assignment_id": assignment_id, "draw_id": draw_id, "seed": str(seed), "seed_source": SEED_WORDS[generated],
                  "day": day.isoformat(), "group_size": assignment.group_size, "algorithm": assignment.algorithm,
                  "inputs_sha256": assignment.inputs_sha256, "groups": len(assignment.groups), "reason": reason.strip(),
                  "superseded_by": "", "places": list(where), "seeds_generated": made}
        inputs = [*((POOL.form_id, {"assignment_id": assignment_id, **pool_row(i)}, ASSIGNED) for i in people),
                  *((CONFLICTS.form_id, {"assignment_id": assignment_id, "account": i.account, "conflict": c}, ASSIGNED)
                    for i in people for c in i.conflicts),
                  *((PARTIES.form_id, {"assignment_id": assignment_id, **row}, ASSIGNED) for row in party_rows(parties))]
        ensure_sheets(store)
        [*_, stored] = store.append_batch([*inputs, *((MEMBERS.form_id, row, ASSIGNED) for row in rows),
                                           (ASSIGNMENTS.form_id, record, DRAW_ACTIVE)], actor=actor)
        for old in replaced:
            why = reason.strip() if old in same else f"项目抽样已更新为 {draw_id}"
            store.update(ASSIGNMENTS.form_id, old.id, base_rev=old.rev, actor=actor, status=DRAW_SUPERSEDED,
                         values={"superseded_by": assignment_id}, note=f"重新抽取检查员（{assignment_id}）：{why}")
    return AssignmentInfo(assignment_id, draw_id, assignment, generated, stored.owner, stored.created_at,
                          tuple(str(r.values.get("assignment_id")) for r in replaced))


def pool_row(inspector: Inspector) -> dict:
    """An inspector's facts as ``POOL`` keeps them (its conflicts: ``CONFLICTS``, a row each)."""
    return {"account": inspector.account, "city": inspector.city, "org": inspector.org, "org_city": inspector.org_city,
            "health_declared_on": inspector.health_declared_on.isoformat() if inspector.health_declared_on else ""}


def party_rows(parties: dict[str, list[str]]) -> list[dict]:
    """``PARTIES``' rows of a draw's parties (city -> names and codes): one per city and party, a city
    naming none one row with a blank party, so that every sampled city is recorded.

    >>> party_rows({"乙": [], "甲": ["b", "a"]})
    [{'city': '乙', 'party': ''}, {'city': '甲', 'party': 'b'}, {'city': '甲', 'party': 'a'}]
    >>> recorded_parties(party_rows({"乙": [], "甲": ["b", "a"]}))
    {'乙': [], '甲': ['b', 'a']}
    """
    return [{"city": city, "party": party} for city, names in sorted(parties.items()) for party in (names or [""])]


def recorded_parties(rows: Iterable[dict]) -> dict[str, list[str]]:
    """City -> parties, from ``PARTIES``' rows' values (``party_rows`` read back)."""
    out: dict[str, list[str]] = {}
    for values in rows:
        names = out.setdefault(str(values.get("city") or ""), [])
        if values.get("party"):
            names.append(str(values["party"]))
    return out


def recorded_pool(pool_rows: Iterable[dict], conflict_rows: Iterable[dict]) -> list[Inspector]:
    """The recorded pool: ``POOL``'s rows' values with each account's ``CONFLICTS`` rows; a date that
    does not read counts as none.

    >>> [(i.account, i.conflicts) for i in recorded_pool([{"account": "a"}, {"account": "b"}], [{"account": "a", "conflict": "甲"}])]
    [('a', ('甲',)), ('b', ())]
    """
    conflicts: dict[str, list[str]] = {}
    for values in conflict_rows:
        conflicts.setdefault(str(values.get("account") or ""), []).append(str(values.get("conflict") or ""))
    out = []
    for values in pool_rows:
        try:
            declared = dt.date.fromisoformat(str(values.get("health_declared_on") or "")) if values.get("health_declared_on") else None
        except ValueError:
            declared = None
        account = str(values.get("account") or "")
        out.append(Inspector(account, "", str(values.get("city") or ""), str(values.get("org") or ""),
                             str(values.get("org_city") or ""), tuple(conflicts.get(account, ())), declared))
    return out


def recorded_inputs(store: Store, assignment_id: str) -> dict[SheetSpec, list[Record]]:
    """The input rows (``POOL``, ``CONFLICTS``, ``PARTIES``) recorded with the inspector draw ``assignment_id``, by sheet."""
    return {sheet: [r for r in store.records(sheet.form_id) if r.values.get("assignment_id") == assignment_id]
            for sheet in (POOL, CONFLICTS, PARTIES)}


class AssignmentChanged(SamplingError):
    """The inspector draw in force, or the project draw it serves, was changed after it was written: no
    inspector is given reach from it until the province has verified and drawn again."""

    code = "assignment_changed"


def _info(store: Store, record: Record) -> AssignmentInfo:
    """The inspector draw ``record`` with its groups; AssignmentChanged when the record does not read
    (a seed, day or size the app never writes: changed outside it), so that a page can still show the
    rest, 核验 included."""
    v = record.values
    members: dict[str, list[str]] = {}
    for row in store.records(MEMBERS.form_id):
        if row.values.get("assignment_id") == v.get("assignment_id"):
            members.setdefault(str(row.values.get("city")), []).append(str(row.values.get("account")))
    groups = tuple(Group(city, tuple(sorted(members[city]))) for city in sorted(members))
    try:
        assignment = Assignment(int(v["seed"]), dt.date.fromisoformat(str(v["day"])), int(v["group_size"]), groups,
                                str(v["inputs_sha256"]), str(v["algorithm"]))
    except (KeyError, TypeError, ValueError):
        seed, day, size = ("" if v.get(k) is None else v[k] for k in ("seed", "day", "group_size"))
        raise AssignmentChanged(f"检查员抽取记录 {v.get('assignment_id')} 的随机数种子「{seed}」、抽取日期「{day}」"
                                f"或每组人数「{size}」无法读取（记录在抽取后被修改过？）：请省厅核验后重新抽取检查员。") from None
    return AssignmentInfo(str(v["assignment_id"]), str(v["draw_id"]), assignment, v.get("seed_source") == SEED_WORDS[True],
                          record.owner, record.created_at)


def current_assignment(store: Store) -> AssignmentInfo | None:
    """The inspector draw in force for the project draw in force; None when there is none (no draw
    yet, or the projects were drawn again since)."""
    serving = _serving(store)
    return None if serving is None else _info(store, serving)


def _serving(store: Store) -> Record | None:
    """The record of the inspector draw in force for the project draw in force, or None."""
    draws = active_draws(store)
    if not draws:
        return None
    draw_id = draws[-1].values.get("draw_id")
    serving = [r for r in _in_force(store) if r.values.get("draw_id") == draw_id]
    return serving[-1] if serving else None


def inspector_changes(store: Store, draw_id: str, assignment_id: str = "") -> list[Difference]:
    """The records and group rows of the inspector draws made for the project draw ``draw_id`` (only
    ``assignment_id`` when given) that were changed after they were written
    (``record.changed_after_writing``), as ``verify`` reports them."""
    records = [r for r in store.records(ASSIGNMENTS.form_id) if r.values.get("draw_id") == draw_id
               and assignment_id in ("", r.values.get("assignment_id"))]
    ids = {r.values.get("assignment_id") for r in records}
    members = [r for r in store.records(MEMBERS.form_id) if r.values.get("assignment_id") in ids]
    out = [Difference("inspector_draw_changed", f"检查员抽取记录 {r.values.get('assignment_id')} 在抽取后被修改过"
                      f"（第 {r.rev} 版，{r.updated_by}）。")
           for r in changed_after_writing(store, ASSIGNMENTS.form_id, records, id_column="assignment_id")]
    out += [Difference("inspector_group_changed", f"检查员抽取 {r.values.get('assignment_id')} 的检查组一行（记录 {r.id}，"
                       f"{r.values.get('city')}，{r.values.get('account')}）在抽取后被修改过（第 {r.rev} 版，{r.updated_by}）。")
            for r in changed_after_writing(store, MEMBERS.form_id, members)]
    return out


def not_written_with(store: Store, record: Record) -> list[str]:
    """Why the rows the inspector draw ``record`` stands on are not exactly those written with it (one
    ``append_batch``: same instant, same account): a group row or a whole record appended later, a
    record with no recorded inputs, or groups unlike the record's count × size. Empty when they are.
    ``changed_after_writing`` sees edits; this sees additions, which no revision number shows."""
    v = record.values
    aid, written = v.get("assignment_id"), (record.created_at, record.owner)
    members = [r for r in store.records(MEMBERS.form_id) if r.values.get("assignment_id") == aid]
    out = [f"检查组一行（记录 {r.id}，{r.values.get('city')}，{r.values.get('account')}）不是与检查员抽取记录 {aid} 一起写入的"
           for r in members if (r.created_at, r.owner) != written]
    if not any((r.created_at, r.owner) == written for r in store.records(POOL.form_id) if r.values.get("assignment_id") == aid):
        out.append(f"检查员抽取记录 {aid} 没有与它一起写入的抽取依据（检查员信息）")
    per_city: dict[str, set[str]] = {}
    for r in members:
        per_city.setdefault(str(r.values.get("city")), set()).add(str(r.values.get("account")))
    if str(v.get("groups")) != str(len(per_city)) or any(str(len(m)) != str(v.get("group_size")) for m in per_city.values()) \
            or sum(map(len, per_city.values())) != len(members):
        out.append(f"检查员抽取记录 {aid} 写明 {v.get('groups')} 个检查组、每组 {v.get('group_size')} 人，现存的检查组与之不符")
    return out


def assignments_in_force(store: Store, catalog: FormCatalog) -> Assignments:
    """What ``lib.auth.policy`` reads to narrow an inspector to its assignment: each member's city,
    each city's sampled vouchers, the voucher field of every form the campaign binds with a ``voucher``
    meaning (``Bindings.kinds``: the projects, the checks and, when bound, the inspections and the
    complaints) and each city's group by name (as recorded with the draw; the account where no name was).
    ``Assignments()`` (no inspector reads anything) when no inspector draw is in force."""
    serving = _serving(store)
    if serving is None:
        return Assignments()
    # Reach comes only from rows as they were drawn (checked before any is read): a changed group row
    # could send an inspector to their own city, a changed drawn row move a project to another city's group.
    draw_id = str(serving.values.get("draw_id"))
    draw = [r for r in store.records(DRAWS.form_id) if r.values.get("draw_id") == draw_id]
    sampled_rows = [r for r in store.records(DRAW_ROWS.form_id) if r.values.get("draw_id") == draw_id]
    changed = [d.message for d in inspector_changes(store, draw_id, str(serving.values.get("assignment_id")))]
    changed += [f"抽样记录 {draw_id} 在抽样后被修改过"
                for _ in changed_after_writing(store, DRAWS.form_id, draw, id_column="draw_id")]
    changed += [f"抽中名单中服务券编号 {r.values.get('voucher')} 的一行在抽样后被修改过"
                for r in changed_after_writing(store, DRAW_ROWS.form_id, sampled_rows)]
    changed += not_written_with(store, serving)
    if changed:
        raise AssignmentChanged(f"检查任务暂不能生效：{changed[0].rstrip('。')}{'等' if len(changed) > 1 else ''}。请省厅核验抽样"
                                f"（python -m lib.sampling verify {draw_id}）后重新抽取检查员。")
    current = _info(store, serving)
    cities: dict[str, tuple[str, ...]] = {}
    for group in current.assignment.groups:
        for account in group.members:
            cities[account] = (*cities.get(account, ()), group.city)
    sampled: dict[str, set[str]] = {}
    for row in _sampled(store, current.draw_id):
        sampled.setdefault(str(row["city"]), set()).add(comparable(row.get("voucher")))
    bindings = catalog.bindings
    voucher_keys = {bindings.of(kind).form: bindings.of(kind).key("voucher") for kind in bindings.kinds()
                    if bindings.of(kind).key("voucher")}
    names = {(str(r.values.get("city")), str(r.values.get("account"))): str(r.values.get("name") or "")
             for r in store.records(MEMBERS.form_id) if r.values.get("assignment_id") == current.assignment_id}
    members = {g.city: tuple(names.get((g.city, a)) or a for a in g.members) for g in current.assignment.groups}
    return Assignments(cities, {c: frozenset(v - {""}) for c, v in sampled.items()}, voucher_keys, members)
