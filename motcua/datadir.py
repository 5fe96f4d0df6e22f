"""The data dir kept to its owner: the register, the password and token hashes, the blobs and the
signing keys are nobody else's to read.

Folders are created 0700 and files 0600, with the process umask narrowed while they are created
(``owner_only``), so that nothing is world-readable even for a moment; ``motcua init`` also narrows
what an earlier version left open (``make_private``).
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.engine import make_url

from engine.adapters.sqlite_writers import WRITERS_SUFFIX

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
OWNER_ONLY_UMASK = 0o077
PRIVATE_FOLDERS = ("blobs", "pki")  # under the data dir
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal", WRITERS_SUFFIX)


@contextlib.contextmanager
def owner_only() -> Iterator[None]:
    """Everything created inside is readable by its owner only; the umask is put back after."""
    previous = os.umask(OWNER_ONLY_UMASK)
    try:
        yield
    finally:
        os.umask(previous)


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) 0700; an existing folder is left as it is."""
    with owner_only():
        path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    return path


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None (another database, or SQLite in memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def prepare_sqlite_file(url: str) -> None:
    """Create the SQLite file 0600 before SQLite does (it would make it 0644 under the usual umask);
    its journal and WAL files take the database file's mode."""
    path = sqlite_path(url)
    if path is None or path.exists():
        return
    with owner_only():
        path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))


def make_private(data_dir: Path, database_url: str, secret_files: tuple[str, ...]) -> None:
    """Narrow the modes of an existing data dir: the folder, its blobs and keys folders 0700; the
    SQLite database (when it lives there) and the secret files 0600. Files inside the keys folder
    keep the modes the signing library gave them (private keys 0600, certificates 0644)."""
    _chmod(data_dir, PRIVATE_DIR)
    for name in PRIVATE_FOLDERS:
        _chmod(data_dir / name, PRIVATE_DIR)
    for name in secret_files:
        _chmod(data_dir / name, PRIVATE_FILE)
    database = sqlite_path(database_url)
    if database is not None:
        for suffix in ("", *SQLITE_COMPANIONS):
            _chmod(database.with_name(database.name + suffix), PRIVATE_FILE)


def _chmod(path: Path, mode: int) -> None:
    with contextlib.suppress(FileNotFoundError):
        if path.stat().st_uid == os.getuid():  # never touch what another account owns
            path.chmod(mode)
