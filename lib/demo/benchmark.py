"""附件2 demo reports: benchmark projects of the province's and the Ministry's programmes."""

from __future__ import annotations

import datetime as dt

from lib.core.records import Actor
from lib.core.statuses import DRAFT, SUBMITTED
from lib.forms.spec import FormSpec

from .lexicon import (
    BENCHMARK_TEMPLATES,
    FIRM_CORES,
    INDUSTRIES,
    PARTNER_INSTITUTES,
    PROVIDER_CORES,
    PROVIDER_SUFFIXES,
    CityInfo,
)
from .maker import D, DemoRow, Maker, blank_row, money


def benchmark_reports(m: Maker, form: FormSpec, count: int, cities: list[CityInfo]) -> list[DemoRow]:
    rng = m.rng
    rows = []
    heavy = {"广州": 8, "深圳": 6, "佛山": 8, "东莞": 6, "珠海": 3, "中山": 3, "惠州": 3, "江门": 2}
    for i in range(count):
        city = cities[i] if i < len(cities) and count >= len(cities) else m.weighted([(c, heavy.get(c.name, 1)) for c in cities])
        district, region = rng.choice(city.districts)
        industry = rng.choice(INDUSTRIES)
        lead = m.unique(lambda extra, city=city, industry=industry: f"{city.name}市{rng.choice(FIRM_CORES)}{extra}{industry}{rng.choice(('股份有限公司', '集团有限公司', '科技有限公司'))}",
                        space=f"lead:{city.name}{industry}")
        # The province did not fund Shenzhen (it has its own budget); the Ministry did.
        ministry = city.name == "深圳" or rng.random() < 0.25
        exempt = ministry and rng.random() < 0.6
        year = rng.choice(("2018", "2019"))
        start = m.date(D(int(year), 5, 1), D(int(year), 12, 31))
        building = rng.random() < 0.6
        end = m.date(D(2020, 10, 1), D(2021, 12, 31)) if building else m.date(min(start + dt.timedelta(days=240), D(2020, 6, 30)), D(2020, 8, 31))
        total_c = rng.randint(800, 8000) * 100 * rng.choice((1, 1, 1, 2))
        public_c = round(total_c * rng.uniform(0.1, 0.3))
        own_c = total_c - public_c
        partners = []
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            if rng.random() < 0.4:
                partners.append({"partner_name": rng.choice(PARTNER_INSTITUTES), "partner_credit_code": None, "partner_role": "关键技术研发与平台算法支持"})
            else:
                pcity = rng.choice(cities)
                partners.append({
                    "partner_name": m.unique(lambda extra, pcity=pcity: f"{pcity.name}{rng.choice(PROVIDER_CORES)}{extra}{rng.choice(PROVIDER_SUFFIXES)}",
                                             space=f"provider:{pcity.name}"),
                    "partner_credit_code": m.credit_code(rng.choice(pcity.districts)[1]),
                    "partner_role": rng.choice(("平台开发与部署", "设备联网改造", "数据采集与边缘计算", "网络安全保障")),
                })
        partners = [p for p in {p["partner_name"]: p for p in partners}.values()]  # one row per unit
        values = blank_row(form) | {
            "project_name": rng.choice(BENCHMARK_TEMPLATES).format(industry=industry),
            "lead_unit_name": lead,
            "lead_unit_credit_code": m.credit_code(region),
            "partner_units": partners or None,
            "city": city.name,
            "programme": "工信部创新发展工程" if ministry else "省级标杆示范",
            "monthly_report_exempt": exempt if ministry else None,
            "project_year": year,
            "project_status": "在建" if building else "到期未验收",
            "planned_start": start,
            "planned_end": end,
            "total_investment": money(total_c),
            "public_funds": money(public_c),
            "own_funds_planned": money(own_c),
            "contact_name": m.person(),
            "contact_title": rng.choice(("信息中心主任", "项目负责人", "办公室主任", "技术总监")),
            "contact_phone": m.phone(city),
            "contact_email": f"{rng.choice(('xm', 'gyhlw', 'project', 'it'))}{rng.randint(10, 999)}@{rng.choice(('163.com', 'qq.com', '126.com'))}" if rng.random() < 0.7 else None,
        }
        if not exempt:
            public_spent_c = round(public_c * rng.uniform(0.3, 1.0))
            own_spent_c = round(own_c * rng.uniform(0.2, 1.05))
            public_spent, own_spent = money(public_spent_c), money(own_spent_c)
            problems = "无" if rng.random() < 0.5 else rng.choice(("中期检查指出项目进度滞后于任务书计划。", "绩效评价指出部分绩效指标完成值偏低。", "资金审计指出自筹资金到位不及时、部分支出凭证不规范。"))
            values |= {
                "construction_done": f"已完成{industry}行业平台主体开发，接入企业{rng.randint(10, 300)}家、设备{rng.randint(200, 20000)}台。",
                "percent_complete": float(rng.randint(20, 90) if building else rng.randint(75, 99)),
                "key_indicators": f"平台接入设备目标{rng.randint(5, 30)}000台，已完成约{rng.randint(40, 95)}%；生产效率提升目标20%，目前提升{rng.randint(8, 25)}%。",
                "public_spent": public_spent,
                "own_spent": own_spent,
                "spending_ratio": round((public_spent + own_spent) / (values["public_funds"] + values["own_funds_planned"]) * 100, 2),
                "separate_account": rng.random() < 0.9,
                "spending_notes": "部分设备采购合同尚在执行，资金按合同节点支付。" if rng.random() < 0.5 else None,
                "problems_found": problems,
                "rectification_done": "无" if problems == "无" else "已制定整改方案，逐项落实，相关问题已基本完成整改。",
                "difficulties": rng.choice(("无", "受疫情影响，部分设备到货和现场实施延期。", "企业上平台意愿不强，推广难度较大。")),
                "next_steps": "加快剩余建设内容实施，完善平台功能，做好验收资料准备。",
                "expected_acceptance_date": (end + dt.timedelta(days=rng.randint(0, 90))) if building else m.date(D(2020, 10, 15), D(2021, 3, 31)),
            }
        actor = Actor(f"lead_{i + 1:03d}", "lead_unit", org=lead, city=city.name)
        rows.append(DemoRow(values, actor, DRAFT if rng.random() < 0.05 else SUBMITTED))
    return rows
