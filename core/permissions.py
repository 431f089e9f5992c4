"""Permissions: one place that says which role or API scope may do what.

Every route and API operation checks a permission from here, and every ``access_*``
function takes an :class:`core.actors.Actor` whose permissions came from here. Issue #4
adds the portal roles (SENCO, professional, parent, young person, operator).
"""

from __future__ import annotations

from core.users.models import Role

CHILDREN_READ = "children.read"
CHILDREN_WRITE = "children.write"
CASES_READ = "cases.read"
CASES_WRITE = "cases.write"
PLANS_READ = "plans.read"
PLANS_WRITE = "plans.write"
AUDIT_READ = "audit.read"
#: What people outside the council do, through the portals (issue #4).
FAMILY_ACT = "portal.family"          # views, comments on a draft, requests, consent
SENCO_ACT = "portal.senco"            # request an assessment, contribute advice, review papers
PROFESSIONAL_ACT = "portal.professional"  # submit advice
USERS_MANAGE = "users.manage"
CLIENTS_MANAGE = "clients.manage"
#: Turn the council's plugins on and off, see failed partner calls and retry them (issue #5).
PLUGINS_MANAGE = "plugins.manage"
#: Plans moving between councils (issue 6): start, complete, receive, export and import.
TRANSFERS_READ = "transfers.read"
TRANSFERS_WRITE = "transfers.write"
#: Mediation, disagreement resolution, appeals and tribunal orders, complaints (issue 6).
DISAGREEMENTS_READ = "disagreements.read"
DISAGREEMENTS_WRITE = "disagreements.write"
#: The managers' disputes workbench: every open disagreement and clock in the council.
DISAGREEMENTS_OVERSEE = "disagreements.oversee"
#: The council's letter templates (appeal rights, mediation and support information).
LETTERS_MANAGE = "letters.manage"

_CASEWORK = frozenset({CHILDREN_READ, CHILDREN_WRITE, CASES_READ, CASES_WRITE, PLANS_READ, PLANS_WRITE,
                       TRANSFERS_READ, TRANSFERS_WRITE, DISAGREEMENTS_READ, DISAGREEMENTS_WRITE})
_READ_ONLY = frozenset({CHILDREN_READ, CASES_READ, PLANS_READ, TRANSFERS_READ, DISAGREEMENTS_READ})
_MANAGING = frozenset({AUDIT_READ, DISAGREEMENTS_OVERSEE, LETTERS_MANAGE})

ALL = _CASEWORK | _MANAGING | {USERS_MANAGE, CLIENTS_MANAGE, PLUGINS_MANAGE}

ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.CASEWORKER: _CASEWORK,
    Role.TEAM_MANAGER: _CASEWORK | _MANAGING,
    Role.SEND_OFFICER: _READ_ONLY,
    Role.TENANT_ADMIN: ALL,
}

#: API scopes (api-v1.md) and the permissions they grant. A scope that is valid in the
#: contract but has no resources yet grants nothing until its issue lands.
SCOPE_PERMISSIONS: dict[str, frozenset[str]] = {
    "children:read": frozenset({CHILDREN_READ}),
    "children:write": frozenset({CHILDREN_READ, CHILDREN_WRITE}),
    # A case or plan shows whose it is: reading one needs no separate children scope.
    "cases:read": frozenset({CASES_READ, CHILDREN_READ}),
    "cases:write": frozenset({CASES_READ, CASES_WRITE, CHILDREN_READ}),
    "plans:read": frozenset({PLANS_READ, CASES_READ, CHILDREN_READ}),
    "plans:write": frozenset({PLANS_READ, PLANS_WRITE, CASES_READ, CHILDREN_READ}),
    "transfers:read": frozenset({TRANSFERS_READ, CASES_READ, CHILDREN_READ}),
    "transfers:write": frozenset({TRANSFERS_READ, TRANSFERS_WRITE, CASES_READ, CHILDREN_READ}),
    "disagreements:read": frozenset({DISAGREEMENTS_READ, CASES_READ, CHILDREN_READ}),
    "disagreements:write": frozenset({DISAGREEMENTS_READ, DISAGREEMENTS_WRITE, CASES_READ, CHILDREN_READ}),
    **{f"{res}:{mode}": frozenset() for res in (
        "settings", "local-offer", "reports"
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


#: Permissions of people outside the council, by membership role. What they may see is
#: limited further by their memberships' scope (core.identity.scope); none of them may use
#: the caseworker's forms (cases.write, plans.write).
MEMBERSHIP_PERMISSIONS: dict[str, frozenset[str]] = {
    "parent": frozenset({CHILDREN_READ, CASES_READ, PLANS_READ, FAMILY_ACT}),
    "young_person": frozenset({CHILDREN_READ, CASES_READ, PLANS_READ, FAMILY_ACT}),
    "senco": frozenset({CHILDREN_READ, CASES_READ, PLANS_READ, SENCO_ACT}),
    "professional": frozenset({CHILDREN_READ, CASES_READ, PROFESSIONAL_ACT}),
}


#: A platform operator under a live break-glass: read-only, and the audit log (to see what
#: happened). Without one an operator has no permission on any council's records.
BREAK_GLASS_PERMISSIONS = _READ_ONLY | {AUDIT_READ}


def permissions_for_memberships(roles: frozenset[str] | set[str]) -> frozenset[str]:
    out: set[str] = set()
    for role in roles:
        out |= MEMBERSHIP_PERMISSIONS.get(role, frozenset())
    return frozenset(out)
