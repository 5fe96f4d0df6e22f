"""Render results and one-stop slips to PDF/A-3b with WeasyPrint, locked down.

The pipeline (reference/signing-pdf.md §3, §4, §7):

* Jinja2 :class:`~jinja2.sandbox.ImmutableSandboxedEnvironment`, ``autoescape=True``,
  :class:`~jinja2.StrictUndefined`, a loader limited to the template's own folder. The context must be
  plain values (see :func:`plain_context`); every string is NFC-normalised. StrictUndefined was chosen
  over ChainableUndefined so that a misspelt variable fails the render instead of printing an empty
  field on a signed document: optional values are passed as ``None``, never omitted, and ``None``
  prints as an empty string.
* WeasyPrint with ``base_url=None`` and a :class:`SafeFetcher` that serves only ``data:`` URIs and an
  exact whitelist of bundled assets (``asset:<name>``): the subset fonts and ``document.css``. Every
  other URL (http, https, file, ftp, relative) is refused; WeasyPrint logs the refusal and leaves the
  resource out.
* ``pdf_variant="pdf/a-3b"``, the result data embedded as ``result.json`` with the relationship
  ``Data``, the PDF identifier derived from the attachment's hash.

A :class:`Renderer` holds one WeasyPrint ``FontConfiguration`` and the parsed stylesheet, shared by
all its renders. It is not thread-safe: use one per worker process (WeasyPrint is CPU-bound and holds
the GIL anyway).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import logging
import re
import unicodedata
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import segno
from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

with warnings.catch_warnings():
    # WeasyPrint 70 warns at import when Debian's libharfbuzz-subset0 is missing and falls back to
    # fontTools for subsetting, which is cheap here because our fonts are already subset.
    warnings.filterwarnings("ignore", message="HarfBuzz-Subset will be required",
                            category=DeprecationWarning)
    from weasyprint import CSS, HTML, Attachment
    from weasyprint.text.ffi import harfbuzz_subset
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcher, URLFetcherResponse

from signing.fonts import FACES, ensure_fonts

logger = logging.getLogger(__name__)


class _WithoutHarfBuzzNotice(logging.Filter):
    """Drop WeasyPrint's per-font, per-render "Using fontTools instead of HarfBuzz-Subset" warning.

    Without Debian's libharfbuzz-subset0 WeasyPrint subsets embedded fonts with fontTools and says
    so for every font of every document; our fonts are pre-subset, so that costs little. The
    renderer says it once instead (see Renderer.__init__).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Using fontTools instead of HarfBuzz-Subset")


_HARFBUZZ_NOTICE = _WithoutHarfBuzzNotice()
logging.getLogger("weasyprint").addFilter(_HARFBUZZ_NOTICE)

ASSETS_DIR = Path(__file__).with_name("assets")
STYLESHEET = "document.css"
FONT_FAMILY = "MotCua Serif"
PDF_VARIANT = "pdf/a-3b"
LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

_FACE_CSS = {  # face key -> (font-weight, font-style)
    "regular": ("normal", "normal"),
    "bold": ("bold", "normal"),
    "italic": ("normal", "italic"),
    "bold-italic": ("bold", "italic"),
}
_MIME = {".ttf": "font/ttf", ".otf": "font/otf", ".css": "text/css"}


# ---- URL fetcher ------------------------------------------------------------------------------

class SafeFetcher(URLFetcher):
    """``data:`` URIs plus ``asset:<name>`` for an exact whitelist of bundled files; nothing else.

    The whitelist is read into memory once, so no path is ever built from a URL.
    """

    def __init__(self, assets: Mapping[str, Path]):
        super().__init__(timeout=1, allowed_protocols={"data"}, allow_redirects=False,
                         fail_on_errors=False)
        self._assets: dict[str, tuple[bytes, str]] = {
            name: (Path(path).read_bytes(), _MIME.get(Path(path).suffix, "application/octet-stream"))
            for name, path in assets.items()
        }

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        if url.startswith("data:"):
            return super().fetch(url, headers)
        if url.startswith("asset:") and (asset := self._assets.get(url[len("asset:"):])) is not None:
            body, mime = asset
            return URLFetcherResponse(url, body, {"Content-Type": mime})
        raise ValueError(f"URL refused by the document fetcher: {url[:80]!r}")


# ---- context, JSON, QR ------------------------------------------------------------------------

_SCALARS = (int, float, bool, type(None), dt.date, dt.datetime)


def plain_context(value: Any, *, _path: str = "context") -> Any:
    """A copy of ``value`` made only of dicts with str keys, lists, str, int, float, bool, None,
    date and datetime, with every string (keys too) NFC-normalised. Tuples and dict or list
    subclasses are copied into plain lists and dicts.

    Anything else (ORM rows, dataclasses, enums, sets, bytes, Markup...) raises :class:`TypeError`.
    The one exception is the top-level ``qr_svg`` of a render context, which may be
    :class:`~markupsafe.Markup` made by :func:`qr_svg`.
    """
    if isinstance(value, Markup):
        raise TypeError(f"{_path}: Markup is accepted only for qr_svg; pass plain text, the template escapes it")
    if isinstance(value, str):
        return unicodedata.normalize("NFC", str(value))
    if type(value) in _SCALARS:
        return value
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str) or isinstance(key, Markup):
                raise TypeError(f"{_path}: keys must be str, not {type(key).__name__}")
            out[unicodedata.normalize("NFC", str(key))] = plain_context(item, _path=f"{_path}.{key}")
        return out
    if isinstance(value, (list, tuple)):
        return [plain_context(item, _path=f"{_path}[{i}]") for i, item in enumerate(value)]
    raise TypeError(f"{_path}: {type(value).__name__} is not a plain value "
                    "(allowed: dict, list, str, int, float, bool, None, date, datetime)")


def _plain_top(context: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(context, dict):
        raise TypeError(f"context must be a dict, not {type(context).__name__}")
    out: dict[str, Any] = {}
    for key, value in context.items():
        if key == "qr_svg" and isinstance(value, Markup):
            out[key] = _checked_svg(value)
        else:
            out.update(plain_context({key: value}))
    return out


_SVG_TAG = re.compile(r"<\s*/?\s*([A-Za-z][\w:.-]*)")
_SVG_TAGS = {"svg", "path", "rect", "g", "title", "desc"}


def _checked_svg(markup: Markup) -> Markup:
    """Accept only inert SVG like :func:`qr_svg` makes: no scripts, links, styles, URLs or events."""
    text = str(markup).strip()
    lowered = text.lower()
    tags = {t.lower() for t in _SVG_TAG.findall(text)}
    if (not lowered.startswith("<svg") or tags - _SVG_TAGS or "<!" in text or "<?" in text
            or any(bad in lowered for bad in ("href", "url(", "style", "script"))
            or re.search(r"\son[a-z]+\s*=", lowered)):
        raise TypeError("qr_svg must be the SVG markup returned by signing.render.qr_svg")
    return Markup(text)


def canonical_json(data: dict) -> bytes:
    """Sorted keys, compact separators, raw UTF-8 (no \\u escapes), NFC strings.

    Dates and datetimes become ISO 8601 strings; anything else that is not plain raises TypeError.
    """
    plain = plain_context(data, _path="data")

    def default(value: Any) -> str:
        if isinstance(value, dt.date):
            return value.isoformat()
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")

    return json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False, default=default).encode("utf-8")


def qr_svg(url: str) -> str:
    """The QR code of ``url`` (ECC M) as inline SVG markup, without an XML declaration.

    The markup is inert (one ``<svg>`` with ``<path>`` elements, no links or styles); wrap it in
    :class:`markupsafe.Markup` to pass it as ``qr_svg``: the renderer checks it again.
    """
    qr = segno.make(url, error="m", micro=False, boost_error=False)
    out = io.BytesIO()
    # omitsize: a viewBox and no width/height, so the stylesheet sets the printed size.
    qr.save(out, kind="svg", xmldecl=False, svgns=True, nl=False, omitsize=True,
            scale=1, border=4, dark="#000", light="#fff")
    return out.getvalue().decode("ascii")


# ---- Jinja filters ----------------------------------------------------------------------------

def _as_datetime(value: Any, what: str) -> dt.date | None:
    """A date or a naive local datetime from a date, a datetime or an ISO string; None for empty."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            value = dt.date.fromisoformat(text) if len(text) == 10 else dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{what}: not an ISO date ({len(text)} characters)") from None
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(LOCAL_TZ).replace(tzinfo=None)
        return value
    if isinstance(value, dt.date):
        return value
    raise ValueError(f"{what}: expects a date, a datetime or an ISO string, not {type(value).__name__}")


def _day_month(d: dt.date) -> tuple[str, str]:
    # Decree 30/2020, Appendix I: days below 10 and the months 1 and 2 take a leading zero.
    return f"{d.day:02d}", f"{d.month:02d}" if d.month <= 2 else str(d.month)


def vn_date(value: Any, style: str = "long") -> str:
    """``ngày 05 tháng 3 năm 2026`` (``style="long"``) or ``05/03/2026`` (``"short"``); None -> ""."""
    d = _as_datetime(value, "vn_date")
    if d is None:
        return ""
    if style == "short":
        return f"{d.day:02d}/{d.month:02d}/{d.year}"
    if style != "long":
        raise ValueError("vn_date: style is 'long' or 'short'")
    day, month = _day_month(d)
    return f"ngày {day} tháng {month} năm {d.year}"


def vn_datetime(value: Any) -> str:
    """``15 giờ 30, ngày 22 tháng 11 năm 2026``; aware datetimes are shown in Vietnam time."""
    d = _as_datetime(value, "vn_datetime")
    if d is None:
        return ""
    if not isinstance(d, dt.datetime):
        return vn_date(d)
    return f"{d.hour:02d} giờ {d.minute:02d}, {vn_date(d)}"


def vn_clock(value: Any) -> str:
    """``15 giờ 30 phút, ngày 22 tháng 11 năm 2026`` (the received time of form 01); None -> ""."""
    d = _as_datetime(value, "vn_clock")
    if d is None:
        return ""
    if not isinstance(d, dt.datetime):
        return vn_date(d)
    return f"{d.hour:02d} giờ {d.minute:02d} phút, {vn_date(d)}"


def vn_money(value: Any) -> str:
    """``100.000 đồng`` (dot as the thousands separator, whole đồng); None -> ""."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"vn_money: expects a number, not {type(value).__name__}")
    amount = round(value)
    return f"{'-' if amount < 0 else ''}{abs(amount):,} đồng".replace(",", ".")


def _finalize(value: Any) -> Any:
    """What ``{{ x }}`` prints: None as nothing, dates as dd/mm/yyyy, datetimes as hh:mm dd/mm/yyyy."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        local = _as_datetime(value, "print")
        return f"{local:%H:%M} {vn_date(local, 'short')}"
    if isinstance(value, dt.date):
        return vn_date(value, "short")
    return value


def template_environment(folder: Path) -> ImmutableSandboxedEnvironment:
    """The sandboxed environment used for the templates of ``folder`` (and nothing outside it)."""
    env = ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(str(folder)), autoescape=True, undefined=StrictUndefined,
        finalize=_finalize, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(vn_date=vn_date, vn_datetime=vn_datetime, vn_clock=vn_clock, vn_money=vn_money)
    return env


# ---- renderer ---------------------------------------------------------------------------------

class Renderer:
    """Renders templates to PDF/A-3b bytes. Build one per process; reuse it."""

    def __init__(self, font_cache_dir: Path):
        fonts = ensure_fonts(Path(font_cache_dir))
        if harfbuzz_subset is None:
            logger.info("libharfbuzz-subset0 is not installed: WeasyPrint subsets fonts with fontTools")
        assets: dict[str, Path] = {f"serif-{key}.ttf": fonts[key] for key in FACES}
        assets[STYLESHEET] = ASSETS_DIR / STYLESHEET
        self.fetcher = SafeFetcher(assets)
        font_faces = "\n".join(
            f'@font-face {{ font-family: "{FONT_FAMILY}"; font-weight: {weight}; font-style: {style};'
            f' src: url("asset:serif-{key}.ttf") format("truetype"); }}'
            for key, (weight, style) in _FACE_CSS.items())
        self._css_source = font_faces + "\n" + (ASSETS_DIR / STYLESHEET).read_text("utf-8")
        self._load_fonts()
        self._environments: dict[Path, ImmutableSandboxedEnvironment] = {}

    def _load_fonts(self) -> None:
        """A fresh FontConfiguration holding only our faces, and the stylesheet bound to it."""
        self.font_config = FontConfiguration()
        self.stylesheet = CSS(string=self._css_source, base_url=None, url_fetcher=self.fetcher,
                              font_config=self.font_config)
        self._font_files = self._count_font_files()

    def _count_font_files(self) -> int | None:
        # WeasyPrint keeps one file per loaded @font-face in a private folder of the configuration.
        folder = getattr(self.font_config, "_folder", None)
        return sum(1 for _ in folder.iterdir()) if isinstance(folder, Path) and folder.is_dir() else None

    def _drop_template_fonts(self) -> None:
        """Forget fonts a template declared with @font-face (a data: URI font passes the fetcher).

        The FontConfiguration is shared by all renders, and a later face with our family name would
        replace ours in *other* documents, e.g. a font that draws "7" for "1". When a render added a
        face (or WeasyPrint's internals changed and we cannot tell), start again from our faces only.
        """
        count = self._count_font_files()
        if count is None or count != self._font_files:
            logger.info("a template declared its own @font-face: reloading the document fonts")
            self._load_fonts()

    def html(self, template_file: Path, context: dict) -> str:
        """The template rendered to HTML, with the same checks as :meth:`render`."""
        template_file = Path(template_file).resolve()
        plain = _plain_top(context)
        env = self._environments.get(template_file.parent)
        if env is None:
            env = self._environments[template_file.parent] = template_environment(template_file.parent)
        return env.get_template(template_file.name).render(plain)

    def render(self, template_file: Path, context: dict, *, attachment: bytes | None = None,
               attachment_name: str = "result.json", title: str = "", lang: str = "vi") -> bytes:
        """Render ``template_file`` with ``context`` to PDF/A-3b bytes.

        ``attachment`` (normally :func:`canonical_json` bytes) is embedded as ``attachment_name``
        with the relationship ``Data``; it is the only file the PDF can contain. ``title`` replaces
        the HTML ``<title>`` in the PDF metadata when given; ``lang`` sets the document language
        (``<html lang>`` and the PDF ``/Lang``).
        """
        source = self.html(template_file, context)
        document_html = HTML(string=source, base_url=None, url_fetcher=self.fetcher)
        document_html.etree_element.set("lang", lang)
        document = document_html.render(font_config=self.font_config, stylesheets=[self.stylesheet])
        # Only our own attachment may be embedded: drop any <link rel=attachment> a template declares.
        document.metadata.attachments = []
        if title:
            document.metadata.title = unicodedata.normalize("NFC", title)
        document.metadata.lang = lang

        attachments = []
        if attachment is not None:
            if not isinstance(attachment, bytes):
                raise TypeError("attachment must be bytes (see canonical_json)")
            attachments.append(Attachment(
                string=attachment, base_url=None, url_fetcher=self.fetcher,
                name=attachment_name, description="Dữ liệu kết quả (JSON)", relationship="Data"))
        identifier = hashlib.sha256(attachment if attachment is not None else source.encode()).digest()[:16]
        with warnings.catch_warnings():
            # WeasyPrint 70 opens its bundled sRGB profile for the PDF/A output intent and never
            # closes it (weasyprint/pdf/__init__.py, generate_pdf); the file object is dropped, and
            # the ResourceWarning raised, before write_pdf returns.
            warnings.filterwarnings("ignore", category=ResourceWarning,
                                    message=r"unclosed file <_io\.BufferedReader name='.*sRGB2014\.icc'>")
            pdf = document.write_pdf(pdf_variant=PDF_VARIANT, attachments=attachments,
                                     pdf_identifier=identifier)
        self._drop_template_fonts()
        return pdf
