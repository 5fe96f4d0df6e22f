"""Content-addressed blob storage: uploads and signed PDFs, named by their SHA-256; beside them, files
derived from a blob (a PDF page drawn as an image), named by the blob's SHA-256 and what was derived."""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path


PRIVATE_DIR = 0o700
DERIVED_NAME = re.compile(r"[0-9a-f]{64}(-[a-z0-9]+)+\.[a-z0-9]+")


class LocalBlobStore:
    """Blobs under ``root/sha256/ab/cdef...``; a write is atomic (temp file, fsync, rename). The
    folders are made 0700 and the files 0600 (``mkstemp``'s mode): uploads are personal data."""

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def _path(self, digest: str) -> Path:
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError("not a sha256 hex digest")
        return self.root / "sha256" / digest[:2] / digest[2:]

    def put(self, content: bytes) -> str:
        digest = hashlib.sha256(content).hexdigest()
        path = self._path(digest)
        if not path.exists():
            _write(path, content)
        return digest

    def get(self, digest: str) -> bytes:
        return self._path(digest).read_bytes()

    def exists(self, digest: str) -> bool:
        return self._path(digest).exists()

    # derived files: a cache, rebuilt from the blob when missing

    def _derived_path(self, name: str) -> Path:
        if not DERIVED_NAME.fullmatch(name):
            raise ValueError("not a derived file name (<sha256>-<part>...<.ext>)")
        return self.root / "derived" / name[:2] / name

    def put_derived(self, name: str, content: bytes) -> None:
        """Store ``content`` as ``name`` (e.g. ``<sha256>-p1-r96.png``), replacing what was there."""
        _write(self._derived_path(name), content)

    def get_derived(self, name: str) -> bytes | None:
        try:
            return self._derived_path(name).read_bytes()
        except FileNotFoundError:
            return None


def _write(path: Path, content: bytes) -> None:
    """Atomic: a temp file beside ``path``, fsync, rename."""
    _private_dirs(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _private_dirs(folder: Path) -> None:
    """Create ``folder`` and its missing parents, each 0700 (``mkdir(parents=True)`` gives the
    parents the default mode)."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir(mode=PRIVATE_DIR, exist_ok=True)
