"""Public pages: the home page and the quick-exit help page."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from app.policies.loader import PolicyRegistry

bp = Blueprint("gallery", __name__)


@bp.get("/")
def home() -> str:
    policies: PolicyRegistry = current_app.extensions["chorus.policies"]
    return render_template("gallery/home.html", policies=list(policies))


@bp.get("/safety")
def safety() -> str:
    return render_template("gallery/safety.html")
