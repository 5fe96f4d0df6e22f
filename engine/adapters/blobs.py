"""Content-addressed blob storage on the file system (the ``BlobStore`` port of
``engine.usecases.blob_store``): uploads and signed PDFs, named by their SHA-256; beside them, files
derived from a blob (a PDF page drawn as an image), named by the blob's SHA-256 and what was derived."""
from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from pathlib import Path

from engine.rules.errors import BlobIntegrityError, BlobNotFoundError, StorageUnavailableError

log = logging.getLogger(__name__)

PRIVATE_DIR = 0o700
DIGEST = re.compile(r"[0-9a-f]{64}")
DERIVED_NAME = re.compile(r"[0-9a-f]{64}(-[a-z0-9]+)+\.[a-z0-9]+")


def check_digest(digest: str) -> str:
    """``digest`` when it is a SHA-256 as 64 lowercase hex digits; else ValueError (a caller's bug)."""
    if not isinstance(digest, str) or not DIGEST.fullmatch(digest):
        raise ValueError("not a sha256 hex digest")
    return digest


def check_content(digest: str, content: bytes) -> bytes:
    """``content`` when it hashes to ``digest``; else the blob is damaged."""
    if hashlib.sha256(content).hexdigest() != digest:
        log.error("blob %s does not match its SHA-256", digest)
        raise BlobIntegrityError()
    return content


class LocalBlobStore:
    """Blobs under ``root/sha256/ab/cdef...``; a write is atomic (temp file, fsync, rename) and never
    replaces a blob that is there (same name, same bytes). The folders are made 0700 and the files
    0600 (``mkstemp``'s mode): uploads are personal data. A read checks the bytes against the name."""

    kind = "file"

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def _path(self, digest: str) -> Path:
        check_digest(digest)
        return self.root / "sha256" / digest[:2] / digest[2:]

    def put(self, content: bytes) -> str:
        digest = hashlib.sha256(content).hexdigest()
        path = self._path(digest)
        try:
            if not path.exists():
                _write(path, content)
        except OSError as exc:  # a full disk, a read-only mount, a folder we may not write
            log.error("blob store %s: cannot write %s: %s", self.root, digest, exc.strerror or type(exc).__name__)
            raise StorageUnavailableError() from None
        return digest

    def get(self, digest: str) -> bytes:
        path = self._path(digest)
        try:
            content = path.read_bytes()
        except FileNotFoundError:
            raise BlobNotFoundError() from None
        except OSError as exc:
            log.error("blob store %s: cannot read %s: %s", self.root, digest, exc.strerror or type(exc).__name__)
            raise StorageUnavailableError() from None
        return check_content(digest, content)

    def exists(self, digest: str) -> bool:
        return self._path(digest).exists()

    def check(self) -> None:
        """The folder is there (or can be made) and may be written to."""
        try:
            _private_dirs(self.root)
        except OSError:
            raise StorageUnavailableError() from None
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise StorageUnavailableError()

    # derived files: a cache, rebuilt from the blob when missing

    def _derived_path(self, name: str) -> Path:
        if not DERIVED_NAME.fullmatch(name):
            raise ValueError("not a derived file name (<sha256>-<part>...<.ext>)")
        return self.root / "derived" / name[:2] / name

    def put_derived(self, name: str, content: bytes) -> None:
        """Store ``content`` as ``name`` (e.g. ``<sha256>-p1-r96.png``), replacing what was there."""
        path = self._derived_path(name)
        try:
            _write(path, content)
        except OSError as exc:
            log.error("blob store %s: cannot write %s: %s", self.root, name, exc.strerror or type(exc).__name__)
            raise StorageUnavailableError() from None

    def get_derived(self, name: str) -> bytes | None:
        path = self._derived_path(name)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.error("blob store %s: cannot read %s: %s", self.root, name, exc.strerror or type(exc).__name__)
            raise StorageUnavailableError() from None


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
