"""Content-addressed blob storage in an S3-compatible bucket (the ``BlobStore`` port of
``engine.usecases.blob_store``), through boto3.

A blob is the object ``<prefix>sha256/ab/cd/<sha256>``; a derived file (a drawn page, a page count) is
``<prefix>derived/ab/<name>``. Writing a blob is idempotent and never replaces one: a HEAD first,
then a conditional PUT (``If-None-Match: *``) that the store refuses when another writer got there
first; the body carries its MD5 so that the store rejects bytes damaged on the way. A read checks
the bytes against their SHA-256. Every call has a connect and a read timeout and botocore's
``standard`` retries; what still fails becomes ``StorageUnavailableError`` (a 503 on the web), with
the error's class and code in the log, never the credentials.
"""
from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from engine.adapters.blobs import DERIVED_NAME, DIGEST, check_content, check_digest
from engine.rules.errors import BlobNotFoundError, StorageUnavailableError

log = logging.getLogger(__name__)

NOT_FOUND = frozenset({"404", "NoSuchKey", "NotFound"})
TAKEN = frozenset({"412", "PreconditionFailed"})  # a conditional PUT that found the key taken
UNSUPPORTED = frozenset({"501", "NotImplemented"})  # a store that does not do conditional PUTs


@dataclass(frozen=True)
class S3Options:
    """Where the bucket is and how to reach it; ``None`` leaves a value to boto3's usual chain
    (environment, shared config and credentials files, instance or container roles)."""

    bucket: str
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    timeout: float = 10.0  # seconds, to connect and for each read
    max_attempts: int = 3  # the first try included

    def __repr__(self) -> str:  # the secret never lands in a log or a traceback
        return f"S3Options(bucket={self.bucket!r}, prefix={self.prefix!r}, endpoint_url={self.endpoint_url!r})"


def make_client(options: S3Options) -> Any:
    """An S3 client with timeouts and retries; path-style addresses for a custom endpoint (MinIO, Ceph,
    Garage and the like serve those), and checksums only where the API requires them (S3-compatible
    stores differ in the newer checksum headers; the MD5 of each PUT and the SHA-256 check on each read
    stand in for them)."""
    session = boto3.session.Session(aws_access_key_id=options.access_key_id,
                                    aws_secret_access_key=options.secret_access_key,
                                    region_name=options.region)
    config = Config(connect_timeout=options.timeout, read_timeout=options.timeout,
                    retries={"mode": "standard", "total_max_attempts": options.max_attempts},
                    s3={"addressing_style": "path"} if options.endpoint_url else None,
                    request_checksum_calculation="when_required", response_checksum_validation="when_required")
    return session.client("s3", endpoint_url=options.endpoint_url, config=config)


class S3BlobStore:
    kind = "s3"

    def __init__(self, client: Any, bucket: str, prefix: str = ""):
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    @classmethod
    def from_options(cls, options: S3Options) -> S3BlobStore:
        return cls(make_client(options), options.bucket, options.prefix)

    def key(self, digest: str) -> str:
        check_digest(digest)
        return f"{self.prefix}sha256/{digest[:2]}/{digest[2:4]}/{digest}"

    def _derived_key(self, name: str) -> str:
        if not DERIVED_NAME.fullmatch(name):
            raise ValueError("not a derived file name (<sha256>-<part>...<.ext>)")
        return f"{self.prefix}derived/{name[:2]}/{name}"

    # ----------------------------------------------------------------- blobs

    def put(self, content: bytes) -> str:
        digest = hashlib.sha256(content).hexdigest()
        key = self.key(digest)
        if self._head(key):
            return digest  # same name, same bytes: nothing to write
        try:
            self._put(key, content, IfNoneMatch="*")
            return digest
        except ClientError as exc:
            code = _code(exc)
            if code in TAKEN or (code == "ConditionalRequestConflict" and self._head(key)):
                return digest  # written meanwhile by another request: the same bytes
            if code not in UNSUPPORTED:
                raise _unavailable("put", exc) from None
        try:  # a store without conditional PUTs: the HEAD found it absent, a racing writer writes the same bytes
            self._put(key, content)
        except ClientError as exc:
            raise _unavailable("put", exc) from None
        return digest

    def get(self, digest: str) -> bytes:
        key = self.key(digest)
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=key)
            content = answer["Body"].read()
        except ClientError as exc:
            if _code(exc) in NOT_FOUND:
                raise BlobNotFoundError() from None
            raise _unavailable("get", exc) from None
        except BotoCoreError as exc:
            raise _unavailable("get", exc) from None
        return check_content(digest, content)

    def exists(self, digest: str) -> bool:
        return self._head(self.key(digest))

    def check(self) -> None:
        """The bucket answers a HEAD with these credentials."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable("check", exc) from None

    def digests(self) -> Iterator[str]:
        """Every blob's SHA-256, in key order (for ``motcua backup``)."""
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=f"{self.prefix}sha256/"):
                for item in page.get("Contents", ()):
                    name = item["Key"].rsplit("/", 1)[-1]
                    if DIGEST.fullmatch(name) and item["Key"] == self.key(name):
                        yield name
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable("list", exc) from None

    # ----------------------------------------------------------------- derived files: a cache

    def put_derived(self, name: str, content: bytes) -> None:
        key = self._derived_key(name)
        try:
            self._put(key, content)
        except ClientError as exc:
            raise _unavailable("put", exc) from None

    def get_derived(self, name: str) -> bytes | None:
        key = self._derived_key(name)
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if _code(exc) in NOT_FOUND:
                return None
            raise _unavailable("get", exc) from None
        except BotoCoreError as exc:
            raise _unavailable("get", exc) from None

    # ----------------------------------------------------------------- parts

    def _head(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _code(exc) in NOT_FOUND:
                return False
            raise _unavailable("head", exc) from None
        except BotoCoreError as exc:
            raise _unavailable("head", exc) from None
        return True

    def _put(self, key: str, content: bytes, **conditions: str) -> None:
        """One PUT with the body's MD5; a ClientError is the caller's to read, the rest is unavailability."""
        md5 = base64.b64encode(hashlib.md5(content, usedforsecurity=False).digest()).decode("ascii")
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=content, ContentMD5=md5,
                                   ContentType="application/octet-stream", **conditions)
        except BotoCoreError as exc:
            raise _unavailable("put", exc) from None


def _code(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    return str(error.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))


def _unavailable(operation: str, exc: Exception) -> StorageUnavailableError:
    detail = _code(exc) if isinstance(exc, ClientError) else type(exc).__name__
    log.error("blob store: S3 %s failed: %s", operation, detail)
    return StorageUnavailableError()
