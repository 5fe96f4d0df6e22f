"""``motcua backup DIR`` and ``motcua restore DIR``: a consistent copy of the database, the blobs, the
signing keys and the data dir's secrets, and its restore into an empty data dir.

A backup folder holds::

    manifest.json        format version, time, database kind, every file with its size and SHA-256
    database.sqlite      SQLite: a snapshot taken with the online backup API (writers may go on)
    database.pgdump      PostgreSQL: ``pg_dump --format=custom`` of the schema the application uses
    blobs/...            uploads and signed PDFs, named by their SHA-256
    pki/...              the signing keys (encrypted with the PKI passphrase) and certificates
    secret_key, pki-passphrase   when the data dir holds them (not when they come from the environment)

The database is copied first and the blobs after it: a blob is written before the row that names it
commits, so every blob the snapshot knows is there. The manifest is written last; a folder without
one is an unfinished backup. Everything is created readable by its owner only.

With ``MOTCUA_BLOB_STORE=s3`` the blobs are downloaded from the bucket into the same ``blobs/sha256/``
layout (each checked against its SHA-256 on the way), so a backup is complete and the same whatever
the store: it restores into a file store or into a bucket. Nothing is ever deleted from the store, so
listing it after the database snapshot finds every blob the snapshot names. A restore with an S3
store uploads the blobs to the bucket (a blob already there is left as it is) instead of writing
them under the data dir; the derived files (drawn pages) are a cache and are not restored there.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from engine.adapters.blobs import LocalBlobStore
from engine.adapters.s3_blobs import S3BlobStore
from engine.rules.errors import EngineError
from motcua.bootstrap import make_blob_store
from motcua.datadir import PRIVATE_FOLDERS, owner_only, prepare_sqlite_file, private_dir, sqlite_path
from motcua.settings import PKI_PASSPHRASE_FILE, SECRET_KEY_FILE, Settings

FORMAT = "motcua-backup"
VERSION = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite"
PG_FILE = "database.pgdump"
SECRET_FILES = (SECRET_KEY_FILE, PKI_PASSPHRASE_FILE)
SKIPPED = frozenset({".lock"})  # the PKI's lock file: made afresh on use
BLOBS = "blobs"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message is one line for the user."""


@dataclass(frozen=True)
class Summary:
    kind: str
    files: int
    size: int
    secrets: tuple[str, ...]


# ------------------------------------------------------------------------------------------ backup

def make_backup(settings: Settings, target: Path) -> Summary:
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} exists and is not an empty folder")
    with owner_only():
        private_dir(target)
        kind, database, schema = _dump_database(settings.database_url, target)
        if settings.blob_store == "s3":
            _download_blobs(settings, target / BLOBS)
        for folder in PRIVATE_FOLDERS:
            source = settings.data_dir / folder
            if folder == BLOBS and settings.blob_store == "s3":
                continue  # the bucket's, just downloaded
            if source.is_dir():
                shutil.copytree(source, target / folder, ignore=lambda _d, names: [n for n in names if n in SKIPPED])
        secrets = tuple(name for name in SECRET_FILES if (settings.data_dir / name).is_file())
        for name in secrets:
            shutil.copy2(settings.data_dir / name, target / name)
        files = [_entry(target, path) for path in sorted(_files(target))]
        manifest = {
            "format": FORMAT, "version": VERSION, "motcua": _motcua_version(),
            "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "database": {"kind": kind, "file": database, "schema": schema},
            "blob_store": settings.blob_store,
            "files": files,
        }
        (target / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return Summary(kind, len(files), sum(f["size"] for f in files), secrets)


def _dump_database(url: str, target: Path) -> tuple[str, str, str | None]:
    path = sqlite_path(url)
    if path is not None:
        if not path.is_file():
            raise BackupError(f"no database at {path}; run motcua init first")
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as source, \
                closing(sqlite3.connect(target / SQLITE_FILE)) as copy:
            source.backup(copy)  # a consistent snapshot, page by page, while others keep writing
        return "sqlite", SQLITE_FILE, None
    if make_url(url).get_backend_name() != "postgresql":
        raise BackupError(f"backups of {make_url(url).get_backend_name()} databases are not supported")
    schema = _current_schema(url)
    _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--schema={schema}",
          f"--file={target / PG_FILE}", "--dbname", _libpq(url)], "pg_dump")
    return "postgresql", PG_FILE, schema


# ------------------------------------------------------------------------------------------ restore

def restore_backup(settings: Settings, source: Path) -> Summary:
    source = Path(source)
    manifest = _read_manifest(source)
    data_dir = settings.data_dir
    if data_dir.exists() and any(data_dir.iterdir()):
        raise BackupError(f"the data dir {data_dir} is not empty; restore only into an empty one")
    files = manifest["files"]
    _verify(source, files)
    database = manifest["database"]
    here = "sqlite" if sqlite_path(settings.database_url) is not None else make_url(settings.database_url).get_backend_name()
    if database["kind"] != here:
        raise BackupError(f"the backup holds a {database['kind']} database, MOTCUA_DATABASE_URL names a {here} one")
    bucket = _reachable_bucket(settings) if settings.blob_store == "s3" else None  # before anything is written
    with owner_only():
        for folder in (data_dir, *(data_dir / name for name in PRIVATE_FOLDERS)):
            private_dir(folder)
        if database["kind"] == "sqlite":
            _restore_sqlite(source / database["file"], settings.database_url)
        else:
            _restore_postgresql(source / database["file"], database["schema"], settings.database_url)
        uploaded = _upload_blobs(bucket, source, files) if bucket is not None else set()
        for entry in files:
            relative = entry["path"]
            if relative == database["file"] or relative in uploaded:
                continue
            destination = data_dir / relative
            for folder in reversed(destination.relative_to(data_dir).parents[:-1]):
                private_dir(data_dir / folder)
            shutil.copy2(source / relative, destination)
    secrets = tuple(f["path"] for f in files if f["path"] in SECRET_FILES)
    return Summary(database["kind"], len(files), sum(f["size"] for f in files), secrets)


def _download_blobs(settings: Settings, target: Path) -> int:
    """Every blob of the bucket into ``target`` (a file store's layout), checked on the way."""
    bucket, copy = make_blob_store(settings), LocalBlobStore(target)
    count = 0
    try:
        for digest in bucket.digests():
            copy.put(bucket.get(digest))
            count += 1
    except EngineError as exc:
        raise BackupError(f"the S3 blob store: {exc.message}") from None
    return count


def _reachable_bucket(settings: Settings) -> S3BlobStore:
    bucket = make_blob_store(settings)
    try:
        bucket.check()
    except EngineError as exc:
        raise BackupError(f"the S3 blob store: {exc.message}") from None
    return bucket


def _upload_blobs(bucket: S3BlobStore, source: Path, files: list[dict]) -> set[str]:
    """Put the backup's blobs into the bucket; the paths of the manifest done with (blobs and derived files)."""
    done = set()
    try:
        for entry in files:
            relative = entry["path"]
            parts = relative.split("/")
            if parts[0] != BLOBS:
                continue
            if parts[1] == "sha256":
                name = "".join(parts[2:])
                if bucket.put((source / relative).read_bytes()) != name:
                    raise BackupError(f"backup damaged: {relative} does not hold the blob its name says")
            done.add(relative)
    except EngineError as exc:
        raise BackupError(f"the S3 blob store: {exc.message}") from None
    return done


def _read_manifest(source: Path) -> dict:
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{source} holds no {MANIFEST}: not a MotCua backup, or an unfinished one") from None
    except (OSError, ValueError) as exc:
        raise BackupError(f"{source / MANIFEST} cannot be read: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{source / MANIFEST} is not a MotCua backup manifest")
    if manifest.get("version") != VERSION:
        raise BackupError(f"backup format version {manifest.get('version')!r} is not supported (this MotCua reads {VERSION})")
    return manifest


def _verify(source: Path, files: list[dict]) -> None:
    root = source.resolve()
    for entry in files:
        path = (source / entry["path"]).resolve()
        if root not in path.parents:
            raise BackupError(f"the manifest names a file outside the backup: {entry['path']}")
        if not path.is_file():
            raise BackupError(f"backup damaged: {entry['path']} is missing")
        if _sha256(path) != entry["sha256"]:
            raise BackupError(f"backup damaged: {entry['path']} does not match its SHA-256 in the manifest")


def _restore_sqlite(copy: Path, url: str) -> None:
    path = sqlite_path(url)
    if path.exists() and path.stat().st_size > 0:
        raise BackupError(f"a database already exists at {path}; restore only into an empty place")
    prepare_sqlite_file(url)  # 0600 before SQLite writes to it
    with closing(sqlite3.connect(f"{copy.resolve().as_uri()}?mode=ro", uri=True)) as source, closing(sqlite3.connect(path)) as target:
        source.backup(target)


def _restore_postgresql(dump: Path, schema: str, url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            exists = conn.execute(text("SELECT count(*) FROM pg_namespace WHERE nspname = :s"), {"s": schema}).scalar_one()
            tables = conn.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname = :s"), {"s": schema}).scalar_one()
    finally:
        engine.dispose()
    if tables:
        raise BackupError(f"schema {schema} of the target database is not empty; restore only into an empty one")
    listing = _run(["pg_restore", "--list", str(dump)], "pg_restore").stdout
    if exists:  # restore into the existing, empty schema: leave out its CREATE SCHEMA
        listing = "\n".join(line for line in listing.splitlines() if " SCHEMA - " not in line)
    with tempfile.NamedTemporaryFile("w", suffix=".list", encoding="utf-8") as chosen:
        chosen.write(listing)
        chosen.flush()
        _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
              f"--use-list={chosen.name}", "--dbname", _libpq(url), str(dump)], "pg_restore")
    if _current_schema(url) != schema:
        raise BackupError(f"restored into schema {schema}, but MOTCUA_DATABASE_URL's search path does not reach it")


# ------------------------------------------------------------------------------------------ parts

def _motcua_version() -> str | None:
    try:
        return importlib.metadata.version("motcua")
    except importlib.metadata.PackageNotFoundError:
        return None


def _current_schema(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT current_schema()")).scalar_one()
    finally:
        engine.dispose()


def _libpq(url: str) -> str:
    """The SQLAlchemy URL as a libpq connection URI (no driver name); the password stays in it."""
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def _run(command: list[str], name: str) -> subprocess.CompletedProcess:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    result = subprocess.run(command, capture_output=True, text=True, check=False, env={**os.environ, "PGCONNECT_TIMEOUT": "10"})
    if result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise BackupError(f"{name} failed: {detail}")
    return result


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and p.name != MANIFEST]


def _entry(root: Path, path: Path) -> dict:
    return {"path": path.relative_to(root).as_posix(), "size": path.stat().st_size, "sha256": _sha256(path)}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()
