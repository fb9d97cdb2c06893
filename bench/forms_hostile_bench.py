"""Hostile-input benchmark: how long each input of issue 10 (outcomes 4 and 5) now takes to refuse.

    .venv/bin/python bench/forms_hostile_bench.py

Before the bounds, the alias bomb took 39 s and 1.35 GB, `1e1000000` as an integer 60+ s of CPU, and
the backtracking pattern grew as 2**n in the answer's length. Each line prints the median of 5 runs
and the problem code the input got; the tests (tests/forms/test_hostile_files.py,
test_raw_input.py) assert the codes, never the times.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lib.forms import FormDefinitionError, check_answers, load_catalog, parse_form  # noqa: E402
from lib.forms.yamltext import MAX_FILE_BYTES  # noqa: E402

ALIAS_BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(6)
)
FILES = {
    "alias bomb (7 levels)": ALIAS_BOMB,
    "20,000-deep nesting": "a: " + "[" * 20_000 + "]" * 20_000,
    "NUL byte": "id: demo\ntitle: a\x00b\n",
    "file at the size cap": "a: [" + "1," * (MAX_FILE_BYTES // 2 - 10) + "]",
    "4,900 keys": "\n".join(f"k{i}: {i}" for i in range(4_900)),
    "shipped 附件2": (ROOT / "forms" / "att2.yaml").read_text(encoding="utf-8"),
}
PATTERN_FORM = """id: demo
title: 演示
short_title: 演示
version: 1
filled_by: provider
sections:
  - key: main
    title: 主要
    fields:
      - {key: code, label: 编号, type: text, pattern: "(a+)+$"}
"""


def median_ms(run) -> tuple[float, str]:
    times, result = [], ""
    for _ in range(5):
        start = time.perf_counter()
        result = run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def parse_code(text: str) -> str:
    try:
        parse_form(text, "bench.yaml")
    except FormDefinitionError as exc:
        return exc.problems[0].code
    return "ok"


def main() -> None:
    print("form files (parse_form):")
    for name, text in FILES.items():
        ms, code = median_ms(lambda t=text: parse_code(t))
        print(f"  {name:<24} {ms:8.1f} ms  {code}")

    catalog = load_catalog(ROOT / "forms")
    cities = catalog.campaign.cities
    att1, att3 = catalog.form("att1"), catalog.form("att3")
    answers = {
        "integer 1e1000000": (att1, {"monthly_active_users": "1e1000000"}),
        "integer of 5,000 digits": (att1, {"monthly_active_users": "9" * 5000}),
        "money Infinity / sNaN": (att1, {"contract_amount": "Infinity", "paid_amount": "sNaN"}),
        "multiselect given 5": (att1, {"followup_services": 5}),
        "date 9999-12-31": (att3, {"check_method": "实地检查", "check_date": "9999-12-31"}),
        "table of 1,001 rows": (att1, {"contacts": [{"contact_name": "x"}] * 1001}),
    }
    print("answers (check_answers, draft):")
    for name, (form, raw) in answers.items():
        ms, codes = median_ms(lambda f=form, r=raw: ",".join(sorted({p.code for p in check_answers(f, r, cities=cities, draft=True).problems})))
        print(f"  {name:<24} {ms:8.1f} ms  {codes}")

    pattern_form = parse_form(PATTERN_FORM, "bench.yaml")
    for n in (30, 5_000):
        ms, codes = median_ms(lambda n=n: ",".join(p.code for p in check_answers(pattern_form, {"code": "a" * n + "!"}).problems))
        print(f"  pattern (a+)+$ on {n:>5} a's {ms:5.1f} ms  {codes}")


if __name__ == "__main__":
    main()
