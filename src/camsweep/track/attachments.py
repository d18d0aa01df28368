"""Evidence files: checked by their content, not their name, and stored once by sha256.

Work-order transitions (a photo of the removed device, a disposal certificate) and
investigation cases (`camsweep.screen.cases`) share this: one folder, laid out as
`<folder>/<sha256[:2]>/<sha256><ext>`, so the same file uploaded twice is stored once and the
hash the audit log records names the file. A file is written to a temporary name and renamed,
so a reader never sees half of one; reading checks the hash again, so a file altered on disk
is refused rather than served.

The folder is `CAMSWEEP_EVIDENCE_DIR` (default `./camsweep-evidence`); the size limit is
`CAMSWEEP_EVIDENCE_MAX_BYTES` (default 25 MiB).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from camsweep.errors import TransitionError
from camsweep.files import write_atomic

DEFAULT_MAX_BYTES = 25 * 1024 * 1024
DEFAULT_EVIDENCE_DIR = "camsweep-evidence"

PHOTO_TYPES: dict[str, str] = {
    "image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp",
    "image/heic": ".heic", "image/heif": ".heif",
}
DOCUMENT_TYPES: dict[str, str] = {"application/pdf": ".pdf"}
EXTENSIONS: dict[str, str] = {**PHOTO_TYPES, **DOCUMENT_TYPES}

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# ISO/IEC 23008-12 (HEIF) brands in the `ftyp` box: HEVC-coded images and sequences, then the
# generic image/sequence brands that AVIF files also carry (so AVIF is ruled out separately).
HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})
HEIF_BRANDS = frozenset({b"mif1", b"msf1"})
AVIF_BRANDS = frozenset({b"avif", b"avis"})
SNIFF_BYTES = 64
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class EvidenceStore:
    folder: Path
    max_bytes: int = DEFAULT_MAX_BYTES

    @classmethod
    def configured(cls, folder: str | Path | None = None, max_bytes: int | None = None
                   ) -> EvidenceStore:
        where = folder or os.environ.get("CAMSWEEP_EVIDENCE_DIR") or DEFAULT_EVIDENCE_DIR
        limit = max_bytes or int(os.environ.get("CAMSWEEP_EVIDENCE_MAX_BYTES") or DEFAULT_MAX_BYTES)
        return cls(Path(where).expanduser(), limit)

    def path_for(self, sha256: str, ext: str) -> Path:
        if not _SHA256.match(sha256):
            raise TransitionError(f"'{sha256}' is not a sha256 (64 lower-case hex digits)")
        return self.folder / sha256[:2] / f"{sha256}{ext}"

    def _put(self, sha256: str, ext: str, write: Path | bytes) -> Path:
        target = self.path_for(sha256, ext)
        if target.exists():
            return target
        write_atomic(target, write)
        return target

    def put_file(self, source: Path, sha256: str, ext: str) -> Path:
        return self._put(sha256, ext, source)

    def put_bytes(self, data: bytes, sha256: str, ext: str) -> Path:
        return self._put(sha256, ext, data)

    def read(self, sha256: str, ext: str) -> bytes:
        """The stored bytes, refused when they no longer hash to their name."""
        path = self.path_for(sha256, ext)
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise TransitionError(f"evidence file {path} is missing from the evidence folder "
                                  "(CAMSWEEP_EVIDENCE_DIR)") from exc
        if hashlib.sha256(data).hexdigest() != sha256:
            raise TransitionError(f"evidence file {path} was altered on disk: its content no "
                                  "longer matches the sha256 the audit log recorded")
        return data


def _ftyp_brands(head: bytes) -> list[bytes]:
    if len(head) < 16 or head[4:8] != b"ftyp":
        return []
    size = min(int.from_bytes(head[0:4], "big"), len(head))
    brands = [head[8:12]]
    brands += [head[i:i + 4] for i in range(16, size - 3, 4)]
    return brands


def sniff(head: bytes) -> str | None:
    """The media type the first bytes announce, among the accepted evidence types."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(PNG_SIGNATURE):
        return "image/png"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    brands = set(_ftyp_brands(head))
    if brands & HEIC_BRANDS:
        return "image/heic"
    if brands & HEIF_BRANDS and not brands & AVIF_BRANDS:
        return "image/heif"
    return None


def damage(media_type: str, data: bytes) -> str | None:
    """What shows the file is cut short or malformed, for the formats whose end is knowable."""
    if media_type == "image/png":
        if data[12:16] != b"IHDR":
            return "a PNG without its IHDR header chunk"
        if data[-8:-4] != b"IEND":
            return "a PNG cut short (no IEND chunk at the end)"
    elif media_type == "image/webp":
        declared = int.from_bytes(data[4:8], "little") + 8
        if declared > len(data):
            return f"a WebP cut short ({len(data):,} of {declared:,} bytes)"
        if data[12:16] not in (b"VP8 ", b"VP8L", b"VP8X"):
            return "a WebP without an image chunk"
    elif media_type == "application/pdf":
        if b"%%EOF" not in data[-1024:]:
            return "a PDF cut short (no %%EOF marker at the end)"
    elif media_type in ("image/heic", "image/heif"):
        size = int.from_bytes(data[0:4], "big")
        if size < 16 or size > len(data):
            return "a HEIF file with a malformed ftyp box"
    return None


def describe_head(data: bytes) -> str:
    """The first bytes, for a message that helps someone see what the file really is."""
    return " ".join(f"{b:02X}" for b in data[:8]) or "(nothing)"


def clean_filename(name: str) -> str:
    """A display name: no folders, no control characters, bounded length."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return base[-200:] or "attachment"


@dataclass(frozen=True)
class Attachment:
    """An uploaded file as it arrived: the claimed type is kept but never trusted."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class CheckedAttachment:
    filename: str
    media_type: str
    size: int
    sha256: str
    data: bytes = field(repr=False)

    @property
    def ext(self) -> str:
        return EXTENSIONS[self.media_type]

    @property
    def is_photo(self) -> bool:
        return self.media_type in PHOTO_TYPES


def check_attachment(att: Attachment, max_bytes: int = DEFAULT_MAX_BYTES) -> CheckedAttachment:
    """Accept a photo (JPEG, PNG, WebP, HEIC/HEIF) or a PDF by what its bytes are."""
    name = clean_filename(att.filename)
    size = len(att.data)
    if size == 0:
        raise TransitionError(f"{name}: empty file; nothing was recorded")
    if size > max_bytes:
        raise TransitionError(f"{name}: {size:,} bytes is over the {max_bytes:,}-byte limit "
                              "for evidence (CAMSWEEP_EVIDENCE_MAX_BYTES)")
    media_type = sniff(att.data[:SNIFF_BYTES])
    if media_type is None:
        raise TransitionError(
            f"{name}: the content is not a JPEG, PNG, WebP or HEIC photo, nor a PDF "
            f"(it begins {describe_head(att.data)}; claimed {att.content_type or 'no type'}); "
            "nothing was recorded")
    problem = damage(media_type, att.data)
    if problem:
        raise TransitionError(f"{name}: {problem}; nothing was recorded")
    return CheckedAttachment(name, media_type, size, hashlib.sha256(att.data).hexdigest(),
                             att.data)
