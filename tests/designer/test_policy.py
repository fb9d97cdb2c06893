"""Who may read, draft and publish form definitions (issue 16, outcome 5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lib.auth.policy import DESIGN_DRAFT, DESIGN_PUBLISH, DESIGN_READ, can
from lib.core.records import Actor
from lib.forms import load_catalog, parse_campaign

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = load_catalog(ROOT / "forms")
CITY_FORM = next(f for f in SHIPPED.forms() if f.filled_by == "city")
PROVIDER_FORM = next(f for f in SHIPPED.forms() if f.filled_by == "provider")
ALLOWED = {"city_drafts": True}


@pytest.mark.parametrize("role", ["province", "admin"])
@pytest.mark.parametrize("action", [DESIGN_READ, DESIGN_DRAFT, DESIGN_PUBLISH])
def test_the_province_and_the_admin_do_everything(role, action):
    user = Actor("u", role)
    assert can(user, action) and can(user, action, CITY_FORM) and can(user, action, PROVIDER_FORM, {})


@pytest.mark.parametrize("role", ["provider", "lead_unit", "inspector", "city"])
@pytest.mark.parametrize("action", [DESIGN_READ, DESIGN_DRAFT, DESIGN_PUBLISH])
def test_no_other_role_by_default(role, action):
    user = Actor("u", role, city="甲")
    assert not can(user, action)
    assert not can(user, action, CITY_FORM)
    assert not can(user, action, CITY_FORM, {"city_drafts": False})


def test_a_city_drafts_the_forms_it_fills_only_when_the_campaign_says_so():
    city = Actor("c", "city", city="甲")
    assert can(city, DESIGN_DRAFT, CITY_FORM, ALLOWED) and can(city, DESIGN_READ, CITY_FORM, ALLOWED)
    assert not can(city, DESIGN_PUBLISH, CITY_FORM, ALLOWED)
    assert not can(city, DESIGN_DRAFT, PROVIDER_FORM, ALLOWED)  # not a form it fills
    assert not can(city, DESIGN_DRAFT, None, ALLOWED)  # campaign.yaml, or a new file
    assert not can(city, DESIGN_DRAFT, CITY_FORM, {"city_drafts": "true"})  # only the campaign's flag, as read
    for role in ("provider", "lead_unit", "inspector"):
        assert not can(Actor("p", role), DESIGN_DRAFT, PROVIDER_FORM, ALLOWED)


def test_the_campaign_says_so_in_its_designer_section():
    text = (ROOT / "forms" / "campaign.yaml").read_text(encoding="utf-8")
    assert parse_campaign(text).designer.city_drafts is False  # off unless written
    assert parse_campaign(text + "\ndesigner:\n  city_drafts: true\n").designer.city_drafts is True


@pytest.mark.parametrize("value", ["是", "'true'", "1", "{}"])
def test_a_flag_that_is_no_yes_or_no_is_refused_by_line(value):
    from lib.forms import FormDefinitionError

    text = (ROOT / "forms" / "campaign.yaml").read_text(encoding="utf-8").rstrip("\n") + f"\ndesigner:\n  city_drafts: {value}\n"
    with pytest.raises(FormDefinitionError) as err:
        parse_campaign(text)
    assert [p.code for p in err.value.problems] == ["invalid_definition"]
    assert f"第 {text.count(chr(10))} 行" in err.value.problems[0].where
