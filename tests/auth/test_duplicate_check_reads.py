"""The duplicate-report check at submit reads the rows that hold the new row's answers, through the store's
index, not every row its filer ever filed: a provider with a thousand rows had each of them folded on every
submit, inside the form's submit lock (bench/sessions_bench.py, issue 17). What it decides is
tests/auth/test_filing_scope.py's (duplicates, blanks and invisible characters, withdrawn rows, other filers)."""

from __future__ import annotations

from lib import submissions
from lib.auth.policy import comparable
from lib.core import statuses


def test_the_check_reads_the_rows_holding_the_answers_not_every_row_of_the_filer(store, catalog, actors, monkeypatch):
    provider, form = actors["provider"], catalog.form("att1")
    mine = submissions.my_records(store, form, provider)
    row = mine[0]
    answers = dict(row.values, voucher_no="FWQ-NEW-0001", project_name="新上云项目（测试）")
    holding = [r for r in store.records("att1") if comparable(r.values.get("client_credit_code")) == comparable(answers["client_credit_code"])]
    assert len(mine) > len(holding) + 1  # a walk of the filer's rows reads more than the index finds

    handed: list[int] = []
    for name in ("records", "records_where"):
        real = getattr(store, name)
        monkeypatch.setattr(store, name, lambda *a, real=real, **k: handed.append(len(found := real(*a, **k))) or found)
    assert submissions.duplicate_problems(store, form, provider, answers, row_id=None) == []
    assert sum(handed) <= len(holding)

    # and a real duplicate is still found, by the row that holds it
    handed.clear()
    live = next(r for r in mine if r.status != statuses.WITHDRAWN)
    again = dict(live.values, voucher_no=f" {live.values['voucher_no']} ")
    problems = submissions.duplicate_problems(store, form, provider, again, row_id=None)
    assert [p.code for p in problems][:1] == ["duplicate_report"] and live.id in problems[0].message
    assert sum(handed) < len(mine)
