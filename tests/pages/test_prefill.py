"""AppTest of pages/fill.py (issue 15, outcome 3): what the account already tells us — the provider's name and
credit code on 附件1, the lead unit's on 附件2, the city bureau's city on 附件3 — is filled in and locked."""

from __future__ import annotations

import os

import pytest

from lib.auth.accounts import Account, AccountsFile
from lib.auth.policy import account_answers
from lib.core.records import Actor
from lib.demo.seed import generate
from lib.settings import load_settings
from lib.ui import state

from .test_fill_page import start

#: (form, the role filing it, the field keys its account answers, the account attribute of each)
CASES = [
    ("att1", "provider", {"provider_name": "org", "provider_credit_code": "org_code"}),
    ("att2", "lead_unit", {"lead_unit_name": "org", "lead_unit_credit_code": "org_code"}),
    ("att3", "city", {"city": "city"}),
]


@pytest.mark.parametrize(("form_id", "role", "answered"), CASES, ids=[c[0] for c in CASES])
def test_what_the_account_tells_is_prefilled_and_locked(app_env, catalog, form_id, role, answered):
    form = catalog.form(form_id)
    row = generate(catalog, rows=40, seed=7)[form_id][0]
    code = next((row.values[k] for k, attr in answered.items() if attr == "org_code"), "")
    actor = Actor(f"{role}_prefill", role, row.actor.org, row.actor.city, org_code=code)
    AccountsFile(load_settings(os.environ).accounts_path).add_many(
        [Account(actor.account, actor.role, org=actor.org, city=actor.city, org_code=actor.org_code)])
    # the form declares exactly these fields as answered by the account
    assert {f.key: f.from_account for f in form.all_fields() if f.from_account} == answered
    assert set(account_answers(form, actor)) == set(answered)

    at = start(actor, form_id=form_id)
    assert not at.exception
    widgets = {w.key: w for kind in ("text_input", "selectbox") for w in at.get(kind)}
    for key, attr in answered.items():
        widget = widgets[state.field_key(form_id, key)]
        assert widget.value == getattr(actor, attr) and widget.proto.disabled, key
    free = next(f.key for f in form.all_fields() if f.type == "text" and not f.from_account)
    assert not widgets[state.field_key(form_id, free)].proto.disabled
