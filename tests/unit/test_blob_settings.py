"""The blob store's settings: MOTCUA_BLOB_STORE and the MOTCUA_S3_* variables, and the store the
composition root builds from them."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.adapters.blobs import LocalBlobStore
from engine.adapters.s3_blobs import S3BlobStore
from motcua.bootstrap import make_blob_store
from motcua.settings import Settings, SettingsError


def _settings(tmp_path: Path, **environ: str) -> Settings:
    return Settings.from_environment({"DATA_DIR": str(tmp_path)},
                                     environ={f"MOTCUA_{k}": v for k, v in environ.items()})


def test_the_default_is_the_file_store_under_the_data_dir(tmp_path):
    s = _settings(tmp_path)
    assert s.blob_store == "file" and s.s3_bucket is None and s.s3_prefix == ""
    assert (s.s3_timeout, s.s3_max_attempts) == (10.0, 3)
    store = make_blob_store(s)
    assert isinstance(store, LocalBlobStore) and store.root == s.data_dir / "blobs"


def test_an_s3_store_is_built_from_the_environment(tmp_path):
    s = _settings(tmp_path, BLOB_STORE="S3", S3_BUCKET="motcua-blobs", S3_PREFIX="/prod/motcua/",
                  S3_ENDPOINT_URL="https://s3.example.test", S3_REGION="ap-southeast-1",
                  S3_ACCESS_KEY_ID="AKIDEXAMPLE", S3_SECRET_ACCESS_KEY="wJalrXUtnFEMI", S3_TIMEOUT="4",
                  S3_MAX_ATTEMPTS="5")
    assert (s.blob_store, s.s3_bucket, s.s3_prefix) == ("s3", "motcua-blobs", "prod/motcua/")
    assert "wJalrXUtnFEMI" not in repr(s) and "AKIDEXAMPLE" not in repr(s)
    store = make_blob_store(s)
    assert isinstance(store, S3BlobStore) and (store.bucket, store.prefix) == ("motcua-blobs", "prod/motcua/")
    assert store.key("0" * 64) == f"prod/motcua/sha256/00/00/{'0' * 64}"
    config = store.client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (4.0, 4.0)
    assert config.retries == {"mode": "standard", "total_max_attempts": 5}  # the first try included
    assert store.client.meta.endpoint_url == "https://s3.example.test"
    assert store.client.meta.region_name == "ap-southeast-1"


@pytest.mark.parametrize("environ, message", [
    ({"BLOB_STORE": "ftp"}, "MOTCUA_BLOB_STORE: must be one of file, s3, not 'ftp'"),
    ({"BLOB_STORE": "s3"}, "MOTCUA_S3_BUCKET: required when MOTCUA_BLOB_STORE is s3"),
    ({"S3_BUCKET": "No_Such"}, "MOTCUA_S3_BUCKET: not a bucket name"),
    ({"S3_BUCKET": "ab"}, "MOTCUA_S3_BUCKET: not a bucket name"),
    ({"S3_PREFIX": "a//b"}, "MOTCUA_S3_PREFIX: not a key prefix"),
    ({"S3_PREFIX": "a/../b"}, "MOTCUA_S3_PREFIX: not a key prefix"),
    ({"S3_ENDPOINT_URL": "127.0.0.1:9000"}, "MOTCUA_S3_ENDPOINT_URL: not an http(s) address"),
    ({"S3_TIMEOUT": "0"}, "MOTCUA_S3_TIMEOUT: must be a positive number"),
    ({"S3_MAX_ATTEMPTS": "0"}, "MOTCUA_S3_MAX_ATTEMPTS: must be 1 or more"),
    ({"S3_ACCESS_KEY_ID": "AKID"}, "MOTCUA_S3_SECRET_ACCESS_KEY: give both"),
    ({"S3_SECRET_ACCESS_KEY": "hidden-value"}, "MOTCUA_S3_SECRET_ACCESS_KEY: give both"),
])
def test_a_bad_value_names_its_variable(tmp_path, environ, message):
    with pytest.raises(SettingsError) as caught:
        _settings(tmp_path, **environ)
    assert str(caught.value).startswith(message)
    assert "hidden-value" not in str(caught.value)


def test_without_keys_boto3s_usual_chain_is_used(tmp_path):
    s = _settings(tmp_path, BLOB_STORE="s3", S3_BUCKET="motcua-blobs", S3_REGION="us-east-1")
    assert s.s3_access_key_id is None and s.s3_secret_access_key is None
    assert isinstance(make_blob_store(s), S3BlobStore)
