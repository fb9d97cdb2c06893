"""A ``file`` answer names its file by hash; lib.submissions, given the files' folder, refuses an answer
naming a file that was never stored there (attack M13: a non-page caller filed an inspection whose
required evidence had no bytes behind it), on submit and on a draft alike, and writes nothing."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from lib import submissions
from lib.core.blobs import Blobs
from lib.core.records import Actor
from lib.forms.columns import sheet_spec
from lib.forms.types import check_file
from lib.store.factory import open_store
from tests.forms.inline import demo_form

FORM = demo_form("      - {key: photos, label: 现场照片, type: file, required: true}\n")
PROVIDER = Actor("p1", "provider", "服务商甲")


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def store(tmp_path):
    opened = open_store("local", data_dir=tmp_path / "data", background=False)
    opened.ensure_sheet(sheet_spec(FORM))
    yield opened
    opened.close()


@pytest.mark.parametrize("save", [submissions.submit, submissions.save_draft], ids=["submit", "draft"])
def test_a_file_answer_whose_bytes_were_never_stored_is_refused_and_nothing_is_written(store, tmp_path, save):
    files = Blobs(tmp_path / "data" / "files")
    item = check_file(FORM.field("photos"), "现场.png", png())  # checked, not stored: what a non-page caller can send
    refused = save(store, FORM, {"photos": [item]}, PROVIDER, cities=(), files=files)
    assert not refused.ok and [(p.code, p.field) for p in refused.problems] == [("file_not_stored", "photos")]
    assert "现场.png" in str(refused.problems[0]) and store.records(FORM.id) == []

    assert files.put(png()) == item["sha256"]  # the uploader stores the bytes when the file is picked
    stored = save(store, FORM, {"photos": [item]}, PROVIDER, cities=(), files=files)
    assert stored.ok and stored.record.values["photos"] == [item]


def test_a_correction_naming_a_file_no_longer_in_the_folder_is_refused(store, tmp_path):
    """A data folder copied without its files: the row keeps what it had, the filer is asked to upload again."""
    files = Blobs(tmp_path / "data" / "files")
    item = check_file(FORM.field("photos"), "现场.png", png())
    files.put(png())
    first = submissions.submit(store, FORM, {"photos": [item]}, PROVIDER, cities=(), files=files)
    assert first.ok
    files.path(item["sha256"]).unlink()
    again = submissions.submit(store, FORM, {"photos": [item]}, PROVIDER, cities=(), row_id=first.record.id,
                               base_rev=first.record.rev, files=files)
    assert [p.code for p in again.problems] == ["file_not_stored"] and store.get(FORM.id, first.record.id).rev == 1
