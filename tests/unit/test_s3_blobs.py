"""The S3 store's answers to what an S3-compatible server may say, with botocore's Stubber (no network):
a store without conditional PUTs, a concurrent conditional write, server errors and refusals."""
from __future__ import annotations

import hashlib

import pytest
from botocore.stub import ANY, Stubber

from engine.adapters.s3_blobs import S3BlobStore, S3Options, make_client
from engine.rules.errors import BlobNotFoundError, StorageUnavailableError

CONTENT = b"a signed result"
DIGEST = hashlib.sha256(CONTENT).hexdigest()
KEY = f"p/sha256/{DIGEST[:2]}/{DIGEST[2:4]}/{DIGEST}"


@pytest.fixture
def stubbed():
    client = make_client(S3Options(bucket="bucket", endpoint_url="http://127.0.0.1:9", region="us-east-1",
                                   access_key_id="id", secret_access_key="secret", max_attempts=1))
    with Stubber(client) as stub:
        yield S3BlobStore(client, "bucket", "p/"), stub
        stub.assert_no_pending_responses()


def _put(**extra):
    return {"Bucket": "bucket", "Key": KEY, "Body": CONTENT, "ContentMD5": ANY,
            "ContentType": "application/octet-stream", **extra}


def test_a_put_is_conditional_on_the_key_being_free(stubbed):
    store, stub = stubbed
    stub.add_client_error("head_object", "404", http_status_code=404, expected_params={"Bucket": "bucket", "Key": KEY})
    stub.add_response("put_object", {}, _put(IfNoneMatch="*"))
    assert store.put(CONTENT) == DIGEST


def test_a_store_without_conditional_puts_gets_a_plain_one_after_the_head(stubbed):
    store, stub = stubbed
    stub.add_client_error("head_object", "404", http_status_code=404)
    stub.add_client_error("put_object", "NotImplemented", http_status_code=501, expected_params=_put(IfNoneMatch="*"))
    stub.add_response("put_object", {}, _put())
    assert store.put(CONTENT) == DIGEST


def test_a_concurrent_conditional_write_counts_as_done_only_when_the_blob_is_there(stubbed):
    store, stub = stubbed
    stub.add_client_error("head_object", "404", http_status_code=404)
    stub.add_client_error("put_object", "ConditionalRequestConflict", http_status_code=409)
    stub.add_response("head_object", {})
    assert store.put(CONTENT) == DIGEST
    stub.add_client_error("head_object", "404", http_status_code=404)
    stub.add_client_error("put_object", "ConditionalRequestConflict", http_status_code=409)
    stub.add_client_error("head_object", "404", http_status_code=404)
    with pytest.raises(StorageUnavailableError):
        store.put(CONTENT)


def test_a_blob_already_there_is_not_written_again(stubbed):
    store, stub = stubbed
    stub.add_response("head_object", {})  # and no put_object: the Stubber would refuse one
    assert store.put(CONTENT) == DIGEST


@pytest.mark.parametrize("code, status", [("InternalError", 500), ("SlowDown", 503), ("AccessDenied", 403),
                                          ("NoSuchBucket", 404), ("InvalidAccessKeyId", 403)])
def test_server_errors_and_refusals_are_unavailability_not_a_crash(stubbed, code, status, caplog):
    store, stub = stubbed
    stub.add_client_error("head_object", code, http_status_code=status)
    with pytest.raises(StorageUnavailableError):
        store.put(CONTENT)
    stub.add_client_error("get_object", code, http_status_code=status)
    with pytest.raises(StorageUnavailableError):
        store.get(DIGEST)
    stub.add_client_error("head_bucket", code, http_status_code=status)
    with pytest.raises(StorageUnavailableError):
        store.check()
    assert code in caplog.text and "secret" not in caplog.text


def test_no_such_key_is_not_found(stubbed):
    store, stub = stubbed
    stub.add_client_error("get_object", "NoSuchKey", http_status_code=404)
    with pytest.raises(BlobNotFoundError):
        store.get(DIGEST)
    stub.add_client_error("get_object", "NoSuchKey", http_status_code=404)
    assert store.get_derived(f"{DIGEST}-pages.txt") is None


def test_a_plain_put_refused_after_the_conditional_one_is_unavailability(stubbed):
    store, stub = stubbed
    stub.add_client_error("head_object", "404", http_status_code=404)
    stub.add_client_error("put_object", "NotImplemented", http_status_code=501)
    stub.add_client_error("put_object", "AccessDenied", http_status_code=403)
    with pytest.raises(StorageUnavailableError):
        store.put(CONTENT)
