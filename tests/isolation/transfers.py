"""Transfers of plans between councils (web/ui/transfers.py, web/api/transfers; issue 6).

Each council sees only its own side of a transfer (its own row, under RLS); the object graph
holds a planned outgoing transfer of the graph's case.
"""

PUBLIC_ENDPOINTS: dict = {}

_API = "/api/v1/transfers"

ISOLATION_MATRIX = {
    # The inbox: rows link to each transfer by its id.
    "transfers.index": {"kind": "list", "path": "/plan-transfers", "shows": "transfer_id",
                        "permission": "transfers.read"},
    "transfers.start": {"kind": "object", "path": "/cases/{case_id}/transfer", "post": True,
                        "permission": "transfers.write"},
    "transfers.view": {"kind": "object", "path": "/plan-transfers/{transfer_id}", "permission": "transfers.read"},
    "transfers.complete": {"kind": "object", "path": "/plan-transfers/{transfer_id}/complete", "post": True,
                           "permission": "transfers.write"},
    "transfers.cancel": {"kind": "object", "path": "/plan-transfers/{transfer_id}/cancel", "post": True,
                         "permission": "transfers.write"},
    "transfers_api.Transfers": {"kind": "api_list", "path": _API, "shows": "transfer_id", "scope": "transfers:read",
                                "queries": ["", "?limit=200", "?direction=outgoing", "?direction=incoming",
                                            "?status=planned", "?status=active"]},
    "transfers_api.Transfer": {"kind": "api_object", "path": _API + "/{transfer_id}", "scope": "transfers:read"},
    # POST only: complete (or cancel) the transfer.
    "transfers_api.TransferComplete": {"kind": "api_action", "path": _API + "/{transfer_id}/complete",
                                       "body": {"transferred_on": "2026-11-02"}, "scope": "transfers:write"},
    "transfers_api.TransferCancel": {"kind": "api_action", "path": _API + "/{transfer_id}/cancel",
                                     "body": {}, "scope": "transfers:write"},
}
