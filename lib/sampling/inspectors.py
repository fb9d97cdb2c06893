"""The 双随机 inspector draw with 回避: one group of inspectors for each sampled city, drawn at random
from a recorded seed, never where a 回避 rule forbids.

``pool`` reads the inspector pool from the accounts (``lib/auth/accounts.py`` keeps each inspector's
home city, organisation and its city, declared conflicts and health declaration date).
``draw_groups`` gives every city that has sampled projects one group of ``group_size`` inspectors,
and never sends an inspector

* to their home city or their organisation's city (本市);
* to a city whose sampled projects name an organisation they declared a conflict with, or their own
  organisation (利益冲突) — by name or by 统一社会信用代码 (the parties of a city are the names and
  codes of its sampled projects' firms, providers and lead units, ``lib.sampling.parties``), each
  compared as ``party_key`` folds it: ``lib.core.text.comparable`` (width, case, blanks), then a
  leading province (…省) or campaign city name (甲 / 甲市) and a bracketed one (（甲）) dropped,
  and a trailing legal form (有限公司, 有限责任公司, 股份有限公司 …) dropped, so that 甲市云智科技有限责任公司
  and 云智科技 are one organisation. The fold errs on the side of 回避: two firms that differ only by
  city (甲市云智 and 乙市云智) are one name here;
* anywhere without a current health declaration: one dated within the ``HEALTH_DAYS`` days that end
  on the draw day (健康申报).

The method (``ALGORITHM_VERSION``), which an auditor can repeat: the pool is taken in the order of its
account ids and the cities in the order of their names, so neither input's order matters;
one stream ``numpy.random.PCG64(SeedSequence([seed, inputs_sha256 as an integer]))``, read only through
``random_raw`` as the project draw reads it (``draw.random_order``: one word per position, positions
sorted by their word, ties by position), orders the cities (one word each), then, city by city in
that order, the inspectors each city may receive (in account order, one word each). The cities are filled one place at a time in their order, each place
taking the first inspector in the city's order who is not yet in a group — or, when every one is,
moving one of them along an augmenting path (Kuhn's bipartite matching, with a city holding
``group_size`` places). That search is complete: it fills every place whenever some assignment
exists, in at most places × (inspector, city) pairs steps, with no guessing bound to tune. When a
place cannot be filled, the cities the failed search reached together need more inspectors than may
go to any of them (Hall's condition fails), and the error names those cities and why. Every choice
comes from the generator; the draw does not make every valid assignment equally likely (that would
mean counting them, a #P-hard problem), only each one possible to reach from some seed's orders.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from lib.auth.accounts import CONFLICT_FIELDS, Account
from lib.core import roles
from lib.core.errors import AppError
from lib.core.text import comparable
from lib.sampling.draw import generator, random_order

#: Names the method above; recorded with every assignment, changed whenever the method changes.
ALGORITHM_VERSION = "inspectors-kuhn-3"  # 2: orders from PCG64.random_raw words, no Generator.permutation;
# 3: ``party_key`` folds a branch (…公司<place>分公司) to its parent and drops (集团), so 回避 can refuse more
#: A health declaration is current on the draw day and the 13 days before it.
HEALTH_DAYS = 14

#: Why an inspector may not go to a city, in the order a refusal is counted (each inspector once).
OWN_CITY = "本市"
CONFLICT = "利益冲突"
NO_HEALTH = "未作健康申报"
STALE_HEALTH = "健康申报过期"
LATE_HEALTH = "健康申报日期晚于抽取日"
REASONS = (OWN_CITY, CONFLICT, NO_HEALTH, STALE_HEALTH, LATE_HEALTH)


class InspectorDrawError(AppError):
    """The inspector draw cannot be made: a bad group size or seed, no sampled city, or a pool that
    cannot meet the 回避 rules (codes ``inspectors_short``: a city has too few inspectors it may
    receive; ``inspectors_short_together``: several cities share too few). ``cities`` names the
    cities the refusal is about."""

    code = "inspector_draw"

    def __init__(self, message: str, *, code: str | None = None, cities: tuple[str, ...] = ()):
        super().__init__(message, code=code)
        self.cities = cities


@dataclass(frozen=True)
class Inspector:
    """An inspector as the draw sees one: ``conflicts`` are the declared names of every kind."""

    account: str
    name: str = ""
    city: str = ""  # home city
    org: str = ""
    org_city: str = ""
    conflicts: tuple[str, ...] = ()
    health_declared_on: dt.date | None = None

    def health(self, day: dt.date) -> str | None:
        """Why the health declaration is not current on ``day`` (a reason of ``REASONS``), or None.

        >>> i = Inspector("a", health_declared_on=dt.date(2026, 9, 8))
        >>> [i.health(dt.date(2026, 9, d)) for d in (7, 8, 21, 22)]
        ['健康申报日期晚于抽取日', None, None, '健康申报过期']
        """
        if self.health_declared_on is None:
            return NO_HEALTH
        age = (day - self.health_declared_on).days
        return LATE_HEALTH if age < 0 else STALE_HEALTH if age >= HEALTH_DAYS else None


@dataclass(frozen=True)
class Group:
    city: str
    members: tuple[str, ...]  # inspector accounts, in account order


@dataclass(frozen=True)
class Assignment:
    """A recorded inspector draw: (inputs, seed, algorithm) -> these groups, always."""

    seed: int
    day: dt.date
    group_size: int
    groups: tuple[Group, ...]  # one per sampled city, in the order of the cities' names
    inputs_sha256: str  # of the pool's facts and the cities' parties as the draw read them (``inputs_digest``)
    algorithm: str = ALGORITHM_VERSION

    def members(self, city: str) -> tuple[str, ...]:
        return next((g.members for g in self.groups if g.city == city), ())

    def city_of(self, account: str) -> str | None:
        """The city ``account`` is sent to, or None when it is in no group."""
        return next((g.city for g in self.groups if account in g.members), None)

    def rows(self) -> list[dict[str, str]]:
        """One row per member, with what makes the draw repeatable: the shape to store or publish."""
        return [{"city": g.city, "account": a, "seed": str(self.seed), "day": self.day.isoformat(),
                 "group_size": str(self.group_size), "algorithm": self.algorithm, "inputs_sha256": self.inputs_sha256}
                for g in self.groups for a in g.members]


def pool(accounts: Iterable[Account]) -> list[Inspector]:
    """The inspector pool: the enabled accounts with the inspector role, in account order. A stored
    date that does not read as one counts as no declaration.

    >>> a = Account("ins1", roles.INSPECTOR, org="省检查组", city="甲市", conflict_firms=("乙公司",),
    ...             health_declared_on="2026-09-20")
    >>> off = Account("ins0", roles.INSPECTOR, disabled=True)
    >>> [(i.account, i.conflicts, i.health_declared_on) for i in pool([a, off, Account("p", roles.PROVIDER)])]
    [('ins1', ('乙公司',), datetime.date(2026, 9, 20))]
    """
    found = []
    for a in accounts:
        if a.role != roles.INSPECTOR or a.disabled:
            continue
        try:
            declared = dt.date.fromisoformat(a.health_declared_on) if a.health_declared_on else None
        except (TypeError, ValueError):
            declared = None
        conflicts = tuple(name for key in CONFLICT_FIELDS for name in getattr(a, key))
        found.append(Inspector(a.account, a.name, a.city, a.org, a.org_city, conflicts, declared))
    return sorted(found, key=lambda i: i.account)


#: Legal forms a name may end with, longest first (the fold drops the one it ends with, then blanks).
LEGAL_FORMS = ("股份有限公司", "有限责任公司", "有限公司", "股份公司", "集团公司", "公司", "co.,ltd.", "co.,ltd", "co.ltd", "ltd.",
               "ltd", "inc.", "inc")
_PROVINCE = re.compile(r"^[\u4e00-\u9fff]{2,3}省")
#: A branch's name ends with 分公司 after its parent's ("…有限公司广州分公司"); (集团) marks no other company.
_BRANCH, _COMPANY, _GROUP = "分公司", "公司", "(集团)"


def party_key(name: str, places: Iterable[str] = ()) -> str:
    """An organisation's name (or credit code) as 回避 compares it: ``comparable``, a leading province
    (…省) and a leading or bracketed place of ``places`` (the campaign's cities, with or without 市)
    dropped, a bracketed (集团) dropped, a branch (…公司 followed by anything and 分公司) read as its
    parent (…公司), and a trailing legal form (``LEGAL_FORMS``) dropped. A name that would fold to nothing
    stays as ``comparable`` has it. Each fold can only make two names equal that were not: for 回避 a
    match too many keeps an inspector away, one too few sends them to a party they declared.

    >>> names = ("甲城云智科技有限公司", "甲城云智科技有限责任公司", "甲城市云智科技有限公司", "丙丁省甲城市云智科技股份有限公司",
    ...          "云智科技（甲城）有限公司", "云智科技", " ９１４４０１０１ma59abcdem ")
    >>> [party_key(n, ("甲城",)) for n in names]
    ['云智科技', '云智科技', '云智科技', '云智科技', '云智科技', '云智科技', '91440101ma59abcdem']
    >>> party_key("有限公司"), party_key("甲城市", ("甲城",))
    ('有限公司', '甲城市')
    >>> [party_key(n, ("甲城",)) for n in ("乙通信（集团）有限公司甲城分公司", "乙通信有限公司", "乙通信集团有限公司甲城市分公司")]
    ['乙通信', '乙通信', '乙通信集团']
    """
    return _party_key(name or "", tuple(places))


@functools.lru_cache(maxsize=1 << 17)
def _party_key(name: str, places: tuple[str, ...]) -> str:
    """The fold of ``party_key``, kept per process: the sampling page folds every organisation name of the
    registers and forms on each run (``parties.unmatched_conflicts``), and ``comparable`` is the costly part."""
    text = comparable(name)
    folded = _PROVINCE.sub("", text)
    written = _place_forms(places)
    if "(" in folded:
        for bracketed in written.bracketed:
            folded = folded.replace(bracketed, "")
    if folded.startswith(written.starts):
        folded = folded[len(next(w for w in written.leading if folded.startswith(w))):]
    folded = folded.replace(_GROUP, "")
    if folded.endswith(_BRANCH) and (parent := folded[: -len(_BRANCH)].rfind(_COMPANY)) > 0:
        folded = folded[: parent + len(_COMPANY)]
    for form in LEGAL_FORMS:
        if folded.endswith(form):
            folded = folded[: -len(form)]
            break
    return folded or text


@dataclass(frozen=True)
class _PlaceForms:
    leading: tuple[str, ...]  # each place with and without 市, longest first
    starts: tuple[str, ...]  # the same, for one ``str.startswith``
    bracketed: tuple[str, ...]  # (place市) and (place)


@functools.lru_cache(maxsize=64)
def _place_forms(places: tuple[str, ...]) -> _PlaceForms:
    """How ``places`` may be written in a name, folded once for every name compared with them."""
    leading = sorted({w for p in places if p for w in (comparable(p) + "市", comparable(p))}, key=len, reverse=True)
    return _PlaceForms(tuple(leading), tuple(leading), tuple(f"({w})" for w in leading))


def refusal(inspector: Inspector, city: str, parties: Iterable[str], day: dt.date, places: Iterable[str] = ()) -> str | None:
    """Why ``inspector`` may not go to ``city`` (whose sampled projects name ``parties``: names and
    credit codes) on ``day``: the first reason of ``REASONS`` that applies, or None when they may.
    Names are compared by ``party_key`` with ``places``.

    >>> i = Inspector("a", city="甲市", org="省检查组", conflicts=("乙 (集团) 公司",), health_declared_on=dt.date(2026, 9, 20))
    >>> [refusal(i, c, p, dt.date(2026, 9, 21)) for c, p in (("甲市", []), ("丙市", ["乙（集团）有限责任公司"]), ("丙市", ["丁公司"]))]
    ['本市', '利益冲突', None]
    """
    places = tuple(places)
    return _Facts(inspector, places).refusal(comparable(city), {party_key(p, places) for p in parties}, day)


class _Facts:
    """An inspector's facts in the form the rules compare them (``comparable``, ``party_key``)."""

    def __init__(self, inspector: Inspector, places: tuple[str, ...] = ()):
        self.inspector = inspector
        self.cities = {comparable(c) for c in (inspector.city, inspector.org_city) if c}
        self.conflicts = {party_key(n, places) for n in (*inspector.conflicts, inspector.org) if n}
        self.conflicts.discard("")

    def refusal(self, city: str, parties: set[str], day: dt.date) -> str | None:
        if city in self.cities:
            return OWN_CITY
        if self.conflicts & parties:
            return CONFLICT
        return self.inspector.health(day)


def inputs_digest(inspectors: list[Inspector], cities_sample: Mapping[str, Iterable[str]], places: Iterable[str] = ()) -> str:
    """SHA-256 of the draw's inputs in a canonical form (pool in account order, cities and their
    parties sorted, and the places ``party_key`` drops, sorted, when there are any): a later check can
    tell whether it re-draws from the same inputs.

    >>> inputs_digest([], {"甲市": ["b", "a"]}) == inputs_digest([], {"甲市": ["a", "b", "a"]})
    True
    """
    canonical = {
        "pool": [[i.account, i.city, i.org, i.org_city, sorted(i.conflicts),
                  i.health_declared_on.isoformat() if i.health_declared_on else ""] for i in sorted(inspectors, key=lambda i: i.account)],
        "cities": {c: sorted(set(p)) for c, p in sorted(cities_sample.items())},
    }
    if places := sorted(set(places)):
        canonical["places"] = places
    text = json.dumps(canonical, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def draw_groups(inspectors: Iterable[Inspector], cities_sample: Mapping[str, Iterable[str]], group_size: int, seed: int,
                day: dt.date, places: Iterable[str] = ()) -> Assignment:
    """Assign one group of ``group_size`` inspectors to each city of ``cities_sample`` (city -> the
    organisations and codes named in its sampled projects, ``lib.sampling.parties.sampled_parties``), at
    random from ``seed``, on ``day`` (which decides whose health declaration is current), keeping every
    回避 rule; names compared by ``party_key`` with ``places``.

    Raises InspectorDrawError when the size or seed is not a whole number (size ≥ 1, seed ≥ 0), no
    city is given, or the rules cannot be met — naming the city (or cities) and why.

    >>> ins = [Inspector(f"i{n}", city=c, health_declared_on=dt.date(2026, 9, 20)) for n, c in enumerate("甲甲乙乙丙丙")]
    >>> got = draw_groups(ins, {"甲": [], "乙": []}, 2, seed=7, day=dt.date(2026, 9, 21))
    >>> all(got.city_of(i.account) != i.city for i in ins), [len(g.members) for g in got.groups]
    (True, [2, 2])
    """
    if isinstance(group_size, bool) or not isinstance(group_size, int | np.integer) or group_size < 1:
        raise InspectorDrawError(f"每组检查员人数须为不小于 1 的整数，现为「{group_size}」。", code="bad_group_size")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InspectorDrawError(f"检查员抽取的随机种子须为非负整数，现为「{seed}」。", code="bad_inspector_seed")
    people = sorted(inspectors, key=lambda i: i.account)
    sample = {city: list(parties) for city, parties in cities_sample.items()}
    if not sample:
        raise InspectorDrawError("没有已抽中项目的地市，请先完成项目抽取再抽取检查员。", code="no_sampled_city")
    cities = sorted(sample)
    places = tuple(sorted(set(places)))
    facts = [_Facts(i, places) for i in people]
    parties = [{party_key(p, places) for p in sample[c]} for c in cities]
    why = [[f.refusal(comparable(c), parties[k], day) for f in facts] for k, c in enumerate(cities)]
    short = {c: _short(c, why[k], group_size) for k, c in enumerate(cities)}
    if any(short.values()):
        raise InspectorDrawError("；".join(m for m in short.values() if m), code="inspectors_short",
                                 cities=tuple(c for c, m in short.items() if m))

    digest = inputs_digest(people, sample, places)
    bits = generator(int(seed), digest)
    order = [int(k) for k in random_order(bits, len(cities))]
    prefs: list[list[int]] = [[] for _ in cities]
    for k in order:  # the cities' own orders come from the stream in the cities' drawn order
        allowed = [n for n, reason in enumerate(why[k]) if reason is None]
        prefs[k] = [allowed[int(i)] for i in random_order(bits, len(allowed))]
    matching = _Matching(prefs)
    for k in order:
        for _ in range(group_size):
            stuck = matching.add_one(k)
            if stuck is not None:
                raise _together(sorted(cities[c] for c in stuck), group_size, {n for c in stuck for n in prefs[c]})
    groups = tuple(Group(c, tuple(people[n].account for n in sorted(matching.groups[k]))) for k, c in enumerate(cities))
    return Assignment(int(seed), day, int(group_size), groups, digest)


class _Matching:
    """Cities (by index) holding inspectors (by index), grown one place at a time by augmenting paths."""

    def __init__(self, prefs: list[list[int]]):
        self.prefs = prefs
        self.groups: list[list[int]] = [[] for _ in prefs]
        self.where: dict[int, int] = {}

    def add_one(self, start: int) -> set[int] | None:
        """Give city ``start`` one more inspector, moving others along a path when needed. Returns None,
        or when no path exists the cities the search reached (a set failing Hall's condition).
        The first inspector in the city's order who is in no group is taken (the method as documented);
        only when every one is does an inspector move along a path."""
        free = next((person for person in self.prefs[start] if person not in self.where), None)
        if free is not None:
            self._shift(start, free, {})
            return None
        seen = {start}
        via: dict[int, tuple[int, int]] = {}  # city -> (the city its inspector moves to, that inspector)
        stack: list[tuple[int, Iterator[int]]] = [(start, iter(self.prefs[start]))]
        while stack:
            city, candidates = stack[-1]
            for person in candidates:
                at = self.where.get(person)
                if at is None:
                    self._shift(city, person, via)
                    return None
                if at not in seen:  # ``at`` may give ``person`` up if it can find another
                    seen.add(at)
                    via[at] = (city, person)
                    stack.append((at, iter(self.prefs[at])))
                    break
            else:
                stack.pop()
        return seen

    def _shift(self, city: int, person: int, via: dict[int, tuple[int, int]]) -> None:
        while True:
            self.groups[city].append(person)
            self.where[person] = city
            if city not in via:
                return
            city, person = via[city][0], via[city][1]
            self.groups[self.where[person]].remove(person)


def _short(city: str, why: list[str | None], size: int) -> str:
    """The message for a city with fewer than ``size`` inspectors it may receive, else ""."""
    free = why.count(None)
    if free >= size:
        return ""
    counts = "、".join(f"{reason} {why.count(reason)} 人" for reason in REASONS if why.count(reason))
    return f"「{city}」：合格检查员不足（需要 {size} 人，可用 {free} 人" + (f"：其余{counts}）" if counts else "）")


def _together(cities: list[str], size: int, reachable: set[int]) -> InspectorDrawError:
    names = "".join(f"「{c}」" for c in cities)
    return InspectorDrawError(
        f"{names}：合格检查员合计不足（{len(cities)} 个地市共需 {len(cities) * size} 人，"
        f"能派往其中任一地市的合格检查员共 {len(reachable)} 人，每人只能参加一个组）。",
        code="inspectors_short_together", cities=tuple(cities))
