"""The SEN register pages (web/ui/sen.py, issue #5): CTF import and a child's CTF export."""

ISOLATION_MATRIX = {
    "sen.imports": {"kind": "list", "path": "/sen-register/imports", "permission": "children.write",
                    "shows": "import_id"},
    "sen.import_status": {"kind": "object", "path": "/sen-register/imports/{import_id}",
                          "permission": "children.write"},
    "sen.export": {"kind": "object", "path": "/sen-register/children/{child_id}/ctf", "post": True,
                   "permission": "children.read"},
}

PUBLIC_ENDPOINTS = {
    "sen.retry": "POST only: retries one of the signed-in caseworker's own council's imports (children.write); "
                 "another council's import is a 404, tests/plugins/ctf/test_pages.py",
}
