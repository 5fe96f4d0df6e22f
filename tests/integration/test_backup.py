"""``motcua backup`` and ``motcua restore`` end to end: a signed result made through the services,
backed up by the command line, restored into a fresh data dir (and a fresh database on PostgreSQL),
where the audit trail is intact and the result's PDF still verifies."""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from engine.adapters.uow import make_engine
from motcua.bootstrap import bootstrap
from motcua.settings import BUNDLED_PROCEDURES, PROJECT_ROOT, Settings
from tests.web.test_signed_results import approved_birth

pytestmark = [pytest.mark.database, pytest.mark.slow]

SCRIPT = Path(sys.executable).with_name("motcua")


def motcua(*args: str, data_dir: Path, database_url: str | None, font_cache: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    env.update(MOTCUA_DATA_DIR=str(data_dir), MOTCUA_FONT_CACHE_DIR=str(font_cache), MOTCUA_PROCEDURES=str(BUNDLED_PROCEDURES))
    if database_url:
        env["MOTCUA_DATABASE_URL"] = database_url
    command = [str(SCRIPT)] if SCRIPT.is_file() else [sys.executable, "-m", "motcua.cli"]
    return subprocess.run([*command, *args], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
                          check=False)


@contextlib.contextmanager
def fresh_database(db_url: str) -> Iterator[str | None]:
    """Where the restore goes: None on SQLite (the file in the new data dir); on PostgreSQL a new,
    empty database, reached with the same search path, dropped afterwards."""
    if not db_url.startswith("postgresql"):
        yield None
        return
    name = f"motcua_restore_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_url(db_url).set(database="postgres", query={}), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(db_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_a_backup_restored_into_an_empty_data_dir_keeps_the_audit_trail_and_the_signed_results(
        demo, api_as, services, settings, db_url, font_cache, clock, tmp_path):
    wife = demo["scenarios"]["married_couple"]["wife"]
    d = approved_birth(demo, api_as)
    [result] = d["results"]
    assert result["status"] == "valid"
    pdf = api_as(wife).get(f"/api/v1/results/{result['id']}/pdf").data
    assert services.verification.verify_document(pdf).valid
    token = services.links.verify_url(result["id"]).rsplit("/", 1)[1]  # what the QR code on the paper carries
    # the test's secret key is an override; as a file in the data dir it is part of the backup
    (settings.data_dir / "secret_key").write_text(settings.secret_key)

    backup_dir = tmp_path / "backup"
    done = motcua("backup", str(backup_dir), data_dir=settings.data_dir, database_url=db_url, font_cache=font_cache)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"backup written to {backup_dir}: ")
    manifest = json.loads((backup_dir / "manifest.json").read_text(encoding="utf-8"))
    kind = "postgresql" if db_url.startswith("postgresql") else "sqlite"
    assert manifest["format"] == "motcua-backup" and manifest["version"] == 1 and manifest["created_at"]
    assert manifest["database"]["kind"] == kind
    paths = {f["path"] for f in manifest["files"]}
    assert {manifest["database"]["file"], "secret_key", "pki-passphrase"} <= paths
    assert f"blobs/sha256/{result['sha256'][:2]}/{result['sha256'][2:]}" in paths
    assert any(p.startswith("pki/") and p.endswith(".key.pem") for p in paths)
    assert all(len(f["sha256"]) == 64 for f in manifest["files"])

    restored_dir = tmp_path / "restored"
    with fresh_database(db_url) as restored_url:
        done = motcua("restore", str(backup_dir), data_dir=restored_dir, database_url=restored_url, font_cache=font_cache)
        assert done.returncode == 0, done.stderr
        audit = motcua("audit", "verify", data_dir=restored_dir, database_url=restored_url, font_cache=font_cache)
        assert audit.returncode == 0, audit.stderr
        original = services.audit.verify_audit(None)
        assert audit.stdout.strip() == f"{original.dossiers} dossier(s), {original.events} event(s): intact"

        restored_settings = Settings.from_environment({
            "DATA_DIR": str(restored_dir), "DATABASE_URL": restored_url, "FONT_CACHE_DIR": str(font_cache),
            "PROCEDURES": str(BUNDLED_PROCEDURES)})
        assert restored_settings.secret_key == settings.secret_key  # read back from the restored data dir
        engine = make_engine(restored_settings.database_url)
        try:
            restored = bootstrap(restored_settings, engine=engine, clock=clock)
            report = restored.verification.verify_document(pdf)
            assert report.valid, report.problem
            assert report.document.id == result["id"] and report.document.status == "valid"
            assert restored.blobs.get(result["sha256"]) == pdf
            page = restored.verification.verification_page(result["id"], token)  # the QR code still opens it
            assert page.document.id == result["id"] and page.check.valid
        finally:
            engine.dispose()

        # a second restore into the now filled data dir is refused
        again = motcua("restore", str(backup_dir), data_dir=restored_dir, database_url=restored_url, font_cache=font_cache)
        assert again.returncode == 1
        assert again.stderr.startswith("motcua: ") and "not empty" in again.stderr


def test_a_damaged_backup_is_refused_before_anything_is_restored(demo, settings, db_url, font_cache, tmp_path):
    backup_dir = tmp_path / "backup"
    done = motcua("backup", str(backup_dir), data_dir=settings.data_dir, database_url=db_url, font_cache=font_cache)
    assert done.returncode == 0, done.stderr
    assert motcua("backup", str(backup_dir), data_dir=settings.data_dir, database_url=db_url,
                  font_cache=font_cache).returncode == 1  # never into a folder that holds something
    manifest = json.loads((backup_dir / "manifest.json").read_text(encoding="utf-8"))
    victim = backup_dir / manifest["database"]["file"]
    content = victim.read_bytes()
    victim.write_bytes(content[:-1] + bytes([content[-1] ^ 0xFF]))  # one bit pattern changed in the last byte
    restored_dir = tmp_path / "restored"
    with fresh_database(db_url) as restored_url:
        done = motcua("restore", str(backup_dir), data_dir=restored_dir, database_url=restored_url, font_cache=font_cache)
    assert done.returncode == 1
    assert done.stderr.strip() == f"motcua: backup damaged: {manifest['database']['file']} does not match its SHA-256 in the manifest"
    assert not restored_dir.exists() or not any(restored_dir.iterdir())
