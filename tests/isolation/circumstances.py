"""A child's specific circumstances (web/ui/circumstances.py, web/api/circumstances; issue 6)."""

PUBLIC_ENDPOINTS: dict = {}

_BASE = "/children/{child_id}/circumstances"
_API = "/api/v1/children/{child_id}/circumstances"

ISOLATION_MATRIX = {
    "circumstances.index": {"kind": "object", "path": _BASE + "/", "permission": "children.read"},
    "circumstances.choose": {"kind": "object", "path": _BASE + "/new", "post": True, "permission": "children.write"},
    "circumstances.new": {"kind": "object", "path": _BASE + "/new/looked_after", "post": True,
                          "permission": "children.write"},
    "circumstances.view": {"kind": "object", "path": _BASE + "/{circumstance_id}", "permission": "children.read"},
    "circumstances.edit": {"kind": "object", "path": _BASE + "/{circumstance_id}/edit", "post": True,
                           "permission": "children.write"},
    "circumstances.end": {"kind": "object", "path": _BASE + "/{circumstance_id}/end", "post": True,
                          "permission": "children.write"},
    "circumstances.record_on_case": {"kind": "object", "path": _BASE + "/{circumstance_id}/case", "post": True,
                                     "permission": "cases.write"},
    # GET lists the child's circumstances (the positive control reads B's own); POST records one.
    "circumstances_api.Circumstances": {"kind": "api_object", "path": _API, "post_json": True,
                                        "body": {"kind": "child_in_need", "started_on": "2026-01-05"},
                                        "scope": "children:read"},
    "circumstances_api.Circumstance": {"kind": "api_object", "path": _API + "/{circumstance_id}", "patch": True,
                                       "scope": "children:read"},
}
