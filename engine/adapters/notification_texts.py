"""The texts of the notifications: one Jinja2 file per moment and language in
``notification_templates/`` (``<kind>.<language>.txt``, extending ``_base.<language>.txt``). The first
line a template renders is the subject, the rest the body. Plain text, a sandboxed environment and a
plain-dict context; a missing file is an error at start (``check``), not at the first delivery."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

TEMPLATES = Path(__file__).with_name("notification_templates")


class NotificationTexts:
    def __init__(self, folder: Path = TEMPLATES):
        # the texts ship with the code: loaded once, not checked on disk at every message (auto_reload)
        self.env = SandboxedEnvironment(loader=FileSystemLoader(str(folder)), autoescape=False,
                                        undefined=StrictUndefined, keep_trailing_newline=False, auto_reload=False)

    def check(self, kinds: Iterable[str], languages: Iterable[str]) -> None:
        """Load every template once: a missing or broken one fails here."""
        for kind in kinds:
            for language in languages:
                self.env.get_template(f"{kind}.{language}.txt")

    def render(self, kind: str, language: str, context: dict[str, Any]) -> tuple[str, str]:
        """(subject, body) of the message ``kind`` in ``language``."""
        text = self.env.get_template(f"{kind}.{language}.txt").render(**context)
        subject, _, body = text.strip().partition("\n")
        return " ".join(subject.split())[:300], body.strip() + "\n"
