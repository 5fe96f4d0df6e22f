"""The citizen portal: catalogue, filing with prefill, my dossiers, my results store."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("citizen", __name__)

from web.citizen import datastore, dossiers, notifications, views  # noqa: E402,F401  (routes register on bp)
