"""Small PDFs written byte by byte for the upload tests: a plain one-page document, and the same
document carrying what an upload must not (scripts, launch actions, attachments, encryption, a
compressed stream that inflates far beyond its size). Each has a correct cross-reference table, so
that the only thing wrong with it is the thing the test is about."""
from __future__ import annotations

import zlib

PAGE = b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R>>"
CONTENT = b"BT /F1 12 Tf 72 770 Td (Giay chung sinh) Tj ET"


def stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<<" + extra + b"/Length " + str(len(data)).encode() + b">>stream\n" + data + b"\nendstream"


def build(objects: list[bytes], *, trailer: bytes = b"", padding: int = 0) -> bytes:
    """A PDF of ``objects`` (object 1 the catalog), with an xref table at the right offsets; ``padding``
    bytes of comment after the header make it as large as a test needs."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    if padding:
        out += b"%" + b"0" * max(padding - 2, 0) + b"\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<</Size %d/Root 1 0 R%s>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer, xref)
    return bytes(out)


def document(catalog_extra: bytes = b"", page: bytes = PAGE, more: list[bytes] = (), *, trailer: bytes = b"",
             padding: int = 0, pages: int = 1) -> bytes:
    """Catalog (1), page tree (2), page (3, repeated ``pages`` times by reference), content (4), then ``more`` (5...)."""
    kids = b" ".join([b"3 0 R"] * pages)
    objects = [b"<</Type/Catalog/Pages 2 0 R" + catalog_extra + b">>",
               b"<</Type/Pages/Kids[" + kids + b"]/Count %d>>" % pages, page, stream(CONTENT), *more]
    return build(objects, trailer=trailer, padding=padding)


def plain(padding: int = 0) -> bytes:
    return document(padding=padding)


def sized(total: int) -> bytes:
    """A plain PDF of exactly ``total`` bytes (the padding moves the offsets, whose digits count too)."""
    padding = 2
    while (size := len(plain(padding=padding))) != total:
        if size > total and padding == 2:
            raise ValueError(f"a plain PDF has at least {size} bytes")
        padding += total - size
    return plain(padding=padding)


def with_javascript() -> bytes:
    """Opens with a script, its action's names written with #-escapes as a filter-dodging file would."""
    return document(b"/OpenAction 5 0 R", more=[b"<</Type/Action/S/J#61vaScript/J#53(app.alert\\(1\\))>>"])


def with_javascript_name_tree() -> bytes:
    return document(b"/Names<</JavaScript 5 0 R>>", more=[b"<</Names[(x) 6 0 R]>>", b"<</S/JavaScript/JS(1)>>"])


def with_launch() -> bytes:
    page = PAGE[:-2] + b"/Annots[5 0 R]>>"
    return document(page=page, more=[b"<</Type/Annot/Subtype/Link/Rect[0 0 100 100]/A<</S/Launch/F(cmd.exe)>>>>"])


def with_embedded_file() -> bytes:
    return document(b"/Names<</EmbeddedFiles 5 0 R>>", more=[
        b"<</Names[(a.exe) 6 0 R]>>", b"<</Type/Filespec/F(a.exe)/EF<</F 7 0 R>>>>",
        stream(b"MZ...", b"/Type/EmbeddedFile")])


def with_file_attachment_annotation() -> bytes:
    page = PAGE[:-2] + b"/Annots[5 0 R]>>"
    return document(page=page, more=[b"<</Type/Annot/Subtype/FileAttachment/Rect[0 0 10 10]/FS(a.txt)>>"])


def encrypted() -> bytes:
    """An RC4 standard security handler entry in the trailer: the file asks for a password."""
    encrypt = (b"<</Filter/Standard/V 1/R 2/Length 40/P -44"
               b"/O<" + b"00" * 32 + b">/U<" + b"00" * 32 + b">>>")
    return document(more=[encrypt], trailer=b"/Encrypt 5 0 R/ID[<0123456789abcdef0123456789abcdef><0123456789abcdef0123456789abcdef>]")


def deflate_bomb(inflated: int, *, streams: int = 1) -> bytes:
    """``streams`` Flate streams of zeros, each inflating to ``inflated`` bytes, compressed in memory
    a chunk at a time (the inflated bytes never exist at once, in memory or on disk)."""
    compressor = zlib.compressobj(9)
    chunk = b"\0" * (1024 * 1024)
    parts = [compressor.compress(chunk) for _ in range(inflated // len(chunk))]
    parts.append(compressor.compress(b"\0" * (inflated % len(chunk))))
    parts.append(compressor.flush())
    data = b"".join(parts)
    more = [stream(data, b"/Filter/FlateDecode") for _ in range(streams)]
    xobjects = b"".join(b"/B%d %d 0 R" % (i, 5 + i) for i in range(streams))
    page = PAGE[:-2] + b"/Resources<</XObject<<" + xobjects + b">>>>>>"
    return document(page=page, more=more)


def many_pages(count: int) -> bytes:
    return document(pages=count)
