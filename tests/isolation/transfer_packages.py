"""Transfer packages to and from councils not on the platform (web/ui/transfer_packages.py, issue 6)."""

PUBLIC_ENDPOINTS: dict = {}

ISOLATION_MATRIX = {
    # The upload form: shows no child until a package is imported into the signed-in council.
    "transfer_packages.import_package": {"kind": "create", "path": "/transfers/import",
                                         "permission": "transfers.write"},
    "transfer_packages.case_packages": {"kind": "object", "path": "/cases/{case_id}/transfer-packages",
                                        "permission": "transfers.read"},
}
