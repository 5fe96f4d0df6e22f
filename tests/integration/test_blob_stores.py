"""The blob store's contract, the same tests against both stores: the file store under a temporary
folder and the S3 store against moto's S3 API server (a real HTTP endpoint, reached through boto3)."""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from engine.adapters.blobs import LocalBlobStore
from engine.adapters.s3_blobs import S3BlobStore, S3Options
from engine.rules.errors import BlobIntegrityError, BlobNotFoundError, StorageUnavailableError
from tests.conftest import S3_BUCKET, S3Server, free_port

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40


@dataclass
class Store:
    """A store under test, with the back door a test needs: the stored bytes, changed or removed
    behind the store's back."""

    store: Any
    raw_read: Any
    raw_write: Any
    raw_delete: Any


def _file_store(tmp_path: Path) -> Store:
    blobs = LocalBlobStore(tmp_path / "blobs")

    def path(digest: str) -> Path:
        return tmp_path / "blobs" / "sha256" / digest[:2] / digest[2:]

    return Store(blobs, lambda d: path(d).read_bytes(), lambda d, b: path(d).write_bytes(b), lambda d: path(d).unlink())


def _s3_store(server: S3Server, prefix: str) -> Store:
    options = S3Options(bucket=S3_BUCKET, prefix=f"{prefix}/", endpoint_url=server.endpoint_url, region="us-east-1",
                        access_key_id="testing", secret_access_key="testing", timeout=2, max_attempts=1)
    blobs = S3BlobStore.from_options(options)
    raw = server.client()  # boto3 directly, not through the store

    def key(digest: str) -> str:
        return f"{prefix}/sha256/{digest[:2]}/{digest[2:4]}/{digest}"

    return Store(blobs, lambda d: raw.get_object(Bucket=S3_BUCKET, Key=key(d))["Body"].read(),
                 lambda d, b: raw.put_object(Bucket=S3_BUCKET, Key=key(d), Body=b),
                 lambda d: raw.delete_object(Bucket=S3_BUCKET, Key=key(d)))


@pytest.fixture(params=["file", "s3"])
def blobs(request, tmp_path) -> Store:
    if request.param == "file":
        return _file_store(tmp_path)
    return _s3_store(request.getfixturevalue("s3_server"), tmp_path.name)


def test_a_blob_comes_back_as_it_went_in_named_by_its_sha256(blobs):
    digest = blobs.store.put(PDF)
    assert digest == hashlib.sha256(PDF).hexdigest()
    assert blobs.store.exists(digest)
    assert blobs.store.get(digest) == PDF
    assert blobs.raw_read(digest) == PDF  # stored as it is, where the layout says


@settings(max_examples=20)
@given(content=st.binary(max_size=4096))
def test_any_bytes_round_trip(blobs, content):
    digest = blobs.store.put(content)
    assert digest == hashlib.sha256(content).hexdigest()
    assert blobs.store.get(digest) == content


def test_putting_the_same_bytes_twice_gives_the_same_name_and_one_blob(blobs):
    first = blobs.store.put(PDF)
    assert blobs.store.put(PDF) == first
    assert blobs.store.put(b"other") != first
    assert blobs.store.get(first) == PDF


def test_a_stored_blob_is_never_overwritten(blobs):
    """Write-once: a second put of the same name does not write, even when what is there is not what
    the put carries (here a damaged blob): the store replaces nothing, the read refuses the damage."""
    digest = blobs.store.put(PDF)
    blobs.raw_write(digest, b"tampered")
    assert blobs.store.put(PDF) == digest
    assert blobs.raw_read(digest) == b"tampered"
    with pytest.raises(BlobIntegrityError) as caught:
        blobs.store.get(digest)
    assert caught.value.code == "stored_file_damaged" and " / " in caught.value.message


def test_a_blob_changed_behind_the_stores_back_is_refused_on_read(blobs):
    digest = blobs.store.put(PDF)
    blobs.raw_write(digest, PDF[:-1] + b"\x00")  # one byte changed, same length
    with pytest.raises(BlobIntegrityError):
        blobs.store.get(digest)


def test_a_missing_blob_is_not_found(blobs):
    digest = hashlib.sha256(b"never stored").hexdigest()
    assert not blobs.store.exists(digest)
    with pytest.raises(BlobNotFoundError) as caught:
        blobs.store.get(digest)
    assert caught.value.code == "stored_file_missing"
    stored = blobs.store.put(PDF)
    blobs.raw_delete(stored)
    assert not blobs.store.exists(stored)
    with pytest.raises(BlobNotFoundError):
        blobs.store.get(stored)


@pytest.mark.parametrize("bad", ["", "ABC", "0" * 63, "A" * 64, "g" * 64, "../" + "0" * 61, "0" * 64 + "/x"])
def test_a_name_that_is_not_a_sha256_is_a_callers_bug(blobs, bad):
    with pytest.raises(ValueError):
        blobs.store.get(bad)
    with pytest.raises(ValueError):
        blobs.store.exists(bad)


def test_derived_files_are_kept_replaced_and_missing_as_none(blobs):
    digest = blobs.store.put(PDF)
    name = f"{digest}-p1-r96.png"
    assert blobs.store.get_derived(name) is None
    blobs.store.put_derived(name, b"png one")
    assert blobs.store.get_derived(name) == b"png one"
    blobs.store.put_derived(name, b"png two")  # a cache: replaced freely
    assert blobs.store.get_derived(name) == b"png two"
    assert blobs.store.get(digest) == PDF
    with pytest.raises(ValueError):
        blobs.store.put_derived("../escape.png", b"x")


def test_a_reachable_store_passes_its_check(blobs):
    blobs.store.check()  # raises StorageUnavailableError when the store cannot be reached
    digest = blobs.store.put(b"checked")
    assert blobs.store.exists(digest) and blobs.store.get(digest) == b"checked"


# ------------------------------------------------------------------------------------------ S3 only

def test_s3_keys_are_sha256_ab_cd_hex_under_the_prefix(s3_server, tmp_path):
    blobs = _s3_store(s3_server, tmp_path.name)
    digest = blobs.store.put(PDF)
    listed = s3_server.client().list_objects_v2(Bucket=S3_BUCKET, Prefix=f"{tmp_path.name}/")["Contents"]
    assert [o["Key"] for o in listed] == [f"{tmp_path.name}/sha256/{digest[:2]}/{digest[2:4]}/{digest}"]
    assert list(blobs.store.digests()) == [digest]


def test_s3_a_put_racing_another_writer_takes_the_conditional_refusal_as_done(s3_server, tmp_path, monkeypatch):
    """The HEAD finds nothing, another writer stores the blob, our conditional PUT is refused (412):
    the blob is there, and the other writer's object is left alone."""
    blobs = _s3_store(s3_server, tmp_path.name)
    digest = hashlib.sha256(PDF).hexdigest()
    blobs.raw_write(digest, b"written by the other")
    monkeypatch.setattr(blobs.store, "_head", lambda key: False)
    assert blobs.store.put(PDF) == digest
    assert blobs.raw_read(digest) == b"written by the other"


def test_s3_a_store_that_cannot_be_reached_is_unavailable_and_says_so_quickly(caplog):
    options = S3Options(bucket=S3_BUCKET, endpoint_url=f"http://127.0.0.1:{free_port()}", region="us-east-1",
                        access_key_id="AKIDSECRETID", secret_access_key="very-secret-key", timeout=1, max_attempts=2)
    blobs = S3BlobStore.from_options(options)
    digest = hashlib.sha256(PDF).hexdigest()
    started = time.monotonic()
    for call in (blobs.check, lambda: blobs.put(PDF), lambda: blobs.get(digest), lambda: blobs.exists(digest),
                 lambda: blobs.get_derived(f"{digest}-pages.txt"), lambda: list(blobs.digests())):
        with pytest.raises(StorageUnavailableError) as caught:
            call()
        assert caught.value.code == "storage_unavailable"
        assert caught.value.message.startswith("Kho lưu trữ tệp") and "unavailable" in caught.value.message
    assert time.monotonic() - started < 60  # retries and timeouts bound every call
    logged = caplog.text
    assert "EndpointConnectionError" in logged
    assert "very-secret-key" not in logged and "AKIDSECRETID" not in logged
    assert "very-secret-key" not in repr(options)


def test_s3_a_bucket_that_does_not_exist_fails_the_check(s3_server):
    options = S3Options(bucket="no-such-bucket", endpoint_url=s3_server.endpoint_url, region="us-east-1",
                        access_key_id="testing", secret_access_key="testing", max_attempts=1)
    with pytest.raises(StorageUnavailableError):
        S3BlobStore.from_options(options).check()
