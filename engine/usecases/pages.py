"""The desk's document viewer: the pages of an uploaded PDF drawn as PNG images on the server, so that
every browser shows them as plain images inside the sandboxed frame (Chromium-based browsers refuse to
start their PDF viewer in a sandbox). The access rule is the dossier's, through
``Dossiers.stored_document``: a document of a dossier the actor may not see is not found.

A page is drawn once per (file, page, resolution) and kept in the blob store's derived files, as is
the file's page count; the drawing itself is the ``PageRenderer`` port's (``engine.adapters.pdf_pages`` runs ``pdftoppm``)."""
from __future__ import annotations

from typing import Protocol

from engine.rules.access import Actor
from engine.rules.errors import NotFoundError
from engine.usecases.blob_store import BlobStore
from engine.usecases.dossiers import Dossiers
from engine.usecases.views import DocumentPages

PDF = "application/pdf"
MAX_SHOWN = 50  # pages of one document shown in the viewer; the rest through the download
RESOLUTION = 96  # dots per inch: an A4 page is 794 x 1123 pixels, readable on a desk screen
NO_PAGE = "Không có trang này / no such page"


class PageRenderer(Protocol):
    """Draws PDF pages; each method raises ``PageRenderError`` when it cannot."""

    def count_pages(self, content: bytes) -> int: ...

    def render_page(self, content: bytes, page: int, resolution: int) -> bytes:
        """Page ``page`` (from 1) of the PDF ``content`` as PNG bytes."""
        ...


class Pages:
    def __init__(self, dossiers: Dossiers, blobs: BlobStore, renderer: PageRenderer, *,
                 max_shown: int = MAX_SHOWN, resolution: int = RESOLUTION):
        self.dossiers = dossiers
        self.blobs = blobs
        self.renderer = renderer
        self.max_shown = max_shown
        self.resolution = resolution

    def list_pages(self, dossier_id: str, document_id: str, actor: Actor) -> DocumentPages:
        """How many pages an uploaded PDF has and how many the viewer shows; a document that is not a PDF
        has no pages to draw (not found)."""
        stored = self.dossiers.stored_document(dossier_id, document_id, actor)
        if stored.content_type != PDF:
            raise NotFoundError(NO_PAGE)
        count = self._count(stored.sha256)
        return DocumentPages(stored.content_type, count, min(count, self.max_shown))

    def _count(self, sha256: str, content: bytes | None = None) -> int:
        """The file's page count, counted once and kept beside its drawn pages."""
        name = f"{sha256}-pages.txt"
        kept = self.blobs.get_derived(name)
        if kept is not None and kept.isdigit():
            return int(kept)
        count = self.renderer.count_pages(content if content is not None else self.blobs.get(sha256))
        self.blobs.put_derived(name, str(count).encode())
        return count

    def render_page(self, dossier_id: str, document_id: str, page: int, actor: Actor) -> bytes:
        """Page ``page`` (from 1, at most ``max_shown``) of an uploaded PDF as a PNG: from the cache, or
        drawn and kept there. A page the file does not have is not found."""
        if isinstance(page, bool) or not isinstance(page, int) or not 1 <= page <= self.max_shown:
            raise NotFoundError(NO_PAGE)
        stored = self.dossiers.stored_document(dossier_id, document_id, actor)
        if stored.content_type != PDF:
            raise NotFoundError(NO_PAGE)
        name = f"{stored.sha256}-p{page}-r{self.resolution}.png"
        cached = self.blobs.get_derived(name)
        if cached is not None:
            return cached
        content = self.blobs.get(stored.sha256)
        if page > self._count(stored.sha256, content):
            raise NotFoundError(NO_PAGE)
        png = self.renderer.render_page(content, page, self.resolution)
        self.blobs.put_derived(name, png)
        return png
