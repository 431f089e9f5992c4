"""Demo circumstances (CoP ch.10; issue 6): a few demo children get the records a caseworker
would keep, through the real services, dated from ``today`` so the clocks are live.

* a looked-after child with the virtual school head, designated teacher and PEP (child 3,
  whose plan's annual review is due within weeks: the reviews can be joined up);
* a young person detained in youth custody now (child 9: the council keeps the plan) and
  one released ten days ago (child 11: the council's own review-on-release target runs);
* a Service child at school overseas (child 4), a child placed out of area (child 6), a
  child educated at home whose plan's provision the council must still secure (child 8),
  and a child in need (child 10).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.actors import Actor
from core.cases import services as cases
from core.circumstances import services as circumstances


def _ago(today: dt.date, days: int) -> dt.date:
    return today - dt.timedelta(days=days)


def seed_circumstances(actor: Actor, kids: list[Any], *, la_code: str, today: dt.date) -> None:
    """Record the demo circumstances of ``kids`` (the council's demo children, in order)."""
    policy = cases.policy_from_settings({})
    other_council = "886" if la_code != "886" else "887"
    records: dict[int, tuple[str, dict[str, Any]]] = {
        3: ("looked_after", {"started_on": _ago(today, 700), "social_worker_name": "Tom Ashworth",
                             "social_worker_email": "tom.ashworth@children.example.gov.uk",
                             "virtual_school_head_name": "Helen Marsh",
                             "virtual_school_head_email": "virtual.school@example.gov.uk",
                             "designated_teacher_name": "Mr D Okonjo", "care_placement": "Long-term foster care",
                             "pep_url": "https://pep.example.gov.uk/demo-3", "pep_reviewed_on": _ago(today, 40),
                             "care_plan_reviewed_on": _ago(today, 90)}),
        4: ("service_child", {"started_on": _ago(today, 1500), "service_branch": "army", "overseas": True,
                              "overseas_school": "St George's School, Cyprus (MOD)",
                              "posting_location": "Catterick Garrison", "expected_posting_on": today + dt.timedelta(days=200)}),
        6: ("out_of_area", {"started_on": _ago(today, 400), "placement_la_code": other_council}),
        8: ("elective_home_education", {"started_on": _ago(today, 150), "parents_arrangements_suitable": False}),
        9: ("youth_custody", {"started_on": _ago(today, 40), "establishment": "HMYOI Wetherby",
                              "yot_name": "Youth offending team duty officer", "yot_email": "yot@example.gov.uk",
                              "expected_release_on": today + dt.timedelta(days=50)}),
        10: ("child_in_need", {"started_on": _ago(today, 250), "social_worker_name": "Aisha Rahman"}),
        11: ("youth_custody", {"started_on": _ago(today, 120), "ended_on": _ago(today, 10),
                               "establishment": "Oakhill Secure Training Centre", "yot_name": "Marcus Hill"}),
    }
    for index, (kind, data) in records.items():
        if index < len(kids):
            circumstances.create_circumstance(actor, kids[index], kind, data, policy=policy, home_la_code=la_code,
                                              today=today)
