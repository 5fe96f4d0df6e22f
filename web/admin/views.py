"""Administration pages."""
from __future__ import annotations

from flask import render_template

from web.auth import login_required
from web.admin import bp


@bp.get("/")
@login_required(kind="staff")
def dashboard():
    return render_template("citizen/placeholder.html")
