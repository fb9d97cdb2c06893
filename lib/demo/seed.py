"""Deterministic, realistic demo data for the three forms of the 2020 campaign.

``generate`` builds typed rows (what ``check_answers`` would return) from a seeded ``random.Random``,
so the same seed always gives the same workbook; ``seed_store`` writes them through the Store
interface. Every generated row passes the shipped forms' rules: the generator follows the voucher
scheme's facts (no Shenzhen client firms, contracts from 2018-03-20, paid >= 90% of the contract,
subsidy <= paid <= contract) instead of relying on the validator to filter.

>>> from pathlib import Path
>>> from lib.forms import load_catalog
>>> data = generate(load_catalog(Path("forms")), rows=40, seed=1)
>>> sorted(data), len(data["att1"]), len(data["att3"])
(['att1', 'att2', 'att3'], 40, 16)
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lib.core.records import Actor
from lib.core.statuses import DRAFT, SUBMITTED
from lib.forms.columns import sheet_spec
from lib.forms.spec import FormSpec

from .benchmark import benchmark_reports
from .lexicon import (
    CHECK_PROBLEMS,
    CITY_INFO,
    CLIENT_TITLES,
    COMPLAINTS,
    FIRM_CORES,
    PROBLEMS_TEXT,
    PRODUCTS,
    PROJECT_TEMPLATES,
    PROVIDER_CORES,
    PROVIDER_HOMES,
    PROVIDER_SUFFIXES,
    REASONS,
    TEMPLATE_WEIGHTS,
    USAGE,
    CityInfo,
)
from .maker import D, DemoRow, Maker, blank_row, money
from .timeline import FilingClock, filing_time


@dataclass(frozen=True)
class _Provider:
    name: str
    code: str
    city: CityInfo
    account: str
    weight: float


def _providers(m: Maker, count: int, cities: list[CityInfo]) -> list[_Provider]:
    homes = [(c, PROVIDER_HOMES.get(c.name, 4 / max(1, len(cities) - len(PROVIDER_HOMES)))) for c in cities]
    out = []
    for i in range(count):
        city = m.weighted(homes)
        district, region = m.rng.choice(city.districts)
        prefix = "广东" if m.rng.random() < 0.15 else city.name
        name = m.unique(lambda extra, prefix=prefix: prefix + m.rng.choice(PROVIDER_CORES) + extra + m.rng.choice(PROVIDER_SUFFIXES),
                        space=f"provider:{prefix}")
        out.append(_Provider(name, m.credit_code(region), city, f"provider_{i + 1:03d}", m.rng.lognormvariate(0, 0.8)))
    return out


def _att1_rows(m: Maker, form: FormSpec, count: int, cities: list[CityInfo], providers: list[_Provider]) -> list[DemoRow]:
    rng = m.rng
    scheme = [c for c in cities if c.projects > 0]
    voucher_seq: dict[tuple[str, str], int] = {}
    firms: dict[str, list[tuple[CityInfo, str, str, str, str]]] = {}  # per city: district, name, code, short name
    projects: set[tuple[str, str]] = set()  # (firm code, project name): a firm's second project has its own name
    rows = []
    for i in range(count):
        # The first rows visit every city once so that even a small demo covers them all.
        city = scheme[i] if i < len(scheme) and count >= len(scheme) else m.weighted([(c, c.projects) for c in scheme])
        same_city = firms.setdefault(city.name, [])
        if same_city and rng.random() < 0.06:  # a firm with a second voucher project
            _, district, client, code, short = rng.choice(same_city)
        else:
            district, region = rng.choice(city.districts)
            place = f"{city.name}市{district}" if rng.random() < 0.3 and district.endswith("区") else f"{city.name}市"
            client = m.unique(lambda extra, place=place: f"{place}{rng.choice(FIRM_CORES)}{extra}{rng.choice(PRODUCTS)}有限公司",
                              space=f"firm:{place}")
            short = client.removeprefix(place).removesuffix("有限公司")[:6]
            code = m.credit_code(region)
            same_city.append((city, district, client, code, short))
        local = [p for p in providers if p.city is city]
        pool = local if local and rng.random() < 0.5 else providers
        provider = rng.choices(pool, weights=[p.weight for p in pool])[0]

        ptype, area, name_tmpl, content_tmpl = rng.choices(PROJECT_TEMPLATES, weights=TEMPLATE_WEIGHTS)[0]
        project = name_tmpl.format(short=short)
        for phase in "二三四五六七八九":
            if (code, project) not in projects:
                break
            project = name_tmpl.format(short=short) + f"（{phase}期）"
        projects.add((code, project))
        contract_date = m.date(D(2018, 3, 20), D(2019, 12, 31))
        year = str(contract_date.year)
        if contract_date >= D(2018, 10, 1) and contract_date.year == 2018 and rng.random() < 0.4:
            year = "2019"  # contracts of late 2018 were often subsidised in the 2019 round
        seq = voucher_seq[(year, city.name)] = voucher_seq.get((year, city.name), 0) + 1
        contract_c = max(150, min(3_000_000, round(math.exp(rng.gauss(math.log(12), 0.9)) * 100)))
        paid_c = contract_c if rng.random() < 0.7 else rng.randint(-(-contract_c * 9 // 10), contract_c)
        subsidy_c = max(1, min(paid_c, round(contract_c * rng.triangular(0.01, 0.30, 0.12))))
        status = m.weighted(USAGE)
        users = {"正常使用": rng.randint(5, 300), "使用率较低": rng.randint(1, 8), "闲置": rng.randint(0, 1), "停用": 0}[status]
        services_pick = set(rng.sample(("项目改进", "优化升级", "培训辅导", "项目维保"), rng.randint(0, 3)))
        if status != "正常使用":
            services_pick.add("培训辅导")
        services = [s for s in form.field("followup_services").choices if s in services_pick]
        contacts = [
            {"contact_name": m.person(), "contact_title": rng.choice(CLIENT_TITLES) if rng.random() < 0.9 else None, "contact_phone": m.phone(city)}
            for _ in range(rng.choice((1, 1, 1, 2)))
        ]
        values = blank_row(form) | {
            "provider_name": provider.name,
            "provider_credit_code": provider.code,
            "subsidy_year": year,
            "client_city": city.name,
            "client_district": district,
            "client_name": client,
            "client_credit_code": code,
            "voucher_no": f"SYQ-{year}-{city.districts[0][1][:4]}-{seq:05d}",
            "project_name": project,
            "project_type": ptype,
            "business_area": area,
            "implementation_content": content_tmpl.format(n=rng.randint(3, 60)),
            "contract_date": contract_date,
            "contract_amount": money(contract_c),
            "paid_amount": money(paid_c),
            "subsidy_amount": money(subsidy_c),
            "acceptance_date": contract_date + dt.timedelta(days=rng.randint(20, 150)),
            "usage_status": status,
            "monthly_active_users": users,
            "reason": rng.choice(REASONS[status]) if status in REASONS else None,
            "followup_date": m.date(D(2020, 9, 7), D(2020, 9, 18)),
            "followup_services": services or None,
            "problems_and_measures": rng.choice(PROBLEMS_TEXT) if status != "正常使用" or rng.random() < 0.3 else None,
            "contacts": contacts,
            "remarks": "企业已更名，服务券按原名称申领。" if rng.random() < 0.02 else None,
        }
        actor = Actor(provider.account, "provider", org=provider.name, city=provider.city.name)
        rows.append(DemoRow(values, actor, DRAFT if rng.random() < 0.03 else SUBMITTED))
    return rows


def _att3_rows(m: Maker, form: FormSpec, count: int, att1: list[DemoRow], city_order: list[str]) -> list[DemoRow]:
    rng = m.rng
    submitted = [r for r in att1 if r.status == SUBMITTED]
    picked = rng.sample(range(len(submitted)), min(count, len(submitted)))
    picked.sort(key=lambda i: (city_order.index(submitted[i].values["client_city"]), i))
    rows = []
    for i in picked:
        p = submitted[i].values
        city = CITY_INFO[p["client_city"]]
        method = m.weighted((("实地检查", 35), ("抽查", 30), ("书面核查", 20), ("未检查", 15)))
        complaint = rng.random() < 0.04
        values = blank_row(form) | {
            "city": city.name,
            "client_name": p["client_name"],
            "client_credit_code": p["client_credit_code"],
            "provider_name": p["provider_name"],
            "voucher_no": p["voucher_no"] if rng.random() < 0.9 else None,
            "project_name": p["project_name"],
            "subsidy_year": p["subsidy_year"],
            "subsidy_amount": p["subsidy_amount"],
            "check_method": method,
            "complaint": complaint,
            "complaint_details": rng.choice(COMPLAINTS) if complaint else None,
            "remarks": "企业已迁往外市，通过电话和材料核查。" if rng.random() < 0.02 else None,
        }
        if method != "未检查":
            check_date = m.date(p["acceptance_date"] + dt.timedelta(days=15), D(2020, 9, 20))
            usage = p["usage_status"]
            if usage == "正常使用" and rng.random() < 0.06:  # what the provider did not report
                usage = rng.choice(("使用率较低", "闲置"))
            matches = m.weighted((("是", 85), ("部分", 11), ("否", 4)))
            if matches == "否" or usage == "停用":
                conclusion = "不合格" if rng.random() < 0.8 else "基本合格"
            elif usage == "闲置" or matches == "部分":
                conclusion = "基本合格" if rng.random() < 0.6 else "不合格"
            elif usage == "使用率较低":
                conclusion = "基本合格" if rng.random() < 0.7 else "合格"
            else:
                conclusion = "合格" if rng.random() < 0.93 else "基本合格"
            good = usage == "正常使用"
            satisfaction = m.weighted((("满意", 80 if good else 30), ("基本满意", 18 if good else 50), ("不满意", 2 if good else 20)))
            demand = None
            if conclusion == "不合格" or (conclusion == "基本合格" and rng.random() < 0.6):
                demand = "督促服务商和企业按合同完善实施内容，提高系统使用率，整改完成后报送整改报告。"
            values |= {
                "check_date": check_date,
                "checkers": "、".join(m.person() for _ in range(rng.randint(2, 3))),
                "content_matches": matches,
                "usage_status": usage,
                "satisfaction": satisfaction,
                "conclusion": conclusion,
                "problems": rng.choice(CHECK_PROBLEMS) if conclusion != "合格" else None,
                "rectification_demand": demand,
                "rectification_deadline": check_date + dt.timedelta(days=rng.choice((30, 45, 60, 90))) if demand else None,
            }
        actor = Actor(f"city_{city.account}", "city", org=city.bureau, city=city.name)
        rows.append(DemoRow(values, actor, DRAFT if rng.random() < 0.02 else SUBMITTED))
    return rows


#: The forms the demo fills (those of the 2020 campaign shipped in forms/).
DEMO_FORMS = ("att1", "att2", "att3")
_log = logging.getLogger(__name__)


def generate(catalog, *, rows: int = 2000, seed: int = 2020) -> dict[str, list[DemoRow]]:
    """Demo rows per form id: ``rows`` att1 projects, about 40% as many att3 checks, ~3% att2 reports.

    ``catalog`` is a FormCatalog (or anything with ``.campaign``, ``.forms()`` and ``.form(id)``). The same
    ``seed`` always yields the same rows. A form the catalog does not serve (its file is broken) or
    that no longer fits the demo's data is skipped and logged (``skipped_forms`` names them): the
    first start still seeds the others, and creates the accounts, so people can sign in.
    """
    rng = random.Random(seed)
    m = Maker(rng)
    campaign = catalog.campaign
    unknown = [c for c in campaign.cities if c not in CITY_INFO]
    if unknown:
        raise ValueError(f"演示数据不认识这些地市：{'、'.join(unknown)}")
    cities = [CITY_INFO[c] for c in campaign.cities]
    providers = _providers(m, max(8, min(60, rows // 30)), cities)
    out: dict[str, list[DemoRow]] = {}
    builders: tuple[tuple[str, Callable[[FormSpec], list[DemoRow]]], ...] = (
        ("att1", lambda form: _att1_rows(m, form, rows, cities, providers)),
        ("att2", lambda form: benchmark_reports(m, form, max(5, round(rows * 0.03)), cities)),
        ("att3", lambda form: _att3_rows(m, form, round(rows * 0.4), out["att1"], list(campaign.cities))),
    )
    served = {form.id for form in catalog.forms()}
    for form_id, build in builders:
        if form_id not in served:
            _log.warning("演示数据跳过表单 %s：该表单未启用（文件有问题或已删除，见表单检查）", form_id)
            continue
        try:
            out[form_id] = build(catalog.form(form_id))
        except Exception as exc:  # noqa: BLE001 - a changed form: skip it, never stop the first start
            _log.warning("演示数据跳过表单 %s：该表单与演示数据不符（%s: %s）", form_id, type(exc).__name__, exc)
    return out


def skipped_forms(seeded: dict) -> list[str]:
    """The demo's form ids that ``seeded`` (what ``generate`` or ``seed_store`` returned) lacks."""
    return [form_id for form_id in DEMO_FORMS if form_id not in seeded]


def seed_store(
    store,
    catalog,
    *,
    rows: int = 2000,
    seed: int = 2020,
    progress: Callable[[float, str], None] | None = None,
    clock: FilingClock | None = None,
) -> dict[str, int]:
    """Generate demo rows and append them to ``store``; return the number of rows per form id.

    ``clock``, when the store was opened with it, is set to each filer's filing time inside the
    campaign (see ``lib.demo.timeline``) before that filer's rows are written.

    Rows of one filer and status go in one ``append_many`` call when the store has it (the local
    store writes such a batch with one fsync), so a filer's rows are contiguous in creation order.
    ``progress(fraction, text)`` is called after every batch (it fits ``st.progress``).
    """
    data = generate(catalog, rows=rows, seed=seed)
    total = sum(len(v) for v in data.values()) or 1
    done = 0
    counts: dict[str, int] = {}
    bulk = getattr(store, "append_many", None)
    for form_id, demo_rows in data.items():
        form = catalog.form(form_id)
        store.ensure_sheet(sheet_spec(form))
        batches: dict[tuple[Actor, str], list[dict[str, Any]]] = {}
        for r in demo_rows:
            batches.setdefault((r.actor, r.status), []).append(r.values)
        deadline = catalog.campaign.deadlines.get(form.deadline) if form.deadline else None
        opens = min(p.start for p in catalog.campaign.phases)
        for (actor, status), values in batches.items():
            if clock is not None and deadline is not None:
                clock.set(filing_time(actor.account, deadline, opens, seed=seed))
            if bulk is not None:
                bulk(form_id, values, actor=actor, status=status, form_version=form.version)
            else:
                for v in values:
                    store.append(form_id, v, actor=actor, status=status, form_version=form.version)
            done += len(values)
            if progress:
                progress(done / total, f"正在写入「{form.short_title}」演示数据：{done}/{total}")
        counts[form_id] = len(demo_rows)
    return counts
