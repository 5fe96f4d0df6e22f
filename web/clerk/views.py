"""Clerk desk pages."""
from __future__ import annotations

from flask import render_template

from web.auth import login_required
from web.clerk import bp


@bp.get("/")
@login_required(kind="staff")
def queue():
    return render_template("citizen/placeholder.html")


@bp.get("/counter")
@login_required(kind="staff", role="clerk")
def counter():
    return render_template("citizen/placeholder.html")
