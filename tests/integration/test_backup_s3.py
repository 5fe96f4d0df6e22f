"""``motcua backup`` and ``motcua restore`` with an S3 blob store: the backup downloads the bucket's blobs
into the archive (the file store's layout, so a backup is the same whatever the store); a restore puts
them back into a bucket, or into a file store under the data dir; a bucket that cannot be reached stops
the backup with one clear line."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.adapters.uow import make_engine
from motcua.bootstrap import bootstrap
from motcua.settings import BUNDLED_PROCEDURES, PROJECT_ROOT, Settings
from tests.conftest import S3_BUCKET, free_port
from tests.integration.test_backup import fresh_database
from tests.web.test_signed_results import approved_birth

pytestmark = [pytest.mark.database, pytest.mark.slow]

SCRIPT = Path(sys.executable).with_name("motcua")


def motcua(*args: str, data_dir: Path, database_url: str | None, font_cache: Path, store: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MOTCUA_", "AWS_"))}
    env.update(MOTCUA_DATA_DIR=str(data_dir), MOTCUA_FONT_CACHE_DIR=str(font_cache), MOTCUA_PROCEDURES=str(BUNDLED_PROCEDURES))
    env.update({f"MOTCUA_{k}": str(v) for k, v in store.items()})
    if database_url:
        env["MOTCUA_DATABASE_URL"] = database_url
    command = [str(SCRIPT)] if SCRIPT.is_file() else [sys.executable, "-m", "motcua.cli"]
    return subprocess.run([*command, *args], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
                          check=False)


@pytest.fixture
def config(config, s3_settings):
    return {**config, **s3_settings}


def test_a_backup_of_an_s3_store_holds_its_blobs_and_restores_into_a_bucket_or_a_folder(
        demo, api_as, services, settings, s3_settings, s3_server, db_url, font_cache, clock, tmp_path):
    wife = demo["scenarios"]["married_couple"]["wife"]
    [result] = approved_birth(demo, api_as)["results"]
    pdf = api_as(wife).get(f"/api/v1/results/{result['id']}/pdf").data
    (settings.data_dir / "secret_key").write_text(settings.secret_key)
    in_bucket = {o["Key"].rsplit("/", 1)[1] for o in s3_server.client().list_objects_v2(
        Bucket=S3_BUCKET, Prefix=f"{settings.s3_prefix}sha256/")["Contents"]}
    assert result["sha256"] in in_bucket

    backup_dir = tmp_path / "backup"
    done = motcua("backup", str(backup_dir), data_dir=settings.data_dir, database_url=db_url, font_cache=font_cache,
                  store=s3_settings)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((backup_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["blob_store"] == "s3"
    blobs = {f["path"].removeprefix("blobs/sha256/").replace("/", "") for f in manifest["files"]
             if f["path"].startswith("blobs/sha256/")}
    assert blobs == in_bucket  # every blob of the bucket, in the file store's layout
    assert (backup_dir / "blobs" / "sha256" / result["sha256"][:2] / result["sha256"][2:]).read_bytes() == pdf

    # into another bucket prefix: the blobs are uploaded, nothing is written under the data dir
    other = {**s3_settings, "S3_PREFIX": f"{s3_settings['S3_PREFIX']}-restored"}
    with fresh_database(db_url) as restored_url:
        restored_dir = tmp_path / "restored-s3"
        done = motcua("restore", str(backup_dir), data_dir=restored_dir, database_url=restored_url,
                      font_cache=font_cache, store=other)
        assert done.returncode == 0, done.stderr
        assert not (restored_dir / "blobs" / "sha256").exists()
        restored_settings = Settings.from_environment({
            "DATA_DIR": str(restored_dir), "DATABASE_URL": restored_url, "FONT_CACHE_DIR": str(font_cache),
            "PROCEDURES": str(BUNDLED_PROCEDURES), **other})
        engine = make_engine(restored_settings.database_url)
        try:
            restored = bootstrap(restored_settings, engine=engine, clock=clock)
            assert restored.blobs.kind == "s3" and set(restored.blobs.digests()) == in_bucket
            assert restored.blobs.get(result["sha256"]) == pdf
            assert restored.verification.verify_document(pdf).valid
        finally:
            engine.dispose()

    # into a file store: the same archive, the blobs under the data dir
    with fresh_database(db_url) as restored_url:
        restored_dir = tmp_path / "restored-file"
        done = motcua("restore", str(backup_dir), data_dir=restored_dir, database_url=restored_url,
                      font_cache=font_cache, store={})
        assert done.returncode == 0, done.stderr
        path = restored_dir / "blobs" / "sha256" / result["sha256"][:2] / result["sha256"][2:]
        assert path.read_bytes() == pdf


def test_a_backup_stops_with_one_line_when_the_bucket_cannot_be_reached(settings, db_url, font_cache, s3_settings,
                                                                         services, tmp_path):
    unreachable = {**s3_settings, "S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}", "S3_TIMEOUT": 1}
    done = motcua("backup", str(tmp_path / "backup"), data_dir=settings.data_dir, database_url=db_url,
                  font_cache=font_cache, store=unreachable)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "motcua: the S3 blob store: Kho lưu trữ tệp tạm thời không truy cập được; vui lòng thử lại sau / "
        "the file store is unavailable; please try again later")
    assert "Traceback" not in done.stderr and "testing" not in done.stderr


def test_a_restore_into_a_bucket_that_cannot_be_reached_writes_nothing(settings, db_url, font_cache, s3_settings,
                                                                        services, tmp_path):
    done = motcua("backup", str(tmp_path / "backup"), data_dir=settings.data_dir, database_url=db_url,
                  font_cache=font_cache, store=s3_settings)
    assert done.returncode == 0, done.stderr
    unreachable = {**s3_settings, "S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}", "S3_TIMEOUT": 1}
    with fresh_database(db_url) as restored_url:
        restored_dir = tmp_path / "restored"
        done = motcua("restore", str(tmp_path / "backup"), data_dir=restored_dir, database_url=restored_url,
                      font_cache=font_cache, store=unreachable)
        assert done.returncode == 1
        assert done.stderr.strip().splitlines()[-1].startswith("motcua: the S3 blob store: Kho lưu trữ tệp")
        assert not restored_dir.exists() or not any(restored_dir.iterdir())  # so it can be tried again
