"""Form files cannot hurt the server: bombs, deep nesting, odd bytes and huge files are refused with a
coded problem naming the file (and line), every other form keeps serving, and readers never wait."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib.forms import FormDefinitionError, load_catalog, parse_campaign, parse_form
from lib.forms import loader as loader_module
from lib.forms.errors import MAX_REPORTED, MESSAGES
from lib.forms.yamltext import MAX_DEPTH, MAX_FILE_BYTES, load_yaml

from .test_loader import FORM, write

SHIPPED = Path(__file__).resolve().parents[2] / "forms"

# The 7-level "billion laughs" of the issue: 329 bytes that PyYAML expanded to 1.35 GB in 39 s.
ALIAS_BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(6)
)


def refused(text: str, filename: str = "demo.yaml") -> list:
    with pytest.raises(FormDefinitionError) as info:
        parse_form(text, filename)
    assert info.value.path == filename
    return info.value.problems


@pytest.mark.parametrize(
    "text, code, line",
    [
        (ALIAS_BOMB, "yaml_alias", 1),
        ("a: &a [*a]\n", "yaml_alias", 1),  # recursive alias
        ("id: demo\nsections: &s\n  - 1\nmore: *s\n", "yaml_alias", 2),  # even one harmless-looking anchor
        ("a: " + "[" * 20_000 + "]" * 20_000 + "\n", "yaml_too_deep", 1),
        ("a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 60)), "yaml_too_deep", MAX_DEPTH),
        ("id: demo\ntitle: 演\x00示\n", "yaml_bad_char", 2),
        ("id: demo\nversion: " + "9" * 5000 + "\n", "yaml_value", 2),  # beyond Python's int-from-text limit
        ("id: demo\nstart: 2020-02-30\n", "yaml_value", 2),  # a date that does not exist
        ("id: demo\n? [a, b]\n: c\n", "yaml_key", 2),
    ],
    ids=["alias bomb", "recursive alias", "anchor", "20000-deep flow", "deep block", "NUL byte", "5000-digit int",
         "impossible date", "list as key"],
)
def test_hostile_yaml_is_refused_with_a_coded_problem_naming_the_line(text, code, line):
    problems = refused(text)
    assert [p.code for p in problems] == [code]
    assert problems[0].where == f"demo.yaml 第 {line} 行"
    assert "demo.yaml" in str(problems[0])


def test_a_file_over_the_size_cap_is_refused_before_parsing():
    text = "a: " + "x" * MAX_FILE_BYTES + "\n"
    assert [p.code for p in refused(text)] == ["file_too_large"]


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n", "42\n", ""], ids=["list", "scalar", "number", "empty"])
def test_a_document_that_is_not_a_mapping_is_a_definition_problem(text):
    assert [p.code for p in refused(text)] == ["invalid_definition"]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!|>'\"#?,. \n\t0129\x00é中")), max_size=120))
def test_any_text_gives_a_form_or_a_coded_problem(text):
    try:
        parse_form(text, "fuzz.yaml")
    except FormDefinitionError as exc:
        assert exc.problems and all(p.code in MESSAGES for p in exc.problems)


# --- the catalogue after a restart with broken files ------------------------------------------


@pytest.fixture
def shipped_copy(tmp_path) -> Path:
    for path in SHIPPED.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


@pytest.mark.parametrize(
    "content, code",
    [
        (ALIAS_BOMB.encode(), "yaml_alias"),
        (b"id: x\n" + b"#" * (10 * 1024 * 1024) + b"\n", "file_too_large"),  # a 10 MB file
        ("id: 附件\n".encode("gb18030"), "not_utf8"),
    ],
    ids=["alias bomb", "10 MB", "not UTF-8"],
)
def test_a_broken_form_at_start_leaves_the_others_serving(shipped_copy, content, code):
    (shipped_copy / "att1.yaml").write_bytes(content)
    catalog = load_catalog(shipped_copy)
    assert [f.id for f in catalog.forms()] == ["att2", "att3", "complaint", "forum", "inspection"]
    assert [p.code for p in catalog.problems()["att1.yaml"]] == [code]
    # the campaign is served too, and says which of its bindings lost their form
    line = (shipped_copy / "campaign.yaml").read_text(encoding="utf-8").splitlines().index("    form: att1") + 1
    assert [(p.code, p.where) for p in catalog.problems()["campaign.yaml"]] == [("binding_unknown_form", f"campaign.yaml 第 {line} 行")]
    assert set(catalog.problems()) == {"att1.yaml", "campaign.yaml"}
    assert catalog.campaign.cities


def test_an_unexpected_error_while_loading_becomes_a_problem_of_that_file(shipped_copy, monkeypatch, caplog):
    real = loader_module.parse_form

    def explode(text, filename, campaign=None):
        if filename == "att2.yaml":
            raise RecursionError("maximum recursion depth exceeded")
        return real(text, filename, campaign)

    monkeypatch.setattr(loader_module, "parse_form", explode)
    catalog = load_catalog(shipped_copy)
    assert [f.id for f in catalog.forms()] == ["att1", "att3", "complaint", "forum", "inspection"]
    [found] = catalog.problems()["att2.yaml"]
    assert (found.code, found.where) == ("load_failed", "att2.yaml")
    assert "RecursionError" in found.message and "服务器日志" in found.message
    assert "att2.yaml" in caplog.text  # the traceback is in the server log


def test_a_campaign_broken_at_start_is_a_chinese_problem_and_forms_still_serve(shipped_copy):
    write(shipped_copy / "campaign.yaml", "id: [oops\n")
    catalog = load_catalog(shipped_copy)
    assert [f.id for f in catalog.forms()] == ["att1", "att2", "att3", "complaint", "forum", "inspection"]
    with pytest.raises(FormDefinitionError) as info:
        _ = catalog.campaign
    assert [p.code for p in info.value.problems] == ["campaign_unavailable", "yaml_syntax"]
    assert "campaign.yaml" in str(info.value) and "无法使用" in str(info.value)
    write(shipped_copy / "campaign.yaml", (SHIPPED / "campaign.yaml").read_text(encoding="utf-8"))
    catalog.refresh()  # fixing it brings the campaign back without a restart
    assert catalog.campaign.cities and catalog.problems() == {}


def test_readers_do_not_wait_for_a_refresh_in_progress(shipped_copy, monkeypatch):
    catalog = load_catalog(shipped_copy)
    inside, release = threading.Event(), threading.Event()
    real = loader_module.parse_form

    def slow(text, filename, campaign=None):
        inside.set()
        release.wait(60)  # a parse that takes as long as the test wants
        return real(text, filename, campaign)

    monkeypatch.setattr(loader_module, "parse_form", slow)
    path = shipped_copy / "att1.yaml"
    write(path, path.read_text(encoding="utf-8").replace("version: 1", "version: 2"))
    first = threading.Thread(target=catalog.refresh)
    first.start()
    try:
        assert inside.wait(60)
        # Meanwhile another session's page run: refresh returns at once, the last versions serve.
        assert catalog.refresh() == []
        assert [f.version for f in catalog.forms()][0] == 1
        assert catalog.campaign.cities
    finally:
        release.set()
        first.join(60)
    assert not first.is_alive()
    assert catalog.form("att1").version == 2


# --- who reviews ------------------------------------------------------------------------------


def test_a_form_reviewed_by_its_filling_role_must_say_so():
    text = FORM.format(extra="").replace("filled_by: provider\n", "filled_by: provider\nreviewed_by: provider\n")
    [found] = refused(text)
    assert (found.code, found.where) == ("self_review", "demo.yaml 第 6 行")
    assert "self_review: true" in found.message
    explicit = parse_form(text.replace("reviewed_by: provider\n", "reviewed_by: provider\nself_review: true\n"), "demo.yaml")
    assert explicit.self_review and explicit.reviewed_by == explicit.filled_by


def test_campaign_files_are_bounded_the_same_way():
    with pytest.raises(FormDefinitionError) as info:
        parse_campaign(ALIAS_BOMB)
    assert [p.code for p in info.value.problems] == ["yaml_alias"]


def test_load_yaml_keeps_lines_for_ordinary_text():
    data, lines = load_yaml("a:\n  - b: 1\n", "x.yaml")
    assert data == {"a": [{"b": 1}]} and lines.line_of(("a", 0, "b")) == 2


@pytest.mark.parametrize("bound", [".inf", "-.inf", ".nan"])
def test_a_bound_must_be_a_finite_number(bound):
    text = FORM.format(extra=f"      - key: amount\n        label: 金额\n        type: money\n        max: {bound}\n")
    [found] = refused(text)
    assert (found.code, found.field) == ("invalid_definition", "amount") and "有限" in found.message


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _device_link(path: Path) -> None:
    path.symlink_to("/dev/zero")


@pytest.mark.parametrize("make, kind", [(Path.mkdir, "文件夹"), (_fifo, "命名管道"), (_device_link, "字符设备")],
                         ids=["folder", "named pipe", "symlink to a device"])
def test_only_regular_files_are_read_a_special_file_is_a_problem_of_that_file(shipped_copy, make, kind):
    """A named pipe with no writer used to block ``open`` forever under the catalog lock (every session
    waited); a device never ends. The load runs in a thread so a regression fails instead of hanging."""
    make(shipped_copy / "att9.yaml")
    loaded: list = []
    worker = threading.Thread(target=lambda: loaded.append(load_catalog(shipped_copy)), daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert loaded, "load_catalog blocked on a special file"
    catalog = loaded[0]
    assert [f.id for f in catalog.forms()] == ["att1", "att2", "att3", "complaint", "forum", "inspection"]
    [found] = catalog.problems()["att9.yaml"]
    assert found.code == "not_regular_file" and kind in found.message and "att9.yaml" in found.where


def test_a_file_with_thousands_of_mistakes_lists_the_first_ones_and_a_count():
    text = FORM.format(extra="") + "".join(f"unknown_{i}: x\n" for i in range(300))
    problems = refused(text)
    assert len(problems) == MAX_REPORTED + 1
    assert {p.code for p in problems[:-1]} == {"invalid_definition"}
    assert problems[-1].code == "more_problems" and "250" in problems[-1].message
