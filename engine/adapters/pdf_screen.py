"""Uploaded PDFs screened with pypdf before they are stored (``engine.rules.uploads`` says what is
refused and why).

Every object the file holds is visited, those in the cross-reference table and in object streams as
well as those reachable from the trailer, so that a script left out of the document's tree still
counts. A file pypdf cannot read is refused too: what cannot be checked is not shown to staff.

Decompression is counted, never trusted: a Flate stream is inflated a megabyte at a time and the
output thrown away, so a bomb costs at most the limit in work and a megabyte in memory. The other
general filters (LZW, run length, ASCII hex and base-85) are decoded by pypdf, which stops each
stream at its own limit. Image codecs (JPEG, JPEG 2000, JBIG2, CCITT) are counted at their encoded
size: they are the bulk of a scan, and their decoding is the viewer's.

Limits: inline images inside content streams and the fonts' own compression are not inflated;
annotations that only link to a web address (``/URI``), and form fields without scripts, are allowed.
"""
from __future__ import annotations

import io
import logging
import zlib
from collections.abc import Iterator
from typing import Any

from pypdf import PdfReader
from pypdf.errors import LimitReachedError
from pypdf.filters import ASCII85Decode, ASCIIHexDecode, LZWDecode, RunLengthDecode
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, StreamObject

from engine.rules.uploads import (
    ACTIVE_CONTENT,
    DEFAULT_MAX_INFLATED_MB,
    DEFAULT_MAX_PAGES,
    EMBEDDED_FILE,
    ENCRYPTED,
    JAVASCRIPT,
    LAUNCH,
    NO_PAGES,
    UNREADABLE,
    PdfRefusal,
    too_large_inflated,
    too_many_pages,
)

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024
FLATE = frozenset({"/FlateDecode", "/Fl"})
GENERIC = {"/LZWDecode": LZWDecode, "/LZW": LZWDecode, "/RunLengthDecode": RunLengthDecode, "/RL": RunLengthDecode,
           "/ASCIIHexDecode": ASCIIHexDecode, "/AHx": ASCIIHexDecode, "/ASCII85Decode": ASCII85Decode,
           "/A85": ASCII85Decode}
SCRIPT_KEYS = frozenset({"/JS", "/JavaScript"})  # an action's script; the document's name tree of scripts
EMBEDDED_KEYS = frozenset({"/EmbeddedFiles", "/EF"})  # the name tree of attachments; a file spec's embedded file
ACTIVE_KEYS = frozenset({"/XFA"})
ACTION_REFUSALS = {"/JavaScript": JAVASCRIPT, "/Launch": LAUNCH, "/GoToE": EMBEDDED_FILE}
SUBTYPE_REFUSALS = {"/FileAttachment": EMBEDDED_FILE, "/RichMedia": ACTIVE_CONTENT}
TYPE_REFUSALS = {"/EmbeddedFile": EMBEDDED_FILE}


class _TooLarge(Exception):
    pass


class PdfScreen:
    """``check(content)`` is None for a PDF we take, or the ``PdfRefusal`` saying why not."""

    def __init__(self, *, max_pages: int = DEFAULT_MAX_PAGES, max_inflated_mb: float = DEFAULT_MAX_INFLATED_MB):
        self.max_pages = max_pages
        self.max_inflated_mb = max_inflated_mb
        self.max_inflated_bytes = int(max_inflated_mb * 1024 * 1024)

    def check(self, content: bytes) -> PdfRefusal | None:
        try:
            reader = PdfReader(io.BytesIO(content), strict=False)
            if reader.is_encrypted:
                return ENCRYPTED
            refusal = self._objects(reader)
            if refusal is not None:
                return refusal
            pages = len(reader.pages)
        except (_TooLarge, LimitReachedError):
            return too_large_inflated(self.max_inflated_mb)
        except Exception as exc:  # noqa: BLE001 - whatever the parser trips on, the file is refused, not stored
            log.info("an uploaded PDF could not be read: %s", type(exc).__name__)
            return UNREADABLE
        if pages == 0:
            return NO_PAGES
        if pages > self.max_pages:
            return too_many_pages(self.max_pages)
        return None

    def _objects(self, reader: PdfReader) -> PdfRefusal | None:
        budget = self.max_inflated_bytes
        for obj in _every_object(reader):
            if not isinstance(obj, DictionaryObject):
                continue
            refusal = _refusal(obj)
            if refusal is not None:
                return refusal
            if isinstance(obj, StreamObject):
                budget -= _decoded_size(obj, budget)
                if budget < 0:
                    raise _TooLarge
        return None


def _every_object(reader: PdfReader) -> Iterator[Any]:
    """The trailer, every numbered object (table and object streams), and everything inside them,
    each indirect object once."""
    todo: list[Any] = [reader.trailer]
    todo += [IndirectObject(number, generation, reader) for generation, table in reader.xref.items() for number in table]
    todo += [IndirectObject(number, 0, reader) for number in reader.xref_objStm]
    seen: set[tuple[int, int]] = set()
    while todo:
        obj = todo.pop()
        if isinstance(obj, IndirectObject):
            key = (obj.idnum, obj.generation)
            if key in seen:
                continue
            seen.add(key)
            obj = obj.get_object()
        if isinstance(obj, DictionaryObject):
            todo.extend(dict.values(obj))  # unresolved: references are followed once, here
        elif isinstance(obj, ArrayObject):
            todo.extend(list.__iter__(obj))
        yield obj


def _name(d: DictionaryObject, key: str) -> str | None:
    value = dict.get(d, key)
    if isinstance(value, IndirectObject):
        value = value.get_object()
    return str(value) if isinstance(value, NameObject) else None


def _refusal(d: DictionaryObject) -> PdfRefusal | None:
    keys = set(dict.keys(d))  # pypdf has undone #xx escapes in names: /J#53 is /JS here
    if keys & SCRIPT_KEYS:
        return JAVASCRIPT
    if keys & EMBEDDED_KEYS:
        return EMBEDDED_FILE
    if keys & ACTIVE_KEYS:
        return ACTIVE_CONTENT
    for key, table in (("/S", ACTION_REFUSALS), ("/Subtype", SUBTYPE_REFUSALS), ("/Type", TYPE_REFUSALS)):
        refusal = table.get(_name(d, key) or "")
        if refusal is not None:
            return refusal
    return None


def _list(value: Any) -> list[Any]:
    value = value.get_object() if isinstance(value, IndirectObject) else value
    if value is None:
        return []
    items = list(list.__iter__(value)) if isinstance(value, ArrayObject) else [value]
    return [v.get_object() if isinstance(v, IndirectObject) else v for v in items]


def _decoded_size(stream: StreamObject, limit: int) -> int:
    """How many bytes the stream's general filters produce; more than ``limit`` raises ``_TooLarge``."""
    data: bytes = stream._data  # the encoded bytes as stored (pypdf has no public name for them)
    filters = [str(f) for f in _list(dict.get(stream, "/Filter"))]
    parms = _list(dict.get(stream, "/DecodeParms", dict.get(stream, "/DP")))
    for index, name in enumerate(filters):
        if len(data) > limit:
            raise _TooLarge
        more = any(f in FLATE or f in GENERIC for f in filters[index + 1:])
        if name in FLATE:
            if not more:
                return _inflate(data, limit, keep=False)[0]
            data = _inflate(data, limit, keep=True)[1]
        elif name in GENERIC:
            parm = parms[index] if index < len(parms) and isinstance(parms[index], DictionaryObject) else None
            data = GENERIC[name].decode(data, parm)
        else:
            break  # an image codec (or a filter unknown here): the viewer decodes it, counted as stored
    if len(data) > limit:
        raise _TooLarge
    return len(data)


def _inflate(data: bytes, limit: int, *, keep: bool) -> tuple[int, bytes]:
    """Inflate a megabyte at a time: as zlib data, or as raw deflate data (with or without the two
    header bytes) the way lenient viewers read a broken stream; the largest reading counts."""
    best: tuple[int, bytes] = (0, b"")
    for wbits, start in ((zlib.MAX_WBITS, 0), (-zlib.MAX_WBITS, 0), (-zlib.MAX_WBITS, 2)):
        size, out, complete = _inflate_as(data[start:], wbits, limit, keep=keep)
        if size > best[0]:
            best = (size, out)
        if complete:
            break
    return best


def _inflate_as(data: bytes, wbits: int, limit: int, *, keep: bool) -> tuple[int, bytes, bool]:
    inflater = zlib.decompressobj(wbits)
    size, parts, pending = 0, [], data
    try:
        while True:
            out = inflater.decompress(pending, CHUNK)
            size += len(out)
            if size > limit:
                raise _TooLarge
            if keep:
                parts.append(out)
            tail = inflater.unconsumed_tail
            if inflater.eof or (not tail and len(out) < CHUNK) or (not out and tail == pending):
                break
            pending = tail
    except zlib.error:
        return size, b"".join(parts), False
    return size, b"".join(parts), inflater.eof
