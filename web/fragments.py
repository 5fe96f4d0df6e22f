"""Pieces of a page kept once rendered, by everything they show.

A piece is found by a key that holds every value its rendering reads (the page's language included):
the same key always renders the same markup, so a kept piece is never stale, and nothing has to be
told when a record changes (a changed record has another key). The work queue's rows are such pieces:
a clerk's desk shows the same rows page after page, refresh after refresh, and rendering a row is
most of what the page costs (Jinja escapes each of its values in Python).

Kept per process, up to ``limit`` pieces; when full, every piece is dropped and the keeping starts
again (no bookkeeping on the way). What is kept is what the pages already showed to someone allowed to
see it: the access rule chooses the rows, this only spares rendering them twice."""
from __future__ import annotations

from collections.abc import Hashable

from markupsafe import Markup

LIMIT = 4096
EXTENSION = "motcua_fragments"  # where the app keeps its ``Fragments`` (``app.extensions``)


class Fragments:
    def __init__(self, limit: int = LIMIT):
        self.limit = limit
        self._kept: dict[Hashable, Markup] = {}

    def get(self, key: Hashable) -> Markup | None:
        return self._kept.get(key)

    def keep(self, key: Hashable, piece: Markup) -> Markup:
        """Keep ``piece`` (rendered markup) under ``key``, and give it back."""
        if len(self._kept) >= self.limit:
            self._kept.clear()  # a dict's clear and setitem are atomic under the GIL: threads may share it
        self._kept[key] = piece
        return piece

    def __len__(self) -> int:
        return len(self._kept)
