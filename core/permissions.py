"""Permissions: one place that says which role or API scope may do what.

Every route and API operation checks a permission from here, and every ``access_*``
function takes an :class:`core.actors.Actor` whose permissions came from here. Issue #4
adds the portal roles (SENCO, professional, parent, young person, operator).
"""

from __future__ import annotations

from core.users.models import Role

CHILDREN_READ = "children.read"
CHILDREN_WRITE = "children.write"
AUDIT_READ = "audit.read"
USERS_MANAGE = "users.manage"
CLIENTS_MANAGE = "clients.manage"

ALL = frozenset({CHILDREN_READ, CHILDREN_WRITE, AUDIT_READ, USERS_MANAGE, CLIENTS_MANAGE})

ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.CASEWORKER: frozenset({CHILDREN_READ, CHILDREN_WRITE}),
    Role.TEAM_MANAGER: frozenset({CHILDREN_READ, CHILDREN_WRITE, AUDIT_READ}),
    Role.SEND_OFFICER: frozenset({CHILDREN_READ}),
    Role.TENANT_ADMIN: frozenset({CHILDREN_READ, CHILDREN_WRITE, AUDIT_READ, USERS_MANAGE, CLIENTS_MANAGE}),
}

#: API scopes (api-v1.md) and the permissions they grant. A scope that is valid in the
#: contract but has no resources yet grants nothing until its issue lands.
SCOPE_PERMISSIONS: dict[str, frozenset[str]] = {
    "children:read": frozenset({CHILDREN_READ}),
    "children:write": frozenset({CHILDREN_READ, CHILDREN_WRITE}),
    **{f"{res}:{mode}": frozenset() for res in (
        "cases", "plans", "transfers", "disagreements", "settings", "local-offer", "reports"
    ) for mode in ("read", "write")},
}
SCOPES = frozenset(SCOPE_PERMISSIONS)


def permissions_for_role(role: Role) -> frozenset[str]:
    return ROLE_PERMISSIONS[role]


def permissions_for_scopes(scopes: set[str] | frozenset[str]) -> frozenset[str]:
    out: set[str] = set()
    for scope in scopes:
        out |= SCOPE_PERMISSIONS.get(scope, frozenset())
    return frozenset(out)
