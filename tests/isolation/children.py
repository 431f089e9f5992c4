"""Children, contacts and settings: pages and API."""

PUBLIC_ENDPOINTS: dict = {}

ISOLATION_MATRIX = {
    "children.index": {"kind": "list", "path": "/children/"},
    "children.new": {"kind": "create", "path": "/children/new"},
    "children.view": {"kind": "object", "path": "/children/{child_id}", "permission": "children.read"},
    "children.activity": {"kind": "object", "path": "/children/{child_id}/activity", "permission": "audit.read"},
    "children.edit": {"kind": "object", "path": "/children/{child_id}/edit", "post": True, "permission": "children.write"},
    "children.new_contact": {"kind": "object", "path": "/children/{child_id}/contacts/new", "post": True,
                             "permission": "children.write"},
    "children.new_placement": {"kind": "object", "path": "/children/{child_id}/placements/new", "post": True,
                               "permission": "children.write"},
    "children_api.Children": {"kind": "api_list", "path": "/api/v1/children", "scope": "children:read",
                              "queries": ["", "?q=Zzalpha", "?q={given_name}", "?limit=200"]},
    "children_api.Child": {"kind": "api_object", "path": "/api/v1/children/{child_id}", "patch": True,
                            "scope": "children:read"},
}
