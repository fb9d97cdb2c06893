"""The ``file`` field type (issue 13, outcome 5): the YAML that declares it, the check every uploaded
file passes before a byte is stored (kind by content, size, structure), the answer a row keeps, the
content-addressed folder the bytes go to, and the one function that serves them."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import stat
import struct
import tomllib
import zlib
from pathlib import Path

import pytest
from PIL import Image

from lib.auth.policy import READ, can
from lib.core.blobs import BlobMissing, Blobs
from lib.core.records import Actor, Record
from lib.forms import FormDefinitionError, check_answers
from lib.forms.types import FILE_MAX_MB, MAX_FILES, MAX_IMAGE_PIXELS, FileRefused, check_file, clean_file_name, take_file
from lib.ui.record_view import readable_file, thumbnail
from tests.forms.inline import demo_form

FIELD = "      - {key: photos, label: 现场照片, type: file%s}\n"


def form(extra: str = ""):
    return demo_form(FIELD % extra)


def png(width: int = 8, height: int = 8) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (20, 120, 30)).save(out, format="JPEG")
    return out.getvalue()


PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj << /Length 4 >>\nstream\n/JS(\nendstream\nendobj\n%%EOF\n"
SCRIPTED_PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>\nendobj\n%%EOF\n"


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_header(width: int, height: int, pixels: bool = True, colour: int = 2) -> bytes:
    """A small PNG whose header declares ``width`` x ``height`` (every CRC valid; ``colour`` 2 RGB, 6
    RGBA) and whose pixels are a few compressed bytes: all a decoder needs to start allocating the picture."""
    head = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0))
    return head + (_chunk(b"IDAT", zlib.compress(b"\0" * 64)) + _chunk(b"IEND", b"") if pixels else b"")


def code_of(spec, name, data, **kw) -> str:
    with pytest.raises(FileRefused) as refused:
        check_file(spec, name, data, **kw)
    assert "「现场照片」" in str(refused.value)  # every refusal names the field ...
    return refused.value.code


# --- the YAML ---------------------------------------------------------------------------------------


def test_a_file_field_declares_its_limits():
    spec = form(", max_mb: 2.5, accept: [jpeg, png]").field("photos")
    assert (spec.kind, spec.max_mb, spec.accept) == ("table", 2.5, ("jpeg", "png"))


@pytest.mark.parametrize("extra, where", [
    (f", max_mb: {FILE_MAX_MB + 1}", "max_mb"),  # past what the server lets through
    (", max_mb: 0", "max_mb"),
    (", max_mb: -1", "max_mb"),
    (", accept: [gif]", "accept"),  # a kind the application cannot recognise
    (", accept: []", "accept"),
    (", calculation: '1'", "calculation"),
])
def test_the_loader_refuses_a_limit_it_cannot_keep(extra, where):
    with pytest.raises(FormDefinitionError) as err:
        form(extra)
    assert err.value.problems and all(p.where.endswith("第 10 行") for p in err.value.problems)
    assert "invalid_definition" in {p.code for p in err.value.problems}
    assert any(where in p.message for p in err.value.problems)


def test_the_cap_is_what_the_server_lets_through():
    """An upload past server.maxUploadSize never reaches check_file: a field may not promise more."""
    config = tomllib.loads((Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] >= FILE_MAX_MB


def test_limits_belong_to_file_fields_and_a_file_field_stays_out_of_tables():
    with pytest.raises(FormDefinitionError) as err:
        demo_form("      - {key: note, label: 备注, type: text, max_mb: 2}\n")
    assert [p.code for p in err.value.problems] == ["invalid_definition"]
    with pytest.raises(FormDefinitionError) as err:
        demo_form("      - key: rows\n        label: 问题\n        type: table\n        fields:\n"
                  "          - {key: photo, label: 照片, type: file}\n")
    assert [p.code for p in err.value.problems] == ["invalid_definition"]


# --- the check before storing -------------------------------------------------------------------------


@pytest.mark.parametrize("name, data, mime", [("a.png", png(), "image/png"), ("b.jpg", jpeg(), "image/jpeg"),
                                              ("c.pdf", PDF, "application/pdf")])
def test_a_photo_or_pdf_is_taken_as_its_content_says(name, data, mime):
    item = check_file(form().field("photos"), name, data)
    assert item == {"sha256": hashlib.sha256(data).hexdigest(), "name": name, "type": mime, "size": len(data)}


def test_the_kind_comes_from_the_bytes_never_the_name_or_the_browser():
    spec = form(", accept: [png]").field("photos")
    assert code_of(spec, "photo.png", PDF) == "file_not_accepted"  # a PDF named .png
    item = check_file(form().field("photos"), "scan.png", PDF)  # a PDF named .png where PDFs are taken
    assert (item["type"], item["name"]) == ("application/pdf", "scan.png.pdf")
    assert code_of(spec, "x.png", b"GIF89a\x01\x00\x01\x00") == "file_type"
    assert code_of(spec, "x.png", b"<svg onload=alert(1)>") == "file_type"


def test_hostile_files_are_refused_with_their_own_codes():
    spec = form().field("photos")
    assert code_of(spec, "empty.png", b"") == "file_empty"
    assert code_of(spec, "junk.png", b"\x89PNG\r\n\x1a\n" + os.urandom(2000)) == "file_broken"
    assert code_of(spec, "cut.jpg", jpeg()[:40]) == "file_broken"
    assert code_of(spec, "header.png", png_header(64, 64, pixels=False)) == "file_broken"  # a valid header, nothing after
    assert code_of(spec, "short.png", png_header(64, 64)) == "file_broken"  # fewer pixels than declared
    assert code_of(spec, "noend.png", png()[:-12]) == "file_broken"  # no IEND
    assert code_of(spec, "huge.png", png_header(8_000, 8_000)) == "image_too_large"  # 64 megapixels in 100 bytes
    assert code_of(spec, "bomb.png", png_header(20_000, 20_000)) == "image_too_large"  # past PIL's own bomb limit
    assert code_of(spec, "more.png", png(), held=MAX_FILES) == "too_many_files"


@pytest.mark.parametrize("data", [
    SCRIPTED_PDF,  # runs a script when a desktop reader opens it
    b"%PDF-1.4\n<html><script>alert(1)</script></html>\n%%EOF\n",  # a web page behind the magic bytes
    b"%PDF-1.4\n1 0 obj << /OpenAction << /S /Launch /F (cmd.exe) >> >>\nendobj\n%%EOF\n",
    b"%PDF-1.4\n<!DOCTYPE html><body onload=x>\n%%EOF\n",
])
def test_a_pdf_that_is_a_web_page_or_runs_a_script_is_refused(data):
    """Attack K8: the first bytes alone made these PDFs; the office opens evidence in a desktop reader."""
    assert code_of(form().field("photos"), "报告.pdf", data) == "file_active"


def test_a_pdf_must_end_as_a_pdf_does():
    """Attack K8: a PDF ends with %%EOF. Attack M8: nothing but blanks after the last one — a reader finds
    %%EOF within its last 1024 bytes, so a small ZIP or page behind it (a polyglot) used to pass."""
    spec = form().field("photos")
    assert code_of(spec, "cut.pdf", b"%PDF-1.4\n1 0 obj << >> endobj\n") == "file_broken"
    assert code_of(spec, "tail.pdf", PDF + b"x" * 2000) == "file_trailing"
    for tail in (b"<svg onload=alert(1)>", b"PK\x03\x04" + b"\0" * 500, b"%"):
        assert code_of(spec, "polyglot.pdf", PDF + tail) == "file_trailing"
    assert check_file(spec, "ok.pdf", PDF + b"\n" * 10)["type"] == "application/pdf"
    assert check_file(spec, "ok.pdf", PDF + b"\r\n \0\t")["type"] == "application/pdf"


def object_stream(objects: bytes, head: bytes = b"/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode", body: bytes | None = None) -> bytes:
    """A PDF 1.5 whose objects (catalog and actions among them) are in a compressed object stream."""
    body = zlib.compress(objects) if body is None else body
    return (b"%PDF-1.5\n5 0 obj\n<< " + head + b" /Length %d >>\nstream\n" % len(body) + body
            + b"\nendstream\nendobj\nstartxref\n0\n%%EOF\n")


@pytest.mark.parametrize("data", [
    b"%PDF-1.4\n1 0 obj << /OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >> >>\nendobj\n%%EOF\n",
    b"%PDF-1.4\n1 0 obj << /OpenAction << /S /L#61unch /F (cmd.exe) >> >>\nendobj\n%%EOF\n",
    object_stream(b"1 0 << /Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>"),
    object_stream(b"1 0 << /OpenAction << /S /J#61vaScript >> >>"),
    object_stream(b"1 0 << /OpenAction << /S /Launch /F (cmd.exe) >> >>", head=b"/Type /Obj#53tm /Filter [/FlateDecode]"),
    # an "endstream" in a comment is no stream's start: the /JS after it is outside every stream
    b"%PDF-1.4\n%endstream\n1 0 obj << /JS (app.alert(1)) >> endobj\n2 0 obj << >> stream\nx\nendstream\n%%EOF\n",
], ids=["escaped-js", "escaped-launch", "objstm-js", "objstm-escaped", "objstm-escaped-type", "endstream-comment"])
def test_a_script_spelled_with_name_escapes_or_inside_an_object_stream_is_refused(data):
    """Attack M8: PDF names may escape any byte (/J#61vaScript is /JavaScript to a reader), and since PDF
    1.5 most catalogs sit in a compressed object stream: both are read as a reader reads them."""
    assert code_of(form().field("photos"), "报告.pdf", data) == "file_active"


def test_an_object_stream_is_read_within_bounds_and_one_that_cannot_be_read_is_refused():
    spec = form().field("photos")
    plain = object_stream(b"1 0 << /Type /Catalog /Pages 2 0 R >>")
    assert check_file(spec, "ok.pdf", plain)["type"] == "application/pdf"
    assert code_of(spec, "lzw.pdf", object_stream(b"1 0 << >>", head=b"/Type /ObjStm /Filter /LZWDecode")) == "file_unchecked"
    assert code_of(spec, "broken.pdf", object_stream(b"", body=b"not deflate data")) == "file_unchecked"
    bomb = zlib.compress(b"\0" * (40 << 20), 9)  # 40 MB of objects in 40 KB
    assert code_of(spec, "bomb.pdf", object_stream(b"", body=bomb)) == "file_unchecked"


@pytest.mark.parametrize("picture", [png, jpeg])
@pytest.mark.parametrize("tail", [SCRIPTED_PDF, b"<html><script>alert(1)</script>", b"\0"])
def test_an_image_with_bytes_after_its_end_is_kept_without_them(picture, tail):
    """Attack K8: a picture followed by a whole PDF or page was stored with it, handed out as a photo. A
    phone's motion photo is such a file too (a video after the JPEG): the picture is kept, the rest cut."""
    spec = form().field("photos")
    assert check_file(spec, "ok.jpg", picture())["size"] == len(picture())
    item, body = take_file(spec, "polyglot.jpg", picture() + tail)
    assert body == picture() and item["size"] == len(picture())
    assert item["sha256"] == hashlib.sha256(picture()).hexdigest()


def test_a_jpeg_with_a_thumbnail_inside_ends_at_its_own_end():
    """An EOI inside an embedded thumbnail (EXIF) is not taken for the picture's end."""
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (9, 9, 9)).save(out, format="JPEG", exif=_exif_with_thumbnail())
    assert check_file(form().field("photos"), "exif.jpg", out.getvalue())["type"] == "image/jpeg"


def _exif_with_thumbnail() -> bytes:
    thumb = jpeg()
    exif = Image.Exif()
    exif[0x010F] = "camera"
    data = exif.tobytes()
    return data + thumb  # a thumbnail's bytes (with its own EOI) inside the APP1 segment


def test_a_png_whose_picture_decodes_past_the_byte_bound_is_refused_before_decoding():
    """Attack K8: 36 megapixels are under the pixel bound, but RGBA they decode to 144 MB."""
    assert 6_000 * 6_000 < MAX_IMAGE_PIXELS < 6_000 * 6_000 * 4
    assert code_of(form().field("photos"), "wide.png", png_header(6_000, 6_000, colour=6)) == "image_too_large"


class CountingStream(io.BytesIO):
    def __init__(self, data: bytes):
        super().__init__(data)
        self.read_bytes = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.read_bytes += len(chunk)
        return chunk


def test_an_oversized_file_is_refused_by_its_size_before_it_is_read():
    spec = form(", max_mb: 1").field("photos")
    big = CountingStream(PDF + b"0" * (1024 * 1024))
    assert code_of(spec, "big.pdf", big) == "file_too_big"
    assert big.read_bytes == 0
    assert code_of(spec, "big.pdf", PDF + b"0" * (1024 * 1024)) == "file_too_big"
    assert check_file(spec, "ok.pdf", CountingStream(PDF))["size"] == len(PDF)


def test_a_file_name_is_shown_cleaned_and_never_used_as_a_path():
    spec = form().field("photos")
    item = check_file(spec, "../../etc/\u202epasswd\x07\r\n.png", png())
    assert item["name"] == "passwd.png"
    assert check_file(spec, "C:\\Users\\张三\\现场.png", png())["name"] == "现场.png"
    assert len(clean_file_name("长" * 500 + ".pdf")) == 100 and clean_file_name("长" * 500 + ".pdf").endswith(".pdf")
    message = str(pytest.raises(FileRefused, check_file, spec, "x\u202e.png", b"").value)
    assert "\u202e" not in message


# --- the answer a row keeps ---------------------------------------------------------------------------


def test_the_row_keeps_the_stored_files_and_nothing_of_another_shape():
    demo = form()
    good = check_file(demo.field("photos"), "a.png", png())
    outcome = check_answers(demo, {"photos": [good, dict(good)]})
    assert outcome.ok and outcome.values["photos"] == [good]  # one file named twice counts once
    bad_items = [
        {**good, "sha256": "../../accounts.json"},
        {**good, "sha256": good["sha256"].upper()},
        {**good, "name": "a/b.png"},
        {**good, "type": "text/html"},
        {**good, "size": 0},
        {**good, "size": True},
        {**good, "path": "/etc/passwd"},
        "a.png",
    ]
    for item in bad_items:
        result = check_answers(demo, {"photos": [good, item]})
        assert [p.code for p in result.problems] == ["bad_file_entry"], item
    assert [p.code for p in check_answers(demo, {"photos": [good] * (MAX_FILES + 1)}).problems] == ["too_many_files"]
    assert [p.code for p in check_answers(demo, {"photos": "a.png"}).problems] == ["not_file_list"]
    assert [p.code for p in check_answers(demo, {"photos": good}).problems] == ["not_file_list"]


def test_a_required_file_field_and_rules_over_it():
    demo = demo_form("      - {key: photos, label: 现场照片, type: file, required: true,"
                     " constraints: [{rule: 'count(photos) >= 2', message: 至少两张照片}]}\n")
    assert [p.code for p in check_answers(demo, {"photos": []}).problems] == ["required"]
    one = check_file(demo.field("photos"), "a.png", png())
    assert [p.code for p in check_answers(demo, {"photos": [one]}).problems] == ["constraint"]
    two = check_file(demo.field("photos"), "b.png", png(9, 9))
    assert check_answers(demo, {"photos": [one, two]}).ok


# --- the folder the bytes go to ---------------------------------------------------------------------


def test_files_are_stored_by_hash_once_and_privately(tmp_path):
    blobs = Blobs(tmp_path / "files")
    data = png()
    digest = blobs.put(data)
    path = tmp_path / "files" / digest[:2] / digest
    assert digest == hashlib.sha256(data).hexdigest() and path.read_bytes() == data
    inode = path.stat().st_ino
    os.utime(path, (1, 1))
    assert blobs.put(data) == digest and path.stat().st_ino == inode and path.read_bytes() == data  # stored once, never rewritten
    assert path.stat().st_mtime > 1  # but marked as wanted now: a sweep leaves it a day
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE((tmp_path / "files").stat().st_mode) == 0o700
    assert sorted(p.name for p in path.parent.iterdir()) == [digest]  # no temporary file left


@pytest.mark.parametrize("digest", ["../../accounts.json", "/etc/passwd", "ab/../../x", "A" * 64, "0" * 63, "0" * 64 + "\x00", ""])
def test_no_name_reaches_outside_the_folder(tmp_path, digest):
    blobs = Blobs(tmp_path / "files")
    with pytest.raises(ValueError):
        blobs.path(digest)
    with pytest.raises(ValueError):
        blobs.read(digest)


def test_a_crash_before_the_rename_leaves_nothing_under_the_hash(tmp_path, monkeypatch):
    blobs = Blobs(tmp_path / "files")
    data = PDF

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        blobs.put(data)
    monkeypatch.undo()
    digest = hashlib.sha256(data).hexdigest()
    assert not blobs.has(digest)
    assert [p for p in (tmp_path / "files").rglob("*") if p.is_file()] == []  # the partial copy is gone
    assert blobs.put(data) == digest and blobs.read(digest) == data


def test_gc_files_deletes_only_old_files_no_row_or_revision_names(tmp_path, capsys, monkeypatch):
    """Attack K15: files picked for a row never saved piled up; ``python -m lib.store gc-files`` collects
    them after a day, keeping what any row names now or named in an earlier revision, drafts included."""
    from lib.core.statuses import DRAFT, SUBMITTED
    from lib.forms.columns import sheet_spec
    from lib.store.__main__ import main
    from lib.store.factory import open_store

    data = tmp_path / "data"
    blobs = Blobs(data / "files")
    current, earlier, draft, orphan, fresh, again = (blobs.put(png(8 + n)) for n in range(6))
    spec = form()
    item = lambda digest: {"sha256": digest, "name": "x.png", "type": "image/png", "size": 1}  # noqa: E731
    store = open_store("local", data_dir=data, background=False)
    try:
        store.ensure_sheet(sheet_spec(spec))
        actor = Actor("p1", "provider", "服务商")
        row = store.append(spec.id, {"photos": [item(earlier)]}, actor=actor, status=SUBMITTED)
        store.update(spec.id, row.id, base_rev=row.rev, actor=actor, values={"photos": [item(current)]})
        store.append(spec.id, {"photos": [item(draft)]}, actor=actor, status=DRAFT)
    finally:
        store.close()
    for digest in (current, earlier, draft, orphan, again):
        os.utime(blobs.path(digest), (0, dt.datetime.now().timestamp() - 2 * 24 * 3600))
    blobs.put(png(13))  # ``again``: picked anew for a form still open
    monkeypatch.delenv("APP_STORE_BACKEND", raising=False)
    local = ["--secrets", str(tmp_path / "none.toml")]  # no secrets: the default local backend, as in the app
    assert main(["gc-files", str(data), "--dry-run", *local]) == 0 and blobs.has(orphan)
    assert main(["gc-files", str(data), *local]) == 0
    assert [blobs.has(d) for d in (current, earlier, draft, orphan, fresh, again)] == [True, True, True, False, True, True]
    assert orphan in capsys.readouterr().out


def test_a_damaged_or_missing_file_is_never_served_as_another(tmp_path):
    blobs = Blobs(tmp_path / "files")
    digest = blobs.put(PDF)
    blobs.path(digest).write_bytes(b"%PDF-1.7 other")
    with pytest.raises(BlobMissing) as err:
        blobs.read(digest)
    assert err.value.code == "blob_missing"
    with pytest.raises(BlobMissing):
        blobs.read("0" * 64)


# --- serving: only to who may read the row ---------------------------------------------------------


def _row(demo, owner: Actor, items) -> Record:
    now = dt.datetime(2020, 9, 20, 10, 0)
    return Record("demo", "r1", 1, "已提交", 1, owner.account, owner.org, owner.city, now, now, owner.account, {"photos": items})


def test_a_file_is_served_only_to_a_viewer_who_may_read_its_row(tmp_path):
    demo = form()
    blobs = Blobs(tmp_path / "files")
    item = check_file(demo.field("photos"), "a.png", png())
    blobs.put(png())
    filer = Actor("p1", "provider", "甲公司", "广州")
    other = Actor("p2", "provider", "乙公司", "广州")
    province = Actor("gd", "province", "省工信厅")
    row = _row(demo, filer, [item])
    assert can(filer, READ, demo, row) and not can(other, READ, demo, row)
    assert readable_file(filer, demo, row, item["sha256"], blobs) == png()
    assert readable_file(province, demo, row, item["sha256"], blobs) == png()
    assert readable_file(other, demo, row, item["sha256"], blobs) is None
    assert readable_file(None, demo, row, item["sha256"], blobs) is None


def test_a_row_serves_only_the_files_it_names(tmp_path):
    """Knowing another file's hash gets nothing through one's own row."""
    demo = form()
    blobs = Blobs(tmp_path / "files")
    secret = blobs.put(PDF)
    mine = check_file(demo.field("photos"), "a.png", png())
    blobs.put(png())
    filer = Actor("p1", "provider", "甲公司", "广州")
    assert readable_file(filer, demo, _row(demo, filer, [mine]), secret, blobs) is None


def test_a_thumbnail_is_a_small_png_and_hostile_bytes_give_none():
    small = thumbnail(png(1200, 900))
    with Image.open(io.BytesIO(small)) as image:
        assert (image.format, max(image.size)) == ("PNG", 320)
    assert thumbnail(jpeg()) is not None
    for hostile in (png_header(64, 64), png_header(20_000, 20_000), b"\x89PNG\r\n\x1a\n" + b"\0" * 100, PDF, b""):
        assert thumbnail(hostile) is None
