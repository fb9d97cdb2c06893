"""Shared test data for the store tests (a module, not conftest, so tests can import it)."""

from __future__ import annotations

import datetime as dt

from lib.core.records import Actor
from lib.store.base import Column, SheetSpec

SPEC = SheetSpec(
    "site_check",
    "现场检查记录",
    (
        Column("project", "项目名称"),
        Column("amount", "合同金额", "number"),
        Column("count", "检查人数", "integer"),
        Column("visit_date", "检查日期", "date"),
        Column("passed", "是否合格", "bool"),
        Column("issues", "问题类型", "list"),
        Column("people", "检查人员", "table"),
        Column("remark", "备注"),
    ),
)
CITY = Actor("city_gz", "city", org="广州市住建局", city="广州")
PROVINCE = Actor("prov_admin", "province", org="省住建厅")


class Clock:
    """A clock tests move by hand; stores stamp changes with it."""

    def __init__(self, start: dt.datetime = dt.datetime(2020, 9, 10, 10, 0)):
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def tick(self, **kw: float) -> None:
        self.now += dt.timedelta(**kw)


def wide_rows(n: int, start: int = 0) -> list[dict]:
    """``n`` rows of a 30-field form with realistic Chinese text, money, dates and selects."""
    cities = ["广州", "深圳", "珠海", "汕头", "佛山", "韶关", "河源", "梅州"]
    rows = []
    for i in range(start, start + n):
        row = {
            "project": f"{cities[i % 8]}市第{i}号保障性住房建设项目（一期）",
            "amount": round(1000 + i * 3.17, 2),
            "count": i % 9,
            "visit_date": dt.date(2020, 9, 1) + dt.timedelta(days=i % 60),
            "passed": i % 3 == 0,
            "issues": ["质量", "安全", "进度"][: i % 4],
            "people": [{"name": "张三", "phone": "13800138000"}] if i % 5 == 0 else [],
            "remark": "现场资料齐全，未发现明显问题。" if i % 2 else None,
        }
        for k in range(22):
            row[f"f{k:02d}"] = f"第{k}项检查内容：符合要求{i}" if k % 2 else round(i * 0.5 + k, 2)
        rows.append(row)
    return rows


WIDE_SPEC = SheetSpec(
    "site_check", "现场检查记录",
    SPEC.columns + tuple(Column(f"f{k:02d}", f"检查项{k}", "text" if k % 2 else "number") for k in range(22)),
)


ROOT_DIR = __import__("pathlib").Path(__file__).resolve().parents[2]
