"""The campaign's ``sampling:`` section: the notice's 20% floor, the frame's source, take_all, weights."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from lib.forms.errors import FormDefinitionError
from lib.forms.loader import parse_campaign
from lib.forms.spec import MAX_RULE_WEIGHT, PriorityRule, Sampling

from .conftest import OTHER, ROOT, SHIPPED

SHIPPED_TEXT = (ROOT / "forms" / "campaign.yaml").read_text(encoding="utf-8")


def _types(err: ValidationError) -> list[str]:
    return [e["type"] for e in err.errors()]


@pytest.mark.parametrize("ratio, code", [(0.1, "ratio_below_minimum"), (0.199, "ratio_below_minimum"), (0.0, "ratio_below_minimum"),
                                         (-1, "ratio_below_minimum"), (1.01, "less_than_equal")])
def test_a_ratio_below_the_notices_minimum_is_refused(ratio, code):
    with pytest.raises(ValidationError) as info:
        Sampling(ratio=ratio)
    assert _types(info.value) == [code]


def test_the_floor_itself_and_more_are_accepted():
    assert Sampling(ratio=0.2).ratio == 0.2 and Sampling(ratio=1).ratio == 1


def test_a_ratio_below_the_floor_in_campaign_yaml_names_its_line():
    old = "  ratio: 0.2  #"
    assert SHIPPED_TEXT.count(old) == 1
    text = SHIPPED_TEXT.replace(old, "  ratio: 0.15  #", 1)
    with pytest.raises(FormDefinitionError) as info:
        parse_campaign(text)
    [found] = info.value.problems
    line = text.splitlines().index(next(t for t in text.splitlines() if t.startswith("  ratio: 0.15"))) + 1
    assert (found.code, found.where) == ("invalid_definition", f"campaign.yaml 第 {line} 行")
    assert "0.2" in found.message and "0.15" in found.message  # Chinese words from the model, not pydantic's English


def test_the_frame_source_is_register_or_reported():
    assert SHIPPED.campaign.sampling.frame == "register" and OTHER.campaign.sampling.frame == "reported"
    assert OTHER.campaign.sampling.proportional_to_subsidy and not SHIPPED.campaign.sampling.proportional_to_subsidy
    with pytest.raises(ValidationError) as info:
        Sampling(ratio=0.2, frame="everything")
    assert _types(info.value) == ["literal_error"]


def test_take_all_is_declared_per_rule():
    rules = {r.key: r.take_all for r in SHIPPED.campaign.sampling.priority_rules}
    assert rules == {"never_checked": False, "provider_failed": False, "high_subsidy": False, "complaint": True}


def test_a_negative_weight_and_two_rules_of_one_name_are_refused():
    with pytest.raises(ValidationError) as info:
        PriorityRule(key="complaint", name="投诉", when="complaints > 0", weight=-1)
    assert _types(info.value) == ["greater_than_equal"]
    with pytest.raises(ValidationError) as info:  # finite but huge: it overflowed the draw's sizes to inf (a city drew 0)
        PriorityRule(key="complaint", name="投诉", when="complaints > 0", weight=1e308)
    assert _types(info.value) == ["rule_weight_too_large"]
    assert PriorityRule(key="complaint", name="投诉", when="complaints > 0", weight=MAX_RULE_WEIGHT).weight == MAX_RULE_WEIGHT
    for weight in (True, "3"):  # lax mode read `true` as 1.0 and '3' as 3.0
        with pytest.raises(ValidationError) as info:
            PriorityRule(key="complaint", name="投诉", when="complaints > 0", weight=weight)
        assert _types(info.value) == ["float_type"]
    for ratio in (True, "0.3"):
        with pytest.raises(ValidationError) as info:
            Sampling(ratio=ratio)
        assert _types(info.value) == ["float_type"]
    with pytest.raises(ValidationError) as info:
        Sampling(ratio=0.2, priority_rules=[PriorityRule(key="complaint", name="甲", when="complaints > 0"),
                                            PriorityRule(key="high_subsidy", name="甲", when="subsidy >= 1")])
    assert _types(info.value) == ["rule_name_twice"]


@pytest.mark.parametrize("when, code", [
    ("subsidy >=", "rule_when_syntax"),
    ("amount >= 30", "rule_when_unknown"),
    ("today() > date('2020-01-01')", "rule_when_function"),
    ("city_code(city) == '4401'", "rule_when_function"),  # reads the campaign's cities: a frame's facts follow from its data
    ("nosuch(subsidy)", "rule_when_function"),
    ("abs(city) > 1", "rule_when_type"),
    ("subsidy + complaints", "rule_when_not_boolean"),
    ("firm", "rule_when_not_boolean"),
    # yes/no on one branch only: it loaded and failed at the first freeze meeting a complained-of project
    ("subsidy if complaints > 0 else True", "rule_when_not_boolean"),
    ("complaints > 0 if subsidy > 1 else (firm if complaints > 1 else False)", "rule_when_not_boolean"),
])
def test_a_condition_that_is_no_yes_or_no_over_the_known_variables_is_refused(when, code):
    with pytest.raises(ValidationError) as info:
        PriorityRule(key="r", name="规则", when=when)
    assert _types(info.value) == [code]


def test_a_conditional_whose_every_branch_is_yes_or_no_loads():
    rule = PriorityRule(key="r", name="规则", when="complaints > 0 if subsidy > 1 else (True if complaints > 1 else None)")
    assert rule.expression.names == {"complaints", "subsidy"}


def test_every_variable_may_be_named_and_a_rules_key_is_no_frame_column():
    from lib.forms.spec import FRAME_COLUMNS, RULE_VARIABLES

    for name, (kind, _) in RULE_VARIABLES.items():
        when = {"bool": name, "number": f"{name} >= 0", "text": f"{name} == '甲'"}[kind]
        assert PriorityRule(key="r", name="规则", when=when).expression.names == {name}
    for column in FRAME_COLUMNS:
        with pytest.raises(ValidationError) as info:
            PriorityRule(key=column, name="规则", when="True")
        assert _types(info.value) == ["rule_key_taken"]
