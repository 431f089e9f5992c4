"""Who is acting: a signed-in user, an API client, or the system itself (jobs, commands)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal

ActorKind = Literal["user", "api_client", "system", "operator"]


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

    def can(self, permission: str) -> bool:
        return permission in self.permissions
