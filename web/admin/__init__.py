"""Administration: KPIs and the declared-field cut per procedure."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from web.admin import views  # noqa: E402,F401  (routes register on bp)
