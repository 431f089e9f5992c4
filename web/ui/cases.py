"""Caseworker pages: cases (issue #3). Routes are added here; the blueprint is registered by web.app."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("cases", __name__, url_prefix="/cases")
