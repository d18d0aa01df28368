"""Evidence files: accepted by what their bytes are (real JPEG, PNG, WebP and PDF files made
here; a HEIC header as an iPhone writes it), refused when empty, too large, cut short or
something else; stored once by hash and refused when altered on disk."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from PIL import Image

from camsweep.errors import TransitionError
from camsweep.track.attachments import (
    Attachment,
    EvidenceStore,
    check_attachment,
    clean_filename,
    sniff,
)

# The `ftyp` box an iPhone writes at the start of a HEIC photo (major brand heic, compatible
# mif1 and heic), then the start of its `meta` box.
HEIC_HEAD = (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"
             b"\x00\x00\x01\x0dmeta\x00\x00\x00\x00")
AVIF_HEAD = b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf\x00\x00\x00\x00"


def image(fmt: str, size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


def pdf() -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    out = io.BytesIO()
    Figure(figsize=(2, 1)).savefig(out, format="pdf")
    return out.getvalue()


@pytest.mark.parametrize(("data", "media_type"), [
    (image("JPEG"), "image/jpeg"),
    (image("PNG"), "image/png"),
    (image("WEBP"), "image/webp"),
    (HEIC_HEAD + b"\x00" * 300, "image/heic"),
    (b"\x00\x00\x00\x14ftypmif1\x00\x00\x00\x00mif1" + b"\x00" * 100, "image/heif"),
    (pdf(), "application/pdf"),
])
def test_accepted_types_are_recognised_by_content(data: bytes, media_type: str) -> None:
    assert sniff(data[:64]) == media_type
    # the claimed type and name do not matter: the bytes decide
    checked = check_attachment(Attachment("upload.bin", "application/octet-stream", data))
    assert checked.media_type == media_type and checked.size == len(data)
    assert checked.sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(("data", "message"), [
    (b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 100, "not a JPEG, PNG, WebP or HEIC photo"),
    (b"PK\x03\x04" + b"\x00" * 100, "begins 50 4B 03 04"),
    (b"GIF89a" + b"\x00" * 100, "not a JPEG"),
    (AVIF_HEAD + b"\x00" * 100, "not a JPEG"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not a JPEG"),
    (b"", "empty file"),
    (image("PNG")[:-12], "PNG cut short"),
    (image("WEBP")[:-20], "WebP cut short"),
    (pdf()[:-200], "PDF cut short"),
])
def test_wrong_empty_or_damaged_content_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(TransitionError, match=message):
        check_attachment(Attachment("photo.jpg", "image/jpeg", data))


def test_size_limit() -> None:
    data = image("JPEG", (400, 300))
    with pytest.raises(TransitionError, match=r"over the 1,000-byte limit"):
        check_attachment(Attachment("big.jpg", "image/jpeg", data), max_bytes=1000)
    assert check_attachment(Attachment("big.jpg", "image/jpeg", data),
                            max_bytes=len(data)).size == len(data)


def test_filenames_are_display_names_only() -> None:
    assert clean_filename("../../etc/passwd") == "passwd"
    assert clean_filename("C:\\Users\\me\\IMG_0001.HEIC") == "IMG_0001.HEIC"
    assert clean_filename("a\x00b\nc.jpg") == "abc.jpg"
    assert clean_filename("") == "attachment"
    assert "data" not in repr(Attachment("x.jpg", "image/jpeg", b"\xff" * 10))


def test_store_once_by_hash_and_refuse_altered_files(tmp_path: Path) -> None:
    files = EvidenceStore(tmp_path / "ev")
    data = image("PNG")
    checked = check_attachment(Attachment("a.png", "image/png", data))
    path = files.put_bytes(data, checked.sha256, checked.ext)
    assert path == tmp_path / "ev" / checked.sha256[:2] / f"{checked.sha256}.png"
    assert files.put_bytes(data, checked.sha256, checked.ext) == path
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left over
    assert files.read(checked.sha256, ".png") == data
    path.write_bytes(data[:-1] + b"\x00")
    with pytest.raises(TransitionError, match="altered on disk"):
        files.read(checked.sha256, ".png")
    path.unlink()
    with pytest.raises(TransitionError, match="missing"):
        files.read(checked.sha256, ".png")
    with pytest.raises(TransitionError, match="not a sha256"):
        files.read("../../etc/passwd", ".png")


def test_configured_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMSWEEP_EVIDENCE_DIR", str(tmp_path / "x"))
    monkeypatch.setenv("CAMSWEEP_EVIDENCE_MAX_BYTES", "1234")
    assert EvidenceStore.configured() == EvidenceStore(tmp_path / "x", 1234)
    assert EvidenceStore.configured(tmp_path / "y", 99) == EvidenceStore(tmp_path / "y", 99)
