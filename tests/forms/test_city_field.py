"""FormSpec.city_field is remembered per form object (the access rule asks it for every listed row)."""

from __future__ import annotations

from lib.forms import spec

from .inline import demo_form

CITY_FIRST = """      - {key: where, label: 所在地市, type: city}
      - {key: also, label: 另一地市, type: city}
"""
NO_CITY = """      - {key: name, label: 名称, type: text}
"""


def test_each_form_object_answers_its_own_city_field_however_often_asked():
    with_city, without = demo_form(CITY_FIRST), demo_form(NO_CITY)
    for _ in range(3):
        assert (with_city.city_field(), without.city_field()) == ("where", None)


def test_the_memory_stays_bounded_over_many_catalog_reloads():
    forms = [demo_form(CITY_FIRST if i % 2 else NO_CITY) for i in range(spec._CITY_FIELDS_KEPT + 50)]
    assert [f.city_field() for f in forms] == [("where" if i % 2 else None) for i in range(len(forms))]
    assert len(spec._CITY_FIELDS) <= spec._CITY_FIELDS_KEPT
    assert all(entry[0] is not None for entry in spec._CITY_FIELDS.values())
