"""Helpers for GOV.UK-pattern forms: read fields, collect errors, render the error summary.

Errors map a field name to one message (GOV.UK shows one message per field). The summary
links to each field's first input (``anchors`` maps a field to its input id when it is not
the field name, e.g. a date input's day box).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from werkzeug.datastructures import MultiDict


class FormErrors(dict[str, str]):
    def add(self, field: str, message: str) -> None:
        self.setdefault(field, message)

    def merge(self, errors: Mapping[str, list[str]], rename: Mapping[str, str] | None = None) -> None:
        for key, messages in errors.items():
            if messages:
                self.add((rename or {}).get(key, key), messages[0])

    def summary(self, anchors: Mapping[str, str] | None = None, order: list[str] | None = None) -> list[dict[str, str]]:
        keys = [k for k in (order or []) if k in self] + [k for k in self if k not in (order or [])]
        return [{"text": self[k], "href": f"#{(anchors or {}).get(k, k)}"} for k in keys]

    def message(self, field: str) -> dict[str, str] | None:
        return {"text": self[field]} if field in self else None


def text(form: MultiDict[str, str], name: str) -> str:
    return (form.get(name) or "").strip()


def date_parts(form: MultiDict[str, str], prefix: str) -> dict[str, str]:
    return {part: text(form, f"{prefix}-{part}") for part in ("day", "month", "year")}


def parse_date(parts: Mapping[str, str], label: str, *, required: bool = True) -> tuple[dt.date | None, str | None]:
    """A GOV.UK date input to a date, with the Design System's error wording."""
    day, month, year = parts.get("day", ""), parts.get("month", ""), parts.get("year", "")
    if not (day or month or year):
        return None, (f"Enter the {label.lower()}" if required else None)
    missing = [n for n, v in (("day", day), ("month", month), ("year", year)) if not v]
    if missing:
        return None, f"{label} must include a {' and a '.join(missing)}"
    try:
        if len(year) != 4:
            raise ValueError
        return dt.date(int(year), int(month), int(day)), None
    except ValueError:
        return None, f"{label} must be a real date"


def date_items(parts: Mapping[str, str], has_error: bool) -> list[dict[str, Any]]:
    """The ``items`` of a govukDateInput, keeping what the person typed."""
    err = " govuk-input--error" if has_error else ""
    return [
        {"name": "day", "classes": "govuk-input--width-2" + err, "value": parts.get("day", ""), "label": "Day"},
        {"name": "month", "classes": "govuk-input--width-2" + err, "value": parts.get("month", ""), "label": "Month"},
        {"name": "year", "classes": "govuk-input--width-4" + err, "value": parts.get("year", ""), "label": "Year"},
    ]
