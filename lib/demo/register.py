"""A demo subsidy register and benchmark-project list consistent with the demo submissions.

Built from ``lib.demo.seed.generate`` with the same ``rows`` and ``seed``, so it agrees with what
``seed_store`` wrote, except for deliberate gaps the board must find:

* about 4% of the reported vouchers are missing from the register (已报送、台账无);
* about 5% more register entries that no provider reported (台账有、未报送), spread over providers;
* about 2% of entries with a different subsidy amount and 1% with a different city;
* out-of-scope entries (未兑现 / 兑现不通过 / 取消申报, 已验收 projects) that the import excludes;
* about 10% more benchmark projects in scope than lead units reported.

``seed_register`` goes through the real import path (xlsx bytes -> read -> validate -> store).
"""

from __future__ import annotations

import random
from typing import Any

import pandas as pd

from lib.campaign.register.kinds import register_kinds
from lib.campaign.register.store import ImportSummary, RegisterUnchanged, import_register
from lib.campaign.register.upload import parse_register
from lib.core.records import Actor
from lib.forms.types import CREDIT_CODE_CHARS, credit_code_check_char
from lib.office.excel import read_workbook, to_xlsx
from lib.store.base import Store

PROVINCE = Actor(account="province", role="province", org="广东省工业和信息化厅工业互联网处")

MISSING_FROM_REGISTER = 0.04
UNREPORTED = 0.05
AMOUNT_MISMATCH = 0.02
CITY_MISMATCH = 0.01
OUT_OF_SCOPE = 0.06
EXTRA_PROJECTS = 0.10

_FIRMS = ("华盛", "隆基", "瑞丰", "长兴", "佳利", "金辉", "新宇", "泰和", "安达", "兴隆", "远航", "宏图")
_PRODUCTS = ("五金", "塑胶", "电子", "陶瓷", "家具", "纺织", "食品", "包装", "模具", "灯饰")
_BENCH = ("工业互联网平台建设项目", "智能工厂示范项目", "数字化车间标杆示范项目", "产业集群工业互联网平台项目")
#: The demo's (the shipped 2020 campaign's) template headers, as the province's Excel files carry them.
VOUCHER_HEADERS = ["服务券编号", "企业名称", "统一社会信用代码", "服务商", "地市", "年度", "奖补金额（万元）", "兑现状态"]
PROJECT_HEADERS = ["项目名称", "牵头单位", "统一社会信用代码", "地市", "项目类别", "年度", "项目状态"]


def _code(rng: random.Random, taken: set[str]) -> str:
    while True:
        body = "91" + "44" + f"{rng.randint(0, 9999):04d}" + "".join(rng.choice(CREDIT_CODE_CHARS[:10] + "ABCDEFGHJKLMN") for _ in range(9))
        code = body + credit_code_check_char(body)
        if code not in taken:
            taken.add(code)
            return code


def register_frames(demo: dict[str, list[Any]], cities: tuple[str, ...], seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The voucher register and the benchmark project list as an Excel sheet would hold them
    (Chinese headers), from ``generate`` output ``demo``. Deterministic for a given ``seed``."""
    rng = random.Random(f"register-{seed}")
    att1 = [r.values for r in demo.get("att1", [])]
    codes = {v["client_credit_code"] for v in att1}
    scheme = sorted({v["client_city"] for v in att1}, key=lambda c: cities.index(c) if c in cities else 99) or ["广州"]
    providers = sorted({v["provider_name"] for v in att1}) or ["广州云智信息科技有限公司"]
    vouchers: list[dict[str, Any]] = []
    for v in att1:
        if rng.random() < MISSING_FROM_REGISTER:
            continue
        city, amount = v["client_city"], v["subsidy_amount"]
        roll = rng.random()
        if roll < AMOUNT_MISMATCH:
            amount = round(amount + rng.choice((0.5, 1.0, 2.0, -0.01 * round(amount * 30))), 2)
            amount = amount if amount > 0 else round(v["subsidy_amount"] + 1, 2)
        elif roll < AMOUNT_MISMATCH + CITY_MISMATCH and len(scheme) > 1:
            city = rng.choice([c for c in scheme if c != city])
        vouchers.append({"服务券编号": v["voucher_no"], "企业名称": v["client_name"], "统一社会信用代码": v["client_credit_code"],
                         "服务商": v["provider_name"], "地市": city, "年度": int(v["subsidy_year"]),
                         "奖补金额（万元）": amount, "兑现状态": "已兑现"})
    extra = max(1, round(len(att1) * UNREPORTED)) if att1 else 0
    dropped = max(1, round(len(att1) * OUT_OF_SCOPE)) if att1 else 0
    for i in range(extra + dropped):
        year = rng.choice(("2018", "2019"))
        city = rng.choice(scheme)
        state = "已兑现" if i < extra else rng.choice(("未兑现", "兑现不通过", "取消申报"))
        vouchers.append({"服务券编号": f"SYQ-{year}-9{i:03d}-{rng.randint(10000, 99999)}",
                         "企业名称": f"{city}市{rng.choice(_FIRMS)}{rng.choice(_PRODUCTS)}有限公司",
                         "统一社会信用代码": _code(rng, codes), "服务商": rng.choice(providers), "地市": city,
                         "年度": int(year), "奖补金额（万元）": round(rng.uniform(0.5, 30), 2), "兑现状态": state})
    rng.shuffle(vouchers)

    projects: list[dict[str, Any]] = []
    for r in demo.get("att2", []):
        v = r.values
        projects.append({"项目名称": v["project_name"], "牵头单位": v["lead_unit_name"], "统一社会信用代码": v["lead_unit_credit_code"],
                         "地市": v["city"], "项目类别": v["programme"], "年度": int(v["project_year"]), "项目状态": v["project_status"]})
    n = len(projects)
    lead_codes = {p["统一社会信用代码"] for p in projects}
    for i in range(max(1, round(n * EXTRA_PROJECTS)) + 2 if n else 0):
        city = rng.choice(cities[:1] + tuple(scheme))
        projects.append({"项目名称": f"{city}{rng.choice(_PRODUCTS)}行业{rng.choice(_BENCH)}",
                         "牵头单位": f"{city}市{rng.choice(_FIRMS)}{rng.choice(_PRODUCTS)}集团有限公司",
                         "统一社会信用代码": _code(rng, lead_codes), "地市": city,
                         "项目类别": rng.choice(("省级标杆示范", "工信部创新发展工程")), "年度": int(rng.choice(("2018", "2019"))),
                         "项目状态": "已验收" if i < 2 else rng.choice(("在建", "到期未验收"))})
    return pd.DataFrame(vouchers, columns=VOUCHER_HEADERS), pd.DataFrame(projects, columns=PROJECT_HEADERS)


def seed_register(store: Store, catalog, rows: int = 2000, seed: int = 2020) -> tuple[ImportSummary | None, ImportSummary | None]:
    """Import the demo register and project list as the province would (through an .xlsx file).

    A list already in force with the same content (a first start stopped after the register and
    before the rows) is left as it is, and so is a list with no entry (its form was not seeded: the
    import refuses an empty register): None in its place."""
    from lib.demo.seed import generate

    kinds = register_kinds(catalog.campaign)
    vouchers, projects = register_frames(generate(catalog, rows=rows, seed=seed), tuple(catalog.campaign.cities), seed)
    done = []
    for kind, frame in ((kinds["vouchers"], vouchers), (kinds["projects"], projects)):
        if frame.empty:
            done.append(None)
            continue
        parsed = parse_register(kind, read_workbook(to_xlsx({kind.title: frame})))
        try:
            done.append(import_register(store, parsed, PROVINCE, file_name=f"演示_{kind.title}.xlsx"))
        except RegisterUnchanged:
            done.append(None)
    return done[0], done[1]
