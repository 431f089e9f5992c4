"""Declared settings schemas: typed keys with defaults, unknown keys refused.

Used for per-tenant settings (``tenants.settings``) and, later, per-tenant plugin settings
(STYLE.md section 4; indico ``strict_settings``). Never store settings as free-form JSON with
no schema (STYLE.md section 8, redash ``Organization.settings``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Validator = Callable[[Any], str | None]


@dataclass(frozen=True)
class Setting:
    """One settings key."""

    type: type
    default: Any
    #: Plain-English description, shown in the CLI and admin pages.
    help: str
    #: Extra checks: each returns an error message or ``None``.
    validators: tuple[Validator, ...] = ()
    #: ``None`` allowed as a value.
    optional: bool = False
    #: Secrets are encrypted at rest and never shown back (plugins; issue #5).
    secret: bool = False


def int_range(lo: int, hi: int) -> Validator:
    return lambda v: None if lo <= v <= hi else f"must be between {lo} and {hi}"


def max_length(n: int) -> Validator:
    return lambda v: None if len(v) <= n else f"must be {n} characters or fewer"


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https://[^\s/$.?#].[^\s]*$")


def email() -> Validator:
    return lambda v: None if _EMAIL.match(v) else "must be an e-mail address, like send.team@council.gov.uk"


def https_url() -> Validator:
    return lambda v: None if _URL.match(v) else "must be an https:// web address"


class SchemaError(ValueError):
    """Settings that do not fit their schema; ``errors`` maps each key to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in errors.items()))


@dataclass(frozen=True)
class SettingsSchema:
    """A named set of :class:`Setting` keys."""

    name: str
    keys: Mapping[str, Setting] = field(default_factory=dict)

    def defaults(self) -> dict[str, Any]:
        return {k: s.default for k, s in self.keys.items()}

    def validate(self, values: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
        """Return the complete, checked settings (defaults filled in) or raise :class:`SchemaError`.

        ``partial``: ``values`` is a change to apply, so missing keys are simply not returned.
        """
        errors: dict[str, list[str]] = {}
        for key in values:
            if key not in self.keys:
                errors.setdefault(key, []).append(f"is not a setting of {self.name}")
        out: dict[str, Any] = {} if partial else self.defaults()
        for key, spec in self.keys.items():
            if key not in values:
                continue
            value = values[key]
            if value is None:
                if not spec.optional:
                    errors.setdefault(key, []).append("is required")
                else:
                    out[key] = None
                continue
            # bool is an int subclass: refuse True where a number is expected, and vice versa.
            if spec.type is int and (isinstance(value, bool) or not isinstance(value, int)):
                errors.setdefault(key, []).append("must be a whole number")
                continue
            if spec.type is not int and not isinstance(value, spec.type):
                errors.setdefault(key, []).append(f"must be a {spec.type.__name__}")
                continue
            for check in spec.validators:
                msg = check(value)
                if msg:
                    errors.setdefault(key, []).append(msg)
            out[key] = value
        if errors:
            raise SchemaError(errors)
        return out
