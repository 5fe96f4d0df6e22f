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
