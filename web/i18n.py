"""Languages: Vietnamese first, English second (Flask-Babel). The catalogues live as ``.po`` files
under ``web/translations/<lang>/``, one file per audience; they are compiled into one ``.mo`` per
language in the data dir when the app starts, so no build step and no binary file in the repository."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Blueprint, Flask, current_app, g, redirect, request
from jinja2 import pass_context
from markupsafe import Markup
from flask_babel import Babel, get_locale

SOURCE = Path(__file__).resolve().parent / "translations"
LANGUAGES = ("vi", "en")
DEFAULT = "vi"
COOKIE = "motcua_lang"

bp = Blueprint("i18n", __name__)


def compile_catalogues(target: Path, source: Path = SOURCE) -> Path:
    """Merge every ``<lang>/*.po`` into ``target/<lang>/LC_MESSAGES/messages.mo`` (only when changed)."""
    for lang_dir in sorted(p for p in source.iterdir() if p.is_dir()):
        files = sorted(lang_dir.glob("*.po"))
        digest = hashlib.sha256(b"".join(f.name.encode() + f.read_bytes() for f in files)).hexdigest()
        out_dir = target / lang_dir.name / "LC_MESSAGES"
        stamp = out_dir / "messages.sha256"
        if stamp.exists() and stamp.read_text() == digest and (out_dir / "messages.mo").exists():
            continue
        merged = Catalog(locale=lang_dir.name, domain="messages")
        for f in files:
            with f.open("rb") as fh:
                for message in read_po(fh, locale=lang_dir.name):
                    if message.id and message.string:
                        merged.add(message.id, message.string, context=message.context)
        out_dir.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        write_mo(buffer, merged)
        tmp = out_dir / "messages.mo.tmp"
        tmp.write_bytes(buffer.getvalue())
        tmp.replace(out_dir / "messages.mo")  # atomic: a second process starting at once reads a whole file
        stamp.write_text(digest)
    return target


def select_locale() -> str:
    lang = request.cookies.get(COOKIE)
    return lang if lang in LANGUAGES else DEFAULT


def locale() -> str:
    """The page's language code ("vi", "en"): the language of the request's Babel locale, kept beside
    Flask-Babel's own (on ``g``) for the hundreds of labels a page asks for."""
    try:
        return g.motcua_language
    except AttributeError:  # first asked in this context
        found = get_locale()
        g.motcua_language = language = found.language if found is not None else DEFAULT
        return language
    except RuntimeError:  # no application context: no page
        return DEFAULT


def pick(text: Any) -> str:
    """A bilingual value ({"vi", "en"} or an object with .vi/.en) in the page's language."""
    if text is None:
        return ""
    if isinstance(text, dict):
        return str(text.get(locale()) or text.get(DEFAULT) or next(iter(text.values()), ""))
    if hasattr(text, "vi"):
        return str(getattr(text, locale(), None) or text.vi)
    return str(text)


def local_text(message: Any) -> str:
    """An engine message written "tiếng Việt / English": the half in the page's language; other text as it is."""
    if message is None:
        return ""
    text = str(message)
    vi, sep, en = text.partition(" / ")
    if not sep or not vi.strip() or not en.strip():
        return text
    return en.strip() if locale() == "en" else vi.strip()


def fmt_datetime(value: Any) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value) if len(value) == 10 else dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def fmt_date(value: Any) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    return fmt_datetime(value)


def fmt_money(value: Any) -> str:
    try:
        amount = int(value or 0)
    except (TypeError, ValueError):
        return str(value)
    return f"{amount:,}".replace(",", ".") + " đ"


def safe_next(target: str | None, fallback: str = "/") -> str:
    """Only a path on this site: never an open redirect to another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return fallback
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else fallback


@bp.get("/lang/<code>")
def switch(code: str):
    response = redirect(safe_next(request.args.get("next")))
    if code in LANGUAGES:
        response.set_cookie(COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                            secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
    return response


def init_app(app: Flask, data_dir: Path) -> None:
    target = compile_catalogues(data_dir / "translations")
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(target)
    Babel(app, locale_selector=select_locale)
    app.register_blueprint(bp)
    app.jinja_env.filters.update(pick=pick, datetime=fmt_datetime, date=fmt_date, money=fmt_money, local_text=local_text)
    app.jinja_env.globals.update(locale=locale, LANGUAGES=LANGUAGES)
    app.context_processor(_request_gettext)


def _request_gettext() -> dict[str, Any]:
    """``gettext`` and ``ngettext`` bound to this request's catalogue, for the templates rendered in it.
    Flask-Babel's own ones look the catalogue up again for every string (a page of the desk holds
    hundreds); these do what Jinja's "newstyle" gettext does (formatting with keyword arguments,
    autoescaping) with the catalogue found once."""
    from flask_babel import get_translations

    translations = get_translations()
    one, many = translations.ugettext, translations.ungettext

    @pass_context
    def gettext(context: Any, string: str, **variables: Any) -> str:
        text = one(string)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables

    @pass_context
    def ngettext(context: Any, singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        text = many(singular, plural, num)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables

    return {"gettext": gettext, "ngettext": ngettext}
