"""The port the use cases store files through: uploads and signed documents, addressed by their SHA-256.

Two adapters implement it (``engine.adapters.blobs.LocalBlobStore``, folders under the data dir, and
``engine.adapters.s3_blobs.S3BlobStore``, an S3-compatible bucket); the composition root chooses one
from ``MOTCUA_BLOB_STORE``. Whatever the adapter:

- ``put`` is idempotent and never overwrites: the same bytes give the same name, so a blob once
  written (a signed result among them) is never replaced;
- ``get`` checks the bytes against their name before handing them out;
- the failures are engine errors, so the web maps them once: ``StorageUnavailableError`` (cannot be
  reached or timed out: try later), ``BlobNotFoundError`` and ``BlobIntegrityError`` (a file the
  records name is missing or damaged).

Beside the blobs, a store keeps *derived files* (a PDF page drawn as an image, a page count): a cache
named after the blob it comes from, replaced freely and rebuilt when missing.
"""
from __future__ import annotations

from typing import Protocol

class BlobStore(Protocol):
    def put(self, content: bytes) -> str:
        """Store ``content`` unless it is there already; its SHA-256 as 64 hex digits."""
        ...

    def get(self, sha256: str) -> bytes:
        """The bytes filed under ``sha256``, checked against it."""
        ...

    def exists(self, sha256: str) -> bool: ...

    def put_derived(self, name: str, content: bytes) -> None:
        """Keep ``content`` as the derived file ``name`` (``<sha256>-<part>...<.ext>``), replacing it."""
        ...

    def get_derived(self, name: str) -> bytes | None:
        """The derived file ``name``, or None when it is not kept."""
        ...

    def check(self) -> None:
        """Raise ``StorageUnavailableError`` when the store cannot be reached (for the health check)."""
        ...
