"""Citizen pages."""
from __future__ import annotations

from flask import render_template

from web.auth import login_required
from web.citizen import bp


@bp.get("/my/dossiers")
@login_required(kind="citizen")
def my_dossiers():
    return render_template("citizen/placeholder.html")


@bp.get("/procedures")
def catalogue():
    return render_template("citizen/placeholder.html")


@bp.get("/my/results")
@login_required(kind="citizen")
def my_results():
    return render_template("citizen/placeholder.html")
