"""The public deadline calculator page (issue #3). Routes are added here; the blueprint is registered by web.app."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("calculator", __name__)
