"""signing.fonts and signing.render: subset fonts, PDF/A-3b results and one-stop slips, lock-down.

The PDFs are checked with independent tools (poppler's pdftotext, pdfinfo, pdfdetach, pdftoppm and
zbar's zbarimg); a test skips when its tool is not installed.
"""
from __future__ import annotations

import base64
import datetime as dt
import http.server
import re
import shutil
import subprocess
import threading
import unicodedata
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from jinja2.exceptions import SecurityError, TemplateNotFound, UndefinedError
from markupsafe import Markup

from signing.fonts import VIETNAMESE_CODEPOINTS, FontError, ensure_fonts, missing_vietnamese
from signing.render import (
    Renderer,
    SafeFetcher,
    canonical_json,
    plain_context,
    qr_svg,
    vn_date,
    vn_datetime,
    vn_money,
)

ROOT = Path(__file__).resolve().parents[2]
BIRTH_TEMPLATE = ROOT / "procedures" / "birth-registration" / "templates" / "birth-certificate.html.j2"
SLIPS = ROOT / "procedures" / "slips"
VERIFY_URL = "HTTPS://DVC.EXAMPLE.GOV.VN/V/01JD8Z6Q4W3K2M1N0P9R8S7T6V/MFRGGZDFMZTWQ2LK"
CHILD_NAME = "Nguyễn Thị Ỷ Lan"
MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
A4 = (595.28, 841.89)
A5 = (419.53, 595.28)

SLIP_TITLES = {
    "01-receipt.html.j2": "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
    "02-supplement.html.j2": "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ",
    "03-refusal.html.j2": "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ",
    "04-apology.html.j2": "VĂN BẢN XIN LỖI VÀ ĐỀ NGHỊ GIA HẠN THỜI GIAN GIẢI QUYẾT",
    "05-stop.html.j2": "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ",
}


# ---- fixtures and helpers ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def font_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("font-cache")


@pytest.fixture(scope="module")
def renderer(font_cache) -> Renderer:
    return Renderer(font_cache)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (Debian poppler-utils / zbar-tools)")
    return path


def _run(*args: object) -> str:
    done = subprocess.run([str(a) for a in args], capture_output=True, check=True, timeout=60)
    return done.stdout.decode("utf-8")


def _text(pdf: Path) -> str:
    return unicodedata.normalize("NFC", _run(_tool("pdftotext"), "-enc", "UTF-8", pdf, "-"))


def _squeezed(text: str) -> str:
    """Text without whitespace and hyphens: line breaks inside long values (and pdftotext joining
    words hyphenated at a line end) do not matter."""
    return re.sub(r"[\s-]", "", text)


def _pages_and_size(pdf: Path) -> tuple[int, tuple[float, float]]:
    info = _run(_tool("pdfinfo"), pdf)
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    w, h = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", info, re.M).groups()
    return pages, (float(w), float(h))


def _embedded(pdf: Path) -> list[str]:
    listing = _run(_tool("pdfdetach"), "-list", pdf)
    return re.findall(r"^\d+: (.*)$", listing, re.M)


def _xmp(pdf_bytes: bytes) -> bytes:
    """The XMP packet: the (Flate-compressed or plain) stream that holds an x:xmpmeta element."""
    for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf_bytes, re.S):
        for data in (raw, _inflate(raw)):
            if data and b"<x:xmpmeta" in data:
                return data
    raise AssertionError("no XMP metadata stream")


def _inflate(raw: bytes) -> bytes:
    try:
        return zlib.decompressobj().decompress(raw)
    except zlib.error:
        return b""


def _write(tmp_path: Path, name: str, pdf: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(pdf)
    return path


def _birth_data(**overrides: object) -> dict:
    data = {
        "child_full_name": CHILD_NAME,
        "child_date_of_birth": "2026-03-05",
        "child_date_of_birth_in_words": "Ngày năm, tháng ba, năm hai nghìn không trăm hai mươi sáu",
        "child_sex": "female",
        "child_ethnicity": "Kinh",
        "child_nationality": "Việt Nam",
        "child_place_of_birth": "Bệnh viện Phụ sản Hà Nội, 929 đường La Thành, phường Giảng Võ, thành phố Hà Nội",
        "child_home_town": "xã Đường Lâm, thành phố Hà Nội",
        "child_personal_id": "001326012345",
        "mother_full_name": "Trần Thị Hương",
        "mother_birth_year": 1996,
        "mother_ethnicity": "Kinh",
        "mother_nationality": "Việt Nam",
        "mother_residence": "số 12 phố Đội Cấn, phường Ba Đình, thành phố Hà Nội",
        "mother_personal_id": "001196004321",
        "father_full_name": "Nguyễn Văn Đức",
        "father_birth_year": 1994,
        "father_ethnicity": "Kinh",
        "father_nationality": "Việt Nam",
        "father_residence": "số 12 phố Đội Cấn, phường Ba Đình, thành phố Hà Nội",
        "father_personal_id": "001094001234",
        "requester_full_name": "Trần Thị Hương",
        "requester_personal_id": "001196004321",
        "requester_relationship": "mother",
        "registration_type": "on_time",
        "received_at": "2026-03-10T09:15:00",
        "dossier_code": "000.00.12.H29-260310-0007",
        "registry": "Ủy ban nhân dân phường Ba Đình",
    }
    data.update(overrides)
    return data


def _result_context(data: dict) -> dict:
    return {
        "result": {"number": "17/2026/TP-KS", "issued_at": dt.datetime(2026, 3, 10, 15, 30)},
        "agency": {"name": "Ủy ban nhân dân phường Ba Đình"},
        "data": data,
        "signers": [
            {"name": "Lê Minh Tuấn", "title": "Chủ tịch"},
            {"name": "Ủy ban nhân dân phường Ba Đình", "title": "Cơ quan"},
        ],
        "qr_svg": Markup(qr_svg(VERIFY_URL)),
        "verify_url": VERIFY_URL,
    }


def _slip_context(form: str) -> dict:
    return {
        "slip": {"number": f"0125/{form}", "form": form, "issued_at": dt.datetime(2026, 3, 10, 9, 20)},
        "agency": {"name": "Ủy ban nhân dân phường Ba Đình", "code": "000.00.12.H29",
                   "address": "số 25 phố Liễu Giai, phường Ba Đình, thành phố Hà Nội"},
        "dossier": {
            "code": "000.00.12.H29-260310-0007",
            "procedure_title": "Đăng ký khai sinh",
            "procedure_code": "1.001193",
            "received_at": dt.datetime(2026, 3, 10, 9, 15),
            "due_at": dt.datetime(2026, 3, 11, 17, 0),
            "original_due_at": None,
            "channel": "online",
            "documents": [
                {"label": "Tờ khai đăng ký khai sinh", "by": "electronic"},
                {"label": "Giấy chứng sinh", "by": "original"},
                {"label": "Giấy chứng nhận kết hôn của cha, mẹ", "by": "reused"},
            ],
            "time_limit_text": "01 ngày làm việc",
        },
        "applicant": {"name": "Trần Thị Hương", "personal_id": "001196004321",
                      "address": "số 12 phố Đội Cấn, phường Ba Đình, thành phố Hà Nội",
                      "phone": "0912 345 678", "email": None},
        "items": ["Bản chụp Giấy chứng sinh rõ nét, đủ bốn góc",
                  {"label": "Giấy chứng nhận kết hôn của cha, mẹ", "reason": "bản đã nộp không đọc được"}],
        "reason": "Cần xác minh nơi cư trú của người mẹ.",
        "new_due_at": dt.date(2026, 3, 13),
        "signers": [{"name": "Phạm Quốc Bảo", "title": "Công chức tiếp nhận"}],
        "qr_svg": Markup(qr_svg(VERIFY_URL)),
        "verify_url": VERIFY_URL,
    }


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    hits: list[str]  # set per server

    def _hit(self) -> None:
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.send_header("Content-Length", "2")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(b"{}")

    do_GET = do_HEAD = do_POST = _hit

    def log_message(self, format: str, *args: object) -> None:  # keep test output clean
        pass


@pytest.fixture
def loopback() -> Iterator[tuple[int, list[str]]]:
    """A loopback HTTP server in a thread that records every request; stopped at the end."""
    hits: list[str] = []
    handler = type("Handler", (_CountingHandler,), {"hits": hits, "timeout": 2})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], hits
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _attacks(port: int, secret: Path) -> list[str]:
    return [
        '<img src="file:///etc/passwd">',
        f'<img src="http://127.0.0.1:{port}/img">',
        f"<link rel=stylesheet href=http://127.0.0.1:{port}/css>",
        f"<style>@import url(http://127.0.0.1:{port}/import);</style>",
        f'<a rel="attachment" href="{secret.as_uri()}">secret</a>',
    ]


# ---- fonts ------------------------------------------------------------------------------------

def test_ensure_fonts_makes_vietnamese_subsets_once_and_reuses_them(renderer, font_cache):
    fonts = ensure_fonts(font_cache)  # the renderer fixture made them already
    assert set(fonts) == {"regular", "bold", "italic", "bold-italic"}
    assert len(VIETNAMESE_CODEPOINTS) == 140
    for path in fonts.values():
        assert path.parent == font_cache
        assert missing_vietnamese(path) == set()
        assert path.stat().st_size < 150_000  # a subset, not the 400-600 KB system font
    before = {key: (p.stat().st_ino, p.stat().st_mtime_ns) for key, p in fonts.items()}

    again = ensure_fonts(font_cache)

    assert again == fonts
    assert {key: (p.stat().st_ino, p.stat().st_mtime_ns) for key, p in again.items()} == before
    assert sorted(p.name for p in font_cache.iterdir()) == sorted(p.name for p in fonts.values())


def test_ensure_fonts_names_the_debian_package_when_no_font_qualifies(tmp_path):
    (tmp_path / "fonts").mkdir()
    with pytest.raises(FontError, match="fonts-noto-core"):
        ensure_fonts(tmp_path / "cache", font_dirs=[tmp_path / "fonts"])


# ---- results ----------------------------------------------------------------------------------

def test_birth_certificate_is_one_a4_page_of_pdfa3b_with_its_data_and_a_readable_qr(renderer, tmp_path):
    data = _birth_data()
    attachment = canonical_json(data)

    pdf_bytes = renderer.render(BIRTH_TEMPLATE, _result_context(data), attachment=attachment,
                                title="Giấy khai sinh 17/2026/TP-KS")
    pdf = _write(tmp_path, "birth.pdf", pdf_bytes)

    xmp = _xmp(pdf_bytes)
    assert re.search(rb'pdfaid:part(="3"|>3<)', xmp)
    assert re.search(rb'pdfaid:conformance(="B"|>B<)', xmp)
    pages, size = _pages_and_size(pdf)
    assert pages == 1
    assert size == pytest.approx(A4, abs=0.5)
    text = _text(pdf)
    assert MOTTO in text
    assert CHILD_NAME in text
    assert "ngày 10 tháng 3 năm 2026" in text
    assert "05/03/2026" in text
    assert _embedded(pdf) == ["result.json"]
    _run(_tool("pdfdetach"), "-save", "1", "-o", tmp_path / "out.json", pdf)
    assert (tmp_path / "out.json").read_bytes() == attachment
    _run(_tool("pdftoppm"), "-r", "200", "-png", "-f", "1", "-l", "1", "-singlefile", pdf, tmp_path / "page")
    assert _run(_tool("zbarimg"), "-q", "--raw", tmp_path / "page.png").strip() == VERIFY_URL


def test_render_is_fed_nfd_text_and_prints_nfc(renderer, tmp_path):
    nfd_name = unicodedata.normalize("NFD", CHILD_NAME)
    assert nfd_name != CHILD_NAME
    pdf = _write(tmp_path, "nfd.pdf", renderer.render(BIRTH_TEMPLATE, _result_context(
        _birth_data(child_full_name=nfd_name))))
    assert CHILD_NAME in _text(pdf)


# ---- slips ------------------------------------------------------------------------------------

@pytest.mark.parametrize("template", sorted(SLIP_TITLES))
def test_each_one_stop_slip_is_one_a5_page_with_its_form_title(renderer, tmp_path, template):
    form = template[:2]
    pdf = _write(tmp_path, "slip.pdf", renderer.render(SLIPS / template, _slip_context(form)))

    pages, size = _pages_and_size(pdf)
    assert pages == 1
    assert size == pytest.approx(A5, abs=0.5)
    text = " ".join(_text(pdf).split())
    assert SLIP_TITLES[template] in text
    assert MOTTO in text
    assert f"Số: 0125/{form}" in text
    assert "Đã ký số" in text
    assert "000.00.12.H29-260310-0007" in text
    assert _embedded(pdf) == []


def test_receipt_slip_lists_the_documents_and_the_appointment(renderer, tmp_path):
    pdf = _write(tmp_path, "01.pdf", renderer.render(SLIPS / "01-receipt.html.j2", _slip_context("01")))
    text = " ".join(_text(pdf).split())
    assert "Giấy chứng sinh" in text and "Bản chính" in text
    assert "17 giờ 00 phút, ngày 11 tháng 3 năm 2026" in text
    assert "01 ngày làm việc" in text


# ---- lock-down --------------------------------------------------------------------------------

def test_markup_in_field_values_is_printed_as_text_and_fetches_nothing(renderer, tmp_path, loopback):
    port, hits = loopback
    secret = tmp_path / "secret.txt"
    secret.write_text("do not embed", encoding="utf-8")
    attacks = _attacks(port, secret)
    keys = ["child_full_name", "child_place_of_birth", "child_home_town", "mother_residence",
            "father_residence"]
    data = _birth_data(**dict(zip(keys, attacks, strict=True)))
    context = _result_context(data)

    html = renderer.html(BIRTH_TEMPLATE, context)
    pdf = _write(tmp_path, "attack.pdf", renderer.render(BIRTH_TEMPLATE, context,
                                                         attachment=canonical_json(data)))

    assert "<link rel=stylesheet" not in html and "&lt;link rel=stylesheet" in html
    assert "<style>@import" not in html and "&lt;style&gt;@import" in html
    assert '<img src="file' not in html and "&lt;img src=" in html
    assert "<a rel=" not in html and "&lt;a rel=" in html
    assert hits == []
    assert _embedded(pdf) == ["result.json"]
    squeezed = _squeezed(_text(pdf))
    for attack in attacks:
        assert _squeezed(attack) in squeezed


MALICIOUS_TEMPLATE = """<!DOCTYPE html>
<html lang="vi"><head>
<base href="http://127.0.0.1:{port}/base/">
<link rel="stylesheet" href="http://127.0.0.1:{port}/link.css">
<link rel="stylesheet" href="file:///etc/passwd">
<link rel="attachment" href="{secret}">
<link rel="stylesheet" href="data:text/css,@import url(http://127.0.0.1:{port}/nested-import.css);">
<style>
  @import url(http://127.0.0.1:{port}/import.css);
  @font-face {{ font-family: Stolen; src: url(file:///usr/share/fonts/truetype/dejavu/DejaVuSans.ttf); }}
  @font-face {{ font-family: Remote; src: url(http://127.0.0.1:{port}/font.ttf); }}
  body {{ background: url(http://127.0.0.1:{port}/background.png); }}
  h1 {{ font-family: Stolen, Remote, serif; }}
</style>
</head><body>
<h1>Mẫu độc hại {{{{ data.marker }}}}</h1>
<img src="file:///etc/passwd">
<img src="http://127.0.0.1:{port}/img.png">
<img src="relative.png">
<object data="http://127.0.0.1:{port}/object.svg"></object>
<embed src="http://127.0.0.1:{port}/embed.svg">
<svg width="10" height="10"><image href="http://127.0.0.1:{port}/svg-image.png" width="10" height="10"/></svg>
<img src="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='9' height='9'%3E%3Cimage href='http://127.0.0.1:{port}/data-svg-image.png' width='9' height='9'/%3E%3C/svg%3E">
<a rel="attachment" href="{secret}">attachment</a>
<a rel="attachment" href="http://127.0.0.1:{port}/attachment.bin">remote attachment</a>
</body></html>
"""


def test_a_malicious_template_fetches_nothing_and_embeds_only_our_attachment(renderer, tmp_path, loopback):
    port, hits = loopback
    secret = tmp_path / "secret.txt"
    secret.write_text("do not embed", encoding="utf-8")
    folder = tmp_path / "templates"
    folder.mkdir()
    template = folder / "evil.html.j2"
    template.write_text(MALICIOUS_TEMPLATE.format(port=port, secret=secret.as_uri()), encoding="utf-8")
    attachment = canonical_json({"marker": "x"})

    # WeasyPrint logs each refused resource (logger "weasyprint") and leaves it out.
    pdf = _write(tmp_path, "evil.pdf", renderer.render(template, {"data": {"marker": "đã chạy"}},
                                                       attachment=attachment))

    assert hits == []
    assert _embedded(pdf) == ["result.json"]
    assert "Mẫu độc hại đã chạy" in _text(pdf)


def test_the_lockdown_probe_catches_an_unlocked_weasyprint(tmp_path, loopback):
    """Control for the two tests above: WeasyPrint's default fetcher does hit the server and embed
    the file, so zero hits and no embedded file there mean the lock-down works."""
    from weasyprint import HTML

    port, hits = loopback
    secret = tmp_path / "secret.txt"
    secret.write_text("do not embed", encoding="utf-8")
    html = (f'<link rel=stylesheet href="http://127.0.0.1:{port}/link.css">'
            f'<img src="http://127.0.0.1:{port}/img.png">'
            f'<a rel="attachment" href="{secret.as_uri()}" style="display:block;width:9px;height:9px"></a>')
    pdf = _write(tmp_path, "open.pdf", HTML(string=html, base_url=None).write_pdf())
    assert sorted(hits) == ["/img.png", "/link.css"]
    assert _embedded(pdf) == ["secret.txt"]


def _font_programs(pdf_bytes: bytes) -> list[int]:
    """The uncompressed sizes of the embedded font programs (stream dictionaries are never
    inside object streams, so /Length1 is readable in the raw bytes)."""
    return sorted(int(n) for n in re.findall(rb"/Length1 (\d+)", pdf_bytes))


OTHER_FONTS = [Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
               Path("/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf")]


def test_a_template_font_face_does_not_leak_into_later_documents(renderer, tmp_path):
    """Renders share one FontConfiguration; a face a template declares (a data: font passes the
    fetcher) must not replace our faces in the documents rendered after it."""
    other = next((p for p in OTHER_FONTS if p.is_file()), None)
    if other is None:
        pytest.skip("needs fonts-dejavu-core or fonts-liberation2")
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "plain.html.j2").write_text("<p>Giấy khai sinh 1/2026</p>", encoding="utf-8")
    (folder / "font.html.j2").write_text(
        '<style>@font-face { font-family: "MotCua Serif"; src: url(data:font/ttf;base64,'
        + base64.b64encode(other.read_bytes()).decode() + ") }</style><p>Giấy khai sinh 7/2026</p>",
        encoding="utf-8")

    before = _font_programs(renderer.render(folder / "plain.html.j2", {}))
    renderer.render(folder / "font.html.j2", {})
    after = _font_programs(renderer.render(folder / "plain.html.j2", {}))

    assert after == before


def test_the_fetcher_serves_data_uris_and_whitelisted_assets_only(tmp_path):
    asset = tmp_path / "a.css"
    asset.write_text("p{}", encoding="utf-8")
    fetcher = SafeFetcher({"a.css": asset})
    assert fetcher.fetch("data:text/plain,hello").read() == b"hello"
    assert fetcher.fetch("asset:a.css").read() == b"p{}"
    for url in ["asset:b.css", "asset:../a.css", f"asset:{asset}", "ASSET:a.css", asset.as_uri(),
                "file:///etc/passwd", "http://127.0.0.1:9/x", "https://example.org/", "ftp://example.org/x",
                "a.css", "/etc/passwd"]:
        with pytest.raises(ValueError):
            fetcher.fetch(url)


def test_the_sandbox_refuses_python_internals(renderer, tmp_path):
    template = tmp_path / "escape.html.j2"
    template.write_text("<p>{{ ''.__class__.__mro__ }}</p>", encoding="utf-8")
    with pytest.raises(SecurityError):
        renderer.render(template, {})


def test_templates_cannot_include_files_outside_their_folder(renderer, tmp_path):
    (tmp_path / "outside.html.j2").write_text("outside", encoding="utf-8")
    folder = tmp_path / "templates"
    folder.mkdir()
    template = folder / "include.html.j2"
    template.write_text('{% include "../outside.html.j2" %}', encoding="utf-8")
    with pytest.raises(TemplateNotFound):
        renderer.render(template, {})


def test_a_misspelt_variable_fails_the_render(renderer, tmp_path):
    template = tmp_path / "typo.html.j2"
    template.write_text("<p>{{ data.nmae }}</p>", encoding="utf-8")
    with pytest.raises(UndefinedError):
        renderer.render(template, {"data": {"name": "A"}})


class _Row:
    name = "Nguyễn Văn A"


@pytest.mark.parametrize("bad", [
    {"data": _Row()},
    {"data": {"tags": {"a", "b"}}},
    {"data": {"blob": b"bytes"}},
    {"data": {1: "int key"}},
    {"data": {"html": Markup("<b>trusted?</b>")}},
    {"qr_svg": Markup('<svg><image href="http://127.0.0.1:9/x"/></svg>')},
])
def test_a_context_with_anything_but_plain_values_is_refused(renderer, bad):
    with pytest.raises(TypeError):
        renderer.render(BIRTH_TEMPLATE, {**_result_context(_birth_data()), **bad})


# ---- values -----------------------------------------------------------------------------------

def test_vietnamese_date_time_and_money_filters():
    assert vn_date(dt.date(2026, 11, 22)) == "ngày 22 tháng 11 năm 2026"
    assert vn_date("2026-03-05") == "ngày 05 tháng 3 năm 2026"
    assert vn_date(dt.date(2026, 1, 9)) == "ngày 09 tháng 01 năm 2026"
    assert vn_date("2026-03-05", "short") == "05/03/2026"
    assert vn_date(None) == ""
    assert vn_datetime(dt.datetime(2026, 11, 22, 15, 30)) == "15 giờ 30, ngày 22 tháng 11 năm 2026"
    assert vn_datetime("2026-11-22T01:05:00+00:00") == "08 giờ 05, ngày 22 tháng 11 năm 2026"
    assert vn_money(100000) == "100.000 đồng"
    assert vn_money(8000) == "8.000 đồng"
    assert vn_money(0) == "0 đồng"
    with pytest.raises(ValueError):
        vn_date("not a date")


def test_canonical_json_is_sorted_compact_utf8_and_nfc():
    nfd = unicodedata.normalize("NFD", "Đặng Thị Ánh")
    out = canonical_json({"b": [1, 2.5, None, True], "a": nfd, "d": dt.date(2026, 3, 5)})
    assert out == '{"a":"Đặng Thị Ánh","b":[1,2.5,null,true],"d":"2026-03-05"}'.encode()
    assert plain_context({"x": (nfd,)}) == {"x": ["Đặng Thị Ánh"]}
