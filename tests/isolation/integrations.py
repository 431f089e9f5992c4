"""The council's integrations page (web/ui/integrations.py, issue #5)."""

ISOLATION_MATRIX = {
    # Plugins and failed partner calls of the council (no child data, but council-owned):
    # another council's admin must never see them.
    "integrations.index": {"kind": "list", "path": "/integrations", "permission": "plugins.manage", "shows": None},
}

PUBLIC_ENDPOINTS = {
    "integrations.switch": "POST only: turns a plugin on or off for the signed-in admin's own council "
                           "(plugins.manage, fresh sign-in); tests/web/ui/test_integrations_page.py",
    "integrations.retry": "POST only: retries one of the admin's own council's failed calls (plugins.manage); "
                          "another council's call is a 404, tests/web/ui/test_integrations_page.py",
}
