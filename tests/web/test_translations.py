"""Every message the pages show has its Vietnamese translation, with the same placeholders."""
from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

WEB = Path(__file__).resolve().parents[2] / "web"
KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None, "_l": None, "ngettext": (1, 2)}
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")


def extracted() -> dict[str, str]:
    found: dict[str, str] = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
            str(WEB), METHODS, keywords=KEYWORDS, options_map={"**/templates/**.html": {"trimmed": "true"}}):
        for msgid in (message if isinstance(message, tuple) else (message,)):
            if msgid:
                found.setdefault(msgid, filename)
    return found


def vietnamese() -> dict[str, str]:
    out: dict[str, str] = {}
    for po in sorted((WEB / "translations" / "vi").glob("*.po")):
        with po.open("rb") as fh:
            for m in read_po(fh, locale="vi"):
                if m.id:
                    out[m.id if isinstance(m.id, str) else m.id[0]] = m.string if isinstance(m.string, str) else m.string[0]
    return out


def test_every_message_on_the_pages_has_a_vietnamese_translation():
    vi = vietnamese()
    missing = sorted(f"{where}: {msgid!r}" for msgid, where in extracted().items() if not vi.get(msgid))
    assert not missing, "untranslated messages:\n" + "\n".join(missing)


def test_translations_keep_their_placeholders():
    wrong = [msgid for msgid, text in vietnamese().items()
             if text and sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(text))]
    assert not wrong, wrong


def test_the_catalogue_extraction_finds_the_page_messages():
    found = extracted()
    assert "Sign in" in found and "My dossiers" in found


def test_a_message_has_one_translation_across_the_catalogue_files():
    seen: dict[str, tuple[str, str]] = {}
    clashes = []
    for po in sorted((WEB / "translations" / "vi").glob("*.po")):
        with po.open("rb") as fh:
            for m in read_po(fh, locale="vi"):
                if not m.id or not m.string:
                    continue
                if m.id in seen and seen[m.id][1] != m.string:
                    clashes.append(f"{m.id!r}: {seen[m.id][0]} says {seen[m.id][1]!r}, {po.name} says {m.string!r}")
                seen.setdefault(m.id, (po.name, m.string))
    assert not clashes, "\n".join(clashes)


def test_dates_show_as_day_month_year_and_date_times_with_the_time():
    from web.i18n import fmt_date, fmt_datetime
    import datetime as dt

    assert fmt_datetime("2026-02-20") == "20/02/2026"
    assert fmt_datetime("2026-02-20T14:05:00") == "20/02/2026 14:05"
    assert fmt_date(dt.datetime(2026, 3, 2, 9, 0)) == "02/03/2026"
    assert fmt_datetime(None) == "" and fmt_datetime("not a date") == "not a date"


def test_every_vietnamese_translation_is_still_used_by_a_page():
    used = extracted()
    stale = sorted(msgid for msgid in vietnamese() if msgid not in used)
    assert not stale, "translations no page uses any more:\n" + "\n".join(stale)
