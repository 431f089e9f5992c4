"""Disagreement pages and decision letters (web/ui/disagreements.py, web/ui/letters.py; issue 6 item 3)."""

PUBLIC_ENDPOINTS: dict = {}

ISOLATION_MATRIX = {
    # A case's disputes, opening one, one dispute, a step on it (the graph's dispute is a
    # complaint, which any kind of dispute can close).
    "disagreements.case_disagreements": {"kind": "object", "path": "/cases/{case_id}/disagreements",
                                         "permission": "disagreements.read"},
    "disagreements.choose_kind": {"kind": "object", "path": "/cases/{case_id}/disagreements/new", "post": True,
                                  "permission": "disagreements.write"},
    "disagreements.open_kind": {"kind": "object", "path": "/cases/{case_id}/disagreements/new/complaint",
                                "post": True, "permission": "disagreements.write"},
    "disagreements.view": {"kind": "object", "path": "/disagreements/{disagreement_id}",
                           "permission": "disagreements.read"},
    "disagreements.record_step": {"kind": "object", "path": "/disagreements/{disagreement_id}/steps/disagreement_closed",
                                  "post": True, "permission": "disagreements.write"},
    # The managers' workbench: every open dispute of the council, never another council's.
    "disagreements.workbench": {"kind": "list", "path": "/disagreements", "shows": "disagreement_id",
                                "permission": "disagreements.oversee"},
    # Sending a decision letter on a case (it records a case event too: every role with
    # disagreements.write also has cases.write).
    "letters.send": {"kind": "object", "path": "/cases/{case_id}/decision-letter", "post": True,
                     "permission": "disagreements.write"},
    # The council's letter template (no child data, but council-owned) and its example letter.
    "letters.template": {"kind": "list", "path": "/letter-templates", "shows": None, "permission": "letters.manage"},
    "letters.template_example": {"kind": "list", "path": "/letter-templates/example", "shows": None,
                                 "permission": "letters.manage"},
}
