"""Files camsweep writes or fingerprints: hashed in blocks (registers and logs can be
gigabytes), written whole or not at all (a reader never sees half a report or photo)."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

BLOCK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def write_atomic(path: Path, content: bytes | Path) -> None:
    """Write bytes (or copy a file) to `path` through a temporary file renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        if isinstance(content, Path):
            os.close(fd)
            shutil.copyfile(content, tmp)
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
