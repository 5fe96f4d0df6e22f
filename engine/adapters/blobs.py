"""Content-addressed blob storage: uploads and signed PDFs, named by their SHA-256."""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


PRIVATE_DIR = 0o700


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
        if path.exists():
            return digest
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
        return digest

    def get(self, digest: str) -> bytes:
        return self._path(digest).read_bytes()

    def exists(self, digest: str) -> bool:
        return self._path(digest).exists()


def _private_dirs(folder: Path) -> None:
    """Create ``folder`` and its missing parents, each 0700 (``mkdir(parents=True)`` gives the
    parents the default mode)."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir(mode=PRIVATE_DIR, exist_ok=True)
