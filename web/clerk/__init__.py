"""The one-stop clerk desk: work queue, dossier page, actions, documents, counter filing."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("clerk", __name__, url_prefix="/desk")

from web.clerk import counter, views  # noqa: E402,F401  (routes register on bp)
