"""Form versions in the store (lib/forms/versions.py): numbers assigned at publish, a stale edit refused
naming who published what since, a text too long refused, and of two servers publishing one number the
earlier row served and the later discarded (issue 16, outcome 1 and bad input)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from lib.core.records import Actor, Record
from lib.forms import versions
from lib.forms.versions import DISCARDED, MAX_TEXT_CHARS, PUBLISHED, VERSIONS, VersionError, publish_version
from lib.store.factory import open_store

PROVINCE = Actor("province_admin", "province", "省厅", "")
TEXT = "id: example\ntitle: 示例\n"


def publish(store, text=TEXT, based_on=0, file="example.yaml", actor=PROVINCE, origin="designer", note="首次发布"):
    return publish_version(store, actor, file, text, form_id="example", based_on=based_on, origin=origin, note=note)


def test_each_publish_is_the_next_number_of_its_file_with_its_text_hash_and_note(store):
    first = publish(store)
    second = publish(store, TEXT + "version: 2\n", based_on=1, note="加了版本号")
    other = publish(store, "x: 1\n", file="other.yaml")
    assert [versions.number(r) for r in (first, second, other)] == [1, 2, 1]
    assert second.status == PUBLISHED and second.owner == "province_admin"
    assert second.values | {"text": ""} == {"file": "example.yaml", "form_id": "example", "version": 2, "text": "",
                                            "sha256": versions.sha256(TEXT + "version: 2\n"), "based_on": 1,
                                            "origin": "designer", "note": "加了版本号"}
    assert versions.latest(store, "example.yaml").id == second.id
    assert [versions.number(r) for r in versions.versions(store, "example.yaml")] == [1, 2]
    assert {a.row_id for a in store.audit(VERSIONS.form_id)} == {first.id, second.id, other.id}  # audited by the store


def test_an_edit_based_on_an_older_version_is_refused_naming_who_published_what(store):
    publish(store)
    publish(store, TEXT + "# 二\n", based_on=1, actor=Actor("city_gz", "province", "省厅"))
    with pytest.raises(VersionError) as err:
        publish(store, TEXT + "# 我的修改\n", based_on=1)
    assert err.value.code == "version_stale"
    assert "city_gz 于" in str(err.value) and "第 2 版" in str(err.value)
    assert len(versions.versions(store, "example.yaml")) == 2  # nothing written
    with pytest.raises(VersionError) as err:  # a "new" file that someone else created meanwhile
        publish(store, based_on=0)
    assert err.value.code == "version_stale"


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"text": "a" * (MAX_TEXT_CHARS + 1)}, "version_text_too_long"),  # a 2 MB paste is refused the same way
    ({"file": "../campaign.yaml"}, "version_file_name"),
    ({"file": ".hidden.yaml"}, "version_file_name"),
    ({"file": "表单.yml"}, "version_file_name"),
    ({"origin": "browser"}, "version_origin"),
    ({"note": "很长" * 300}, "version_note_too_long"),
])
def test_what_a_version_cannot_hold_is_refused_and_nothing_written(store, kwargs, code):
    with pytest.raises(VersionError) as err:
        publish(store, **kwargs)
    assert err.value.code == code
    assert store.sheet_spec(VERSIONS.form_id) is None or versions.versions(store) == []


def test_a_text_at_the_limit_is_kept_whole(store):
    text = "# " + "表" * (MAX_TEXT_CHARS - 3) + "\n"
    assert len(text) == MAX_TEXT_CHARS
    assert publish(store, text).values["text"] == text


def test_of_two_rows_with_one_number_the_earlier_is_served():
    now = dt.datetime(2026, 1, 1)

    def row(rid, version, status=PUBLISHED, file="a.yaml"):
        return Record(VERSIONS.form_id, rid, 1, status, 1, "x", "", "", now, now, "x", {"file": file, "version": version})

    rows = [row("r1", 1), row("r2", 2), row("r3", 2), row("r4", 3, status="草稿"), row("r5", 1, file="b.yaml")]
    assert {f: r.id for f, r in versions.served(rows).items()} == {"a.yaml": "r2", "b.yaml": "r5"}


def test_two_publishes_at_once_on_one_store_give_one_version_and_one_refusal(store, tmp_path):
    publish(store)
    other = open_store("local", data_dir=tmp_path / "data", background=False)  # another process on one folder
    try:
        gate, outcome = threading.Barrier(2), {}

        def go(name, s):
            gate.wait()
            try:
                outcome[name] = versions.number(publish(s, TEXT + f"# {name}\n", based_on=1))
            except VersionError as exc:
                outcome[name] = exc.code

        threads = [threading.Thread(target=go, args=(n, s)) for n, s in (("a", store), ("b", other))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(map(str, outcome.values())) == ["2", "version_stale"], outcome
    finally:
        other.close()
    assert [versions.number(r) for r in versions.versions(store, "example.yaml")] == [1, 2]


class RivalFirst:
    """A store on which another server's row of the same number lands just before ours (two servers on
    one Google spreadsheet within a cache period: neither saw the other's when choosing the number)."""

    def __init__(self, store):
        self.store, self.armed = store, True

    def __getattr__(self, name):
        return getattr(self.store, name)

    def write_batch(self, appends, changes, *, actor):
        if self.armed:
            self.armed = False
            (form_id, values, status), = appends
            self.store.write_batch([(form_id, values | {"text": "rival: 1\n", "note": "另一台服务器"}, status)], [],
                                   actor=Actor("province_b", "province", "省厅"))
        return self.store.write_batch(appends, changes, actor=actor)


def test_a_publish_that_lost_the_race_is_discarded_and_told_so(store):
    publish(store)
    with pytest.raises(VersionError) as err:
        publish(RivalFirst(store), TEXT + "# 我的\n", based_on=1)
    assert err.value.code == "version_race" and "province_b" in str(err.value)
    rows = versions.versions(store, "example.yaml")
    assert [(versions.number(r), r.status) for r in rows] == [(1, PUBLISHED), (2, PUBLISHED), (2, DISCARDED)]
    assert versions.latest(store, "example.yaml").values["text"] == "rival: 1\n"
    assert versions.number(publish(store, TEXT + "# 再来\n", based_on=2)) == 3  # the next one goes on from there
