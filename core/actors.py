"""Who is acting: a signed-in user, an API client, or the system itself (jobs, commands)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

ActorKind = Literal["user", "api_client", "system", "operator", "identity"]

if TYPE_CHECKING:
    from core.identity.scope import AccessScope


@dataclass(frozen=True)
class Actor:
    """The identity and permissions every service and ``access_*`` function is given."""

    tenant_id: uuid.UUID
    kind: ActorKind
    #: User id, API client id, or a job/command name: recorded in the audit log.
    id: str
    permissions: frozenset[str] = field(default_factory=frozenset)
    #: For people: what to call them in the interface (never written to logs).
    display_name: str = ""
    #: ``None``: the whole council (its staff, its API clients, the system). Otherwise only
    #: what this person's memberships grant (``kind == "identity"``: SENCOs, families,
    #: professionals); the ``access_*`` functions enforce it.
    scope: AccessScope | None = None
    #: The signed-in person's platform identity, when there is one.
    identity_id: uuid.UUID | None = None

    def can(self, permission: str) -> bool:
        return permission in self.permissions
