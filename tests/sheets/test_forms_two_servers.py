"""Two app servers on one Google spreadsheet serve the same form versions: a version published on one
(by the designer, or from a developer's changed file) is served by the other once its cache period has
passed, and two publishes of one file at once leave one version, the other refused (issue 16, outcome 1)."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from lib.core.records import Actor
from lib.forms import load_catalog, versions
from lib.forms.store_source import StoreSource
from lib.forms.versions import PUBLISHED, VersionError, publish_version
from tests.sheets.test_sheets_two_servers import Peer

pytestmark = pytest.mark.timeout(120)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CACHE = 1.0  # seconds; the shipped default is 10
FAST = {"reads_per_minute": 100_000, "writes_per_minute": 100_000, "cache_seconds": CACHE}
PROVINCE = Actor("province_admin", "province", "省厅", "")
NAME_LABEL = "label: 服务商名称\n"


class SteppedClock:
    """Monotonic seconds that move only when the test moves them (the cache period without waiting)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def label(catalog) -> str:
    return next(f.label for f in catalog.form("att1").all_fields() if f.key == "provider_name")


@pytest.fixture
def servers(open_store, server, tmp_path):
    """Two servers, each with its own checkout of forms/, data folder, store view and cache clock; the
    first seeds the spreadsheet, the second starts on it."""
    server.reads_per_window = server.writes_per_window = 100_000
    made = []
    for name in ("a", "b"):
        forms = tmp_path / f"forms_{name}"
        shutil.copytree(ROOT / "forms", forms)
        clock = SteppedClock()
        store = open_store(name, cache_clock=clock, **FAST)
        catalog = load_catalog(StoreSource(store, forms, tmp_path / f"data_{name}"))
        made.append((store, catalog, clock, forms))
    return made


def test_a_version_published_on_one_server_is_served_by_the_other_within_the_cache_period(servers):
    (a, cat_a, _, forms_a), (b, cat_b, clock_b, _) = servers
    assert len(versions.versions(a)) == len(list(forms_a.glob("*.yaml")))  # seeded once, by the first server
    b.refresh()
    assert versions.versions(b) == versions.versions(a) and cat_b.forms() == cat_a.forms()

    text = versions.latest(a, "att1.yaml").values["text"].replace(NAME_LABEL, "label: 服务商（设计器）\n")
    publish_version(a, PROVINCE, "att1.yaml", text, form_id="att1", based_on=1, origin="designer")
    cat_a.refresh()
    assert label(cat_a) == "服务商（设计器）"
    cat_b.refresh()
    assert label(cat_b) == "服务商名称"  # within its cache period: what it read last
    clock_b.now += CACHE
    assert [f.id for f in cat_b.refresh()] == ["att1"] and label(cat_b) == "服务商（设计器）"

    # A developer's changed file on the first server: published there, served here after the period.
    att1 = forms_a / "att1.yaml"
    att1.write_text(att1.read_text(encoding="utf-8").replace(NAME_LABEL, "label: 服务商（文件）\n"), encoding="utf-8")
    cat_a.refresh()
    clock_b.now += CACHE
    cat_b.refresh()
    assert label(cat_a) == label(cat_b) == "服务商（文件）"
    rows = versions.versions(b, "att1.yaml")
    assert [(versions.number(r), r.values["origin"]) for r in rows] == [(1, "seed"), (2, "designer"), (3, "file")]
    assert len(versions.versions(b)) == len(versions.versions(a))  # the second server published nothing itself


def test_two_publishes_of_one_file_at_once_leave_one_version_on_both_servers(servers):
    (a, cat_a, clock_a, _), (b, cat_b, clock_b, _) = servers
    base = versions.latest(a, "att1.yaml").values["text"]
    for round_ in range(3):
        b.refresh()
        number = versions.number(versions.latest(a, "att1.yaml"))
        gate, outcome = threading.Barrier(2), {}

        def go(name, store, gate=gate, outcome=outcome, number=number, round_=round_):
            text = base.replace(NAME_LABEL, f"label: 服务商（{name}{round_}）\n")
            gate.wait()
            try:
                outcome[name] = versions.number(publish_version(store, PROVINCE, "att1.yaml", text, form_id="att1",
                                                                based_on=number, origin="designer"))
            except VersionError as exc:
                outcome[name] = exc.code

        threads = [threading.Thread(target=go, args=(n, s)) for n, s in (("a", a), ("b", b))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        won = [n for n, v in outcome.items() if v == number + 1]
        assert len(won) == 1 and set(outcome.values()) - {number + 1} <= {"version_stale", "version_race"}, outcome
        clock_a.now += CACHE
        clock_b.now += CACHE
        cat_a.refresh()
        cat_b.refresh()
        assert label(cat_a) == label(cat_b) == f"服务商（{won[0]}{round_}）"
        assert versions.latest(a, "att1.yaml").id == versions.latest(b, "att1.yaml").id
    published = [versions.number(r) for r in versions.versions(a, "att1.yaml") if r.status == PUBLISHED]
    assert len(published) == len(set(published)) == 4  # every tie was discarded: one row per number


class OtherProcess:
    """A server's store as another process has it: its own store lock (a process-local lock, as every
    process has one; the two stores of this test would otherwise share this process's), and its write
    held at ``gate`` until the other server is about to write too, after both chose the number."""

    def __init__(self, store, gate: threading.Barrier):
        self.store, self.gate, self.lock = store, gate, threading.Lock()

    def __getattr__(self, name):
        return getattr(self.store, name)

    @contextlib.contextmanager
    def exclusive(self, name):
        with self.lock:
            yield

    def write_batch(self, appends, changes, *, actor):
        if appends:
            self.gate.wait()
        return self.store.write_batch(appends, changes, actor=actor)


def test_two_servers_writing_one_number_keep_the_first_in_the_log_and_discard_the_other(servers):
    (a, cat_a, clock_a, _), (b, cat_b, clock_b, _) = servers
    base = versions.latest(a, "att1.yaml").values["text"]
    for round_ in range(3):
        b.refresh()
        number = versions.number(versions.latest(a, "att1.yaml"))
        gate, outcome = threading.Barrier(2, timeout=30), {}

        def go(name, store, gate=gate, outcome=outcome, number=number, round_=round_):
            text = base.replace(NAME_LABEL, f"label: 服务商（{name}{round_}）\n")
            try:
                outcome[name] = versions.number(publish_version(OtherProcess(store, gate), PROVINCE, "att1.yaml", text,
                                                                form_id="att1", based_on=number, origin="designer"))
            except VersionError as exc:
                outcome[name] = exc.code

        threads = [threading.Thread(target=go, args=(n, s)) for n, s in (("a", a), ("b", b))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(map(str, outcome.values())) == [str(number + 1), "version_race"], outcome
        won = next(n for n, v in outcome.items() if v == number + 1)
        clock_a.now += CACHE
        clock_b.now += CACHE
        cat_a.refresh()
        cat_b.refresh()
        assert label(cat_a) == label(cat_b) == f"服务商（{won}{round_}）"
    rows = versions.versions(b, "att1.yaml")
    assert [versions.number(r) for r in rows if r.status == PUBLISHED] == [1, 2, 3, 4]
    assert sum(r.status == versions.DISCARDED for r in rows) == 3


def test_export_reads_the_versions_the_spreadsheet_serves(servers, secrets_for, tmp_path, monkeypatch):
    import lib.forms.__main__ as cli

    (a, _, _, _), _ = servers
    text = versions.latest(a, "att1.yaml").values["text"].replace(NAME_LABEL, "label: 服务商（设计器）\n")
    publish_version(a, PROVINCE, "att1.yaml", text, form_id="att1", based_on=1, origin="designer")
    secrets = {"app": {"store_backend": "gsheets", "data_dir": str(tmp_path / "cli_data")}, "gsheets": secrets_for(**FAST)}
    monkeypatch.setattr(cli, "read_secrets", lambda path: secrets)
    out = tmp_path / "exported"
    assert cli.main(["export", str(out)]) == 0
    assert (out / "att1.yaml").read_text(encoding="utf-8") == text
    assert sorted(p.name for p in out.glob("*.yaml")) == sorted(versions.served(versions.versions(a)))
    assert not (tmp_path / "cli_data").exists()  # the app's outbox folder is not touched: a scratch one was used


class FormsPeer(Peer):
    """The other app server as a separate Python process (tests/sheets/forms_peer.py): its own store lock,
    cache and checkout of the forms; ended as the two-server test's peer is, in bounded time."""

    def __init__(self, secrets: dict, data_dir: Path, forms: Path):
        self.proc = subprocess.Popen([sys.executable, str(HERE / "forms_peer.py"), json.dumps(secrets), str(data_dir), str(forms)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8")
        try:
            assert self._read() == {"ready": True}
        except BaseException:
            self.close()
            raise


@pytest.fixture
def peer(servers, secrets_for, tmp_path):
    """A third server, in its own process, started after the first seeded the spreadsheet."""
    forms = tmp_path / "forms_peer"
    shutil.copytree(ROOT / "forms", forms)
    p = FormsPeer(secrets_for(**FAST), tmp_path / "peer", forms)
    yield p
    p.close()


def test_a_server_in_another_process_serves_the_versions_published_here_and_publishes_its_own(servers, peer):
    (a, cat_a, clock_a, _), _ = servers
    assert peer.ask(op="label", form="att1", key="provider_name") == {"label": "服务商名称", "version": 1}
    text = versions.latest(a, "att1.yaml").values["text"]
    publish_version(a, PROVINCE, "att1.yaml", text.replace(NAME_LABEL, "label: 服务商（本机）\n"), form_id="att1",
                    based_on=1, origin="designer")
    assert peer.ask(op="label", form="att1", key="provider_name") == {"label": "服务商（本机）", "version": 2}

    assert peer.ask(op="publish", file="att1.yaml", text=text.replace(NAME_LABEL, "label: 服务商（对方）\n"), based_on=2) == {"version": 3}
    cat_a.refresh()
    assert label(cat_a) == "服务商（本机）"  # within the cache period
    clock_a.now += CACHE
    cat_a.refresh()
    assert label(cat_a) == "服务商（对方）"

    # Both at once from version 3: one version 4, the other refused (stale, or discarded after the race).
    answers = {}
    asking = threading.Thread(target=lambda: answers.update(peer=peer.ask(
        op="publish", file="att1.yaml", text=text.replace(NAME_LABEL, "label: 服务商（对方二）\n"), based_on=3)))
    asking.start()
    try:
        answers["here"] = {"version": versions.number(publish_version(
            a, PROVINCE, "att1.yaml", text.replace(NAME_LABEL, "label: 服务商（本机二）\n"), form_id="att1", based_on=3,
            origin="designer"))}
    except VersionError as err:
        answers["here"] = {"error": err.code}
    asking.join(60)
    won = [v for v in answers.values() if v == {"version": 4}]
    refused = [v["error"] for v in answers.values() if "error" in v]
    assert len(won) == 1 and len(refused) == 1 and refused[0] in ("version_stale", "version_race"), answers
    clock_a.now += CACHE
    cat_a.refresh()
    theirs = peer.ask(op="label", form="att1", key="provider_name")
    assert theirs["version"] == 4 and theirs["label"] == label(cat_a)
