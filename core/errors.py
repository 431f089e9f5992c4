"""Domain errors. The web layer maps each to a GOV.UK page or an RFC 9457 problem."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a service or ``access_*`` function raises on purpose."""


class NotFound(DomainError):
    """Missing, or not the actor's to see: deliberately the same error (STYLE.md section 3)."""

    def __init__(self, what: str = "object"):
        self.what = what
        super().__init__(f"{what} not found")


class Forbidden(DomainError):
    """The actor may not perform this kind of action at all (not about a particular object)."""

    def __init__(self, permission: str):
        self.permission = permission
        super().__init__(f"missing permission {permission}")


class ValidationFailed(DomainError):
    """Input that breaks a rule; ``errors`` maps each field to messages a person can act on."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))


class Conflict(DomainError):
    """The request is well formed but clashes with the current state (a duplicate UPN ...)."""

    def __init__(self, message: str, *, field: str | None = None):
        self.message = message
        self.field = field
        super().__init__(message)
