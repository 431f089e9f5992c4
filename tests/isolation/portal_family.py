"""The parent, carer and young person portal (web/ui/portal/family.py).

Every page is about one child, so every route is a ``portal_object``: another council's
member (for their own council's child) and a member for another child in the same council
both get the 404 of a child that does not exist, with the ORM criterion on and off
(tests/test_isolation.py). ``portal_family.index`` is listed with the other portals' homes in
tests/isolation/portal.py.
"""

FAMILY = ["parent", "young_person"]
_CHILD = "/portal/family/children/{child_id}"


def _page(path: str, *, post: bool = False) -> dict[str, object]:
    spec: dict[str, object] = {"kind": "portal_object", "path": _CHILD + path, "roles": FAMILY}
    if post:
        spec["post"] = True
    return spec


PUBLIC_ENDPOINTS: dict[str, str] = {}

ISOLATION_MATRIX = {
    "portal_family.child": _page(""),
    "portal_family.views": _page("/views", post=True),
    "portal_family.request_assessment": _page("/request-assessment", post=True),
    "portal_family.draft_plan": _page("/draft-plan"),
    # Any section will do: the child is checked before the section.
    "portal_family.comment": _page("/draft-plan/B", post=True),
    "portal_family.preferred_school": _page("/preferred-school", post=True),
    "portal_family.personal_budget": _page("/personal-budget", post=True),
    "portal_family.sent": _page("/sent"),
    "portal_family.document": _page("/documents/{document_id}"),
    "portal_family.who_can_see": _page("/who-can-see"),
    "portal_family.who_has_looked": _page("/who-has-looked"),
    "portal_family.sharing": _page("/sharing"),
    "portal_family.give_consent": _page("/sharing/new"),
    "portal_family.give_consent_post": _page("/sharing/new", post=True),
    "portal_family.stop_sharing": _page("/sharing/stop"),
    "portal_family.stop_sharing_post": _page("/sharing/stop", post=True),
    "portal_family.parent_access": _page("/sharing/parents"),
    "portal_family.parent_access_post": _page("/sharing/parents", post=True),
}
